"""Appeals: a member acted on presses Appeal on the warning (in the group) or writes
`/appeal [why]` (申诉) to the bot privately; the appeal is kept on the audit row and reaches the
inbox as a private note on the community's conversation, which is opened and labelled
`appeal` so agents see it. One appeal per row: a second press or command changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kith.communities.audit import Appeal, AuditRow, Outcome, audit
from kith.communities.lift import LIFTABLE
from kith.communities.moderation_texts import (
    APPEAL_ANSWER,
    APPEAL_PAYLOAD,
    NOTHING_TO_APPEAL,
    appeal_note,
)
from kith.communities.store import get_community
from kith.core.clock import aware
from kith.core.context import Core
from kith.core.conversations import do_update_conversation, get_conversation
from kith.core.errors import NotFound
from kith.core.events import SYSTEM, build_event, record
from kith.core.ids import derived_id
from kith.core.languages import customer_language
from kith.core.models import ConversationStatus, Event, Message, OutboundContent, Wording
from kith.core.outbox import send

COMMANDS = ("/appeal", "申诉")
WITHIN = timedelta(days=30)  # how far back `/appeal` looks for the member's latest action
LABEL = "appeal"


def _command(text: str) -> str | None:
    """`/appeal why`, `/appeal@MyBot why`, `申诉 why` → "why"; anything else → None."""
    head, _, rest = text.strip().partition(" ")
    if head.partition("@")[0].lower() in COMMANDS:
        return rest.strip()
    return None


async def is_appeal(core: Core, message: Message) -> bool:
    """Appeals are answered here: bots stay quiet on them."""
    if message.payload and message.payload.startswith(APPEAL_PAYLOAD):
        return True
    return _command(message.text) is not None


async def on_message(core: Core, event: Event) -> None:
    """A message outside any group: an appeal (pressed or written), or nothing for us."""
    if event.message_id is None or event.customer_id is None:
        return
    message = await core.store.messages.find_one(
        {"_id": event.message_id}, {"text": 1, "payload": 1, "conversation_id": 1}
    )
    if message is None:
        return
    payload = message.get("payload") or ""
    if payload.startswith(APPEAL_PAYLOAD):
        doc = await audit(core).find_one(
            {"_id": payload.removeprefix(APPEAL_PAYLOAD), "workspace_id": event.workspace_id}
        )
        if doc is not None and doc.get("customer_id") == event.customer_id:
            await appeal(core, AuditRow.from_doc(doc), "", "button")
        return  # someone else's button: only the member acted on may appeal
    reason = _command(str(message.get("text") or ""))
    if reason is None:
        return
    row = await _latest(core, event)
    conversation = await get_conversation(core, event.workspace_id, message["conversation_id"])
    language = await customer_language(core, event.customer_id, conversation.id)
    texts = APPEAL_ANSWER if row is not None else NOTHING_TO_APPEAL
    if row is not None:
        await appeal(core, row, reason, "command")
    answer = OutboundContent(text=texts.get(language or "en", texts["en"]))
    await send(core, conversation, answer, SYSTEM, message_id=derived_id("mod-appeal", event.id))


async def _latest(core: Core, event: Event) -> AuditRow | None:
    """The member's latest action still in force, in this workspace."""
    since = core.clock.now() - WITHIN
    query: dict[str, Any] = {
        "workspace_id": event.workspace_id,
        "customer_id": event.customer_id,
        "appealable": True,
        "outcome": Outcome.taken.value,
        "lifted_at": None,
        "at": {"$gte": since},
    }
    doc = await audit(core).find_one(query, sort=[("at", -1), ("_id", -1)])
    return AuditRow.from_doc(doc) if doc else None


async def appeal(core: Core, row: AuditRow, text: str, via: str) -> None:
    """Kept on the row (once), and a note for the moderators on the community's conversation."""
    try:
        community = await get_community(core, row.workspace_id, row.community_id)
        conversation = await get_conversation(
            core, community.workspace_id, community.conversation_id
        )
    except NotFound:
        return
    note_id = derived_id("mod-appeal-note", row.id)
    kept = Appeal(at=core.clock.now(), text=text[:1000], via=via, note_id=note_id)
    await audit(core).update_one(
        {"_id": row.id, "appeal": None}, {"$set": {"appeal": kept.model_dump()}}
    )
    liftable = row.action in LIFTABLE
    note = OutboundContent(text=appeal_note(row, text, liftable=liftable), private=True)
    wording = appeal_wording(row, text)
    await send(core, conversation, note, SYSTEM, message_id=note_id, wording=wording)
    await do_update_conversation(
        core,
        conversation,
        status=ConversationStatus.open,
        labels=list(dict.fromkeys([*conversation.labels, LABEL])),
    )
    await record(
        core,
        build_event(
            core,
            row.workspace_id,
            "community.appealed",
            actor=SYSTEM,
            event_id=derived_id("community-event", "community.appealed", row.id),
            conversation_id=conversation.id,
            customer_id=row.customer_id,
            data={"community_id": row.community_id, "audit_id": row.id, "via": via},
        ),
    )


def appeal_wording(row: AuditRow, text: str) -> Wording:
    """The appeal note as each agent's inbox words it (`said_community_appeal…`): the
    member's own words and name are values, shown as written."""
    values: dict[str, str | int | float] = {
        "name": row.member_name or row.platform_user_id,
        "user": row.platform_user_id,
        "taken_at": aware(row.at).isoformat(),
        "audit": row.id,
        "community": row.community_id,
    }
    if text:
        values["text"] = text
    terms: dict[str, str | list[str]] = {
        "action": f"said_action_{row.action}",
        "rule": f"communities_rule_{row.rule}",
    }
    key = "community_appeal_said" if text else "community_appeal"
    if row.action not in LIFTABLE:  # a delete or a warning: the note says so, no lift to call
        key += "_final"
    return Wording(key=key, values=values, terms=terms)
