"""Mail in a real Dovecot mailbox → Kith messages: every MIME case, auto-replies, quarantine."""

from __future__ import annotations

import pytest

from kith.connectors.email.parse import raw_id
from kith.core.context import Core
from kith.core.dead_letters import Payload, do_replay_dead_letter, keep_dead_letter
from kith.core.errors import InvalidInput
from kith.core.models import Channel
from tests.connectors.email.conftest import Mailbox, fixture_bytes, poll, stored_texts

pytestmark = pytest.mark.usefixtures("imap_server")


async def only_message(core: Core) -> dict:
    [doc] = await core.store.messages.find({"direction": "in"}).to_list(None)
    return doc


@pytest.mark.parametrize(
    ("fixture", "sender", "name", "text"),
    [
        (
            "plain_first_contact.eml",
            "ada@example.com",
            "Ada Lovelace",
            "Hello,\n\nWhere is my order #1234? It was due last Friday.\n\nThanks,\nAda",
        ),
        (
            "gbk_body.eml",  # labelled gb2312, holds 镕 (GBK only), name in RFC 2047 GB2312
            "lilei@example.cn",
            "李雷",
            "您好，我的订单还没有到。朱镕基路的仓库发货了吗？\n\n李雷",
        ),
        ("big5_subject.eml", "xiaoming@example.tw", "陳小明", "請問這個訂單什麼時候出貨？"),
        (
            "html_only.eml",  # no script, style, title or quoted block survives
            "grace@example.org",
            "Grace Hopper",
            'Hi team,\n\nThe "Returns" link is broken & shows a 404.\nPlease fix it.',
        ),
        ("bad_charset.eml", "ada@example.com", "Ada Lovelace", "Price: 10€ and �� broken bytes"),
    ],
)
async def test_mail_is_decoded_into_one_message(
    core: Core,
    email_channel: Channel,
    mailbox: Mailbox,
    fixture: str,
    sender: str,
    name: str,
    text: str,
) -> None:
    await mailbox.deliver_fixture(fixture)
    await poll(core, email_channel)
    doc = await only_message(core)
    assert doc["text"] == text
    assert doc["author"]["name"] == name
    assert doc["external_user_id"] == sender
    customer = await core.store.customers.find_one({"_id": doc["customer_id"]})
    assert customer["name"] == name and sender in customer["emails"]


