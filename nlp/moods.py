"""A conversation's mood, folded from its messages' sentiment once per message, and the
escalation a sour turn brings, carried out once even when a worker dies half-way.

The sentiment worker marks a batch's messages analysed last: until then, a worker that died
anywhere leaves the batch to be claimed again after its lease, and one whose lease ran out
mid-batch shares it with the worker that took over. So every step here is safe to repeat:
a conversation keeps the ids of the messages folded into its mood (`sentiment_seen`); an
escalation is written with the mood that calls for it (`sentiment_escalations`), carried out
with ids derived from its message, then struck off.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from pymongo import UpdateOne

from kith.core.context import Core
from kith.core.conversations import do_update_conversation, get_conversation
from kith.core.errors import NotFound
from kith.core.events import build_event, record
from kith.core.ids import derived_id
from kith.core.models import (
    Author,
    AuthorKind,
    ConversationSentiment,
    ConversationStatus,
    OutboundContent,
    Priority,
    Wording,
)
from kith.core.outbox import send

log = logging.getLogger(__name__)

ESCALATION_LABEL = "negative-sentiment"
SYSTEM = Author(kind=AuthorKind.system, name="Sentiment")
PRIORITY_ORDER = [p.value for p in Priority]
FOLDS = "sentiment_folds"  # tokens of the last batches folded into a conversation's mood
FOLDS_KEPT = 16
# Ids of the last messages folded in: a batch's worth (64), so a batch taken over after its
# lease (300 s) finds its messages unless the conversation has had more than this many
# messages analysed since (a flood); kept small, as the conversation list reads whole
# conversations (at most about 2 KB each).
SEEN = "sentiment_seen"
SEEN_KEPT = 64
DUE = "sentiment_escalations"  # escalations folded in and not yet carried out
READ = {"sentiment": 1, "status": 1, SEEN: 1, DUE: 1}

Sample = tuple[dict[str, Any], str, float]  # a claimed message, its sentiment label and score


@dataclass(frozen=True)
class Escalation:
    """A conversation turned sour at `message_id`: what the team is told, and why."""

    workspace_id: str
    conversation_id: str
    message_id: str
    customer_id: str  # who wrote it (in a group, not the opener)
    score: float
    reason: str
    # the reason as a key and its values: each agent's inbox words the note in their language
    said: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """A conversation's fold: the condition its stored mood must still meet, the mood after
    the new messages, their ids, and the escalations on the way."""

    condition: dict[str, Any]
    mood: ConversationSentiment
    folded: list[str]
    escalations: list[Escalation]

    def update(self, token: str) -> dict[str, Any]:
        push: dict[str, Any] = {
            FOLDS: {"$each": [token], "$slice": -FOLDS_KEPT},
            SEEN: {"$each": self.folded, "$slice": -SEEN_KEPT},
        }
        if self.escalations:
            push[DUE] = {"$each": [asdict(e) for e in self.escalations]}
        return {"$set": {"sentiment": self.mood.model_dump()}, "$push": push}


def _due(conversation: dict[str, Any]) -> list[Escalation]:
    return [Escalation(**e) for e in conversation.get(DUE) or []]


class Moods:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def fold(self, samples: list[Sample]) -> list[Escalation]:
        """Fold a batch into each conversation's mood (its results in message order, those
        already folded skipped); returns the escalations to carry out: the batch's and any
        left by a worker that died before carrying them out. Every conversation is read at
        once and written at once: one compare-and-set per conversation in a single bulk
        write, each tagged with the batch's token so that a conversation another worker
        changed meanwhile is known and redone."""
        by_conversation: dict[str, list[Sample]] = {}
        for sample in samples:
            by_conversation.setdefault(sample[0]["conversation_id"], []).append(sample)
        conversations = self.core.store.conversations
        found = await conversations.find({"_id": {"$in": list(by_conversation)}}, READ).to_list(
            None
        )
        due = [e for c in found for e in _due(c)]
        planned = {c["_id"]: self._plan(c, by_conversation[c["_id"]]) for c in found}
        planned = {cid: plan for cid, plan in planned.items() if plan.folded}
        if not planned:
            return due
        token = uuid.uuid4().hex[:12]
        writes = [
            UpdateOne({"_id": cid, **plan.condition}, plan.update(token))
            for cid, plan in planned.items()
        ]
        written = await conversations.bulk_write(writes, ordered=False)
        lost: list[str] = []
        if written.matched_count < len(writes):
            applied = conversations.find({"_id": {"$in": list(planned)}, FOLDS: token}, {"_id": 1})
            done = {c["_id"] for c in await applied.to_list(None)}
            lost = [cid for cid in planned if cid not in done]
        due += [e for cid, plan in planned.items() if cid not in lost for e in plan.escalations]
        for cid in lost:
            due += await self._fold_one(cid, by_conversation[cid])
        return due

    async def _fold_one(self, conversation_id: str, items: list[Sample]) -> list[Escalation]:
        """One conversation on its own: compare-and-set on the mood's count, re-read on
        conflict, so concurrent workers never lose an update and exactly one of them sees a
        given transition (which is what makes escalation fire once per episode)."""
        conversations = self.core.store.conversations
        for _ in range(10):
            conv = await conversations.find_one({"_id": conversation_id}, READ)
            if conv is None:
                return []
            plan = self._plan(conv, items)
            if not plan.folded:
                return _due(conv)
            token = uuid.uuid4().hex[:12]
            updated = await conversations.update_one(
                {"_id": conversation_id, **plan.condition}, plan.update(token)
            )
            if updated.matched_count:
                return [*_due(conv), *plan.escalations]
        log.warning("conversation mood kept changing; skipped", extra={"id": conversation_id})
        return []

    def _plan(self, conv: dict[str, Any], items: list[Sample]) -> Plan:
        stored = conv.get("sentiment")
        seen = set(conv.get(SEEN) or ())
        mood = ConversationSentiment.model_validate(stored or {})
        folded: list[str] = []
        escalations: list[Escalation] = []
        for doc, label, score in items:
            if doc["_id"] in seen or doc["_id"] in folded:
                continue
            after = self._next_mood(mood, score, label, conv.get("status"))
            if after.escalated and not mood.escalated:
                escalations.append(self._escalation(doc, after, score))
            mood = after
            folded.append(doc["_id"])
        condition = {"sentiment.count": stored.get("count", 0)} if stored else {"sentiment": None}
        return Plan(condition, mood, folded, escalations)

    def _next_mood(
        self, before: ConversationSentiment, score: float, label: str, status: str | None
    ) -> ConversationSentiment:
        """An episode starts with enough negative messages in a row (or one very negative)
        and ends with a positive message or a resolution."""
        settings = self.core.settings
        negative = label == "negative"
        streak = before.negative_streak + 1 if negative else 0
        over = label == "positive" or status == ConversationStatus.resolved.value
        escalated = before.escalated and not over
        if negative and (
            streak >= settings.escalate_negative_streak or score < settings.escalate_score_below
        ):
            escalated = True
        mood = score if before.count == 0 else round(0.5 * before.score + 0.5 * score, 4)
        return ConversationSentiment(
            score=mood,
            label=label,
            negative_streak=streak,
            count=before.count + 1,
            escalated=escalated,
        )

    def _escalation(
        self, doc: dict[str, Any], mood: ConversationSentiment, score: float
    ) -> Escalation:
        if mood.negative_streak >= self.core.settings.escalate_negative_streak:
            reason = f"{mood.negative_streak} negative messages in a row"
            said = {"key": "escalated_streak", "values": {"n": mood.negative_streak}}
        else:
            reason = f"a very negative message (score {score:.2f})"
            said = {"key": "escalated_score", "values": {"score": f"{score:.2f}"}}
        return Escalation(
            workspace_id=doc["workspace_id"],
            conversation_id=doc["conversation_id"],
            message_id=doc["_id"],
            customer_id=doc["customer_id"],
            score=score,
            reason=reason,
            said=said,
        )

    async def escalate(self, escalation: Escalation) -> None:
        """Raise the priority, label the conversation, leave a note for the team, announce it;
        then strike it off. The note and the event take ids derived from the message, so a
        worker that carries out an escalation another one began adds nothing twice."""
        core = self.core
        try:
            conversation = await get_conversation(
                core, escalation.workspace_id, escalation.conversation_id
            )
        except NotFound:
            return
        current = PRIORITY_ORDER.index(conversation.priority.value)
        priority = Priority.high if current < PRIORITY_ORDER.index("high") else None
        conversation = await do_update_conversation(
            core,
            conversation,
            actor=SYSTEM,
            priority=priority,
            labels=list(dict.fromkeys([*conversation.labels, ESCALATION_LABEL])),
        )
        note = OutboundContent(text=f"Escalated: {escalation.reason}.", private=True)
        cause = escalation.message_id
        wording = Wording.model_validate(escalation.said) if escalation.said else None
        await send(
            core,
            conversation,
            note,
            SYSTEM,
            message_id=derived_id("escalation-note", cause),
            wording=wording,
        )
        event = build_event(
            core,
            conversation.workspace_id,
            "conversation.escalated",
            actor=SYSTEM,
            event_id=derived_id("escalation", cause),
            conversation_id=conversation.id,
            customer_id=escalation.customer_id,
            message_id=cause,  # the message that tipped it
            data={
                "reason": escalation.reason,
                "score": escalation.score,
                "priority": conversation.priority.value,
            },
        )
        await record(core, event)
        await core.store.conversations.update_one(
            {"_id": conversation.id}, {"$pull": {DUE: {"message_id": cause}}}
        )
