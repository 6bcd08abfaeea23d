"""Raid mode: when more than `Welcome.raid_joins` members join within `raid_seconds`, the
welcomes stop. The raid's joins (those still waiting for their welcome, and every join until
it passes) are restricted; moderators get a note in the inbox; once no one has joined for
`raid_seconds`, a durable timer posts **one** summary and lifts the restrictions, or, where
the community has rules, asks the raid's members to accept them with the summary's one
button (`kith.communities.rules.ask_raid`).

Joins are counted by when the platform says they happened, so a backlog worked off after
downtime is not a raid; a raid ends by Kith's clock. Whether there is a raid, and which joins
are its own, depends on the joins' dates only, not on the order they are handled in (several
workers, redeliveries): each join counts the stored joins in every window around its own
date, so the burst is found by whichever of its joins comes last; and a raid takes every
join waiting for its welcome within a window of its first or latest join, again as it
widens. A join the platform dates further off than that is not the raid's, even while the
raid's end waits for its timer: the raid was over by then, and joins worked off late (a busy
consumer, or the demo's clock running an hour a second) are welcomed as the newcomers they
are. A new burst dated after such a finished raid is a raid of its own, with its own summary.

Several consumers in several processes agree on one raid through a lock document per
community (`_id` = the community's id, naming the raid under way, and the platform's times
of its first and latest joins), taken, passed on and released by conditional updates, and
one document per raid; every message has an id derived from the raid."""

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
from kith.core.models import Button, OutboundContent, Wording
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
    """Store the join (once) and decide whether it is a raid's; returns the join's document."""
    lock = await raids(core).find_one({"_id": community.id}) or {}
    current = lock.get("raid_id")
    if current is not None and _outside(lock, at, community):
        current = None
    doc = await _store(core, community, jid, member, at, current)
    if doc["mode"] == Mode.pending:
        if current is None:
            if (dense := await _dense(core, community, at)) is not None:
                current = await _start(core, community, jid, *dense)
        elif current == jid:  # the run that started the raid died part-way: finish it
            await _sweep(core, community, current)
        else:  # stored just before the raid began (or a retry)
            await move(core, jid, "mode", Mode.pending, Mode.raid, raid_id=current)
        doc = await joins(core).find_one({"_id": jid})
    if doc["mode"] == Mode.raid and not doc.get("restricted"):
        await _hold(core, community, doc)
        if _widens(lock, stored_time(doc["at"])):
            await _absorb(core, community, doc["raid_id"])
    return doc


def _outside(lock: dict[str, Any], at: datetime, community: Community) -> bool:
    """Whether a join the platform dates `at` is more than a window after the latest join
    of the raid under `lock`, or before its first: not the raid's."""
    first, _ = _span(lock)
    early = first is not None and first - at > timedelta(seconds=community.welcome.raid_seconds)
    return early or _ended_by(lock, at, community)


