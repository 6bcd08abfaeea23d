"""What the community page shows of referrals: the leaderboard (who brought whom), the
community's invite links with their owners' names, and the members a manager can make a
link for. Invite links are made through the API (`kith.communities.referrals`)."""

from __future__ import annotations

from dataclasses import dataclass

from kith.communities.invites import Invite, community_invites
from kith.communities.models import BotStatus, Community, Member, MemberStatus
from kith.communities.referrals import Leaderboard, leaderboard
from kith.communities.store import members
from kith.core.context import Core

CHOICES = 500  # members offered in the page's select, the latest to join first


@dataclass(frozen=True)
class InviteRow:
    invite: Invite
    owner: str | None  # the customer's name


@dataclass(frozen=True)
class Sharing:
    board: Leaderboard
    invites: list[InviteRow]
    choices: list[Member]  # whom a new link can be for, the latest to join first
    can_invite: bool  # the platform makes links for the group (its bot an admin there)


async def sharing(core: Core, community: Community) -> Sharing:
    board = await leaderboard(core, community)
    made = await community_invites(core, community)
    ids = list({i.customer_id for i in made})
    names = {
        doc["_id"]: doc.get("name")
        async for doc in core.store.customers.find({"_id": {"$in": ids}}, {"name": 1})
    }
    found = members(core).find(
        {"community_id": community.id, "status": MemberStatus.member.value},
        sort=[("joined_at", -1), ("_id", -1)],
        limit=CHOICES,
    )
    choices = [Member.from_doc(doc) async for doc in found]  # as the hint says (qa11 m7)
    kind = core.channels.get(community.channel_type)
    can = kind is not None and kind.group_admin is not None
    return Sharing(
        board=board,
        invites=[InviteRow(i, names.get(i.customer_id)) for i in made],
        choices=choices,
        can_invite=can and community.bot_status == BotStatus.admin,
    )
