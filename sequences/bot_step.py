"""The bot step `enrol`: a bot flow puts the conversation's customer in a sequence.

A feature of its own (listed with the base features) because bots read their step types
from those features when the app is put together, before the sequences feature proper is
built for a Core. The enrolment's source is `bot`; a retried turn enrols nobody twice
(`enrol` writes one enrolment per round). A sequence that is not active (or gone) does not
stop the flow: the bot goes on, and the reason is logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from kith.bots.flows import Outcome, StepBase, StepType
from kith.core.errors import Conflict, NotFound
from kith.core.features import Feature
from kith.sequences.enrol import enrol

if TYPE_CHECKING:
    from kith.bots.engine import BotEngine, Turn

log = logging.getLogger(__name__)
SOURCE = "bot"


class EnrolStep(StepBase):
    """Enrol the customer in the sequence `sequence_id` (it must be active)."""

    type: Literal["enrol"] = "enrol"
    sequence_id: str = Field(min_length=1, max_length=64)


async def run_enrol(engine: BotEngine, turn: Turn, step: EnrolStep) -> Outcome:
    conversation = turn.conversation
    try:
        await enrol(
            turn.core, conversation.workspace_id, step.sequence_id, conversation.customer_id, SOURCE
        )
    except (Conflict, NotFound) as exc:
        log.warning("bot step did not enrol: %s", exc, extra={"sequence_id": step.sequence_id})
    return "next", None


feature = Feature(name="sequence-bot-steps", steps=(StepType(EnrolStep, run_enrol),))
