"""Raid mode: when more than `Welcome.raid_joins` members join within `raid_seconds`, the
welcomes stop. The raid's joins (those still waiting for their welcome, and every join until
it passes) are restricted; moderators get a note in the inbox; once no one has joined for
`raid_seconds`, a durable timer posts **one** summary and lifts the restrictions, or, where
the community has rules, asks the raid's members to accept them with the summary's one
button (`kith.communities.rules.ask_raid`).

Joins are counted by when the platform says they happened, so a backlog worked off after
downtime is not a raid; a raid ends by Kith's clock. A join the platform dates more than a
window after the raid's latest join is not the raid's, even while the raid's end waits for
its timer: the raid was over by then, and joins worked off late (a busy consumer, or the
demo's clock running an hour a second) are welcomed as the newcomers they are.

Several consumers in several processes agree on one raid through a lock document per
community (`_id` = the community's id, naming the raid under way, and the platform's time of
its latest join), taken and released by conditional updates, and one document per raid;
every message has an id derived from the raid."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from kith.communities.joins import (
    AUTHOR,
    Mode,
    act,
    conversation,
    joins,
    move,
    note,
    purge_at,
    stored_time,
)
from kith.communities.models import Community, Member, MemberRole
from kith.communities.rules import ACCEPT, ask_raid, load_community, raid_payload, waive
from kith.communities.texts import pick
from kith.core.context import Core
from kith.core.ids import derived_id
from kith.core.models import Button, OutboundContent
from kith.core.outbox import send
from kith.core.timers import Timer, schedule_timer

RAIDS = "community_raids"
END_TIMER = "community.raid_end"

SUMMARY = {
    "en": "{count} new members joined — welcome! Please read the group's rules before posting.",
    "zh": "{count} 位新成员加入了本群，欢迎！发言前请先阅读群规。",
}
ALERT = {
    "en": "Raid mode: more than {joins} members joined within {seconds} s. Welcomes are paused "
    "and new members are restricted until no one has joined for {seconds} s.",
    "zh": "防刷屏模式：{seconds} 秒内有超过 {joins} 人入群。欢迎消息已暂停，"
    "新成员暂被禁言，直到 {seconds} 秒内无人入群。",
}


def raids(core: Core) -> Any:
    return core.store.collection(RAIDS)


async def admit(core: Core, community: Community, jid: str, member: Member, at: datetime) -> Any:
    """Store the join (once) and decide whether it is a raid's; returns the join's document.
    A join is counted among the last `raid_seconds` of joins not already a raid's."""
    lock = await raids(core).find_one({"_id": community.id})
    current = (lock or {}).get("raid_id")
    if current is not None and _over_before(lock, at, community):
        current = None
    doc = await _store(core, community, jid, member, at, current)
    if doc["mode"] == Mode.pending:
        if current is None:
            if await _recent(core, community, at) > community.welcome.raid_joins:
                current = await _start(core, community, jid)
        elif current == jid:  # the run that started the raid died part-way: finish it
            await _sweep(core, community, current)
        else:  # stored just before the raid began (or a retry)
            await move(core, jid, "mode", Mode.pending, Mode.raid, raid_id=current)
        doc = await joins(core).find_one({"_id": jid})
    if doc["mode"] == Mode.raid and not doc.get("restricted"):
        await _hold(core, community, doc)
    return doc


def _over_before(lock: dict[str, Any], at: datetime, community: Community) -> bool:
    """Whether the raid under `lock` had been quiet for a window by `at` (the platform's
    times of its latest join and of this one)."""
    last = stored_time(lock.get("last_at"))
    return last is not None and at - last > timedelta(seconds=community.welcome.raid_seconds)