def _span(lock: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The platform's times of the raid's first and latest joins (the first: the latest,
    on a lock written before it was kept)."""
    last = stored_time(lock.get("last_at"))
    return stored_time(lock.get("first_at")) or last, last


def _widens(lock: dict[str, Any], at: datetime | None) -> bool:
    """Whether a raid's join at `at` lies beyond the raid as `lock` had it: the raid now
    reaches a window further, where joins may be waiting for their welcome."""
    first, last = _span(lock)
    return at is not None and (first is None or last is None or not first <= at <= last)


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


async def _dense(
    core: Core, community: Community, at: datetime
) -> tuple[datetime, datetime] | None:
    """A window of `raid_seconds` around `at` holding more than `raid_joins` stored joins
    (none of them a raid's already), as the times of its first and last; None if there is
    none. Read from every join stored near `at`, whatever order they came in: the burst is
    found by whichever of its joins is handled last."""
    window = timedelta(seconds=community.welcome.raid_seconds)
    query = {
        "community_id": community.id,
        "at": {"$gt": at - window, "$lt": at + window},
        "mode": {"$ne": Mode.raid.value},
    }
    found = await joins(core).find(query, {"at": 1}).to_list(None)
    dates = sorted(t for d in found if (t := stored_time(d["at"])) is not None)
    over = community.welcome.raid_joins  # the window's last join, counted from its first
    for first, last in zip(dates, dates[over:], strict=False):
        if first <= at <= last and last - first < window:
            return first, last
    return None


async def _start(
    core: Core, community: Community, jid: str, first: datetime, last: datetime
) -> str:
    """Take the community's lock for a raid named after this join, whose burst spans
    `first`..`last`. A raid under way takes the burst instead, unless it had been quiet
    for a window by the burst's first join: that one is over, only its end timer has not
    run yet, and the lock passes to the new raid (each gets its own summary). Either way
    the joins around the burst are swept into the raid."""
    while True:
        lock = await raids(core).find_one({"_id": community.id}) or {}
        held = lock.get("raid_id")
        if held is not None and not _ended_by(lock, first, community):
            raid_id = str(held)
            await raids(core).update_one(
                {"_id": community.id, "raid_id": raid_id},
                {"$min": {"first_at": first}, "$max": {"last_at": last}},
            )
            break
        free = {"_id": community.id, "raid_id": held}
        if held is not None:
            free["last_at"] = lock.get("last_at")
        now = core.clock.now()
        taken = {"raid_id": jid, "last_seen_at": now, "first_at": first, "last_at": last}
        try:
            result = await raids(core).update_one(free, {"$set": taken}, upsert=held is None)
        except DuplicateKeyError:  # another run took the lock first
            continue
        if result.matched_count or result.upserted_id is not None:
            raid_id = jid
            break
    if raid_id == jid:
        await _record(core, community, jid)
    await _sweep(core, community, raid_id)
    return raid_id


def _ended_by(lock: dict[str, Any], at: datetime, community: Community) -> bool:
    """Whether the raid under `lock` had been quiet for a window by the platform's `at`."""
    last = stored_time(lock.get("last_at"))
    return last is not None and at - last > timedelta(seconds=community.welcome.raid_seconds)


async def _record(core: Core, community: Community, raid_id: str) -> None:
    """The raid's own document (what its end and summary read), once."""
    await raids(core).update_one(
        {"_id": derived_id("community-raid", raid_id)},
        {
            "$setOnInsert": {
                "community_id": community.id,
                "workspace_id": community.workspace_id,
                "raid_id": raid_id,
                "started_at": core.clock.now(),
                "ended_at": None,
            }
        },
        upsert=True,
    )


async def _sweep(core: Core, community: Community, raid_id: str) -> None:
    """The joins around the raid still waiting for a welcome become its own (the summary
    welcomes them); every one of its joins not yet held is; moderators are told, once per
    raid."""
    await _absorb(core, community, raid_id)
    async for doc in joins(core).find({"raid_id": raid_id, "restricted": False}):
        await _hold(core, community, doc)
    await _alert(core, community, raid_id)
    await note(core, community, "community.raid_started", raid_id, {"raid_id": raid_id})


async def _absorb(core: Core, community: Community, raid_id: str) -> None:
    """Every join waiting for a welcome within a window of the raid's first or latest join
    becomes the raid's and is held, which may widen the raid to take in more: the raid is
    the same joins whatever order they were handled in."""
    window = timedelta(seconds=community.welcome.raid_seconds)
    while True:
        lock = await raids(core).find_one({"_id": community.id, "raid_id": raid_id}) or {}
        first, last = _span(lock)
        if first is None or last is None:
            return  # the raid is over (or its lock passed on)
        near = {"$gte": first - window, "$lte": last + window}
        query = {"community_id": community.id, "mode": Mode.pending.value, "at": near}
        taken = 0
        for found in await joins(core).find(query, {"_id": 1}).to_list(None):
            doc = await move(core, found["_id"], "mode", Mode.pending, Mode.raid, raid_id=raid_id)
            if doc is not None:
                taken += 1
                await _hold(core, community, doc)
        if taken == 0:
            return


async def _hold(core: Core, community: Community, doc: dict[str, Any]) -> None:
    """Restrict a raid's member (never an admin; once: the rules may have restricted them
    already) until it passes, and keep the raid going for another window from now."""
    await waive(core, doc)
    spared = doc["admin"] or doc.get("restricted")
    if not spared and await act(core, community, "restrict", doc["platform_user_id"]):
        await joins(core).update_one({"_id": doc["_id"]}, {"$set": {"restricted": True}})
    now = core.clock.now()
    raid_id = doc["raid_id"]
    await raids(core).update_one(
        {"_id": community.id, "raid_id": raid_id},
        {"$max": {"last_seen_at": now, "last_at": doc["at"]}, "$min": {"first_at": doc["at"]}},
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
    figures: dict[str, str | int | float] = {
        "joins": welcome.raid_joins,
        "seconds": welcome.raid_seconds,
    }
    wording = Wording(key="community_raid", values=figures)  # each agent's inbox words it
    note_id = derived_id("community-raid-alert", raid_id)
    await send(core, talk, content, AUTHOR, message_id=note_id, wording=wording)


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
