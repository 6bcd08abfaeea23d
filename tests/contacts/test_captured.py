"""An email address or a phone number a customer writes in a private chat is kept on their
profile, once, with one private note for the agents; not from group posts."""

from __future__ import annotations

import pytest

from kith.contacts.captured import details_in
from kith.core.context import Core
from kith.core.customers import get_customer
from kith.core.models import Conversation, GroupRef, Message
from kith.core.pipeline import ingest
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain


@pytest.mark.parametrize(
    ("text", "emails", "phones"),
    [
        ("my email is Ada.L@Example.COM.", ("ada.l@example.com",), ()),
        ("手机 138 0013 8000，邮箱 li@example.cn", ("li@example.cn",), ("+8613800138000",)),
        ("call +44 20 7946 0958 or +1 650-253-0000", (), ("+442079460958", "+16502530000")),
        ("order 20261205 costs 12.50, ref 1234567", (), ()),
        ("not@an", (), ()),
        ("邮箱ada@example.org。电话：13800138000", ("ada@example.org",), ("+8613800138000",)),
        ("mail me at <Bob@Mail.Example.COM>, thanks!", ("bob@mail.example.com",), ()),
    ],
)
def test_details_are_read_out_of_text(
    text: str, emails: tuple[str, ...], phones: tuple[str, ...]
) -> None:
    found = details_in(text, "CN")
    assert (found.emails, found.phones) == (emails, phones)


async def notes(core: Core, conversation: str) -> list[Message]:
    docs = core.store.messages.find({"conversation_id": conversation, "private": True})
    return [Message.from_doc(doc) for doc in await docs.to_list(None)]


async def test_a_typed_email_and_phone_reach_the_profile_once(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    first = await ingest(
        core, channel, inbound(channel, "ada", "reach me at ada@work.example or 13800138000")
    )
    await ingest(core, channel, inbound(channel, "ada", "again: ada@work.example"))
    await drain(core)
    await drain(core)  # a second pass finds nothing new to do

    customer = await get_customer(core, workspace_id, first.message.customer_id)
    assert customer.emails == ["ada@example.com", "ada@work.example"]
    assert customer.phones == ["+8613800138000"]
    (note,) = await notes(core, first.message.conversation_id)
    assert note.wording is not None and note.wording.key == "contact_captured"
    assert note.wording.values == {"details": ["ada@work.example", "+8613800138000"]}
    assert note.text.endswith(": ada@work.example, +8613800138000")
    events = core.store.events.find({"type": "customer.updated", "customer_id": customer.id})
    updates = [doc["data"]["fields"] for doc in await events.to_list(None)]
    assert ["emails", "phones"] in updates and len(updates) == 1


async def test_what_the_profile_has_adds_nothing(core: Core, workspace_id: str) -> None:
    channel, _ = await api_channel(core, workspace_id)
    received = await ingest(core, channel, inbound(channel, "ada", "it is ada@example.com"))
    await drain(core)
    assert await notes(core, received.message.conversation_id) == []


async def test_group_posts_are_left_alone(core: Core, workspace_id: str) -> None:
    channel, _ = await api_channel(core, workspace_id)
    group = inbound(channel, "grace", "mail me: grace@navy.example").model_copy(
        update={"group": GroupRef(id="g-1", title="Fans")}
    )
    posted = await ingest(core, channel, group)
    await drain(core)
    conversation = await core.store.conversations.find_one({"_id": posted.message.conversation_id})
    assert conversation is not None and Conversation.from_doc(conversation).group is not None
    customer = await get_customer(core, workspace_id, posted.message.customer_id)
    assert customer.emails == [] and await notes(core, posted.message.conversation_id) == []
