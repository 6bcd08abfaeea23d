"""The bot engine: picks a flow for each inbound message and runs its steps.

The engine is a durable consumer of the event log (`message.received`, `channel.*`): a turn
runs after the webhook has answered, in whichever process claims the event, and runs again
if that process dies mid-turn. So a turn is idempotent: every message it sends has an id
derived from the event that caused it and the message's place in the turn, and the session
remembers the last event it completed (a retried turn after the save changes nothing).
State lives per conversation in `bot_sessions` (so it survives restarts and any process can
continue a conversation); a per-conversation lease keeps two workers from running one
conversation's bot at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kith.bots import patterns
from kith.bots.answers import check_answer
from kith.bots.asking_for_person import asks_for_person
from kith.bots.flows import (
    LABEL_MAX,
    Bot,
    Flow,
    StepBase,
    StepType,
    StepTypes,
    TriggerKind,
    localized,
)
from kith.bots.hours import next_opening
from kith.bots.knowledge import Article, KnowledgeBase, Match, asks_something
from kith.bots.language import reply_language, written_language
from kith.bots.schedule import SCHEDULE_TIMER, run_schedule
from kith.bots.smalltalk import REPLIES as SMALL_TALK_REPLIES
from kith.bots.smalltalk import small_talk
from kith.bots.steps import BUILT_IN, Ask, BotButton
from kith.bots.store import BOT_SAVED, INDEXES, SERVING_ORDER
from kith.core import leases
from kith.core.channel_records import get_channel
from kith.core.clock import as_stored, aware
from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.conversations import do_update_conversation, ensure_conversation, get_conversation
from kith.core.errors import InvalidInput
from kith.core.events import build_event, record
from kith.core.features import CustomerData, Feature, answered_elsewhere
from kith.core.ids import derived_id, new_id
from kith.core.models import (
    Attachment,
    Author,
    AuthorKind,
    Button,
    Channel,
    ChannelEvent,
    Conversation,
    ConversationGroup,
    ConversationStatus,
    Event,
    Message,
    OutboundContent,
    Wording,
)
from kith.core.outbox import send
from kith.core.pipeline import channel_event_of
from kith.core.received import Received, load_received
from kith.core.threads import thread_key

log = logging.getLogger(__name__)

HUMAN_PAYLOAD = "kith:human"
LEXICAL_THRESHOLD = 0.45
# A question that misses the threshold by less than this gets "did you mean" buttons for its
# closest articles instead of "Sorry, I didn't understand" (a two-stage fallback). On the e5
# scale unrelated small talk scores about 0.80-0.85 against a FAQ; by characters, under 0.2.
SUGGEST_MARGIN = 0.04
LEXICAL_SUGGEST_MARGIN = 0.15
MAX_SUGGESTIONS = 2
ARTICLE_PAYLOAD = "kith:kb:"
DID_YOU_MEAN = {"en": "Did you mean one of these?", "zh": "您是想问下面的问题吗？"}
MISSES_BEFORE_HANDOFF = 2
MISSED_REASON = "the bot did not understand twice"  # the handoff's reason (tickets' rule)
ASKED_REASON = "the customer asked for a person"
# The bot's own reasons as text keys, so that each agent's inbox words the hand-off note; a
# flow's handoff step gives its own words, shown as written.
REASON_KEYS = {MISSED_REASON: "said_reason_missed", ASKED_REASON: "said_reason_asked"}
MAX_HOPS = 200
HUMAN_BUTTON = BotButton(label={"en": "Talk to a person", "zh": "人工客服"}, payload=HUMAN_PAYLOAD)


@dataclass
class Turn:
    """Everything one run of the bot may read or change."""

    core: Core
    bot: Bot
    conversation: Conversation
    customer: dict[str, Any]
    text: str
    language: str
    session: dict[str, Any]
    cause: str  # the event this turn answers: sent messages' ids derive from it
    steps: list[StepBase] = field(default_factory=list)
    sent: int = 0
    reply_to: str | None = None  # in a group, the member's message its answers reply to
    last_at: datetime | None = None  # when the turn's (or the bot's) latest message was written
    near: list[Match] = field(default_factory=list)  # FAQ articles it almost matched

    def next_message_id(self) -> str:
        self.sent += 1
        return derived_id("bot-turn", self.cause, str(self.sent))

    def next_moment(self) -> datetime:
        """When the turn's next message is written: now, but a millisecond at least after the
        message before it (this turn's, or the bot's last in the conversation). Messages read
        back and go out by time, then id, and the ids of one turn's messages are in no order:
        two said in one millisecond would come in either order."""
        moment = as_stored(self.core.clock.now())
        if self.last_at is not None:
            moment = max(moment, as_stored(aware(self.last_at)) + timedelta(milliseconds=1))
        self.last_at = moment
        return moment

    @property
    def done(self) -> bool:
        """A retried turn whose first run got as far as saving the session."""
        return self.session.get("last_event") == self.cause

    @property
    def author(self) -> Author:
        return Author(kind=AuthorKind.bot, id=self.bot.id, name=self.bot.name)

    @property
    def customer_id(self) -> str:
        """Whom the turn answers: in a group, who wrote, not who opened the conversation."""
        return str(self.customer.get("_id") or self.conversation.customer_id)


BOT_CACHE_SECONDS = 5.0


class BotEngine:
    def __init__(
        self,
        knowledge: KnowledgeBase | None = None,
        step_types: Iterable[StepType[Any]] | None = None,
    ) -> None:
        """`step_types`: every step type the app's flows may use (default: the built-in ones,
        `kith.bots.steps.STEP_TYPES`), the same list the bots API is built with."""
        self.knowledge = knowledge or KnowledgeBase()
        self.steps = BUILT_IN if step_types is None else StepTypes(step_types)
        # Which bot serves a channel, remembered briefly: a saved change applies within
        # BOT_CACHE_SECONDS in every process, and most messages skip a database read.
        self._bots: dict[tuple[str, str], tuple[float, Bot | None]] = {}

    def feature(self) -> Feature:
        """Bots as a feature: a consumer of messages and channel events, scheduled flows'
        timers, and the collections they keep."""
        return Feature(
            name="bots",
            indexes=INDEXES,
            customer_data=(CustomerData("bot_sessions"),),
            sealed=("bots",),  # each bot's webhook key (`kith.bots.webhook_keys`)
            timers={SCHEDULE_TIMER: lambda core, timer: run_schedule(self, core, timer)},
            consumers=(Consumer("bots", ("message.received", "channel.*"), self.consume),),
            listeners=(self._forget_bots,),
            opening=(self.next_opening,),
        )

    async def next_opening(self, core: Core, channel: Channel) -> datetime | None:
        """When the channel's bot's business hours open next (None while open, or without
        hours): what its hand-off's away text says, and what the web chat shows a waiting
        customer."""
        bot = await self.bot_for(core, channel.workspace_id, channel.id)
        if bot is None or bot.business_hours is None:
            return None
        return next_opening(bot.business_hours, core.clock.now())

    async def consume(self, core: Core, event: Event) -> None:
        if event.type == "message.received":
            group = event.data.get("group")
            if group and not await self._addressed(core, event, group):
                return  # the members' own talk in a group: a bot answers what speaks to it
            received = await load_received(core, event)
            if received is not None and not event.data.get("control"):
                await self.on_message(core, received, event.id)
        elif event.customer_id is not None:
            await self.on_channel_event(
                core, channel_event_of(event), event.customer_id, event.id, event.created_at
            )

    @staticmethod
    async def _addressed(core: Core, event: Event, group: dict[str, Any]) -> bool:
        """Whether a group message speaks to our bot: as its connector read it, or by naming
        one of the bot's usernames (which only the channel's platform can tell)."""
        if group.get("addressed"):
            return True
        named = set(group.get("mentions") or ())
        if not named:
            return False
        channel = await get_channel(core, event.workspace_id, str(event.data.get("channel_id")))
        channel_type = core.channels.get(channel.type)
        admin = channel_type.group_admin if channel_type is not None else None
        return admin is not None and bool(named & await admin.bot_names(core, channel))

    def _forget_bots(self, event: Event) -> None:
        if event.type == BOT_SAVED:
            self._bots.clear()

    async def bot_for(self, core: Core, workspace_id: str, channel_id: str) -> Bot | None:
        key = (workspace_id, channel_id)
        cached = self._bots.get(key)
        if cached is not None and time.monotonic() - cached[0] < BOT_CACHE_SECONDS:
            return cached[1]
        # One enabled bot per channel is what a save allows (`kith.bots.store`); data stored
        # before that, or two saves at once, may hold more: the first created serves.
        doc = await core.store.collection("bots").find_one(
            {"workspace_id": workspace_id, "enabled": True, "channel_ids": channel_id},
            sort=SERVING_ORDER,
        )
        bot = Bot.model_validate({**doc, "id": doc["_id"]}) if doc else None
        self._bots[key] = (time.monotonic(), bot)
        return bot

    async def on_message(self, core: Core, received: Received, cause: str) -> None:
        message = received.message
        if message.direction != "in" or received.duplicate:
            return
        bot = await self.bot_for(core, message.workspace_id, message.channel_id)
        if bot is None or not _since(bot, message.created_at):
            return
        if await answered_elsewhere(core, message):
            return
        async with self._conversation_lock(core, received.conversation.id, message.id):
            conversation = await get_conversation(
                core, message.workspace_id, received.conversation.id
            )
            session = await self._session(core, conversation, message.customer_id, bot.id)
            if session.get("paused"):
                if not received.reopened:
                    return  # a human owns the conversation
                session.update(paused=False, misses=0, waiting=None)
            if not received.reopened:  # resolved, then written to again: the bot's again
                if conversation.assignee_id:
                    return  # an agent's (an agent's reply in the inbox assigns it)
                if await _person_answered(core, conversation, message):
                    await _to_agents(core, conversation)
                    return  # an agent answered since the bot last spoke: theirs, until resolved
            customer = await self._customer(core, conversation, message.customer_id)
            written = written_language(message.text, _detected(message))
            language = _language(session, written, customer.get("locale"))
            turn = Turn(core, bot, conversation, customer, message.text, language, session, cause)
            if turn.done:
                return
            turn.last_at = _after(session.get("said_at"), message.created_at)
            if conversation.group is not None:  # many read it: say whom it answers
                turn.reply_to = message.id
            await self._take(turn)
            await self._respond(turn, message.payload, received.new_conversation)
            await self._save(turn)

    async def on_channel_event(
        self, core: Core, event: ChannelEvent, customer_id: str, cause: str, at: datetime
    ) -> None:
        bot = await self.bot_for(core, event.workspace_id, event.channel_id)
        if bot is None or not _since(bot, at):
            return
        keys = {event.kind.value}
        if event.payload:
            keys.add(f"{event.kind.value}:{event.payload}")
        flow = next(
            (
                f
                for f in bot.flows
                if f.trigger.kind == TriggerKind.event and keys & set(f.trigger.values)
            ),
            None,
        )
        if flow is None:
            return
        channel = await get_channel(core, event.workspace_id, event.channel_id)
        thread = thread_key(event.thread_key, event.user.id)
        conversation = await ensure_conversation(
            core, channel, customer_id, thread, event.user.id, _group_of(event, thread)
        )
        async with self._conversation_lock(core, conversation.id, event.event_id):
            session = await self._session(core, conversation, customer_id, bot.id)
            customer = await self._customer(core, conversation, customer_id)
            language = _language(session, None, event.user.locale or customer.get("locale"))
            turn = Turn(core, bot, conversation, customer, "", language, session, cause)
            if turn.done:
                return
            turn.last_at = _latest(session.get("said_at"))
            await self.run_flow(turn, flow)
            await self._save(turn)

    async def run_scheduled(
        self, core: Core, bot: Bot, flow: Flow, message: Message, run_key: str
    ) -> bool:
        """Run a scheduled flow in the conversation of the customer's latest `message`, unless
        a person owns it or the bot awaits an answer there; `run_key` makes it happen once."""
        async with self._conversation_lock(core, message.conversation_id, new_id()):
            conversation = await get_conversation(core, bot.workspace_id, message.conversation_id)
            session = await self._session(core, conversation, message.customer_id, bot.id)
            if (
                conversation.assignee_id
                or conversation.status not in (ConversationStatus.open, ConversationStatus.pending)
                or session.get("paused")
                or session.get("waiting")
            ):
                return False
            done = await core.store.events.find_one({"_id": run_key}, {"_id": 1})
            if done is not None:
                return False  # this fire already ran here
            customer = await self._customer(core, conversation, message.customer_id)
            written = written_language(message.text, _detected(message))
            language = _language(session, written, customer.get("locale"))
            turn = Turn(core, bot, conversation, customer, "", language, session, run_key)
            turn.last_at = _latest(session.get("said_at"))
            if not turn.done:
                await self.run_flow(turn, flow)
                await self._save(turn)
            ran = build_event(
                core,
                bot.workspace_id,
                "bot.scheduled_flow",
                actor=Author(kind=AuthorKind.bot, id=bot.id, name=bot.name),
                event_id=run_key,
                conversation_id=conversation.id,
                customer_id=conversation.customer_id,
                data={"bot_id": bot.id, "flow_id": flow.id},
            )
            return await record(core, ran)

    # -- choosing what to do ------------------------------------------------------------

    async def _respond(self, turn: Turn, payload: str | None, first: bool) -> None:
        payload = payload or self._chosen_button(turn)
        if turn.session.get("waiting"):
            if payload == HUMAN_PAYLOAD or asks_for_person(turn.text):
                await self.handoff(turn, ASKED_REASON)
                return
            await self._answer(turn)
            return
        if payload == HUMAN_PAYLOAD or asks_for_person(turn.text):
            await self.handoff(turn, ASKED_REASON)
            return
        if payload and payload.startswith(ARTICLE_PAYLOAD):
            chosen = await self.knowledge.article(
                turn.core, turn.bot.workspace_id, payload.removeprefix(ARTICLE_PAYLOAD)
            )
            if chosen is not None:
                await self._answer_article(turn, chosen)
                return
        flow = self._flow_for(turn, payload, first)
        if flow is not None:
            turn.session["misses"] = 0
            await self.run_flow(turn, flow)
            if flow.trigger.kind == TriggerKind.first_message and not turn.session.get("waiting"):
                # greet, then answer a first question, or offer what it nearly asked
                if not await self._knowledge_answer(turn) and turn.near:
                    await self._suggest(turn)
            return
        kind = small_talk(turn.text)
        if kind is not None:  # courtesy, not a miss; nothing in it for the FAQ to look up
            if kind in SMALL_TALK_REPLIES:
                await self.say(turn, localized(SMALL_TALK_REPLIES[kind], turn.language))
            return
        if await self._knowledge_answer(turn):
            return
        if not turn.text.strip() and payload is None:
            return  # a sticker or a photo with no words: nothing to answer
        await self._missed(turn)

    @staticmethod
    def _chosen_button(turn: Turn) -> str | None:
        """The payload of the button (of the bot's latest message) the customer typed: its
        number ("2" on channels that showed buttons as numbered lines), or its label in any
        of its languages, in any case (where buttons are text, or a customer types one)."""
        payloads = turn.session.get("last_buttons") or []
        text = turn.text.strip()
        if text.isdigit() and 1 <= int(text) <= len(payloads) and payloads[int(text) - 1]:
            return str(payloads[int(text) - 1])
        said = text.casefold()
        for payload, labels in zip(payloads, turn.session.get("last_labels") or [], strict=False):
            if payload and said and any(label.strip().casefold() == said for label in labels):
                return str(payload)
        return None

    def _flow_for(self, turn: Turn, payload: str | None, first: bool) -> Flow | None:
        text = turn.text.casefold()
        for kind in (TriggerKind.button, TriggerKind.keyword, TriggerKind.regex):
            for flow in turn.bot.flows:
                trigger = flow.trigger
                if trigger.kind != kind:
                    continue
                if kind == TriggerKind.button and payload in trigger.values:
                    return flow
                if kind == TriggerKind.keyword and any(
                    v.casefold() in text for v in trigger.values
                ):
                    return flow
                if kind == TriggerKind.regex and any(
                    patterns.search(v, turn.text) for v in trigger.values
                ):
                    return flow
        if first:
            return next(
                (f for f in turn.bot.flows if f.trigger.kind == TriggerKind.first_message), None
            )
        return None

    async def _knowledge_answer(self, turn: Turn) -> bool:
        if not turn.bot.knowledge_base or not turn.text.strip():
            return False
        ranked = await self.knowledge.ranked(turn.core, turn.bot.workspace_id, turn.text)
        threshold, margin = (
            (turn.bot.kb_threshold, SUGGEST_MARGIN)
            if self.knowledge.embed
            else (LEXICAL_THRESHOLD, LEXICAL_SUGGEST_MARGIN)
        )
        if not ranked or ranked[0].score < threshold:
            near = (m for m in ranked[:MAX_SUGGESTIONS] if m.score >= threshold - margin)
            turn.near = list(near) if asks_something(turn.text) else []
            return False
        await self._answer_article(turn, ranked[0].article)
        return True

    async def _answer_article(self, turn: Turn, article: Article) -> None:
        """The article's answer, or the flow its intent trigger runs."""
        turn.session["misses"] = 0
        intent = next(
            (
                f
                for f in turn.bot.flows
                if f.trigger.kind == TriggerKind.intent and article.id in f.trigger.values
            ),
            None,
        )
        if intent is not None:
            await self.run_flow(turn, intent)
        else:
            await self.say(turn, localized(article.answer, turn.language))

    async def _missed(self, turn: Turn) -> None:
        turn.session["misses"] = turn.session.get("misses", 0) + 1
        if turn.session["misses"] >= MISSES_BEFORE_HANDOFF:
            await self.handoff(turn, MISSED_REASON)
            return
        if turn.near:
            await self._suggest(turn)
            return
        await self.say(turn, localized(turn.bot.fallback_text, turn.language), [HUMAN_BUTTON])

    async def _suggest(self, turn: Turn) -> None:
        """ "Did you mean": the articles the message nearly matched, and a person."""
        buttons = [*(self._article_button(m) for m in turn.near), HUMAN_BUTTON]
        await self.say(turn, localized(DID_YOU_MEAN, turn.language), buttons)

    @staticmethod
    def _article_button(match: Match) -> BotButton:
        """Labelled with the article's question closest to what was asked (so in the
        customer's language when the article has one in it)."""
        label = match.question if len(match.question) <= LABEL_MAX else match.article.title
        return BotButton(label=label[:LABEL_MAX], payload=ARTICLE_PAYLOAD + match.article.id)

    # -- running flows ------------------------------------------------------------------

    async def run_flow(self, turn: Turn, flow: Flow, start: str | None = None) -> None:
        steps = self._steps(turn.bot, flow)
        if steps is None:
            return
        turn.steps = steps
        turn.session["flow_id"] = flow.id
        index = {s.id: n for n, s in enumerate(turn.steps)}
        i: int | None = index[start] if start else 0
        hops = 0
        while i is not None and i < len(turn.steps) and hops < MAX_HOPS:
            hops += 1
            step = turn.steps[i]
            outcome, target = await self.steps.executor(step)(self, turn, step)
            if outcome == "next":
                i += 1
            elif outcome == "goto" and target is not None:
                i = index.get(target)
            else:
                return
        if hops >= MAX_HOPS:
            log.error("flow %s ran %d steps without waiting; stopped", flow.id, hops)

    def _steps(self, bot: Bot, flow: Flow) -> list[StepBase] | None:
        """The flow's steps typed, or None (logged) when one is of a type this app lacks."""
        try:
            return self.steps.parse(flow.steps)
        except InvalidInput as exc:
            log.error("bot %s flow %s: %s (%s)", bot.id, flow.id, exc.message, exc.field)
            return None

    async def _answer(self, turn: Turn) -> None:
        waiting = turn.session["waiting"]
        flow = next((f for f in turn.bot.flows if f.id == turn.session.get("flow_id")), None)
        if flow is None:
            turn.session["waiting"] = None
            return
        steps = self._steps(turn.bot, flow) or []
        step = next((s for s in steps if s.id == waiting), None)
        if not isinstance(step, Ask):
            turn.session["waiting"] = None
            return
        value = check_answer(step, turn.text)
        if value is None:
            retries = turn.session.get("retries", 0) + 1
            turn.session["retries"] = retries
            if retries > step.max_retries:
                turn.session.update(waiting=None, retries=0)
                if step.on_give_up:
                    await self.run_flow(turn, flow, step.on_give_up)
                else:
                    await self.handoff(turn, f"no valid answer to {step.attribute!r}")
                return
            await self.say(turn, localized(step.invalid_text, turn.language))
            await self.say(
                turn, localized(step.text, turn.language), step.choice_buttons(turn.language)
            )
            return
        await self.set_attributes(turn, {step.attribute: value})
        turn.session.update(waiting=None, retries=0)
        following = steps[steps.index(step) + 1].id if steps.index(step) + 1 < len(steps) else None
        if following:
            await self.run_flow(turn, flow, following)

    # -- effects ------------------------------------------------------------------------

    async def say(
        self,
        turn: Turn,
        text: str,
        buttons: Sequence[Button | BotButton] | None = None,
        attachments: list[Attachment] | None = None,
    ) -> None:
        """Send `text` (filled in) with `buttons`: a bot button is shown in the turn's
        language, and typing any of its labels picks it on the customer's next message."""
        buttons = buttons or []
        shown = [b.shown(turn.language) if isinstance(b, BotButton) else b for b in buttons]
        content = OutboundContent(
            text=self.fill(turn, text),
            buttons=shown,
            attachments=attachments or [],
            reply_to=turn.reply_to,
        )
        await send(
            turn.core,
            turn.conversation,
            content,
            turn.author,
            message_id=turn.next_message_id(),
            at=turn.next_moment(),
        )
        turn.session["last_buttons"] = [b.payload for b in shown]
        turn.session["last_labels"] = [
            b.labels() if isinstance(b, BotButton) else [b.label] for b in buttons
        ]

    @staticmethod
    def fill(turn: Turn, text: str) -> str:
        """`{name}` and `{attributes.x}` in bot texts, left alone when unknown."""
        anonymous = "" if turn.language == "zh" else "there"
        values = {"name": turn.customer.get("name") or anonymous}
        values.update(
            {f"attributes.{k}": v for k, v in turn.customer.get("attributes", {}).items()}
        )
        return re.sub(
            r"\{([a-z_.A-Z0-9\-]+)\}", lambda m: str(values.get(m.group(1), m.group(0))), text
        )

    async def set_attributes(self, turn: Turn, attributes: dict[str, Any]) -> None:
        if not attributes:
            return
        await turn.core.store.customers.update_one(
            {"_id": turn.customer_id},
            {"$set": {f"attributes.{k}": v for k, v in attributes.items()}},
        )
        turn.customer.setdefault("attributes", {}).update(attributes)
        if isinstance(attributes.get("email"), str):
            await turn.core.store.customers.update_one(
                {"_id": turn.customer_id},
                {"$addToSet": {"emails": attributes["email"]}},
            )

    async def handoff(self, turn: Turn, reason: str, team_id: str | None = None) -> None:
        """Give the conversation to the team's unassigned queue; the bot goes quiet until it is
        resolved and the customer writes again."""
        core = turn.core
        opens = (
            next_opening(turn.bot.business_hours, core.clock.now())
            if turn.bot.business_hours
            else None
        )
        if opens is not None:
            text = localized(turn.bot.away_text, turn.language).replace(
                "{opens}", opens.strftime("%a %H:%M")
            )
        else:
            text = localized(turn.bot.handoff_text, turn.language)
        await self.say(turn, text)
        turn.session.update(paused=True, waiting=None, retries=0, misses=0, handoff_reason=reason)
        turn.conversation = await do_update_conversation(
            core,
            turn.conversation,
            actor=turn.author,
            status=ConversationStatus.open,
            labels=list(dict.fromkeys([*turn.conversation.labels, "handoff"])),
            team_id=team_id or turn.bot.team_id or turn.conversation.team_id,
        )
        known = {"reason": REASON_KEYS[reason]} if reason in REASON_KEYS else {}
        await send(
            core,
            turn.conversation,
            OutboundContent(text=f"Bot handed off: {reason}", private=True),
            turn.author,
            message_id=turn.next_message_id(),
            at=turn.next_moment(),
            wording=Wording(key="bot_handoff", values={"reason": reason}, terms=known),
        )
        await record(
            core,
            build_event(
                core,
                turn.conversation.workspace_id,
                "conversation.handoff",
                actor=turn.author,
                conversation_id=turn.conversation.id,
                customer_id=turn.customer_id,
                data={"reason": reason, "team_id": team_id or turn.bot.team_id},
            ),
        )

    # -- state ---------------------------------------------------------------------------

    async def _take(self, turn: Turn) -> None:
        """While the bot handles a conversation it is pending, out of the agents' open queue;
        a group's stays as it is (the bot answered one member, the rest talk on)."""
        if turn.conversation.group is not None:
            return
        if turn.conversation.status == ConversationStatus.open and not turn.session.get("paused"):
            turn.conversation = await do_update_conversation(
                turn.core, turn.conversation, actor=turn.author, status=ConversationStatus.pending
            )

    @staticmethod
    async def _customer(core: Core, conversation: Conversation, customer_id: str) -> dict[str, Any]:
        """Whom the bot talks to: the conversation's customer; in a group, `customer_id`
        (who wrote, or whose channel event it is)."""
        if conversation.group is None:
            customer_id = conversation.customer_id
        return await core.store.customers.find_one({"_id": customer_id}) or {}

    @staticmethod
    async def _session(
        core: Core, conversation: Conversation, customer_id: str, bot_id: str
    ) -> dict[str, Any]:
        """The bot's state with whom it talks to: the conversation's, or in a group each
        member's own (one member's question, misses or handoff are not another's)."""
        key = conversation.id
        if conversation.group is not None:
            key = derived_id("bot-session", conversation.id, customer_id)
        doc = await core.store.collection("bot_sessions").find_one({"_id": key})
        if doc is None or doc.get("bot_id") != bot_id:
            return {"_id": key, "bot_id": bot_id, "misses": 0}
        return doc

    @staticmethod
    async def _save(turn: Turn) -> None:
        turn.session.update(
            updated_at=turn.core.clock.now(),
            last_event=turn.cause,
            customer_id=turn.customer_id,  # erased and merged with the customer
            said_at=turn.last_at,  # the next turn's messages come after this one's
        )
        session = {k: v for k, v in turn.session.items() if k != "_id"}
        await turn.core.store.collection("bot_sessions").update_one(
            {"_id": turn.session["_id"]}, {"$set": session}, upsert=True
        )

    @staticmethod
    def _conversation_lock(core: Core, conversation_id: str, owner: str) -> _Lease:
        return _Lease(core, f"bot:{conversation_id}", owner)


class _Lease:
    """Holds the conversation's bot lease for one turn; waits briefly if another has it."""

    def __init__(self, core: Core, name: str, owner: str) -> None:
        self.core, self.name, self.owner = core, name, owner

    async def __aenter__(self) -> None:
        for _ in range(100):
            if await leases.acquire(self.core, self.name, self.owner, 30):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"bot lease {self.name} stayed busy")

    async def __aexit__(self, *exc: object) -> None:
        await leases.release(self.core, self.name, self.owner)


