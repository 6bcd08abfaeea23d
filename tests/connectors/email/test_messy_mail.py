"""Mail as clients really write it, through a real Dovecot mailbox: lying charsets, raw 8-bit
headers, a header block with an odd line, and vendors' own auto-reply markers."""

from __future__ import annotations

import pytest

from kith.core.context import Core
from kith.core.models import Channel
from tests.connectors.email.conftest import Mailbox, fixture_bytes, poll, stored_texts

pytestmark = pytest.mark.usefixtures("imap_server")
HTML_ONLY_TEXT = 'Hi team,\n\nThe "Returns" link is broken & shows a 404.\nPlease fix it.'


@pytest.mark.parametrize(
    ("fixture", "name", "subject", "text"),
    [
        (  # labelled GB2312, written in UTF-8: read as GB18030 it is silent mojibake
            "mislabelled_gb2312.eml",
            "Han Meimei",
            "退款",
            "您好，我想退款，商品有破损。\n\n韩梅梅",
        ),
        (  # RFC 6532: raw UTF-8 in From and Subject
            "raw_utf8_headers.eml",
            "张伟",
            "订单 #5678 还没发货 — merci",
            "请问什么时候发货？",
        ),
        (  # an old client's raw Latin-1 headers
            "raw_latin1_headers.eml",
            "José Müller",
            "Paquete dañado, ¿qué hago?",
            "El paquete llegó dañado. Grüße, José",
        ),
        (  # `X Mailer Build:`, `Subject :` and a stray line must not end the header block
            "odd_header_field.eml",
            "Grace Hopper",
            "Wrong size delivered",
            "I ordered a medium and got a small. Can I swap it?",
        ),
    ],
)
async def test_messy_mail_is_decoded_as_its_sender_wrote_it(
    core: Core,
    email_channel: Channel,
    mailbox: Mailbox,
    fixture: str,
    name: str,
    subject: str,
    text: str,
) -> None:
    await mailbox.deliver_fixture(fixture)
    await poll(core, email_channel)
    [doc] = await core.store.messages.find({"direction": "in"}).to_list(None)
    assert doc["text"] == text
    assert doc["author"]["name"] == name
    thread = await core.store.collection("email_threads").find_one({"channel_id": email_channel.id})
    assert thread is not None and thread["subject"] == subject


def _subject(subject: str) -> bytes:
    plain = fixture_bytes("plain_first_contact.eml")
    start = plain.index(b"Subject:")
    end = plain.index(b"\r\n", start)
    return plain[:start] + b"Subject: " + subject.encode() + plain[end:]


@pytest.mark.parametrize(
    "raw",
    [
        fixture_bytes("icloud_vacation.eml"),  # X-Apple-Action: VACATION, no Auto-Submitted
        fixture_bytes("outlook_oof.eml"),  # X-Auto-Response-Suppress
        fixture_bytes("plain_first_contact.eml").replace(
            b"MIME-Version", b"Precedence: auto_reply\r\nMIME-Version"
        ),
        fixture_bytes("plain_first_contact.eml").replace(
            b"MIME-Version", b"X-Autorespond: yes\r\nMIME-Version"
        ),
        _subject("=?UTF-8?B?6Ieq5Yqo5Zue5aSNOiDorqLljZXpl67popg=?="),  # 自动回复: 订单问题
        _subject("Out of Office: back on Monday"),
    ],
    ids=["icloud", "exchange", "precedence-auto-reply", "x-autorespond", "zh-subject", "ooo"],
)
async def test_vendors_auto_replies_are_skipped(
    core: Core, email_channel: Channel, mailbox: Mailbox, raw: bytes
) -> None:
    await mailbox.deliver(raw, fixture_bytes("html_only.eml"))
    await poll(core, email_channel)
    assert await stored_texts(core) == [HTML_ONLY_TEXT]
    assert await core.store.messages.count_documents({"direction": "out"}) == 0


async def test_a_person_writing_about_an_auto_reply_is_not_one(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver(_subject("Your automatic reply: is it on?"))
    await poll(core, email_channel)
    assert len(await stored_texts(core)) == 1
