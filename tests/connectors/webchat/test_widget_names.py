"""Names in a web chat: anonymous visitors told apart, and the business speaking for the API.

Read through Kith's promises: the REST API (what the inbox lists) and the widget's own routes.
"""

from __future__ import annotations

from typing import Any

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.events import SYSTEM
from kith.core.models import Conversation, OutboundContent
from kith.core.outbox import OutboxWorker, send
from kith.core.users import author
from tests.connectors.webchat.conftest import Visitor, Webchat


async def customer_of(webchat: Webchat, visitor: Visitor, text: str, **extra: Any) -> Any:
    posted = await visitor.say(text, **extra)
    assert posted.status_code == 200, posted.text
    conversation = await webchat.conversation_of(posted)
    answer = await webchat.admin.get(
        f"/api/v1/customers/{conversation['customer_id']}", headers=webchat.auth
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_anonymous_visitors_are_not_given_a_made_up_name(webchat: Webchat) -> None:
    """A bot's "Hi {name}!" must not greet "Hi Visitor 4821!": a nameless visitor stays
    nameless (the inbox labels them by their id)."""
    ids = set()
    for _ in range(2):
        visitor = webchat.visitor()
        await visitor.start()
        first = await customer_of(webchat, visitor, "hello")
        again = await customer_of(webchat, visitor, "anyone there?")
        assert again["id"] == first["id"] and first["name"] is None and again["name"] is None
        ids.add(first["id"])
    assert len(ids) == 2


async def test_a_name_from_the_page_is_used_even_after_chatting_without_one(
    webchat: Webchat,
) -> None:
    known = webchat.visitor()
    await known.start()
    assert (await customer_of(webchat, known, "hi", name="Ada Lovelace"))["name"] == "Ada Lovelace"

    later = webchat.visitor()
    await later.start()
    anonymous = await customer_of(webchat, later, "hi")
    assert anonymous["name"] is None
    named = await customer_of(webchat, later, "I'm Grace", name="Grace Hopper")
    assert named["id"] == anonymous["id"] and named["name"] == "Grace Hopper"
    events = await webchat.core.store.events.find(
        {"type": "customer.updated", "customer_id": anonymous["id"]}
    ).to_list()
    assert [e["data"]["fields"] for e in events] == [["name"]]  # the inbox panel refreshes


async def test_a_name_an_agent_gave_is_not_replaced_by_the_page(webchat: Webchat) -> None:
    visitor = webchat.visitor()
    await visitor.start()
    customer = await customer_of(webchat, visitor, "hi")
    renamed = await webchat.admin.patch(
        f"/api/v1/customers/{customer['id']}", json={"name": "Mrs Chen"}, headers=webchat.auth
    )
    assert renamed.status_code == 200, renamed.text
    assert (await customer_of(webchat, visitor, "again", name="chen88"))["name"] == "Mrs Chen"


async def test_the_api_and_the_system_speak_as_the_business_and_agents_as_themselves(
    webchat: Webchat, core: Core, workspace_id: str
) -> None:
    visitor = webchat.visitor()
    await visitor.start()
    conv = await webchat.conversation_of(await visitor.say("Where is my tea?"))
    assert (await webchat.reply(conv["_id"], text="Shipped today.")).status_code == 201
    conversation = Conversation.from_doc(conv)
    await send(core, conversation, OutboundContent(text="Rate us?"), SYSTEM)
    li_na = await create_user(core, workspace_id, "li.na@example.com", "pw-0123456789", name="李娜")
    await send(core, conversation, OutboundContent(text="It's on its way."), author(li_na))
    await OutboxWorker(core).run_once()

    thread = {m["text"]: m["author"] for m in await visitor.thread()}
    assert thread["Shipped today."] == {"kind": "agent", "name": "Northwind Tea", "person": False}
    assert thread["Rate us?"] == {"kind": "system", "name": "Northwind Tea", "person": False}
    assert thread["It's on its way."] == {"kind": "agent", "name": "李娜", "person": True}
    assert "API" not in {a["name"] for a in thread.values()}

    titled = await webchat.admin.patch(
        f"/api/v1/channels/{webchat.channel_id}",
        json={"config": {"allowed_origins": ["https://shop.example"], "title": "Northwind"}},
        headers=webchat.auth,
    )
    assert titled.status_code == 200, titled.text
    thread = {m["text"]: m["author"] for m in await visitor.thread()}
    assert thread["Shipped today."]["name"] == "Northwind"  # the widget's title wins
