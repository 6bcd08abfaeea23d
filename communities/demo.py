"""The demo's community: a Telegram supergroup, "Kettle Owners Club · 水壶俱乐部", on a demo bot,
fed four weeks of recorded updates through the Telegram webhook's own path (members joining
faster as word spreads, a few leaving and one coming back, people speaking Chinese and
English), so its page has a roster and charts with a shape.

The bot is the group's administrator (its `my_chat_member` update says so, and the demo's
Bot API agrees when asked), so, as Telegram does for an admin bot that asks for them, each
join and leave comes as a `chat_member` update (the roster's source, with the invite link a
join came through) followed by its service message (`kith.communities.demo_updates`). The
updates go through `kith.connectors.telegram.routes.process`, what the webhook
calls once the secret token is checked; each is stored at its own date on a demo clock. The
demo has no Telegram to talk to, so `DemoBotApi` answers the bot's calls on loopback (posts
into the group, and the calls welcome and moderation make) the way the Bot API does.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kith.communities import demo_updates, roster
from kith.communities.demo_moderation import seed_moderation, spam_updates
from kith.communities.demo_referrals import seed_demo_referrals
from kith.communities.demo_welcome import newcomer_updates, raid_updates, seed_demo_welcome
from kith.communities.models import Community
from kith.communities.store import community_id, get_community
from kith.connectors.telegram.routes import process
from kith.core.channel_records import create_channel, get_channel, update_channel
from kith.core.clock import ManualClock
from kith.core.consumers import Consumer, ConsumerWorker
from kith.core.context import Core
from kith.core.dead_letters import Payload
from kith.core.models import Channel

BOT_TOKEN = "7000000099:kith-demo-community-bot"  # noqa: S105 (a made-up demo bot)
SECRET = "kith-demo-community-webhook-secret"  # noqa: S105 (the demo bot's, made up too)
BOT = {"id": 7000000099, "is_bot": True, "first_name": "Kettle Club", "username": "kettle_bot"}
OWNER = {"id": 880099999, "is_bot": False, "first_name": "Kettle", "last_name": "Shop"}
CHAT: dict[str, Any] = {
    "id": -1009876543210,
    "title": "Kettle Owners Club · 水壶俱乐部",
    "type": "supergroup",
}
DAYS = 28  # the page's default period shows the whole story
PATH = "/demo/telegram"

# (first name, last name, language): who joins, in the order they do.
PEOPLE = [
    ("王芳", None, "zh-hans"),
    ("Emma", "Wilson", "en"),
    ("张伟", None, "zh-hans"),
    ("Liam", "Smith", "en"),
    ("刘洋", None, "zh-hans"),
    ("Olivia", "Brown", "en"),
    ("陈静", None, "zh-hans"),
    ("Noah", "Davis", "en"),
    ("杨磊", None, "zh-hans"),
    ("Ava", "Miller", "en"),
    ("赵敏", None, "zh-hans"),
    ("Mia", "Garcia", "en"),
    ("黄丽", None, "zh-hans"),
    ("Lucas", "Martin", "en"),
    ("周杰", None, "zh-hans"),
    ("Sophia", "Lee", "en"),
    ("吴婷", None, "zh-hans"),
    ("James", "Taylor", "en"),
    ("徐强", None, "zh-hans"),
    ("Isabella", "Clark", "en"),
    ("孙悦", None, "zh-hans"),
    ("Ethan", "Lewis", "en"),
    ("马超", None, "zh-hans"),
    ("Henry", "Young", "en"),
    ("朱琳", None, "zh-hans"),
    ("Chloe", "King", "en"),
    ("胡斌", None, "zh-hans"),
    ("Jack", "Wright", "en"),
    ("林娜", None, "zh-hans"),
    ("Zoe", "Scott", "en"),
    ("何欢", None, "zh-hans"),
    ("Leo", "Green", "en"),
    ("高峰", None, "zh-hans"),
    ("Ruby", "Adams", "en"),
    ("罗敏", None, "zh-hans"),
    ("Max", "Baker", "en"),
]
SAYINGS = {
    "zh-hans": [
        "大家好！刚加入，请多关照。",
        "这款水壶烧水真快。",
        "有人试过用柠檬酸除垢吗？",
        "周末的咖啡分享会我报名了！",
        "谢谢分享，很有用。",
        "新到的白色款真好看。",
    ],
    "en": [
        "Hi all, glad to be here!",
        "Does anyone use filtered water in theirs?",
        "The gooseneck spout is great for pour-over.",
        "Thanks for the descaling tip!",
        "See you at the Saturday meet-up.",
        "Mine boils in under three minutes.",
    ],
}
LEAVERS = frozenset({5, 12, 19, 24})  # they leave a few days after joining
BACK = 12  # … and this one comes back a week later


def _user(n: int) -> dict[str, Any]:
    first, last, language = PEOPLE[n]
    user: dict[str, Any] = {"id": 880000000 + n, "is_bot": False, "first_name": first}
    if last:
        user["last_name"] = last
    return {**user, "language_code": language}


def _joined_days_ago(n: int) -> float:
    """Slow at first, faster as word spreads: more of the joins are recent."""
    share = 1 - n / len(PEOPLE)
    return DAYS * share**1.6 + 0.3


def recorded_updates(now: datetime) -> list[dict[str, Any]]:
    """The group's four weeks, oldest first, as Telegram delivered them to its admin bot:
    each join and leave a `chat_member` update followed by its service message."""
    added = now - timedelta(days=DAYS + 1)  # the owner adds the bot: the group says so too
    timeline: list[tuple[datetime, Step]] = [
        (added, ("say", {"from": OWNER, "new_chat_members": [BOT]}))
    ]
    for n in range(len(PEOPLE)):
        joined = now - timedelta(days=_joined_days_ago(n))
        timeline.append((joined, ("join", _user(n))))
        language = PEOPLE[n][2]
        for k in range(1 + n % 3):  # one to three messages in the days after joining
            said = joined + timedelta(hours=3 + 20 * k + n % 5)
            if said < now:
                text = SAYINGS[language][(n + k) % len(SAYINGS[language])]
                timeline.append((said, ("say", {"from": _user(n), "text": text})))
        if n in LEAVERS:
            gone = joined + timedelta(days=2 + n % 3)
            if gone < now:
                timeline.append((gone, ("leave", _user(n))))
            back = gone + timedelta(days=7)
            if n == BACK and back < now:
                timeline.append((back, ("join", _user(n))))
    timeline.sort(key=lambda item: item[0])
    return [u for i, (at, step) in enumerate(timeline) for u in _updates(i, at, step)]


Step = tuple[str, dict[str, Any]]


def _updates(i: int, at: datetime, step: Step) -> list[dict[str, Any]]:
    """Step `i` of the history as its updates (two ids and one message id per step)."""
    kind, body = step
    date, update_id, message_id = int(at.timestamp()), 500000 + 2 * i, 100 + i
    if kind == "join":
        return demo_updates.joined(CHAT, body, date, update_id, message_id)
    if kind == "leave":
        return demo_updates.left(CHAT, body, date, update_id, message_id)
    message = {"message_id": message_id, "chat": CHAT, "date": date, **body}
    return [{"update_id": update_id, "message": message}]


def _bot_added(now: datetime) -> dict[str, Any]:
    """The shop's owner adds the bot to the group as an administrator, as Telegram tells the
    bot (`my_chat_member`): from then on it gets a `chat_member` update for every join and
    leave (it asks for them in `allowed_updates`), the roster's source."""
    return {
        "update_id": 499999,
        "my_chat_member": {
            "chat": CHAT,
            "from": OWNER,
            "date": int((now - timedelta(days=DAYS + 1, minutes=1)).timestamp()),
            "old_chat_member": {"user": BOT, "status": "left"},
            "new_chat_member": demo_updates.bot_admin(BOT),
        },
    }


