"""Step types are declared with their executor and handed to the app in one list: the bots API
types flows with their union (checked on save, shown in the OpenAPI document) and the engine
runs them. A feature's step type works like a built-in one; an app without it refuses it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI
from pydantic import Field

from kith.bots.engine import BotEngine, Turn
from kith.bots.flows import BotDefinition, Outcome, StepBase, StepType, StepTypes
from kith.bots.knowledge import KnowledgeBase
from kith.bots.steps import STEP_TYPES, End, SendText
from kith.bots.store import save_bot
from kith.core.auth import create_api_token
from kith.core.context import Core
from kith.core.features import install
from kith.web.api.bots import build_router
from kith.web.app import BASE_FEATURES, bot_step_types
from kith.web.errors import install_error_handlers
from kith.web.surface import WithCore
from tests.bots.conftest import BotSetup
from tests.support.cast import api_channel


class OpenTicket(StepBase):
    """A step a tickets feature would bring."""

    type: Literal["open_ticket"] = "open_ticket"
    subject: str = Field(min_length=1, max_length=80)
    priority: Literal["low", "high"] = "low"


async def open_ticket(engine: BotEngine, turn: Turn, step: OpenTicket) -> Outcome:
    await engine.set_attributes(turn, {"ticket": step.subject, "ticket_priority": step.priority})
    await engine.say(turn, f"Ticket opened: {step.subject}")
    return "next", None


WITH_TICKETS = [*STEP_TYPES, StepType(OpenTicket, open_ticket)]


def ticket_flow(*extra: dict[str, Any]) -> dict[str, Any]:
    steps = [
        {"id": "open", "type": "open_ticket", "subject": "Refund", "priority": "high"},
        {"id": "bye", "type": "send_text", "text": "We'll write to you."},
        *extra,
    ]
    return {"id": "help", "trigger": {"kind": "first_message"}, "steps": steps}


async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 't')}"}


@pytest.fixture
async def tickets_app(core: Core) -> AsyncIterator[httpx.AsyncClient]:
    """An app put together with the tickets step type: its bots API and its engine."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(build_router(WITH_TICKETS), prefix="/api/v1")
    install(core, [BotEngine(KnowledgeBase(), step_types=WITH_TICKETS).feature()])
    transport = httpx.ASGITransport(app=WithCore(app, core))  # as create_app hands it over
    async with httpx.AsyncClient(transport=transport, base_url="http://kith.test") as http:
        yield http


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def step_union(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    """The schema of a flow's steps in a bots route's request (post/put) or answer (get)."""
    operation = document["paths"][path][method]
    if method == "get":
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    else:
        body = operation["requestBody"]["content"]["application/json"]["schema"]
    flows = _resolve(document, _resolve(document, body)["properties"]["flows"]["items"])
    return flows["properties"]["steps"]["items"]


def assert_union_of(document: dict[str, Any], union: dict[str, Any], names: list[str]) -> None:
    mapping = union["discriminator"]["mapping"]
    assert union["discriminator"]["propertyName"] == "type"
    assert sorted(mapping) == sorted(names)
    assert sorted(ref["$ref"] for ref in union["oneOf"]) == sorted(mapping.values())
    for name, ref in mapping.items():
        model = _resolve(document, {"$ref": ref})
        assert model["properties"]["type"]["const"] == name
        assert model["additionalProperties"] is False


async def test_the_openapi_document_shows_every_step_type_in_the_union(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    names = [t.name for t in bot_step_types(BASE_FEATURES)]  # built in, and features' (enrol)
    assert "enrol" in names
    for path, method in (
        ("/api/v1/bots", "post"),
        ("/api/v1/bots/{bot_id}", "put"),
        ("/api/v1/bots/{bot_id}", "get"),
    ):
        assert_union_of(document, step_union(document, path, method), names)
    assert "validate" in document["components"]["schemas"]["Ask"]["properties"]  # its alias


async def test_a_feature_step_type_is_in_its_app_s_openapi_document(
    tickets_app: httpx.AsyncClient,
) -> None:
    document = (await tickets_app.get("/openapi.json")).json()
    union = step_union(document, "/api/v1/bots", "post")
    assert_union_of(document, union, [*(t.name for t in STEP_TYPES), "open_ticket"])
    ticket = document["components"]["schemas"]["OpenTicket"]
    assert ticket["properties"]["priority"]["enum"] == ["low", "high"]


async def test_a_feature_step_type_is_accepted_on_save_and_run_by_the_engine(
    tickets_app: httpx.AsyncClient, core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id, callback=False)
    body = {"name": "Helpdesk", "channel_ids": [channel.id], "flows": [ticket_flow()]}
    saved = await tickets_app.post(
        "/api/v1/bots", json=body, headers=await auth(core, workspace_id)
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["flows"][0]["steps"][0] == {
        "id": "open",
        "type": "open_ticket",
        "subject": "Refund",
        "priority": "high",
    }
    bots = BotSetup(core, channel, workspace_id)
    first = await bots.say("my parcel arrived broken")
    assert await bots.bot_texts(first.conversation.id) == [
        "Ticket opened: Refund",
        "We'll write to you.",
    ]
    customer = await core.store.customers.find_one({"_id": first.conversation.customer_id})
    assert customer["attributes"] == {"ticket": "Refund", "ticket_priority": "high"}


@pytest.mark.parametrize(
    ("step", "field", "reason"),
    [
        ({"id": "x", "type": "teleport"}, "flows.0.steps.2.type", "unknown_step_type"),
        ({"id": "x"}, "flows.0.steps.2.type", "missing"),
        ({"id": "x", "type": "send_text"}, "flows.0.steps.2.text", "missing"),
        ({"id": "x", "type": "send_text", "text": 42}, "flows.0.steps.2.text", "localized_text"),
        ({"id": "x", "type": "open_ticket", "subject": ""}, "flows.0.steps.2.subject", None),
        (
            {"id": "x", "type": "branch", "cases": [{"when": {"tag": "vip"}}]},
            "flows.0.steps.2.cases.0.goto",
            "missing",
        ),
        ({"id": "x", "type": "end", "colour": "red"}, "flows.0.steps.2.colour", None),
    ],
)
async def test_a_bad_step_is_refused_naming_its_path(
    tickets_app: httpx.AsyncClient,
    core: Core,
    workspace_id: str,
    step: dict[str, Any],
    field: str,
    reason: str | None,
) -> None:
    body = {"name": "Helpdesk", "flows": [ticket_flow(step)]}
    answer = await tickets_app.post(
        "/api/v1/bots", json=body, headers=await auth(core, workspace_id)
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == field
    assert reason is None or error["reason"] == reason
    if error["reason"] == "unknown_step_type":
        assert error["message"].startswith("unknown step type; one of: 'send_text', ")
        assert "'open_ticket'" in error["limits"]["expected"]
    assert await core.store.collection("bots").count_documents({}) == 0


async def test_an_app_without_the_feature_refuses_its_step_type(
    client: httpx.AsyncClient, core: Core, workspace_id: str
) -> None:
    body = {"name": "Helpdesk", "flows": [ticket_flow()]}
    answer = await client.post("/api/v1/bots", json=body, headers=await auth(core, workspace_id))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "flows.0.steps.0.type"
    assert "'open_ticket'" not in error["limits"]["expected"]


async def test_a_stored_step_the_engine_does_not_know_is_not_run(
    bots: BotSetup, caplog: pytest.LogCaptureFixture
) -> None:
    """A bot saved while a feature was on, run after it is gone: the flow is skipped, logged."""
    definition = BotDefinition(
        name="Helpdesk", channel_ids=[bots.channel.id], flows=[ticket_flow()]
    )
    await save_bot(bots.core, bots.workspace_id, definition, step_types=StepTypes(WITH_TICKETS))
    with caplog.at_level(logging.ERROR, logger="kith.bots.engine"):
        first = await bots.say("hello")
    assert await bots.bot_texts(first.conversation.id) == []
    assert "unknown step type" in caplog.text and "steps.0.type" in caplog.text


def test_a_step_type_names_itself_with_a_literal_type() -> None:
    class Loose(StepBase):
        type: str = "loose"

    with pytest.raises(TypeError, match="Literal"):
        StepType(Loose, open_ticket)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'end'"):
        StepTypes([*STEP_TYPES, StepType(End, open_ticket)])  # type: ignore[arg-type]
    assert StepType(SendText, STEP_TYPES[0].run).name == "send_text"


async def test_an_app_without_the_feature_still_reads_bots_that_use_it(
    tickets_app: httpx.AsyncClient, client: httpx.AsyncClient, core: Core, workspace_id: str
) -> None:
    """Bots are answered as stored: removing a feature does not break reading its bots."""
    headers = await auth(core, workspace_id)
    body = {"name": "Helpdesk", "flows": [ticket_flow()]}
    saved = (await tickets_app.post("/api/v1/bots", json=body, headers=headers)).json()
    assert saved.pop("webhook_secret")  # shown once, at creation
    listed = await client.get("/api/v1/bots", headers=headers)
    assert listed.status_code == 200 and listed.json()["items"] == [saved]
    assert (await client.get(f"/api/v1/bots/{saved['id']}", headers=headers)).json() == saved
    again = await client.put(f"/api/v1/bots/{saved['id']}", json=body, headers=headers)
    assert again.status_code == 422 and again.json()["error"]["field"] == "flows.0.steps.0.type"
