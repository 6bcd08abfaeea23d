"""Bot texts fill `{name}` and `{attributes.x}`; a template's `{{ … }}` or `{% … %}` (what
broadcasts and sequences write) would be sent as typed, so a save refuses it at the text
(QA pass 9, minor 1)."""

from __future__ import annotations

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.context import Core
from tests.bots.conftest import BotSetup
from tests.support.cast import CAST


@pytest.fixture
async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 't')}"}


def with_steps(*steps: dict[str, object], **more: object) -> dict[str, object]:
    trigger = {"kind": "first_message"}
    return {
        "name": "Kithy",
        "flows": [{"id": "f", "trigger": trigger, "steps": list(steps)}],
        **more,
    }


async def test_template_syntax_in_bot_texts_is_refused_at_each_text(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = with_steps(
        {"id": "hello", "type": "send_text", "text": "Hi {{ customer.name }}!"},
        {
            "id": "ask",
            "type": "ask",
            "text": {"en": "Your email?", "zh": "{% if vip %}贵宾{% endif %}您的邮箱？"},
            "attribute": "email",
        },
        handoff_text={"en": "Passing you on, {{name}}.", "zh": "正在转接。"},
    )
    refused = await client.post("/api/v1/bots", json=body, headers=auth)
    assert refused.status_code == 422, refused.text
    fields = {f["field"]: f for f in refused.json()["error"]["fields"]}
    assert set(fields) == {
        "handoff_text.en",
        "flows.0.steps.0.text",
        "flows.0.steps.1.text.zh",
    }
    assert {f["reason"] for f in fields.values()} == {"bot_template_syntax"}
    assert fields["flows.0.steps.1.text.zh"]["limits"] == {"found": "{%"}
    assert "{name}" in fields["flows.0.steps.0.text"]["message"]


async def test_the_placeholders_bots_fill_are_saved_and_filled(bots: BotSetup) -> None:
    say = {"id": "hi", "type": "send_text", "text": {"en": "Hi {name}!", "zh": "{name}您好！"}}
    await bots.install(flows=[{"id": "f", "trigger": {"kind": "first_message"}, "steps": [say]}])
    said = await bots.say("hello there", who="ada")
    assert await bots.bot_texts(said.conversation.id) == [f"Hi {CAST['ada'].name}!"]
