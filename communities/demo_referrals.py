"""The demo's referrals: a sample customer's invite link to the sample group, a reward for
their first referral (the `ambassador` tag and a coupon in their private chat), and a new
member joining through the link, as Telegram reports a join through a named link to the
group's admin bot (a `chat_member` update naming the link; elsewhere, the channel event). Once the
workers have run, the group's leaderboard (`GET /api/v1/communities/{id}/referrals`) shows
the referrer with one credited referral and their profile the tag and `referrals.count`.

The lead calls `seed_demo_referrals(core, workspace_id, community_id)` after the sample
group exists (`kith.communities.demo`), optionally naming the referrer.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from kith.communities import actions, invites
from kith.communities.demo_updates import changed, invite_link
from kith.communities.models import Community, CommunityPatch, MemberStatus
from kith.communities.settings import Goal, Referrals, RewardMessage
from kith.communities.store import get_community, members
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.dead_letters import Payload
from kith.core.errors import KithError
from kith.core.models import (
    Author,
    AuthorKind,
    Channel,
    ChannelEvent,
    ChannelEventKind,
    InboundUser,
)
from kith.core.pipeline import ingest_event

log = logging.getLogger(__name__)

DEMO = Author(kind=AuthorKind.system, name="demo")
FRIEND = InboundUser(id="990000001", name="Lin Mei 林梅")
LABEL = "Friends of the club"
GOAL = Goal(
    id="first-friend",
    at=1,
    tag="ambassador",
    message=RewardMessage(
        texts={
            "en": "Thank you for bringing a friend to the club! Your coupon: {coupon}",
            "zh": "感谢您邀请好友加入社群！您的优惠码：{coupon}",
        },
        coupon_code="FRIEND10",
    ),
)


async def seed_demo_referrals(
    core: Core, workspace_id: str, community_id: str, referrer_id: str | None = None
) -> invites.Invite | None:
    """The invite link of `referrer_id` (default: the group's longest-standing member) and a
    join through it; None when the group has nobody to refer from."""
    community = await get_community(core, workspace_id, community_id)
    if referrer_id is None:
        first = await members(core).find_one(
            {
                "community_id": community.id,
                "status": MemberStatus.member.value,
                "platform_user_id": {"$ne": FRIEND.id},
            },
            sort=[("first_joined_at", 1), ("_id", 1)],
        )
        if first is None:
            return None
        referrer_id = str(first["customer_id"])
    patch = CommunityPatch(referrals=Referrals(goals=[GOAL]))
    await actions.update(core, workspace_id, community.id, patch, DEMO)
    body = invites.InviteIn(customer_id=referrer_id, name=LABEL)
    try:
        invite = await invites.create_invite(core, workspace_id, community.id, body)
    except KithError as exc:  # the platform did not answer (`kith demo` seeds before its
        # Bot API serves): the code in the link's name serves
        log.info("demo invite link without the platform's link: %s", exc)
        invite = await invites.claim(core, community, referrer_id, body, core.clock.now())
    channel = await get_channel(core, workspace_id, community.channel_id)
    link = invites.link_name(invite.name, invite.code)
    telegram = core.channels.get(channel.type)
    if channel.type == "telegram" and telegram is not None and telegram.replay is not None:
        update = _join_by_link(community, channel, invite.invite_link, link, core.clock.now())
        raw = json.dumps(update, ensure_ascii=False).encode()
        await telegram.replay(core, channel, Payload(body=raw, content_type="application/json"))
        return invite
    await ingest_event(
        core,
        channel,
        ChannelEvent(
            workspace_id=workspace_id,
            channel_id=channel.id,
            channel_type=channel.type,
            event_id=f"demo-referral-join:{community.id}",
            kind=ChannelEventKind.member_joined,
            user=FRIEND,
            thread_key=community.platform_chat_id,
            group_id=community.platform_chat_id,
            group_name=community.title,
            group_kind=community.kind,
            payload=link,
            occurred_at=core.clock.now(),
        ),
    )
    return invite


def _join_by_link(
    community: Community, channel: Channel, url: str | None, name: str, at: datetime
) -> dict[str, Any]:
    """The friend's join through the link, as Telegram tells the group's admin bot: a
    `chat_member` update naming the link (its name carries the referral code)."""
    chat = {"id": int(community.platform_chat_id), "title": community.title, "type": community.kind}
    friend = {"id": int(FRIEND.id), "is_bot": False, "first_name": "Lin Mei", "last_name": "林梅"}
    bot_id = int(str(channel.config.get("bot_token", "0:")).split(":")[0])  # the token's head
    creator = {"id": bot_id, "is_bot": True, "first_name": channel.name}
    change = changed(chat, friend, int(at.timestamp()), "left", "member")
    change["invite_link"] = invite_link(url or "https://t.me/+...", name, creator)
    return {"update_id": 700_300, "chat_member": change}


async def complete_demo_links(core: Core, workspace_id: str) -> int:
    """Give the demo's invite links their platform link once the demo's Bot API serves
    (`kith demo` seeds before its server starts): made again with the same member and name,
    each is filled in, its code unchanged. Returns how many were completed."""
    done = 0
    found = invites.invites(core).find({"workspace_id": workspace_id, "invite_link": None})
    for doc in await found.to_list(None):
        invite = invites.Invite.from_doc(doc)
        body = invites.InviteIn(customer_id=invite.customer_id)  # a name is never given blank
        if invite.name:
            body = invites.InviteIn(customer_id=invite.customer_id, name=invite.name)
        try:
            made = await invites.create_invite(core, workspace_id, invite.community_id, body)
        except KithError as exc:
            log.info("demo invite link still without the platform's link: %s", exc)
            continue
        done += made.invite_link is not None
    return done
