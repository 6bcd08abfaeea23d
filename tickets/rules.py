"""Rules that open tickets by themselves: a customer turning sour (the sentiment feature's
escalation, the same signal that raises a conversation's priority), a keyword, a bot that
failed twice, a customer left waiting too long for a person.

A rule never opens a second active ticket for one conversation: when one is open, the rule's
reason becomes a note on it instead (and negative sentiment raises it to high). Everything a
rule writes derives its id from the event that fired it, so handling an event again changes
nothing. Rules are switched on and off per workspace (`kith.tickets.settings`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.errors import NotFound
from kith.core.ids import derived_id
from kith.core.languages import customer_language
from kith.core.models import Author, AuthorKind, Event
from kith.tickets.actions import do_update_ticket
from kith.tickets.models import PRIORITIES, Priority, Source, Ticket, TicketIn, TicketPatch
from kith.tickets.notes import do_add_note
from kith.tickets.opening import active_ticket, open_once, opened_by
from kith.tickets.settings import Language, TicketSettings

RULES = Author(kind=AuthorKind.system, name="Ticket rules")

REASONS: dict[str, dict[Language, str]] = {
    "negative": {
        Language.en: "Negative sentiment: the customer is unhappy",
        Language.zh: "负面情绪：客户不满意",
    },
    "keyword": {
        Language.en: "The customer wrote “{keyword}”",
        Language.zh: "客户提到“{keyword}”",
    },
    "bot": {
        Language.en: "The bot failed to answer twice in a row",
        Language.zh: "机器人连续两次未能回答",
    },
    "waiting": {
        Language.en: "The customer has waited over {minutes} minutes for a reply",
        Language.zh: "客户等待人工回复已超过 {minutes} 分钟",
    },
}


async def reason(
    core: Core, settings: TicketSettings, event: Event, kind: str, **values: object
) -> str:
    """Why a rule fired, in the workspace's chosen language, else in the language of the
    customer whose conversation it is (English when it is neither English nor Chinese)."""
    language = settings.language or await _customers_language(core, event)
    return REASONS[kind][language].format(**values)


async def _customers_language(core: Core, event: Event) -> Language:
    customer_id = event.customer_id
    if customer_id is None and event.conversation_id is not None:
        doc = await core.store.conversations.find_one(
            {"_id": event.conversation_id}, {"customer_id": 1}
        )
        customer_id = (doc or {}).get("customer_id")
    if customer_id is None or event.conversation_id is None:
        return Language.en
    spoken = await customer_language(core, customer_id, event.conversation_id)
    return Language.zh if spoken == Language.zh.value else Language.en


def _cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF  # hangul
        or 0xF900 <= code <= 0xFAFF
    )


def _wordy(ch: str) -> bool:
    """A character that continues a Latin word (a CJK neighbour does not: "我要refund")."""
    return (ch.isalnum() or ch == "_") and not _cjk(ch)


def _whole_word_in(keyword: str, text: str) -> bool:
    start = text.find(keyword)
    while start != -1:
        end = start + len(keyword)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not _wordy(before) and not _wordy(after):
            return True
        start = text.find(keyword, start + 1)
    return False


def matched_keyword(text: str, keywords: Sequence[str]) -> str | None:
    """The first keyword `text` contains, case-insensitively: a keyword with CJK characters
    anywhere (Chinese has no spaces), a Latin one only as a whole word. Plain substring
    search, so the time grows with the text and the keywords, never with a pattern's shape."""
    folded = text.casefold()
    for keyword in keywords:
        needle = keyword.casefold()
        if not needle:
            continue
        if any(_cjk(ch) for ch in needle):
            if needle in folded:
                return keyword
        elif _whole_word_in(needle, folded):
            return keyword
    return None


@dataclass(frozen=True)
class Hit:
    """A rule that fired: because of which event (on its conversation), and why."""

    event: Event
    text: str
    priority: Priority = Priority.normal
    raise_to: Priority | None = None  # an active ticket's priority goes at least this high


async def apply(core: Core, hit: Hit) -> Ticket | None:
    """Open the rule's ticket, or note the reason on the conversation's active one."""
    workspace_id, conversation_id = hit.event.workspace_id, hit.event.conversation_id
    if conversation_id is None:
        return None
    cause = f"rule:{hit.event.id}"
    opened = await opened_by(core, workspace_id, cause)
    if opened is not None:  # this event opened it on an earlier run
        return opened
    try:
        await get_conversation(core, workspace_id, conversation_id)
    except NotFound:
        return None  # erased meanwhile
    active = await active_ticket(core, workspace_id, conversation_id)
    if active is not None:
        note_id = derived_id("ticket-rule-note", hit.event.id)
        await do_add_note(core, active, hit.text, RULES, note_id=note_id)
        if hit.raise_to is not None and PRIORITIES.index(active.priority) < PRIORITIES.index(
            hit.raise_to
        ):
            patch = TicketPatch(priority=hit.raise_to)
            active = await do_update_ticket(core, workspace_id, active.id, patch, RULES, active)
        return active
    body = TicketIn(subject=hit.text, conversation_id=conversation_id, priority=hit.priority)
    return await open_once(
        core, workspace_id, cause, body, RULES, Source.rule, message_id=hit.event.message_id
    )
