"""Moderation actions on a member and their message, each one an audit row: delete, mute and
ban through the channel's `GroupAdmin` (`kith.core.groups`), warn and report as messages on
the community's conversation; and a moderator lifting what was done.

A rule's actions on one message run in a fixed order (delete, mute, ban, report, warn: the
warning says what happened and its appeal button names the heaviest action's row). Beyond
delete, a member is acted on at most once per rule per window (`community_mod_strikes`), and
the group hears at most one warning (moderators one note) per rule per window: a flood of 40
messages is 40 deletions but one warning and one mute, and a wave of 50 spammers 50 deletions
and one warning, whichever process saw them (the captcha bots' failure, shieldy#185).
A retryable platform error leaves the row pending and raises, so the consumer's retry takes
it again; any other refusal is recorded with its reason."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from kith.communities import roster
from kith.communities.audit import AuditRow, begin, excerpt, finish, row_id
from kith.communities.events import note
from kith.communities.models import Community, Member, MemberStatus
from kith.communities.moderation_texts import appeal_button, report_text, warn_text
from kith.communities.settings import Action
from kith.communities.store import member_id, members
from kith.communities.welcome import member_language
from kith.core.channel_records import get_channel
from kith.core.clock import aware
from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.errors import DeliveryError, KithError
from kith.core.groups import Unsupported
from kith.core.ids import derived_id
from kith.core.models import Author, AuthorKind, OutboundContent, Wording
from kith.core.outbox import send

STRIKES = "community_mod_strikes"
ORDER = (Action.delete, Action.mute, Action.ban, Action.report, Action.warn)
WEIGHT = (Action.ban, Action.mute, Action.delete, Action.report, Action.warn)
SAID = (Action.warn, Action.report)  # at most once per rule and window in the community
STRIKE_WINDOW = 60  # seconds, for rules that have no window of their own
RULE_AUTHOR = Author(kind=AuthorKind.bot, name="moderation")


@dataclass(frozen=True)
class Violation:
    rule: str  # words, links, media, repeat, flood
    detail: str | None
    actions: list[Action]
    window: int = STRIKE_WINDOW
    others: tuple[str, ...] = field(default=())  # earlier copies of a repeated message
    facts: dict[str, int | str] = field(default_factory=dict)  # the detail's, for pages


@dataclass(frozen=True)
class Target:
    """A message and the member who posted it."""

    message_id: str
    channel_message_id: str | None
    sender: str
    customer_id: str | None
    name: str | None
    text: str
    media: bool
    at: datetime
    edit: datetime | None = None  # an edit of the message, judged on its own

    @property
    def cause(self) -> str:
        """What the audit rows and strikes are keyed by: the post, or this edit of it."""
        if self.edit is None:
            return self.message_id
        return f"{self.message_id}:edit:{self.edit.isoformat()}"

    @classmethod
    def of(
        cls,
        message: dict[str, Any],
        sender: str,
        member: Member | None,
        edit: datetime | None = None,
    ) -> Target:
        author = message.get("author") or {}
        return cls(
            message_id=str(message["_id"]),
            channel_message_id=message.get("channel_message_id"),
            sender=sender,
            customer_id=message.get("customer_id"),
            name=author.get("name") or (member.name if member else None),
            text=str(message.get("text") or ""),
            media=bool(message.get("attachments")),
            at=edit or posted_at(message),
            edit=edit,
        )


def posted_at(message: dict[str, Any]) -> datetime:
    """When a message was posted, for the flood and repeat windows: the platform's own time
    (`sent_at`), so a backlog delivered in one burst after downtime is no flood and a real
    burst is one however slowly it arrives; never later than Kith received it (a platform
    clock ahead of ours), and the arrival where the platform gave no time."""
    arrived = aware(message["created_at"])
    sent = message.get("sent_at")
    return min(aware(sent), arrived) if sent is not None else arrived


def strikes(core: Core) -> Any:
    return core.store.collection(STRIKES)


async def act(core: Core, community: Community, violation: Violation, target: Target) -> None:
    wanted = [a for a in ORDER if a in violation.actions]
    if any(a != Action.delete for a in wanted) and not await _strike(
        core, community, violation, target, target.sender
    ):
        wanted = [a for a in wanted if a == Action.delete]
    if any(a in SAID for a in wanted) and not await _strike(
        core, community, violation, target, "community"
    ):
        wanted = [a for a in wanted if a not in SAID]
    heaviest = next((a for a in WEIGHT if a in wanted), None)
    rows: dict[Action, AuditRow] = {}
    for action in wanted:
        row = _row(core, community, violation, target, action, action == heaviest)
        started = await begin(core, row)
        if started is None:
            continue  # taken (or refused) by an earlier run
        rows[action] = started
        reason = await _perform(core, community, violation, target, started, rows)
        await _done(core, community, started, reason)


def _row(
    core: Core,
    community: Community,
    violation: Violation,
    target: Target,
    action: Action,
    appealable: bool,
) -> AuditRow:
    now = core.clock.now()
    m = community.moderation
    until = {
        Action.mute: now + timedelta(minutes=m.mute_minutes),
        Action.ban: now + timedelta(days=m.ban_days) if m.ban_days else None,
    }.get(action)
    return AuditRow(
        id=row_id(target.cause, action.value),
        workspace_id=community.workspace_id,
        community_id=community.id,
        customer_id=target.customer_id,
        platform_user_id=target.sender,
        member_name=target.name,
        rule=violation.rule,
        detail=violation.detail,
        facts=violation.facts,
        action=action.value,
        message_id=target.message_id,
        excerpt=excerpt(target.text),
        until=until,
        by=RULE_AUTHOR,
        at=now,
        appealable=appealable,
    )


async def _perform(
    core: Core,
    community: Community,
    violation: Violation,
    target: Target,
    row: AuditRow,
    rows: dict[Action, AuditRow],
) -> str | None:
    """Take the action; the platform's reason if it refused (None: taken)."""
    action = Action(row.action)
    if action == Action.warn:
        primary = next((rows[a] for a in WEIGHT if a in rows), row)
        step = _warn(core, community, violation, target, row, primary, list(rows))
    elif action == Action.report:
        step = _report(core, community, violation, target, row, list(rows))
    else:
        step = _platform(core, community, target, row)
    return await attempt(step)


