"""A customer's erasure reaching their communities (`Feature.erasers`, run before core
deletes the documents `customer_data` names: the joins and audit rows read here go next).

The roster, the joins, the referrals and the audit rows name the member by `customer_id` and
go with the customer; a member still in leaves the count as a leave would (the count, the
figures and the roster agree), and their platform id leaves the days' speakers. What does
not: the messages posted into the group *about* them (the welcome with their name, a
warning naming them, the moderators' note quoting their message, their appeal's note), which
belong to the group's conversation; each has an id derived from the join or the audit row,
so they are found from those and deleted. The group's
conversation keeps its line in the inbox, but not a preview quoting them. And a group's
conversation is opened on behalf of whoever was first seen there: if that is the erased
customer, it passes to another member, so the group's history is not erased with them.
Telegram's list of a group's administrators, kept a while for moderation
(`kith.connectors.telegram.admins`), names them by their Telegram id, not their customer id:
each list naming them is forgotten, as a change of administrators forgets it, and asked for
again the next time a rule is broken.
"""

from __future__ import annotations

from typing import Any

from kith.communities import roster, stats
from kith.communities.audit import audit
from kith.communities.joins import joins
from kith.communities.models import Community, MemberStatus
from kith.communities.store import communities, members
from kith.connectors.telegram.admins import ADMINS
from kith.core.context import Core
from kith.core.ids import derived_id
from kith.core.storable import literal_regex


async def erase(core: Core, workspace_id: str, customer_ids: list[str]) -> None:
    """Scrub what names `customer_ids` in the workspace's communities (see the module)."""
    named = {"workspace_id": workspace_id, "customer_id": {"$in": customer_ids}}
    said = await _said_about(core, named)
    touched = set(
        await core.store.messages.distinct("conversation_id", {"_id": {"$in": said}})
    ) | set(await core.store.messages.distinct("conversation_id", named))
    await core.store.messages.delete_many({"workspace_id": workspace_id, "_id": {"$in": said}})
    await _leave(core, named)
    await _forget_admin_lists(core, named)
    async for community in communities(core).find(
        {"workspace_id": workspace_id}, {"conversation_id": 1}
    ):
        talk = community["conversation_id"]
        if talk in touched:
            await core.store.conversations.update_one({"_id": talk}, {"$set": {"preview": None}})
        await _hand_over(core, community["_id"], talk, customer_ids)


async def _leave(core: Core, named: dict[str, Any]) -> None:
    """Each membership of theirs still counted, uncounted once: taken off the roster here
    (core deletes the document next), so a leave processed meanwhile finds them gone."""
    now = core.clock.now()
    async for doc in members(core).find(
        named, {"_id": 1, "community_id": 1, "platform_user_id": 1}
    ):
        gone = await members(core).find_one_and_update(
            {"_id": doc["_id"], "status": MemberStatus.member.value},
            {"$set": {"status": MemberStatus.left.value, "left_at": now}},
        )
        found = await communities(core).find_one({"_id": doc["community_id"]})
        if found is None:
            continue
        community = Community.from_doc(found)
        if gone is not None:
            await roster.uncount(core, community)
            await stats.add(core, community, now, leaves=1)
        await stats.forget_speaker(core, community, str(doc["platform_user_id"]))


async def _forget_admin_lists(core: Core, named: dict[str, Any]) -> None:
    """The kept lists of administrators naming them (by their id on each of their channels)
    hold no ids any more, under a new generation, so an answer asked for before the erasure
    is not kept either (see `kith.connectors.telegram.admins`)."""
    async for identity in core.store.identities.find(named, {"channel_id": 1, "external_id": 1}):
        await core.store.collection(ADMINS).update_many(
            {
                "_id": {"$regex": f"^{literal_regex(str(identity['channel_id']))}:"},
                "ids": str(identity["external_id"]),
            },
            {"$set": {"ids": None, "asked_at": None}, "$inc": {"generation": 1}},
        )


async def _said_about(core: Core, named: dict[str, Any]) -> list[str]:
    """The ids of the messages posted about them: welcomes, warnings, notes, appeals."""
    ids = [
        derived_id("community-welcome", doc["_id"])
        async for doc in joins(core).find(named, {"_id": 1})
    ]
    async for row in audit(core).find(named, {"_id": 1, "appeal": 1}):
        ids += [derived_id("mod-warn", row["_id"]), derived_id("mod-note", row["_id"])]
        note = (row.get("appeal") or {}).get("note_id")
        if note:
            ids.append(note)
    return ids


async def _hand_over(core: Core, cid: str, talk: str, customer_ids: list[str]) -> None:
    """The group's conversation, held for an erased customer, passes to another member
    (with the group's own posts); with no one else on the roster it goes with them."""
    held = await core.store.conversations.find_one(
        {"_id": talk, "customer_id": {"$in": customer_ids}}, {"_id": 1}
    )
    if held is None:
        return
    heir = await members(core).find_one(
        {
            "community_id": cid,
            "customer_id": {"$nin": customer_ids},
            "status": MemberStatus.member.value,
        },
        {"customer_id": 1, "platform_user_id": 1},
        sort=[("first_joined_at", 1), ("_id", 1)],
    )
    if heir is None:
        return
    await core.store.conversations.update_one(
        {"_id": talk},
        {
            "$set": {
                "customer_id": heir["customer_id"],
                "external_user_id": heir["platform_user_id"],
            }
        },
    )
    await core.store.messages.update_many(
        {"conversation_id": talk, "customer_id": {"$in": customer_ids}, "direction": "out"},
        {"$set": {"customer_id": heir["customer_id"]}},
    )
