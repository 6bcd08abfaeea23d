"""The bot engine: picks a flow for each inbound message and runs its steps.

State lives per conversation in `bot_sessions` (so it survives restarts and any process can
continue a conversation); a per-conversation lease keeps two workers from running one
conversation's bot at once, and ingest already runs each message's hooks once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kith.bots.answers import check_answer
from kith.bots.flows import (
    Ask,
    Bot,
    Branch,
    Condition,
    End,
    Flow,
    Goto,
    Handoff,
    SendImage,
    SendText,
    SetData,
    StepBase,
    TriggerKind,
    Webhook,
    localized,
    parse_step,
)
from kith.bots.hours import next_opening
from kith.bots.knowledge import KnowledgeBase
from kith.bots.schedule import SCHEDULE_TIMER, run_schedule
from kith.bots.store import BOT_SAVED
from kith.core import leases
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.conversations import do_update_conversation, ensure_conversation, get_conversation
from kith.core.events import build_event, record
from kith.core.hooks import Received
from kith.core.ids import new_id
from kith.core.models import (
    Attachment,
    Author,
    AuthorKind,
    Button,
    ChannelEvent,
    ChannelEventKind,
    Conversation,
    ConversationStatus,
    Event,
    Message,
    OutboundContent,
)
from kith.core.outbox import send
from kith.core.timers import register_timer_kind

log = logging.getLogger(__name__)

HUMAN_PAYLOAD = "kith:human"
HUMAN_WORDS = re.compile(
    r"^\s*(human|agent|person|operator|人工|转人工|人工客服|客服)\s*[.!。！]?\s*$", re.I
)
LEXICAL_THRESHOLD = 0.45
MISSES_BEFORE_HANDOFF = 2
MAX_HOPS = 200


def guess_language(text: str) -> str:
    """A cheap default until NLP has filled the message's language: CJK means Chinese."""
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


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
    steps: list[StepBase] = field(default_factory=list)

    @property
    def author(self) -> Author:
        return Author(kind=AuthorKind.bot, id=self.bot.id, name=self.bot.name)


Outcome = tuple[str, str | None]  # ("next" | "goto" | "wait" | "stop", step id)
Executor = Callable[["BotEngine", Turn, Any], Awaitable[Outcome]]
EXECUTORS: dict[str, Executor] = {}


def executor(step_type: str) -> Callable[[Executor], Executor]:
    """Register how a step type runs; features add their own (tickets, orders, sequences)."""

    def register(fn: Executor) -> Executor:
        EXECUTORS[step_type] = fn
        return fn

    return register


BOT_CACHE_SECONDS = 5.0