def _group_of(event: ChannelEvent, thread: str) -> ConversationGroup | None:
    """The group whose own thread the event is in (None: a private chat)."""
    if event.group_id is None or thread != event.group_id:
        return None
    return ConversationGroup(
        id=event.group_id, title=event.group_name, kind=event.group_kind or "group"
    )


def _language(session: dict[str, Any], written: str | None, locale: str | None) -> str:
    """The turn's language (`kith.bots.language`), remembered in the session as the
    conversation's: a later message that does not tell (an email address) keeps it."""
    language = reply_language(written, locale, session.get("language"))
    session["language"] = language
    return language


def _detected(message: Message) -> str | None:
    """The language NLP found in the message, when it has run (it may not have yet)."""
    return message.nlp.language if message.nlp else None


def _latest(said_at: datetime | None) -> datetime | None:
    """When the bot last wrote in the session's conversation (a zone-less stored moment is UTC)."""
    return aware(said_at) if said_at is not None else None


def _after(said_at: datetime | None, received_at: datetime) -> datetime:
    """What a reply must come after: the bot's last message and the one it answers (written
    in the same millisecond, a reply would read back before the message it answers)."""
    latest = _latest(said_at)
    received = aware(received_at)
    return received if latest is None else max(latest, received)


def _since(bot: Bot, at: datetime) -> bool:
    """Whether a bot answers what was received `at`: only what came after it was installed.
    Messages that waited when it was (agents' conversations, backlogs the workers catch up
    on) are not greeted again, nor answered "Sorry, I didn't understand" hours late."""
    return at >= bot.created_at


async def _person_answered(core: Core, conversation: Conversation, message: Message) -> bool:
    """Whether, of the bot and the agents, the last to answer this private conversation
    before `message` was an agent (a reply, not a note): a person is talking with the
    customer, so the bot keeps out, as it does of an assigned conversation. A group's is
    not one customer's: an agent answering one member leaves the bot to the others."""
    if conversation.group is not None:
        return False
    last = await core.store.messages.find_one(
        {
            "conversation_id": conversation.id,
            "direction": "out",
            "private": False,
            "author.kind": {"$in": [AuthorKind.agent.value, AuthorKind.bot.value]},
            "created_at": {"$lt": as_stored(message.created_at)},
        },
        {"author.kind": 1},
        sort=[("created_at", -1)],
    )
    return last is not None and last["author"]["kind"] == AuthorKind.agent.value


async def _to_agents(core: Core, conversation: Conversation) -> None:
    """A conversation the bot held (pending) that an agent has answered goes back to the
    agents' open queue with the customer's new message: it is theirs now."""
    if conversation.status == ConversationStatus.pending:
        await do_update_conversation(core, conversation, status=ConversationStatus.open)
