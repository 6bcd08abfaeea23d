"""The bot step `create_ticket`: a bot flow opens a ticket for its conversation.

A feature of its own, listed with the base features (bots read their step types from those
when the app is put together, as `kith.sequences.bot_step` does). The ticket's id derives
from the turn's event and the step, so a retried turn opens nothing twice; the subject is a
template in the customer's language (`{name}`, `{attributes.x}`, as in the bot's texts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from kith.bots.flows import LocalizedText, Outcome, StepBase, StepType, localized
from kith.core.features import Feature
from kith.tickets.models import Priority, Source, TicketIn
from kith.tickets.opening import open_once

if TYPE_CHECKING:
    from kith.bots.engine import BotEngine, Turn

SUBJECT_CHARS = 200


class CreateTicketStep(StepBase):
    """Open a ticket for the conversation (linked, the customer's words quoted)."""

    type: Literal["create_ticket"] = "create_ticket"
    subject: LocalizedText = Field(default={"en": "Request from {name}", "zh": "{name} 的请求"})
    priority: Priority = Priority.normal


async def run_create_ticket(engine: BotEngine, turn: Turn, step: CreateTicketStep) -> Outcome:
    subject = engine.fill(turn, localized(step.subject, turn.language)).strip()
    conversation = turn.conversation
    body = TicketIn(
        subject=subject[:SUBJECT_CHARS] or "-",
        conversation_id=conversation.id,
        priority=step.priority,
    )
    cause = f"bot:{turn.cause}:{step.id}"
    await open_once(turn.core, conversation.workspace_id, cause, body, turn.author, Source.bot)
    return "next", None


feature = Feature(name="ticket-bot-steps", steps=(StepType(CreateTicketStep, run_create_ticket),))