async def test_big5_subject_is_decoded_for_the_thread(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver_fixture("big5_subject.eml")
    await poll(core, email_channel)
    thread = await core.store.collection("email_threads").find_one(
        {"message_id": "big5.0001@example.tw"}
    )
    assert thread["subject"] == "訂單查詢"


async def test_attachments_keep_their_decoded_names_sizes_and_types(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver_fixture("attachment.eml")
    await poll(core, email_channel)
    doc = await only_message(core)
    assert doc["text"] == "Please see the invoice and a photo of the damaged box."
    assert [(a["kind"], a["name"], a["mime"], a["size"]) for a in doc["attachments"]] == [
        ("file", "发票.pdf", "application/pdf", 45),
        ("image", "照片.png", "image/png", 29),
    ]


@pytest.mark.parametrize(
    ("fixture", "text"),
    [
        ("reply_en.eml", "Also, can I change the delivery address to 12 Elm Street?"),
        ("reply_zh.eml", "好的，谢谢！我明天在家。"),
        ("reply_outlook.eml", "It works now, thank you."),
    ],
)
async def test_quoted_replies_and_signatures_are_cut_but_the_raw_source_is_kept(
    core: Core, email_channel: Channel, mailbox: Mailbox, fixture: str, text: str
) -> None:
    await mailbox.deliver_fixture(fixture)
    await poll(core, email_channel)
    doc = await only_message(core)
    assert doc["text"] == text
    raw = await core.store.collection("raw_mail").find_one(
        {"_id": f"{email_channel.id}:{doc['channel_message_id']}"}
    )
    assert bytes(raw["raw"]) == fixture_bytes(fixture)
    assert raw["customer_id"] == doc["customer_id"] and raw["truncated"] is False


async def test_a_message_without_message_id_is_keyed_by_a_hash_of_its_source(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver_fixture("no_message_id.eml", "no_message_id.eml")
    await poll(core, email_channel)
    doc = await only_message(core)  # the second copy is the same message
    assert doc["channel_message_id"] == raw_id(fixture_bytes("no_message_id.eml"))
    assert doc["text"] == "Café order for 3 people, please."


PLAIN = fixture_bytes("plain_first_contact.eml")


def with_header(header: bytes, sender: bytes = b"ada@example.com") -> bytes:
    body = PLAIN.replace(b"ada@example.com", sender).replace(b"ada.1234", b"auto." + sender[:6])
    return header + b"\r\n" + body


@pytest.mark.parametrize(
    "raw",
    [
        fixture_bytes("auto_reply.eml"),
        fixture_bytes("bounce_dsn.eml"),
        with_header(b"Precedence: bulk"),
        with_header(b"Precedence: junk"),
        with_header(b"Precedence: list"),
        with_header(b"X-Autoreply: yes"),
        with_header(b"Auto-Submitted: auto-generated"),
        with_header(b"X-Kith-Test: postmaster", sender=b"postmaster@example.com"),
        with_header(b"X-Kith-Test: daemon", sender=b"MAILER-DAEMON@example.com"),
    ],
    ids=[
        "auto-replied",
        "dsn",
        "bulk",
        "junk",
        "list",
        "x-autoreply",
        "auto-generated",
        "postmaster",
        "mailer-daemon",
    ],
)
async def test_auto_replies_and_bounces_are_skipped_without_a_reply(
    core: Core, email_channel: Channel, mailbox: Mailbox, raw: bytes
) -> None:
    await mailbox.deliver(raw, fixture_bytes("html_only.eml"))
    await poll(core, email_channel)
    assert await stored_texts(core) == [
        'Hi team,\n\nThe "Returns" link is broken & shows a 404.\nPlease fix it.'
    ]
    assert await core.store.messages.count_documents({"direction": "out"}) == 0


async def test_auto_submitted_no_is_a_person(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver(with_header(b"Auto-Submitted: no"))
    await poll(core, email_channel)
    assert len(await stored_texts(core)) == 1


async def test_our_own_address_is_never_ingested(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver(PLAIN.replace(b"ada@example.com", b"support@shop.test"))
    await poll(core, email_channel)
    assert await stored_texts(core) == []


async def test_unparseable_mail_is_quarantined_and_the_mailbox_goes_on(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    no_sender = b"Subject: who sent this?\r\nMessage-ID: <x.1@nowhere>\r\n\r\nhello\r\n"
    too_long = b"From: " + b"a" * 300 + b"@example.com\r\nMessage-ID: <x.2@nowhere>\r\n\r\nhi\r\n"
    broken = fixture_bytes("broken_mime.eml")
    await mailbox.deliver(broken, no_sender, too_long, fixture_bytes("plain_first_contact.eml"))
    await poll(core, email_channel)
    await poll(core, email_channel)  # nothing is quarantined twice
    assert len(await stored_texts(core)) == 1
    quarantined = await core.store.collection("dead_letters").find({}).to_list(None)
    assert sorted(bytes(q["body"]) for q in quarantined) == sorted([broken, no_sender, too_long])
    errors = sorted(q["reason"] for q in quarantined)
    assert "boundary" in errors[0] and all("sender" in e for e in errors[1:])
    assert all(q["channel_id"] == email_channel.id for q in quarantined)
    assert all(q["deliveries"] == 1 for q in quarantined)


async def test_a_quarantined_mail_is_replayed_once_the_cause_is_fixed(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    """Kept as a dead letter by an older Kith that could not read it; replayed, it is a
    message, and replaying again imports nothing twice."""
    raw = fixture_bytes("plain_first_contact.eml")
    payload = Payload(body=raw, content_type="message/rfc822")
    letter = await keep_dead_letter(
        core, email_channel, payload, InvalidInput("older parser", field="raw")
    )
    first = await do_replay_dead_letter(core, email_channel.workspace_id, letter.id)
    second = await do_replay_dead_letter(core, email_channel.workspace_id, letter.id)
    assert first.outcome == second.outcome == "ingested"
    assert len(await stored_texts(core)) == 1
    broken = await keep_dead_letter(
        core, email_channel, Payload(body=fixture_bytes("broken_mime.eml")), InvalidInput("x")
    )
    still = await do_replay_dead_letter(core, email_channel.workspace_id, broken.id)
    assert (still.replays, still.replayed_at, still.field) == (1, None, "raw")
    assert "boundary" in still.reason
