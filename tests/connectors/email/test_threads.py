"""Threading both ways: customer replies join their thread, Kith's replies land in it, and the
customer's answer to Kith's reply comes back to the same conversation."""

from __future__ import annotations

from email.message import EmailMessage

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, Channel, Conversation, OutboundContent
from kith.core.outbox import OutboxWorker, send
from tests.connectors.email.conftest import Mailbox, SmtpServer, poll


async def conversations(core: Core) -> list[dict]:
    return await core.store.conversations.find({}).sort("created_at", 1).to_list(None)


async def test_a_reply_joins_the_thread_of_the_mail_it_answers(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver_fixture("plain_first_contact.eml", "reply_en.eml")
    await poll(core, email_channel)
    [conversation] = await conversations(core)
    assert conversation["thread_key"] == "CAF=ada.1234@mail.example.com"
    assert conversation["external_user_id"] == "ada@example.com"
    assert await core.store.messages.count_documents({"conversation_id": conversation["_id"]}) == 2


async def test_a_reply_polled_after_its_parent_in_a_later_poll_still_joins_it(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver_fixture("gbk_body.eml")
    await poll(core, email_channel)
    await mailbox.deliver_fixture("reply_zh.eml")
    await poll(core, email_channel)
    [conversation] = await conversations(core)
    assert conversation["thread_key"] == "20260106080000.1A2B@example.cn"


async def test_without_threading_headers_the_subject_and_sender_decide(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    other_sender = (
        b"From: someone@example.net\r\nSubject: =?UTF-8?B?5Zue5aSN77ya6K6i5Y2V6Zeu6aKY?=\r\n"
        + b"Message-ID: <other.1@example.net>\r\n\r\nNot the same person.\r\n"
    )
    await mailbox.deliver_fixture("gbk_body.eml", "subject_only_reply.eml")
    await mailbox.deliver(other_sender)
    await poll(core, email_channel)
    first, second = await conversations(core)
    assert first["thread_key"] == "20260106080000.1A2B@example.cn"
    assert await core.store.messages.count_documents({"conversation_id": first["_id"]}) == 2
    assert second["external_user_id"] == "someone@example.net"


async def agent_reply(
    core: Core, client: httpx.AsyncClient, conversation_id: str, text: str
) -> dict:
    token = await create_api_token(core, (await conversations(core))[0]["workspace_id"], "t")
    answer = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.text
    await OutboxWorker(core).run_once()
    return await core.store.messages.find_one({"_id": answer.json()["id"]})


def customer_answer(ours: EmailMessage, text: str) -> bytes:
    """What the customer's mail client sends back when they press Reply on our mail."""
    answer = EmailMessage()
    answer["From"] = "Ada Lovelace <ada@example.com>"
    answer["To"] = str(ours["From"])
    answer["Subject"] = f"Re: {ours['Subject']}"
    answer["Message-ID"] = "<CAF=ada.1300@mail.example.com>"
    answer["In-Reply-To"] = str(ours["Message-ID"])
    answer["References"] = f"{ours['References']} {ours['Message-ID']}"
    answer.set_content(f"{text}\n\nOn Mon, 5 Jan 2026, Shop Support wrote:\n> earlier\n")
    return answer.as_bytes()


async def test_agent_reply_is_threaded_and_the_answer_to_it_comes_back(
    core: Core,
    client: httpx.AsyncClient,
    email_channel: Channel,
    mailbox: Mailbox,
    smtp_server: SmtpServer,
) -> None:
    await mailbox.deliver_fixture("plain_first_contact.eml", "reply_en.eml")
    await poll(core, email_channel)
    [conversation] = await conversations(core)

    stored = await agent_reply(core, client, conversation["_id"], "Yes, address changed.")
    assert stored["delivery"]["status"] == "sent", stored["delivery"]
    [(envelope, mail)] = smtp_server.received
    assert envelope.rcpt_tos == ["ada@example.com"]
    assert envelope.mail_from == "support@shop.test"
    assert mail["Subject"] == "Re: Order #1234 question"
    assert mail["In-Reply-To"] == "<CAF=ada.1235@mail.example.com>"  # the LAST inbound mail
    assert mail["References"].split() == [
        "<CAF=ada.1234@mail.example.com>",
        "<CAF=ada.1235@mail.example.com>",
    ]
    assert mail["Message-ID"] == f"<{stored['channel_message_id']}>"
    assert stored["channel_message_id"].endswith("@shop.test")
    assert mail["Auto-Submitted"] is None  # a person wrote it
    assert mail["From"].addresses[0].display_name == "Shop Support"
    assert mail.get_content().strip() == "Yes, address changed."

    await mailbox.deliver(customer_answer(mail, "Thank you!"))
    await poll(core, email_channel)
    assert len(await conversations(core)) == 1
    texts = [
        d["text"]
        async for d in core.store.messages.find({"conversation_id": conversation["_id"]}).sort(
            [("created_at", 1), ("_id", 1)]
        )
    ]
    assert texts[-1] == "Thank you!"
    assert len(texts) == 4


@pytest.mark.parametrize("kind", [AuthorKind.bot, AuthorKind.system])
async def test_kiths_automatic_mail_says_so_so_auto_responders_do_not_answer(
    core: Core, email_channel: Channel, mailbox: Mailbox, smtp_server: SmtpServer, kind: AuthorKind
) -> None:
    await mailbox.deliver_fixture("gbk_body.eml")
    await poll(core, email_channel)
    [doc] = await conversations(core)
    content = OutboundContent(
        text="请选择：",
        buttons=[
            {"label": "查订单", "payload": "track"},
            {"label": "人工客服", "url": "https://shop.test/help"},
        ],
    )
    await send(core, Conversation.from_doc(doc), content, Author(kind=kind, name="Kith"))
    await OutboxWorker(core).run_once()
    [(_, mail)] = smtp_server.received
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["Subject"] == "Re: 订单问题"
    assert (
        mail.get_content().replace("\r\n", "\n")
        == "请选择：\n\n1. 查订单\n2. 人工客服: https://shop.test/help\n"
    )
