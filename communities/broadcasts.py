"""Community broadcasts: a broadcast whose audience is communities, posted once into each
group's conversation.

The broadcast machinery does the rest unchanged (`kith.broadcasts`): the draft, schedule,
pause and cancel moves, one recipient row per community claimed under a lease, the message id
derived from (broadcast, community) so a worker killed after posting posts nothing twice, and
the stats. What differs is here: which conversation a community's post goes to, why one is
skipped, and the text. Pacing is the outbox's: each channel's sender reserves its platform's
limits before it calls (Telegram 20 a minute per group and 30 a second per bot, Slack one a
second per channel), and defers the post when a window is full.

A group has no one customer, so a community post is not personalised: its text may not name
`customer.*`, and every language given is posted, one after the other, for a mixed group.
"""

from __future__ import annotations

from datetime import datetime

from jinja2 import TemplateSyntaxError, meta

from kith.broadcasts import templates
from kith.broadcasts.models import Broadcast, BroadcastIn
from kith.communities import joins
from kith.communities.models import BotStatus, Community
from kith.communities.store import communities
from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.models import Conversation

SEPARATOR = "\n\n"


def check(body: BroadcastIn) -> None:
    """Refuse a text that names the customer: there is none in a group."""
    for language, text in body.message.text.items():
        try:
            names = meta.find_undeclared_variables(templates.ENV.parse(text))
        except TemplateSyntaxError:
            continue  # worded by the broadcast's own check, with line and column
        if "customer" in names:
            raise InvalidInput(
                "a community post has no customer: remove {{ customer… }}",
                field=f"message.text.{language}",
            )


async def check_communities(core: Core, workspace_id: str, ids: list[str]) -> list[str]:
    """The ids, each once, all of them communities of this workspace."""
    wanted = list(dict.fromkeys(ids))
    found = set(
        await communities(core).distinct(
            "_id", {"_id": {"$in": wanted}, "workspace_id": workspace_id}
        )
    )
    for n, community in enumerate(wanted):
        if community not in found:
            raise InvalidInput("no such community in this workspace", field=f"community_ids.{n}")
    return wanted


async def channel_ids(core: Core, broadcast: Broadcast) -> list[str]:
    """The channels the broadcast's communities sit on (for the outbox window)."""
    ids = broadcast.community_ids or []
    return list(await communities(core).distinct("channel_id", {"_id": {"$in": ids}}))


async def destination(
    core: Core, broadcast: Broadcast, community_id: str, now: datetime
) -> Conversation | str:
    """The group's conversation as it is now (a migrated group's new chat), or why not."""
    if broadcast.send_by is not None and now > broadcast.send_by:
        return "send_by_passed"
    doc = await communities(core).find_one(
        {"_id": community_id, "workspace_id": broadcast.workspace_id}
    )
    if doc is None:
        return "community_gone"
    community = Community.from_doc(doc)
    if community.bot_status == BotStatus.left:
        return "bot_left"
    found = await joins.conversation(core, community)
    return found if found is not None else "no_conversation"


def text(broadcast: Broadcast) -> str:
    """Every language given, in the order given (TemplateError if one fails)."""
    return SEPARATOR.join(
        templates.render_plain(source, f"message.text.{language}")
        for language, source in broadcast.message.text.items()
    )
