"""Who moderation leaves alone: the group's creator and administrators.

The roster's role is not enough on its own: it knows an administrator only from a
`chat_member` update it saw (a join as one, a promotion), and someone who was in the group
before the bot (its creator, most often) is on the roster as a plain member from the first
time they speak. So, for a message that broke a rule, the platform is asked as well
(`GroupAdmin.administrators`: Telegram's `getChatAdministrators`, kept a while by the
connector, asked again after any change of administrators), and the roster learns what it
says."""

from __future__ import annotations

import logging

from kith.communities import roster
from kith.communities.models import Community, Member, MemberRole
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.errors import DeliveryError
from kith.core.groups import Unsupported

log = logging.getLogger(__name__)


async def is_admin(core: Core, community: Community, sender: str, member: Member | None) -> bool:
    """Whether `sender` administers the group, by the roster or by the platform. A
    retryable platform error is raised (the consumer's retry asks again): acting on an
    administrator is worse than acting late."""
    if member is not None and member.role == MemberRole.admin:
        return True
    listed = await _platform_admins(core, community)
    if listed is None or sender not in listed:
        return False
    await roster.learnt_admin(core, community, sender)
    return True


async def _platform_admins(core: Core, community: Community) -> frozenset[str] | None:
    """The platform's list, None where it has none to give (the roster's role decides)."""
    kind = core.channels.get(community.channel_type)
    admin = kind.group_admin if kind is not None else None
    if admin is None:
        return None
    channel = await get_channel(core, community.workspace_id, community.channel_id)
    try:
        listed: frozenset[str] | None = await admin.administrators(
            core, channel, community.platform_chat_id
        )
    except Unsupported:
        return None
    except DeliveryError as exc:
        if exc.retryable:
            raise
        log.warning(
            "the group's administrators could not be asked",
            extra={"community_id": community.id, "error": exc.message},
        )
        return None
    return listed
