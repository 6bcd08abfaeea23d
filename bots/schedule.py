"""Scheduled flows: a `schedule` trigger runs its flow on a cron in every conversation where
the bot may speak up right now.

Each (bot, flow) with a schedule trigger owns one recurring timer (`kith.core.timers`),
brought in line with the bot whenever it is saved, disabled or deleted. When the timer
fires, the flow runs through the engine in each conversation on the bot's channels that is
open or with the bot, has no agent, and whose customer wrote within the trigger's reply
window; the engine re-checks under the conversation's lease that no person owns it. A run
key derived from (timer, fire time, conversation) makes each run happen once, however many
workers retry the fire. `BotEngine.install` registers the handler (timer handlers are
process-wide).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kith.bots.flows import Bot, Flow, TriggerKind, schedule_timezone
from kith.core.context import Core
from kith.core.ids import derived_id
from kith.core.models import ConversationStatus, Direction, Message
from kith.core.timers import Cron, Timer, cancel_timer, find_timers, schedule_timer

if TYPE_CHECKING:
    from kith.bots.engine import BotEngine

log = logging.getLogger(__name__)

SCHEDULE_TIMER = "bot.schedule"
STATUSES = [ConversationStatus.open.value, ConversationStatus.pending.value]
CANDIDATE_PAGE = 500  # conversations read at a time when a scheduled flow fires


def timer_key(bot_id: str, flow_id: str = "") -> str:
    """`bot-schedule:<bot>:<flow>`; with no flow, the prefix of all of a bot's timers."""
    return f"bot-schedule:{bot_id}:{flow_id}"


async def sync_schedules(core: Core, bot_id: str, bot: Bot | None) -> None:
    """One recurring timer per schedule flow of an enabled bot, none for a disabled or deleted
    one. A timer whose cron is unchanged is left alone, so a fire that is due is not lost."""
    wanted = _wanted_timers(bot) if bot is not None and bot.enabled else {}
    existing = {t.key: t for t in await find_timers(core, timer_key(bot_id))}
    for key in existing.keys() - wanted.keys():
        await cancel_timer(core, key)
    for key, (cron, payload) in wanted.items():
        if key not in existing or existing[key].cron != cron:
            await schedule_timer(core, key, SCHEDULE_TIMER, cron, payload)


def _wanted_timers(bot: Bot) -> dict[str, tuple[Cron, dict[str, str]]]:
    wanted = {}
    for flow in bot.flows:
        if flow.trigger.kind == TriggerKind.schedule:
            cron = Cron(flow.trigger.values[0], schedule_timezone(bot, flow.trigger))
            payload = {"workspace_id": bot.workspace_id, "bot_id": bot.id, "flow_id": flow.id}
            wanted[timer_key(bot.id, flow.id)] = (cron, payload)
    return wanted


async def run_schedule(engine: BotEngine, core: Core, timer: Timer) -> None:
    """The timer's handler. Raises when a conversation failed, so the timer is retried: the
    conversations already done are skipped by their run key."""
    found = await _scheduled_flow(core, timer.payload)
    if found is None:
        return  # the bot was disabled or changed since; its timer is being cancelled
    bot, flow = found
    failed = 0
    async for message in _latest_customer_messages(core, bot, flow):
        run_key = derived_id(
            SCHEDULE_TIMER, timer.key, timer.fire_at.isoformat(), message.conversation_id
        )
        try:
            await engine.run_scheduled(core, bot, flow, message, run_key)
        except Exception:
            failed += 1
            log.exception(
                "scheduled flow failed", extra={"conversation_id": message.conversation_id}
            )
    if failed:
        raise RuntimeError(f"the scheduled flow failed in {failed} conversation(s)")


async def _scheduled_flow(core: Core, payload: dict[str, Any]) -> tuple[Bot, Flow] | None:
    doc = await core.store.collection("bots").find_one(
        {"_id": payload["bot_id"], "workspace_id": payload["workspace_id"], "enabled": True}
    )
    if doc is None:
        return None
    bot = Bot.model_validate({**doc, "id": doc["_id"]})
    flow = next((f for f in bot.flows if f.id == payload["flow_id"]), None)
    if flow is None or flow.trigger.kind != TriggerKind.schedule:
        return None
    return bot, flow


async def _latest_customer_messages(core: Core, bot: Bot, flow: Flow) -> AsyncIterator[Message]:
    """The customer's latest message in each candidate conversation, written within the
    reply window (it also gives the language to answer in). Candidates come in pages ordered
    by id, which running the flow never changes: a large audience is never held in memory,
    and a conversation the flow updates is not met twice."""
    since = core.clock.now() - timedelta(hours=flow.trigger.reply_window_hours)
    query: dict[str, Any] = {
        "workspace_id": bot.workspace_id,
        "channel_id": {"$in": bot.channel_ids},
        "status": {"$in": STATUSES},
        "assignee_id": None,
        "last_message_at": {"$gte": since},
    }
    while True:
        page = (
            await core.store.conversations.find(query, {"_id": 1})
            .sort("_id", 1)
            .limit(CANDIDATE_PAGE)
            .to_list(CANDIDATE_PAGE)
        )
        for candidate in page:
            doc = await core.store.messages.find_one(
                {
                    "conversation_id": candidate["_id"],
                    "direction": Direction.inbound.value,
                    "created_at": {"$gte": since},
                },
                sort=[("created_at", -1)],
            )
            if doc is not None:
                yield Message.from_doc(doc)
        if len(page) < CANDIDATE_PAGE:
            return
        query["_id"] = {"$gt": page[-1]["_id"]}