async def seed_demo_community(core: Core, workspace_id: str) -> Community:
    """The demo bot's channel and its group, fed through the webhook's path. Call it once;
    point the bot at the demo's own Bot API with `use_demo_bot_api` once the port is known."""
    channel, _ = await create_channel(
        core,
        workspace_id,
        "telegram",
        "Kettle Club bot",
        {"bot_token": BOT_TOKEN, "secret_token": SECRET},
    )
    now = core.clock.now()
    await _replay(core, channel, [_bot_added(now), *recorded_updates(now)], settle=True)
    return await _community(core, channel)


async def seed_demo_activity(core: Core, workspace_id: str, community: Community) -> None:
    """What a community manager tries first, on the sample group: the welcome with its rules
    button, moderation, a member's invite link with a join through it; then, recorded
    through the webhook, a raid of 50 joins 8 hours ago (one summary, not 50 welcomes) and a
    spammer half an hour ago (deleted and warned, in the audit log); `newcomer_arrives`
    later. Welcomes, the summary and the
    moderation's actions run on `kith serve`'s consumers and timers, seconds after the demo
    starts."""
    await seed_demo_welcome(core, workspace_id, community.id)
    await seed_moderation(core, workspace_id, community.id)
    channel = await get_channel(core, workspace_id, community.channel_id)
    referrer = await core.store.identities.find_one(
        {"channel_id": channel.id, "external_id": str(_user(0)["id"])}
    )
    await seed_demo_referrals(
        core, workspace_id, community.id, referrer["customer_id"] if referrer else None
    )
    now = core.clock.now()
    hour = timedelta(hours=1)
    raid = raid_updates(CHAT, 700_000, int((now - 8 * hour).timestamp()))
    spam = spam_updates(int(CHAT["id"]), str(CHAT["title"]), now - hour / 2, 700_200)
    await _replay(core, channel, [*raid, *spam])


