"""Customer text cannot make the bot's checks take super-linear time.

An email answer of `a@` and 40,000 dots stalled the whole server for 5.5 s (a backtracking
regex); an admin's regex trigger like `(a+)+$` could stall it for ever on a long message.
The budgets below are hundreds of times what the linear checks need, and far below what the
backtracking ones took.
"""

from __future__ import annotations

import time

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.context import Core
from tests.bots.conftest import BotSetup, ask_email_flow

BUDGET_SECONDS = 1.0


@pytest.mark.parametrize(
    "answer",
    [
        "a@" + "." * 40_000 + "@",
        "a@" + "." * 40_000,
        "a" * 40_000 + "@example.org",  # over 254 characters: refused before any scan
        "ada@@example.org",
        "ada@example..org",
        "ada@example.o",
    ],
)
async def test_hostile_email_answers_are_refused_in_linear_time(bots: BotSetup, answer: str):
    await bots.install(knowledge_base=False, flows=[ask_email_flow()])
    first = await bots.say("newsletter please")
    started = time.perf_counter()
    await bots.say(answer)
    assert time.perf_counter() - started < BUDGET_SECONDS
    texts = await bots.bot_texts(first.conversation.id)
    assert texts[-1] == "Your email?" and "Thanks!" not in texts  # asked again


async def test_a_plain_email_is_still_taken(bots: BotSetup) -> None:
    await bots.install(knowledge_base=False, flows=[ask_email_flow()])
    first = await bots.say("newsletter please")
    await bots.say("Ada.Lovelace+kith@mail.Example.org")
    assert (await bots.bot_texts(first.conversation.id))[-1] == "Thanks!"


async def test_a_catastrophic_regex_trigger_runs_in_linear_time(bots: BotSetup) -> None:
    await bots.install(
        knowledge_base=False,
        flows=[
            {
                "id": "evil",
                "trigger": {"kind": "regex", "values": [r"^(a+)+$", r"(\w+\s?)*#"]},
                "steps": [{"id": "hi", "type": "send_text", "text": "matched"}],
            }
        ],
    )
    started = time.perf_counter()
    received = await bots.say("a" * 30_000 + "!")  # Python's re would backtrack for ever
    await bots.say("word " * 5_000 + "!")
    assert time.perf_counter() - started < 2 * BUDGET_SECONDS
    assert "matched" not in await bots.bot_texts(received.conversation.id)
    matched = await bots.say("aaaa", who="grace")
    assert await bots.bot_texts(matched.conversation.id) == ["matched"]


@pytest.mark.parametrize("pattern", [r"(a)\1", r"order(?=\d)", r"(?<!no )refund", "(unclosed"])
async def test_regexes_that_need_backtracking_are_refused_when_saved(
    client: httpx.AsyncClient, core: Core, workspace_id: str, pattern: str
) -> None:
    auth = {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 'tests')}"}
    flow = {
        "id": "f",
        "trigger": {"kind": "regex", "values": ["fine", pattern]},
        "steps": [{"id": "a", "type": "send_text", "text": "hi"}],
    }
    answer = await client.post("/api/v1/bots", json={"name": "x", "flows": [flow]}, headers=auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "flows.0.trigger.values" and "RE2" in error["message"]