class BotEngine:
    def __init__(self, knowledge: KnowledgeBase | None = None) -> None:
        self.knowledge = knowledge or KnowledgeBase()
        # Which bot serves a channel, remembered briefly: a saved change applies within
        # BOT_CACHE_SECONDS in every process, and most messages skip a database read.
        self._bots: dict[tuple[str, str], tuple[float, Bot | None]] = {}

    def install(self, core: Core) -> None:
        core.hooks.on_message(self.on_message, name="bots")
        core.hooks.on_channel_event(self.on_channel_event, name="bots")
        core.event_listeners.append(self._forget_bots)
        register_timer_kind(SCHEDULE_TIMER, lambda core, timer: run_schedule(self, core, timer))

    def _forget_bots(self, event: Event) -> None:
        if event.type == BOT_SAVED:
            self._bots.clear()

    async def bot_for(self, core: Core, workspace_id: str, channel_id: str) -> Bot | None:
        key = (workspace_id, channel_id)
        cached = self._bots.get(key)
        if cached is not None and time.monotonic() - cached[0] < BOT_CACHE_SECONDS:
            return cached[1]
        doc = await core.store.collection("bots").find_one(
            {"workspace_id": workspace_id, "enabled": True, "channel_ids": channel_id}
        )
        bot = Bot.model_validate({**doc, "id": doc["_id"]}) if doc else None
        self._bots[key] = (time.monotonic(), bot)
        return bot

    async def on_message(self, core: Core, received: Received) -> None:
        message = received.message
        if message.direction != "in" or received.duplicate:
            return
        bot = await self.bot_for(core, message.workspace_id, message.channel_id)
        if bot is None:
            return
        async with self._conversation_lock(core, received.conversation.id, message.id):
            conversation = await get_conversation(
                core, message.workspace_id, received.conversation.id
            )
            session = await self._session(core, conversation.id, bot.id)
            if session.get("paused"):
                if not received.reopened:
                    return  # a human owns the conversation
                session.update(paused=False, misses=0, waiting=None)
            if conversation.assignee_id:
                return
            language = (message.nlp.language if message.nlp else None) or guess_language(
                message.text
            )
            turn = Turn(
                core,
                bot,
                conversation,
                await self._customer(core, conversation),
                message.text,
                language,
                session,
            )
            await self._take(turn)
            await self._respond(turn, message.payload, received.new_conversation)
            await self._save(turn)

    async def on_channel_event(self, core: Core, event: ChannelEvent, customer_id: str) -> None:
        bot = await self.bot_for(core, event.workspace_id, event.channel_id)
        if bot is None:
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
        in_group = event.kind in (ChannelEventKind.member_joined, ChannelEventKind.member_left)
        thread = event.group_id if in_group and event.group_id else f"user:{event.user.id}"
        conversation = await ensure_conversation(core, channel, customer_id, thread, event.user.id)
        async with self._conversation_lock(core, conversation.id, event.event_id):
            session = await self._session(core, conversation.id, bot.id)
            customer = await self._customer(core, conversation)
            language = (event.user.locale or "en")[:2]
            turn = Turn(core, bot, conversation, customer, "", language, session)
            await self.run_flow(turn, flow)
            await self._save(turn)

    async def run_scheduled(
        self, core: Core, bot: Bot, flow: Flow, message: Message, run_key: str
    ) -> bool:
        """Run a scheduled flow in the conversation of the customer's latest `message`, unless
        a person owns it or the bot awaits an answer there; `run_key` makes it happen once."""
        async with self._conversation_lock(core, message.conversation_id, new_id()):
            conversation = await get_conversation(core, bot.workspace_id, message.conversation_id)
            session = await self._session(core, conversation.id, bot.id)
            if (
                conversation.assignee_id
                or conversation.status not in (ConversationStatus.open, ConversationStatus.pending)
                or session.get("paused")
                or session.get("waiting")
            ):
                return False
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
            if not await record(core, ran):
                return False  # this fire already ran here
            language = (message.nlp.language if message.nlp else None) or guess_language(
                message.text
            )
            customer = await self._customer(core, conversation)
            turn = Turn(core, bot, conversation, customer, "", language, session)
            await self.run_flow(turn, flow)
            await self._save(turn)
            return True

    # -- choosing what to do ------------------------------------------------------------

    async def _respond(self, turn: Turn, payload: str | None, first: bool) -> None:
        payload = payload or self._numbered_choice(turn)
        if turn.session.get("waiting"):
            if payload == HUMAN_PAYLOAD or HUMAN_WORDS.match(turn.text):
                await self.handoff(turn, "the customer asked for a person")
                return
            await self._answer(turn)
            return
        if payload == HUMAN_PAYLOAD or HUMAN_WORDS.match(turn.text):
            await self.handoff(turn, "the customer asked for a person")
            return
        flow = self._flow_for(turn, payload, first)
        if flow is not None:
            turn.session["misses"] = 0
            await self.run_flow(turn, flow)
            if flow.trigger.kind == TriggerKind.first_message and not turn.session.get("waiting"):
                await self._knowledge_answer(turn)  # greet, then answer a first question
            return
        if await self._knowledge_answer(turn):
            return
        if not turn.text.strip() and payload is None:
            return  # a sticker or a photo with no words: nothing to answer
        await self._missed(turn)

    def _numbered_choice(self, turn: Turn) -> str | None:
        """ "2" answers the second button on channels that showed them as numbered lines."""
        options = turn.session.get("last_buttons") or []
        text = turn.text.strip()
        if text.isdigit() and 1 <= int(text) <= len(options) and options[int(text) - 1]:
            return str(options[int(text) - 1])
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
                    re.search(v, turn.text) for v in trigger.values
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
        match = await self.knowledge.best(turn.core, turn.bot.workspace_id, turn.text)
        threshold = turn.bot.kb_threshold if self.knowledge.embed else LEXICAL_THRESHOLD
        if match is None or match.score < threshold:
            return False
        turn.session["misses"] = 0
        intent = next(
            (
                f
                for f in turn.bot.flows
                if f.trigger.kind == TriggerKind.intent and match.article.id in f.trigger.values
            ),
            None,
        )
        if intent is not None:
            await self.run_flow(turn, intent)
        else:
            await self.say(turn, localized(match.article.answer, turn.language))
        return True

    async def _missed(self, turn: Turn) -> None:
        turn.session["misses"] = turn.session.get("misses", 0) + 1
        if turn.session["misses"] >= MISSES_BEFORE_HANDOFF:
            await self.handoff(turn, "the bot did not understand twice")
            return
        label = "人工客服" if turn.language == "zh" else "Talk to a person"
        await self.say(
            turn,
            localized(turn.bot.fallback_text, turn.language),
            [Button(label=label, payload=HUMAN_PAYLOAD)],
        )

    # -- running flows ------------------------------------------------------------------

    async def run_flow(self, turn: Turn, flow: Flow, start: str | None = None) -> None:
        turn.steps = [parse_step(raw, "steps") for raw in flow.steps]
        turn.session["flow_id"] = flow.id
        index = {s.id: n for n, s in enumerate(turn.steps)}
        i: int | None = index[start] if start else 0
        hops = 0
        while i is not None and i < len(turn.steps) and hops < MAX_HOPS:
            hops += 1
            step = turn.steps[i]
            run = EXECUTORS.get(step.type)
            if run is None:
                log.error("no executor for step type %s", step.type)
                return
            outcome, target = await run(self, turn, step)
            if outcome == "next":
                i += 1
            elif outcome == "goto" and target is not None:
                i = index.get(target)
            else:
                return
        if hops >= MAX_HOPS:
            log.error("flow %s ran %d steps without waiting; stopped", flow.id, hops)

    async def _answer(self, turn: Turn) -> None:
        waiting = turn.session["waiting"]
        flow = next((f for f in turn.bot.flows if f.id == turn.session.get("flow_id")), None)
        if flow is None:
            turn.session["waiting"] = None
            return
        steps = [parse_step(raw, "steps") for raw in flow.steps]
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
            await self.say(turn, localized(step.text, turn.language), _choice_buttons(step))
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
        buttons: list[Button] | None = None,
        attachments: list[Attachment] | None = None,
    ) -> None:
        content = OutboundContent(
            text=self._fill(turn, text), buttons=buttons or [], attachments=attachments or []
        )
        await send(turn.core, turn.conversation, content, turn.author)
        turn.session["last_buttons"] = [b.payload for b in content.buttons]

    @staticmethod
    def _fill(turn: Turn, text: str) -> str:
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
            {"_id": turn.conversation.customer_id},
            {"$set": {f"attributes.{k}": v for k, v in attributes.items()}},
        )
        turn.customer.setdefault("attributes", {}).update(attributes)
        if isinstance(attributes.get("email"), str):
            await turn.core.store.customers.update_one(
                {"_id": turn.conversation.customer_id},
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
        await send(
            core,
            turn.conversation,
            OutboundContent(text=f"Bot handed off: {reason}", private=True),
            turn.author,
        )
        await record(
            core,
            build_event(
                core,
                turn.conversation.workspace_id,
                "conversation.handoff",
                actor=turn.author,
                conversation_id=turn.conversation.id,
                customer_id=turn.conversation.customer_id,
                data={"reason": reason, "team_id": team_id or turn.bot.team_id},
            ),
        )

    # -- state ---------------------------------------------------------------------------

    async def _take(self, turn: Turn) -> None:
        """While the bot handles a conversation it is pending, out of the agents' open queue."""
        if turn.conversation.status == ConversationStatus.open and not turn.session.get("paused"):
            turn.conversation = await do_update_conversation(
                turn.core, turn.conversation, actor=turn.author, status=ConversationStatus.pending
            )

    @staticmethod
    async def _customer(core: Core, conversation: Conversation) -> dict[str, Any]:
        return await core.store.customers.find_one({"_id": conversation.customer_id}) or {}

    @staticmethod
    async def _session(core: Core, conversation_id: str, bot_id: str) -> dict[str, Any]:
        doc = await core.store.collection("bot_sessions").find_one({"_id": conversation_id})
        if doc is None or doc.get("bot_id") != bot_id:
            return {"_id": conversation_id, "bot_id": bot_id, "misses": 0}
        return doc

    @staticmethod
    async def _save(turn: Turn) -> None:
        turn.session["updated_at"] = turn.core.clock.now()
        session = {k: v for k, v in turn.session.items() if k != "_id"}
        await turn.core.store.collection("bot_sessions").update_one(
            {"_id": turn.conversation.id}, {"$set": session}, upsert=True
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


def _choice_buttons(step: Ask) -> list[Button]:
    return [Button(label=c[:64], payload=None) for c in step.choices]


def _matches(condition: Condition, turn: Turn, now: datetime) -> bool:
    attributes = turn.customer.get("attributes", {})
    if condition.attribute is not None:
        present = condition.attribute in attributes
        if condition.exists is not None and present != condition.exists:
            return False
        if condition.equals is not None and attributes.get(condition.attribute) != condition.equals:
            return False
    if condition.tag is not None and condition.tag not in turn.customer.get("tags", []):
        return False
    if (
        condition.channel_type is not None
        and condition.channel_type != turn.conversation.channel_type
    ):
        return False
    if condition.language is not None and condition.language != turn.language:
        return False
    if condition.hour_from is not None and now.hour < condition.hour_from:
        return False
    return not (condition.hour_to is not None and now.hour >= condition.hour_to)


@executor("send_text")
async def _send_text(engine: BotEngine, turn: Turn, step: SendText) -> Outcome:
    await engine.say(turn, localized(step.text, turn.language), step.buttons)
    return "next", None


@executor("send_image")
async def _send_image(engine: BotEngine, turn: Turn, step: SendImage) -> Outcome:
    image = Attachment(kind="image", url=str(step.url), name=step.caption or None)
    await engine.say(turn, step.caption, attachments=[image])
    return "next", None


@executor("ask")
async def _ask(engine: BotEngine, turn: Turn, step: Ask) -> Outcome:
    await engine.say(turn, localized(step.text, turn.language), _choice_buttons(step))
    turn.session.update(waiting=step.id, retries=0)
    return "wait", None


@executor("branch")
async def _branch(engine: BotEngine, turn: Turn, step: Branch) -> Outcome:
    now = turn.core.clock.now()
    for case in step.cases:
        if _matches(case.when, turn, now):
            return "goto", case.goto
    return ("goto", step.otherwise) if step.otherwise else ("next", None)


@executor("set")
async def _set(engine: BotEngine, turn: Turn, step: SetData) -> Outcome:
    await engine.set_attributes(turn, dict(step.attributes))
    tags = [t for t in turn.customer.get("tags", []) if t not in step.remove_tags]
    tags = list(dict.fromkeys([*tags, *step.add_tags]))
    if step.add_tags or step.remove_tags:
        await turn.core.store.customers.update_one(
            {"_id": turn.conversation.customer_id}, {"$set": {"tags": tags}}
        )
        turn.customer["tags"] = tags
    return "next", None


@executor("webhook")
async def _webhook(engine: BotEngine, turn: Turn, step: Webhook) -> Outcome:
    body = {
        "conversation_id": turn.conversation.id,
        "channel_type": turn.conversation.channel_type,
        "text": turn.text,
        "language": turn.language,
        "customer": {
            "id": turn.conversation.customer_id,
            "name": turn.customer.get("name"),
            "tags": turn.customer.get("tags", []),
            "attributes": turn.customer.get("attributes", {}),
        },
    }
    try:
        answer = await turn.core.http.post(str(step.url), json=body, timeout=step.timeout)
        answer.raise_for_status()
        data = answer.json()
        if not isinstance(data, dict):
            raise ValueError("the webhook did not answer a JSON object")
    except Exception as exc:
        log.warning("bot webhook failed: %s", exc, extra={"url": str(step.url)})
        return ("goto", step.on_error) if step.on_error else ("stop", None)
    if step.save_as:
        scalars = {
            f"{step.save_as}_{k}": v
            for k, v in data.items()
            if isinstance(v, (str, int, float, bool)) and re.fullmatch(r"[A-Za-z0-9_]{1,32}", k)
        }
        await engine.set_attributes(turn, scalars)
    if isinstance(data.get("reply"), str) and data["reply"].strip():
        await engine.say(turn, data["reply"][:4000])
    return "next", None


@executor("handoff")
async def _handoff(engine: BotEngine, turn: Turn, step: Handoff) -> Outcome:
    await engine.handoff(turn, step.reason, step.team_id)
    return "stop", None


@executor("goto")
async def _goto(engine: BotEngine, turn: Turn, step: Goto) -> Outcome:
    return "goto", step.target


@executor("end")
async def _end(engine: BotEngine, turn: Turn, step: End) -> Outcome:
    turn.session.update(waiting=None, flow_id=None)
    return "stop", None