async def newcomer_arrives(core: Core, community: Community) -> None:
    """韩梅梅 joins now, through the webhook's path: once the raid is over (six demo hours
    without joins, seconds after the demo starts) she is welcomed in Chinese, with the rules
    button, and restricted until she presses it."""
    channel = await get_channel(core, community.workspace_id, community.channel_id)
    for update in newcomer_updates(CHAT, 700_100, int(core.clock.now().timestamp())):
        await _deliver(core, channel, update)


async def _replay(
    core: Core, channel: Channel, updates: list[dict[str, Any]], settle: bool = False
) -> None:
    """Each update delivered at its own date, as if the demo had been running then; with
    `settle`, the communities' consumers run on each at that date too (the group's history,
    before its welcome and moderation are on: nothing is greeted or moderated after the
    fact, and no platform call is made before the demo's Bot API serves)."""
    real_clock = core.clock
    worker = ConsumerWorker(core)
    ours = [c for c in core.consumers if c.name.startswith("community-")]
    try:
        for update in updates:
            [inner] = [v for k, v in update.items() if k != "update_id"]
            core.clock = ManualClock(datetime.fromtimestamp(inner["date"], UTC))
            await _deliver(core, channel, update)
            while settle and await _settle(core, worker, ours):
                pass
    finally:
        core.clock = real_clock


async def _settle(core: Core, worker: ConsumerWorker, consumers: list[Consumer]) -> int:
    """One batch for each consumer that has events waiting (one query finds them: most
    updates concern a few of the nine, and an empty claim is a round trip each); how many
    events they handled."""
    names = [consumer.name for consumer in consumers]
    waiting = set(await core.store.events.distinct("pending", {"pending": {"$in": names}}))
    due = [consumer for consumer in consumers if consumer.name in waiting]
    return sum([await worker.run_consumer(consumer) for consumer in due])


async def _deliver(core: Core, channel: Channel, update: dict[str, Any]) -> None:
    body = json.dumps(update, ensure_ascii=False).encode()
    await process(core, channel, Payload(body=body, content_type="application/json"))


async def _community(core: Core, channel: Channel) -> Community:
    """The group's community: made by the roster consumer, or now if it has not run yet."""
    chat = roster.Chat(
        workspace_id=channel.workspace_id,
        channel_id=channel.id,
        channel_type=channel.type,
        platform_chat_id=str(CHAT["id"]),
        title=str(CHAT["title"]),
        kind=str(CHAT["type"]),
    )
    seen = await roster.see(core, chat)
    return await get_community(core, seen.workspace_id, community_id(channel.id, str(CHAT["id"])))


async def use_demo_bot_api(core: Core, workspace_id: str, base_url: str) -> None:
    """Point the demo bot at `DemoBotApi` on the demo's own server."""
    config = {
        "api_base": base_url.rstrip("/") + PATH,
        "bot_token": BOT_TOKEN,
        "secret_token": SECRET,
    }
    async for doc in core.store.channels.find({"workspace_id": workspace_id, "type": "telegram"}):
        await update_channel(core, workspace_id, doc["_id"], config=config)


class DemoBotApi:
    """Answers the demo bot's Bot API calls as Telegram would (nothing leaves the machine)."""

    def __init__(self) -> None:
        self.ids = itertools.count(9000)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)

        @router.post(PATH + "/bot{token}/{method}")
        async def method(token: str, method: str, request: Request) -> JSONResponse:
            if token != BOT_TOKEN:
                return JSONResponse(
                    {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
                )
            params = await _params(request)
            self.calls.append((method, params))
            return JSONResponse({"ok": True, "result": self.answer(method, params)})

        return router

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        if method.startswith("send"):
            chat = {"id": int(params.get("chat_id", CHAT["id"])), "type": "supergroup"}
            return {
                "message_id": next(self.ids),
                "from": BOT,
                "chat": chat,
                "date": int(datetime.now(UTC).timestamp()),
                "text": params.get("text", ""),
            }
        if method == "getMe":
            return BOT
        if method == "getChatAdministrators":
            return [{"user": OWNER, "status": "creator", "is_anonymous": False}, self._bot()]
        if method == "getChatMember":
            user_id = int(params.get("user_id", 0))
            if user_id == BOT["id"]:
                return self._bot()
            if user_id == OWNER["id"]:
                return {"user": OWNER, "status": "creator", "is_anonymous": False}
            return {
                "user": {"id": user_id, "is_bot": False, "first_name": "Member"},
                "status": "member",
            }
        if method == "createChatInviteLink":
            return {
                "invite_link": f"https://t.me/+demo{next(self.ids)}",
                "creator": BOT,
                "creates_join_request": False,
                "is_primary": False,
                "is_revoked": False,
                "name": params.get("name"),
            }
        return True

    @staticmethod
    def _bot() -> dict[str, Any]:
        """The bot administers the group, as its `my_chat_member` update said."""
        return demo_updates.bot_admin(BOT)


async def _params(request: Request) -> dict[str, Any]:
    if "json" in request.headers.get("content-type", ""):
        found = await request.json()
        return found if isinstance(found, dict) else {}
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