async def attempt(step: Awaitable[None], retry: bool = True) -> str | None:
    """Run a step that calls the platform: None if it was taken, else the reason it was
    refused. A retryable delivery error is raised where `retry` (the consumer runs it again,
    and the pending row is taken again); a moderator's lift reports it instead."""
    try:
        await step
    except DeliveryError as exc:
        if exc.retryable and retry:
            raise
        return exc.message
    except Unsupported as exc:
        return f"unsupported: {exc}" if str(exc) else "unsupported"
    except KithError as exc:
        return exc.message
    return None


async def _platform(core: Core, community: Community, target: Target, row: AuditRow) -> None:
    admin, channel = await group_admin(core, community)
    chat = community.platform_chat_id
    if row.action == Action.delete:
        if not target.channel_message_id:
            raise Unsupported("the message has no platform id")
        await admin.delete_message(core, channel, chat, target.channel_message_id)
        deleted = {"$set": {"deleted": True}}  # agents still see it, marked
        await core.store.messages.update_one({"_id": target.message_id}, deleted)
    elif row.action == Action.mute:
        await admin.restrict(core, channel, chat, target.sender, row.until)
    elif row.action == Action.ban:
        await admin.ban(core, channel, chat, target.sender, row.until)
        await mark_banned(core, community, target.sender, target.customer_id, row)


async def group_admin(core: Core, community: Community) -> tuple[Any, Any]:
    """The channel's `GroupAdmin` and the channel (Unsupported where there is none)."""
    kind = core.channels.get(community.channel_type)
    admin = kind.group_admin if kind is not None else None
    if admin is None:
        raise Unsupported(f"{community.channel_type} channels cannot moderate groups")
    channel = await get_channel(core, community.workspace_id, community.channel_id)
    return admin, channel