async def _store(
    core: Core, community: Community, jid: str, member: Member, at: datetime, raid: str | None
) -> Any:
    seed = {
        "workspace_id": community.workspace_id,
        "community_id": community.id,
        "member_id": member.id,
        "customer_id": member.customer_id,
        "platform_user_id": member.platform_user_id,
        "name": member.name,
        "admin": member.role == MemberRole.admin,
        "at": at,
        "seen_at": core.clock.now(),
        "purge_at": purge_at(core),
        "mode": (Mode.raid if raid else Mode.pending).value,
        "raid_id": raid,
        "rules": None,
        "restricted": False,
        "lifted": False,
    }
    update = {"$setOnInsert": seed}
    try:
        return await joins(core).find_one_and_update(
            {"_id": jid}, update, upsert=True, return_document=ReturnDocument.AFTER
        )
    except DuplicateKeyError:  # the same join, stored at the same moment by another run
        return await joins(core).find_one({"_id": jid})


async def _recent(core: Core, community: Community, at: datetime) -> int:
    since = at - timedelta(seconds=community.welcome.raid_seconds)
    query = {
        "community_id": community.id,
        "at": {"$gt": since, "$lte": at},
        "mode": {"$ne": Mode.raid.value},
    }
    return int(await joins(core).count_documents(query))


