"""Appeals reach the inbox (from the warning's button, or `/appeal` to the bot), and a
moderator lifts what was done, through the API, audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from kith.communities.store import community_id
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.teams import do_change_team
from tests.communities.moderation_kit import (
    GROUP,
    RecordingAdmin,
    audit_rows,
    cid,
    install_admin,
    joined,
    post,
    pressed,
    private,
    set_rules,
)
from tests.communities.wording_support import assert_worded
from tests.connectors.telegram.conftest import TelegramSetup
from tests.support.consumers import drain
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)

NEW = (424242202, "Ned Newman")
OLD = (424242203, "Olga Oldtimer")


@pytest.fixture
def admin(core: Core) -> RecordingAdmin:
    return install_admin(core)


async def _group(telegram: TelegramSetup, clock: ManualClock, **rules: Any) -> None:
    await telegram.deliver(joined(clock.now() - timedelta(days=30), *OLD))
    await drain(telegram.core)
    await telegram.deliver(post(clock.now(), *OLD, "Good morning"))
    await drain(telegram.core)
    await set_rules(telegram, **rules)


async def _group_conversation(telegram: TelegramSetup) -> dict[str, Any]:
    community = await telegram.core.store.collection("communities").find_one(
        {"_id": community_id(telegram.channel_id, str(GROUP))}
    )
    assert community is not None
    found = await telegram.core.store.conversations.find_one({"_id": community["conversation_id"]})
    assert found is not None
    return dict(found)


async def _notes(telegram: TelegramSetup) -> list[str]:
    return [m["text"] for m in await _note_docs(telegram)]


async def _note_docs(telegram: TelegramSetup) -> list[dict[str, Any]]:
    conversation = await _group_conversation(telegram)
    return [
        m
        for m in await telegram.messages()
        if m["private"] and m["conversation_id"] == conversation["_id"]
    ]


def _assert_appeal_wording(
    note: dict[str, Any], key: str, row: dict[str, Any], values: dict[str, Any], rule: str
) -> None:
    """Each agent's inbox words the note (`said_<key>`): the row's action and rule as terms,
    its moment as a `…_at` value, the member's words and name as written."""
    wording = {**note["wording"], "values": dict(note["wording"]["values"])}
    taken_at = wording["values"].pop("taken_at")
    assert datetime.fromisoformat(taken_at) == datetime.fromisoformat(row["at"])
    assert wording == {
        "key": key,
        "values": {**values, "audit": row["id"], "community": row["community_id"]},
        "terms": {"action": f"said_action_{row['action']}", "rule": f"communities_rule_{rule}"},
    }
    assert_worded(note["wording"])


async def _lift(telegram: TelegramSetup, audit_id: str) -> Any:
    return await telegram.http.post(
        f"/api/v1/communities/{cid(telegram)}/audit/{audit_id}/lift", headers=telegram.auth
    )