async def mark_banned(
    core: Core, community: Community, sender: str, customer_id: str | None, row: AuditRow
) -> None:
    """Out of the roster as removed, and banned (a ban is the moderation's to record)."""
    who = roster.Who(sender, customer_id or "")
    await roster.leave(core, community, who, row.at, f"ban:{row.id}", removed=True)
    await members(core).update_one(
        {"_id": member_id(community.id, sender)}, {"$set": {"status": MemberStatus.banned.value}}
    )


async def _warn(
    core: Core,
    community: Community,
    violation: Violation,
    target: Target,
    row: AuditRow,
    primary: AuditRow,
    done: list[Action],
) -> None:
    conversation = await get_conversation(core, community.workspace_id, community.conversation_id)
    m = community.moderation
    language = None
    if target.customer_id:  # the welcome's rule: their own chat's language, else their locale
        language = await member_language(core, community, target.customer_id)
    text = warn_text(m, target.name, violation.rule, done, primary.until, language)
    content = OutboundContent(text=text, buttons=[appeal_button(m, primary.id, language)])
    await send(core, conversation, content, RULE_AUTHOR, message_id=derived_id("mod-warn", row.id))


async def _report(
    core: Core,
    community: Community,
    violation: Violation,
    target: Target,
    row: AuditRow,
    done: list[Action],
) -> None:
    conversation = await get_conversation(core, community.workspace_id, community.conversation_id)
    text = report_text(target.name, target.sender, violation.rule, violation.detail, row, done)
    content = OutboundContent(text=text, private=True)
    wording = report_wording(violation, row, done)
    note_id = derived_id("mod-note", row.id)
    await send(core, conversation, content, RULE_AUTHOR, message_id=note_id, wording=wording)


def report_wording(violation: Violation, row: AuditRow, done: list[Action]) -> Wording:
    """The moderators' note as each agent's inbox words it: the rule, what it found (the
    word matched, or the flood's or wave's figures) and the list of actions taken."""
    values: dict[str, str | int | float] = {
        "name": row.member_name or row.platform_user_id,
        "user": row.platform_user_id,
        "excerpt": row.excerpt,
        "audit": row.id,
    }
    key = "community_moderated"
    if violation.rule == "words" and violation.detail:
        key, values["word"] = "community_moderated_word", violation.detail
    elif violation.rule in ("flood", "repeat") and violation.facts:
        key = f"community_moderated_{violation.rule}"
        values.update(violation.facts)
    terms: dict[str, str | list[str]] = {
        "rule": f"communities_rule_{violation.rule}",
        "actions": [f"said_action_{a.value}" for a in done],
    }
    return Wording(key=key, values=values, terms=terms)


async def _strike(
    core: Core, community: Community, violation: Violation, target: Target, scope: str
) -> bool:
    """Whether this message is the first for this rule in its window, of the member (so it
    mutes …) or of the whole community (so it is said); a rerun for the same message claims
    it again."""
    key = derived_id("community-strike", community.id, scope, violation.rule)
    until = target.at + timedelta(seconds=violation.window)
    mid = target.cause
    try:
        await strikes(core).update_one(
            {"_id": key, "$or": [{"until": {"$lte": target.at}}, {"message_id": mid}]},
            {
                "$set": {"until": until, "message_id": mid},
                "$setOnInsert": {
                    "workspace_id": community.workspace_id,
                    "customer_id": target.customer_id,
                },
            },
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # struck within the window by an earlier message
    return True


async def _done(core: Core, community: Community, row: AuditRow, reason: str | None) -> None:
    data = {"rule": row.rule, "reason": reason}
    await settle(core, community, row, reason, "community.moderated", data, row.message_id)


async def settle(
    core: Core,
    community: Community,
    row: AuditRow,
    reason: str | None,
    type_: str,
    data: dict[str, Any],
    message_id: str | None = None,
) -> AuditRow:
    """The row taken or refused, and its event (by whoever acted, once per row)."""
    finished = await finish(core, row, reason)
    outcome = {"audit_id": row.id, "action": row.action, "outcome": finished.outcome.value}
    await note(
        core,
        community,
        type_,
        row.id,
        {**outcome, **data},
        row.customer_id,
        actor=finished.by,
        message_id=message_id,
    )
    return finished