async def _start(core: Core, community: Community, jid: str) -> str:
    """Take the community's lock for a raid named after this join; if another run took it
    first, this join is that raid's. Either way the recent joins are swept into it."""
    now = core.clock.now()
    try:
        lock = await raids(core).find_one_and_update(
            {"_id": community.id, "raid_id": None},
            {"$set": {"raid_id": jid, "last_seen_at": now}, "$unset": {"last_at": ""}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:  # a raid is under way already
        lock = await raids(core).find_one({"_id": community.id})
    raid_id = str(lock["raid_id"])
    if raid_id == jid:
        await raids(core).update_one(
            {"_id": derived_id("community-raid", jid)},
            {
                "$setOnInsert": {
                    "community_id": community.id,
                    "workspace_id": community.workspace_id,
                    "raid_id": jid,
                    "started_at": now,
                    "ended_at": None,
                }
            },
            upsert=True,
        )
    await _sweep(core, community, raid_id)
    return raid_id


async def _sweep(core: Core, community: Community, raid_id: str) -> None:
    """The joins still waiting for a welcome within the window become the raid's (the
    summary welcomes them); moderators are told, once per raid."""
    start = await joins(core).find_one({"_id": raid_id}, {"at": 1})
    at = stored_time(start["at"]) if start else core.clock.now()
    assert at is not None
    since = at - timedelta(seconds=community.welcome.raid_seconds)
    await joins(core).update_many(
        {"community_id": community.id, "mode": Mode.pending.value, "at": {"$gt": since}},
        {"$set": {"mode": Mode.raid.value, "raid_id": raid_id}},
    )
    async for doc in joins(core).find({"raid_id": raid_id, "restricted": False}):
        await _hold(core, community, doc)
    await _alert(core, community, raid_id)
    await note(core, community, "community.raid_started", raid_id, {"raid_id": raid_id})


async def _hold(core: Core, community: Community, doc: dict[str, Any]) -> None:
    """Restrict a raid's member (never an admin) until it passes, and keep the raid going
    for another window from now."""
    await waive(core, doc)
    if not doc["admin"] and await act(core, community, "restrict", doc["platform_user_id"]):
        await joins(core).update_one({"_id": doc["_id"]}, {"$set": {"restricted": True}})
    now = core.clock.now()
    raid_id = doc["raid_id"]
    await raids(core).update_one(
        {"_id": community.id, "raid_id": raid_id},
        {"$max": {"last_seen_at": now, "last_at": doc["at"]}},
    )
    due = now + timedelta(seconds=community.welcome.raid_seconds)
    payload = {"community_id": community.id, "raid_id": raid_id}
    await schedule_timer(core, f"community-raid:{raid_id}", END_TIMER, due, payload)


async def _alert(core: Core, community: Community, raid_id: str) -> None:
    """A private note on the group's conversation: what the inbox shows agents."""
    welcome = community.welcome
    text = pick(ALERT, {}, [welcome.language])
    text = text.format(joins=welcome.raid_joins, seconds=welcome.raid_seconds)
    start = await joins(core).find_one({"_id": raid_id}, {"customer_id": 1})
    talk = await conversation(core, community, (start or {}).get("customer_id", ""))
    content = OutboundContent(text=text, private=True)
    await send(core, talk, content, AUTHOR, message_id=derived_id("community-raid-alert", raid_id))


async def run_end(core: Core, timer: Timer) -> None:
    """The raid passes once no one has joined for a window: then one summary, and every
    restriction it made is lifted, or kept until the member accepts the rules (the summary's
    button) or their time runs out. Run again (or late, for a straggler), it lifts only
    what is still held and finds the summary posted."""
    cid, raid_id = str(timer.payload["community_id"]), str(timer.payload["raid_id"])
    community = await load_community(core, cid)
    record = await raids(core).find_one({"_id": derived_id("community-raid", raid_id)})
    if community is None or record is None:
        return
    if record.get("ended_at") is None and not await _end(core, community, raid_id):
        return
    count = await joins(core).count_documents({"raid_id": raid_id})
    asked = False
    async for doc in joins(core).find({"raid_id": raid_id, "restricted": True, "lifted": False}):
        if await ask_raid(core, community, doc):
            asked = True
            continue
        await act(core, community, "unrestrict", doc["platform_user_id"])
        await joins(core).update_one({"_id": doc["_id"]}, {"$set": {"lifted": True}})
    await _summary(core, community, raid_id, count, asked)
    ended = {"raid_id": raid_id, "joins": count}
    await note(core, community, "community.raid_ended", raid_id, ended)


async def _end(core: Core, community: Community, raid_id: str) -> bool:
    """Release the lock if the raid has been quiet for a window; False (and the timer set
    again) while members still join."""
    now = core.clock.now()
    lock = await raids(core).find_one({"_id": community.id})
    if lock is not None and lock.get("raid_id") == raid_id:
        seen = stored_time(lock.get("last_seen_at")) or now
        due = seen + timedelta(seconds=community.welcome.raid_seconds)
        if now < due:
            payload = {"community_id": community.id, "raid_id": raid_id}
            await schedule_timer(core, f"community-raid:{raid_id}", END_TIMER, due, payload)
            return False
        released = await raids(core).update_one(
            {"_id": community.id, "raid_id": raid_id, "last_seen_at": lock.get("last_seen_at")},
            {"$set": {"raid_id": None}},
        )
        if released.modified_count == 0:
            return False  # someone joined meanwhile: their hold set the timer again
    await raids(core).update_one(
        {"_id": derived_id("community-raid", raid_id), "ended_at": None},
        {"$set": {"ended_at": now}},
    )
    return True


async def _summary(core: Core, community: Community, raid_id: str, count: int, asked: bool) -> None:
    """The raid's one message into the group, in the community's language; with the accept
    button when some of its members wait to accept the rules."""
    language = community.welcome.language
    text = pick(SUMMARY, community.welcome.raid_texts, [language]).replace("{count}", str(count))
    if community.rules.enabled:
        rules = pick({}, community.rules.texts, [language])
        text = f"{text}\n\n{rules}" if rules else text
    buttons = []
    channel_type = core.channels.get(community.channel_type)
    if asked and channel_type is not None and channel_type.capabilities.buttons:
        label = pick(ACCEPT, community.rules.button, [language])
        buttons.append(Button(label=label[:64], payload=raid_payload(raid_id)))
    start = await joins(core).find_one({"_id": raid_id}, {"customer_id": 1})
    talk = await conversation(core, community, (start or {}).get("customer_id", ""))
    await send(
        core,
        talk,
        OutboundContent(text=text, buttons=buttons),
        AUTHOR,
        message_id=derived_id("community-raid-summary", raid_id),
    )
