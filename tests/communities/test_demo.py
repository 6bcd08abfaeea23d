"""The demo group: recorded updates through the webhook's path make a community whose roster
speaks two languages and whose growth has a shape; the demo's Bot API answers what aiogram
expects of Telegram."""

from __future__ import annotations

import httpx
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import ChatMemberAdministrator
from fastapi import FastAPI

from kith.communities import stats
from kith.communities.demo import (
    BACK,
    BOT,
    BOT_TOKEN,
    CHAT,
    LEAVERS,
    PATH,
    PEOPLE,
    DemoBotApi,
    seed_demo_community,
    use_demo_bot_api,
)
from kith.communities.store import get_community, member_id, members
from kith.connectors.telegram.session import HttpxSession
from kith.core.channel_records import get_channel
from kith.core.context import Core
from tests.support.consumers import drain


async def test_the_demo_group_has_a_bilingual_roster_and_weeks_of_growth(
    core: Core, workspace_id: str
) -> None:
    made = await seed_demo_community(core, workspace_id)
    await use_demo_bot_api(core, workspace_id, "http://127.0.0.1:8000")
    channel = await get_channel(core, workspace_id, made.channel_id)
    assert channel.config["api_base"] == "http://127.0.0.1:8000" + PATH
    await drain(core)
    community = await get_community(core, workspace_id, made.id)
    assert (community.title, community.kind) == (CHAT["title"], "supergroup")
    assert community.bot_status == "admin"  # its my_chat_member update made it one
    joins = await core.store.events.count_documents({"type": "channel.member_joined"})
    assert joins == len(PEOPLE) + 1  # each from its chat_member update, not its service copy
    assert community.member_count == len(PEOPLE) - len(LEAVERS) + 1  # one came back

    roster = await members(core).find({"community_id": community.id}).to_list()
    names = {m["name"] for m in roster}
    assert "王芳" in names and "Emma Wilson" in names
    assert sum(m["message_count"] for m in roster) >= len(PEOPLE)
    back = await members(core).find_one({"_id": member_id(community.id, str(880000000 + BACK))})
    assert back is not None and len(back["spans"]) == 2 and back["status"] == "member"

    figures = await stats.read(core, community, 40)
    days = figures.days
    assert days[-1].members == community.member_count
    assert sum(1 for d in days if d.joins) >= 12  # joins spread over the weeks
    assert days[0].members == 0 < days[-15].members < days[-1].members  # it grew from nothing
    last_week = sum(d.joins for d in days[-7:])
    first_week = sum(d.joins for d in days[-29:-22])
    assert last_week > first_week  # faster as word spread
    assert sum(d.leaves for d in days) == len(LEAVERS)
    assert sum(d.messages for d in days) >= len(PEOPLE)


async def test_the_demo_bot_api_answers_as_telegram_does() -> None:
    demo = DemoBotApi()
    app = FastAPI()
    app.include_router(demo.router())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport) as http:
        server = TelegramAPIServer.from_base("http://demo.test" + PATH)
        bot = Bot(BOT_TOKEN, session=HttpxSession(http, server, 5.0))
        sent = await bot.send_message(int(CHAT["id"]), "周六见！")
        assert sent.chat.id == CHAT["id"] and sent.text == "周六见！"
        link = await bot.create_chat_invite_link(int(CHAT["id"]), name="ada")
        assert link.invite_link.startswith("https://t.me/+") and link.name == "ada"
        assert await bot.delete_message(int(CHAT["id"]), 1) is True
        me = await bot.get_chat_member(int(CHAT["id"]), int(BOT["id"]))
        assert isinstance(me, ChatMemberAdministrator) and me.can_restrict_members
        admins = await bot.get_chat_administrators(int(CHAT["id"]))
        assert [a.user.id for a in admins if a.status == "administrator"] == [BOT["id"]]
    assert [method for method, _ in demo.calls] == [
        "sendMessage",
        "createChatInviteLink",
        "deleteMessage",
        "getChatMember",
        "getChatAdministrators",
    ]
