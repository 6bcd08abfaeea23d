"""A group's conversation knows it is a group's (its chat id, title and kind, kept current),
however it was opened, and the group's community is found from it (the inbox's panel)."""

from __future__ import annotations

from typing import Any

from kith.core.clock import ManualClock
from tests.communities.welcome_support import community, install_admin, joined, run_due, user
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.support.consumers import drain

GROUP = "-1001234567890"
KETTLE_GROUP = {"id": GROUP, "title": "Kettle Owners Club", "kind": "supergroup"}


async def _conversations(telegram: TelegramSetup) -> list[dict[str, Any]]:
    answer = await telegram.http.get("/api/v1/conversations", headers=telegram.auth)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _renamed(name: str, title: str, update_id: int, message_id: int) -> dict[str, Any]:
    body = update(name, update_id=update_id)
    body["message"] = {**body["message"], "message_id": message_id}
    body["message"]["chat"] = {**body["message"]["chat"], "title": title}
    return body


async def test_a_groups_conversation_carries_the_group_and_its_new_name(
    telegram: TelegramSetup,
) -> None:
    for body in (update("group_text"), update("private_text")):
        assert (await telegram.deliver(body)).status_code == 200
    by_thread = {c["thread_key"]: c for c in await _conversations(telegram)}
    assert by_thread[GROUP]["group"] == KETTLE_GROUP
    [private] = [c for key, c in by_thread.items() if key != GROUP]
    assert private["group"] is None
    await telegram.deliver(_renamed("group_reply", "Kettle Club", 815000100, 900))
    [group] = [c for c in await _conversations(telegram) if c["thread_key"] == GROUP]
    assert group["group"] == {**KETTLE_GROUP, "title": "Kettle Club"}
    assert group["id"] == by_thread[GROUP]["id"]


async def test_a_conversation_the_welcome_opens_is_the_groups_too(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    """Nobody has written yet: the welcome opens the group's conversation."""
    install_admin(telegram.core)
    found = await community(telegram, welcome={"enabled": True, "texts": {"en": "Hi {name}"}})
    await telegram.deliver(joined(user(424242004, "Katherine", "en")))
    clock.advance(10)
    await run_due(telegram.core)
    [group] = await _conversations(telegram)
    assert group["id"] == found["conversation_id"]
    assert group["group"] == {"id": GROUP, "title": found["title"] or None, "kind": found["kind"]}


async def test_the_groups_community_is_found_from_its_conversation(
    telegram: TelegramSetup,
) -> None:
    await telegram.deliver(update("group_text"))
    await drain(telegram.core)
    [group] = await _conversations(telegram)
    query = f"channel_id={telegram.channel_id}&chat_id={group['group']['id']}"
    answer = await telegram.http.get(f"/api/v1/communities?{query}", headers=telegram.auth)
    [found] = answer.json()["items"]
    assert found["conversation_id"] == group["id"]
    elsewhere = f"channel_id={telegram.channel_id}&chat_id=-100999"
    answer = await telegram.http.get(f"/api/v1/communities?{elsewhere}", headers=telegram.auth)
    assert answer.json()["items"] == []
    hacked = f"channel_id={telegram.channel_id}&chat_id[$ne]=x"
    answer = await telegram.http.get(f"/api/v1/communities?{hacked}", headers=telegram.auth)
    assert answer.status_code == 422  # a parameter of that name is none the route takes
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == ("chat_id[$ne]", "extra_forbidden")
