"""A bot serves the channels it lists: one saved with none answers nowhere (the settings page
says so), and another bot's channels are not its."""

from __future__ import annotations

from tests.bots.conftest import BotSetup

HELLO = [
    {
        "id": "hi",
        "trigger": {"kind": "first_message"},
        "steps": [{"id": "s", "type": "send_text", "text": "Hi!"}],
    }
]


async def test_a_bot_with_no_channel_answers_nowhere(bots: BotSetup) -> None:
    await bots.install(channel_ids=[], flows=HELLO)
    said = await bots.say("hello")
    assert await bots.bot_texts(said.conversation.id) == []


async def test_a_bot_answers_on_the_channels_it_lists(bots: BotSetup) -> None:
    await bots.install(flows=HELLO)
    said = await bots.say("hello")
    assert await bots.bot_texts(said.conversation.id) == ["Hi!"]