async def test_the_warning_s_appeal_button_reaches_the_inbox_once(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    await _group(telegram, clock, links={"enabled": True})
    await telegram.deliver(joined(clock.now(), *NEW))
    await telegram.deliver(post(clock.now(), *NEW, "see www.spam.example"))
    await drain(telegram.core)
    warning = next(m for m in await telegram.messages() if m["buttons"])
    payload = warning["buttons"][0]["payload"]

    await telegram.deliver(pressed(*OLD, payload))  # not hers to appeal
    await drain(telegram.core)
    assert await _notes(telegram) == []

    await telegram.deliver(pressed(*NEW, payload))
    await telegram.deliver(pressed(*NEW, payload))  # pressed again
    await drain(telegram.core)
    [note] = await _notes(telegram)
    assert "Appeal from Ned Newman" in note and "delete (links)" in note
    assert "a delete has nothing to lift" in note and "/lift" not in note  # the API says 409
    conversation = await _group_conversation(telegram)
    assert "appeal" in conversation["labels"] and conversation["status"] == "open"
    [deleted] = [r for r in await audit_rows(telegram) if r["action"] == "delete"]
    [doc] = await _note_docs(telegram)
    named = {"name": "Ned Newman", "user": str(NEW[0])}
    _assert_appeal_wording(doc, "community_appeal_final", deleted, named, "links")
    assert payload == f"mod-appeal:{deleted['id']}"
    assert deleted["appeal"]["via"] == "button"


async def test_appeal_in_a_private_chat_names_the_latest_action_and_a_lift_unmutes(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    words = {"enabled": True, "words": ["casino"], "actions": ["delete", "mute", "warn"]}
    await _group(telegram, clock, words=words)
    await telegram.deliver(post(clock.now(), *OLD, "that casino spam again?"))
    await drain(telegram.core)
    clock.advance(60)
    await telegram.deliver(private(clock.now(), *OLD, "/appeal I was quoting the spammer"))
    await telegram.deliver(private(clock.now(), *NEW, "/appeal"))  # nothing to appeal
    await drain(telegram.core)

    answers = [m["text"] for m in await telegram.messages() if m["direction"] == "out"]
    assert "Your appeal has reached the moderators." in answers
    assert "There is no moderation action of the last 30 days to appeal." in answers
    [note] = await _notes(telegram)
    assert "against mute (words)" in note and "I was quoting the spammer" in note
    [mute] = [r for r in await audit_rows(telegram) if r["action"] == "mute"]
    assert mute["appeal"]["text"] == "I was quoting the spammer"
    [doc] = await _note_docs(telegram)
    said = {"name": "Olga Oldtimer", "user": str(OLD[0]), "text": "I was quoting the spammer"}
    _assert_appeal_wording(doc, "community_appeal_said", mute, said, "words")

    clock.advance(60)
    lifted = await _lift(telegram, mute["id"])
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["action"] == "lift"
    assert lifted.json()["outcome"] == "taken"
    assert lifted.json()["lifts"] == mute["id"]
    assert admin.named("unrestrict") == [(str(GROUP), str(OLD[0]))]
    again = await _lift(telegram, mute["id"])
    assert again.json()["id"] == lifted.json()["id"]
    assert len(admin.named("unrestrict")) == 1
    rows = await audit_rows(telegram)
    assert rows[0]["action"] == "lift"  # newest first
    [mute] = [r for r in rows if r["action"] == "mute"]
    assert mute["lifted_at"] is not None and mute["lifted_by"]["name"] == "api"


async def test_a_ban_is_recorded_on_the_roster_and_lifted(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    await _group(telegram, clock, words={"enabled": True, "words": ["casino"], "actions": ["ban"]})
    await telegram.deliver(post(clock.now(), *OLD, "CASINO"))
    await drain(telegram.core)
    [(chat, user, until)] = admin.named("ban")
    assert (chat, user, until) == (str(GROUP), str(OLD[0]), None)
    banned = await telegram.http.get(
        f"/api/v1/communities/{cid(telegram)}/members?status=banned", headers=telegram.auth
    )
    assert [m["name"] for m in banned.json()["items"]] == ["Olga Oldtimer"]

    [ban] = await audit_rows(telegram)
    lifted = await _lift(telegram, ban["id"])
    assert lifted.json()["outcome"] == "taken"
    assert admin.named("unban") == [(str(GROUP), str(OLD[0]))]
    assert admin.named("remove") == []
    left = await telegram.http.get(
        f"/api/v1/communities/{cid(telegram)}/members?status=left", headers=telegram.auth
    )
    assert [m["name"] for m in left.json()["items"]] == ["Olga Oldtimer"]


async def test_lifting_what_was_not_done_is_refused(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    await _group(telegram, clock, words={"enabled": True, "words": ["casino"], "actions": ["mute"]})
    missing = await _lift(telegram, "nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "audit_id"
    await telegram.deliver(post(clock.now(), *OLD, "casino"))
    await drain(telegram.core)
    [mute] = await audit_rows(telegram)
    lifted = await _lift(telegram, mute["id"])
    again = await _lift(telegram, lifted.json()["id"])  # a lift is not lifted
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "audit_id"


async def test_an_agent_in_the_inbox_reads_the_log_and_lifts(
    telegram: TelegramSetup,
    clock: ManualClock,
    admin: RecordingAdmin,
    cast: Cast,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    await _group(telegram, clock, words={"enabled": True, "words": ["casino"], "actions": ["mute"]})
    await telegram.deliver(post(clock.now(), *OLD, "casino"))
    await drain(telegram.core)
    sales = cast.users["sales"]  # alice's team, now with the Telegram channel too
    await do_change_team(
        telegram.core, cast.workspace_id, sales.id, channel_ids=[cast.shop.id, telegram.channel_id]
    )
    alice, bob = await browser("alice"), await browser("bob")
    elsewhere = await bob.api("GET", f"/communities/{cid(telegram)}/audit")
    assert elsewhere.status_code == 403, elsewhere.text  # bob's team has no Telegram channel
    log = await alice.api("GET", f"/communities/{cid(telegram)}/audit")
    assert log.status_code == 200, log.text
    [mute] = log.json()["items"]
    path = f"/communities/{cid(telegram)}/audit/{mute['id']}/lift"
    forged = await alice.api("POST", path, headers={"X-CSRF-Token": ""})
    assert forged.status_code == 403
    assert (await bob.api("POST", path)).status_code == 403
    assert admin.named("unrestrict") == []
    lifted = await alice.api("POST", path)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["by"] == {"kind": "agent", "id": cast.users["alice"].id, "name": "Alice"}
    assert admin.named("unrestrict") == [(str(GROUP), str(OLD[0]))]
