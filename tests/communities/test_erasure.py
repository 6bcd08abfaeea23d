"""Erasing a customer reaches their communities: the welcome that named them, the warning
and the moderators' note quoting them go with their roster entry and audit rows; the group's
conversation, opened on behalf of its first speaker, outlives that speaker's erasure; no
document of any collection names them afterwards, Telegram's kept list of administrators
included."""

from __future__ import annotations

from typing import Any

from kith.core.clock import ManualClock
from kith.core.conversation_terms import stored_terms
from kith.core.customers import do_erase_customer
from tests.communities.referral_support import customer_of
from tests.communities.welcome_support import (
    CHAT,
    DATE,
    GROUP,
    LI,
    community,
    install_admin,
    joined,
    left,
    posted,
    run_due,
    user,
)
from tests.connectors.telegram.conftest import TelegramSetup
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.support.consumers import indexed

ADA = user(600_000_001, "Ada Quill")
BO = user(600_000_002, "Bo Stern")
SETTINGS: dict[str, Any] = {
    "welcome": {"enabled": True, "texts": {"en": "Welcome, {name}!"}, "language": "en"},
    "moderation": {
        "enabled": True,
        "words": {"enabled": True, "words": ["casino"], "actions": ["delete", "warn", "report"]},
    },
}


def said(person: dict[str, Any], text: str, message_id: int) -> dict[str, Any]:
    message = {"message_id": message_id, "from": person, "chat": CHAT, "date": DATE + 30}
    return {"update_id": 800_000_000 + message_id, "message": {**message, "text": text}}


async def _everything_naming(telegram: TelegramSetup, name: str) -> list[str]:
    """Every stored document whose text mentions `name`, as collection:id."""
    found = []
    db = telegram.core.store
    for collection in await db.db.list_collection_names():
        async for doc in db.collection(collection).find({}):
            if name in repr(doc):
                found.append(f"{collection}:{doc['_id']}")
    return found


async def test_erasing_a_member_erases_what_the_group_was_told_about_them(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    install_admin(telegram.core)
    group = await community(telegram, **SETTINGS)
    for person in (ADA, BO):
        await telegram.deliver(joined(person))
    await run_due(telegram.core)
    clock.advance(11)  # the welcome's pause
    await run_due(telegram.core)
    await telegram.deliver(said(ADA, "best casino odds here", 501))
    await run_due(telegram.core)
    texts = [m["text"] for m in await posted(telegram.core, group["conversation_id"])]
    notes = await posted(telegram.core, group["conversation_id"], private=True)
    assert "Welcome, Ada Quill!" in texts
    assert any(t.startswith("Ada Quill: that word is not allowed") for t in texts)
    assert any("casino" in n["text"] for n in notes)  # the moderators' note quotes her

    ada = await customer_of(telegram.core, telegram.channel_id, ADA["id"])
    await do_erase_customer(telegram.core, group["workspace_id"], ada)

    assert await _everything_naming(telegram, "Ada Quill") == []
    assert await _everything_naming(telegram, "casino odds") == []
    texts = [m["text"] for m in await posted(telegram.core, group["conversation_id"])]
    assert "Welcome, Bo Stern!" in texts  # the others' welcomes stay


async def test_erasing_the_group_s_first_speaker_keeps_the_group_s_conversation(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    install_admin(telegram.core)
    group = await community(telegram, **SETTINGS)  # Li spoke first: the conversation is his
    await telegram.deliver(joined(BO))
    await run_due(telegram.core)
    clock.advance(11)
    await run_due(telegram.core)
    li = await customer_of(telegram.core, telegram.channel_id, LI)
    talk = await telegram.core.store.conversations.find_one({"_id": group["conversation_id"]})
    assert talk is not None and talk["customer_id"] == li

    await indexed(telegram.core)

    await do_erase_customer(telegram.core, group["workspace_id"], li)

    bo = await customer_of(telegram.core, telegram.channel_id, BO["id"])
    talk = await telegram.core.store.conversations.find_one({"_id": group["conversation_id"]})
    assert talk is not None and talk["customer_id"] == bo
    texts = [m["text"] for m in await posted(telegram.core, group["conversation_id"])]
    assert texts == ["Welcome, Bo Stern!"]
    assert await telegram.core.store.messages.count_documents({"customer_id": li}) == 0
    terms = await stored_terms(telegram.core, group["conversation_id"])
    assert {"welcome", "bo", "stern"} <= terms  # still found by what is left in it


async def test_erasing_a_member_takes_them_off_the_count_the_figures_and_the_roster(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    install_admin(telegram.core)
    group = await community(telegram)
    for person in (ADA, BO):
        await telegram.deliver(joined(person))
    await telegram.deliver(said(ADA, "hello all", 502))
    await run_due(telegram.core)
    path = f"/api/v1/communities/{group['id']}"
    before = (await telegram.http.get(path, headers=telegram.auth)).json()["member_count"]

    ada = await customer_of(telegram.core, telegram.channel_id, ADA["id"])
    await do_erase_customer(telegram.core, group["workspace_id"], ada)
    await telegram.deliver(left(ADA, DATE + 60))  # her leave, processed after the erasure
    await run_due(telegram.core)

    count = (await telegram.http.get(path, headers=telegram.auth)).json()["member_count"]
    roster = await telegram.http.get(f"{path}/members?status=member", headers=telegram.auth)
    figures = (await telegram.http.get(f"{path}/stats?days=7", headers=telegram.auth)).json()
    assert count == before - 1 == len(roster.json()["items"])
    assert figures["member_count"] == count == figures["days"][-1]["members"]
    assert str(ADA["id"]) not in repr(
        await telegram.core.store.collection("community_days").find({}).to_list(None)
    )


async def test_erasing_an_administrator_drops_the_kept_list_of_administrators_naming_them(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    """Telegram's list of the group's administrators, kept a while for moderation, names
    Ada by her Telegram id: erased with her, and asked again for the next broken rule."""
    bot_api.admins[GROUP] = {ADA["id"]: "administrator"}
    group = await community(telegram, **SETTINGS)
    for person in (ADA, BO):
        await telegram.deliver(joined(person))
    await telegram.deliver(said(ADA, "Ada here, admin of this group", 503))
    await telegram.deliver(said(BO, "best casino odds here", 504))
    await run_due(telegram.core)
    assert len(bot_api.called("getChatAdministrators")) == 1
    ada = await customer_of(telegram.core, telegram.channel_id, ADA["id"])

    await do_erase_customer(telegram.core, group["workspace_id"], ada)

    assert await _everything_naming(telegram, str(ADA["id"])) == []
    await telegram.deliver(said(BO, "casino again", 505))
    await run_due(telegram.core)
    assert len(bot_api.called("getChatAdministrators")) == 2
