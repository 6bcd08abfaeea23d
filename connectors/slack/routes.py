"""Slack's HTTP side: the Events API and interactivity (button presses).

Both URLs take both kinds of request: the body's content type says which it is (JSON for
events, a form with a `payload` field for interactions), so a Slack app may point its
Interactivity Request URL at either. Every request is signature-checked before it is read.
Slack gets its 200 only after the pipeline stored what it sent; a failure answers 5xx and
Slack's retry is processed like the first delivery (dedup happens in the pipeline). A signed
payload Kith cannot use is kept as a dead letter and acknowledged (`kith.core.dead_letters`).
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ValidationError

from kith.connectors.base import current_core
from kith.connectors.slack.inbound import Outcome, handle_block_actions, handle_event
from kith.connectors.slack.payloads import BlockActions, Envelope, EventCallback, UrlVerification
from kith.connectors.slack.verify import verify_request
from kith.core.channel_records import active_channel
from kith.core.clock import wall
from kith.core.context import Core
from kith.core.dead_letters import Payload, keep_dead_letter
from kith.core.errors import InvalidInput
from kith.core.models import Channel

log = logging.getLogger(__name__)
router = APIRouter(tags=["Slack channel"])

FORM = "application/x-www-form-urlencoded"
M = TypeVar("M", bound=BaseModel)


class SlackAck(BaseModel):
    ok: bool = True
    outcome: str | None = None
    challenge: str | None = None


async def _slack_channel(core: Core, channel_id: str) -> Channel:
    return await active_channel(core, channel_id, "slack")


def _json(raw: str | bytes, field: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("body is not JSON", field=field, code="malformed_json") from None
    if not isinstance(data, dict):
        raise InvalidInput("expected a JSON object", field=field)
    return data


def _model(model: type[M], data: dict[str, Any], prefix: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidInput(
            err["msg"], field=".".join(str(p) for p in (prefix, *err["loc"]) if p)
        ) from None


async def _events(core: Core, channel: Channel, body: bytes, retry: str | None) -> SlackAck:
    envelope = _json(body, "body")
    kind = _model(Envelope, envelope, "").type
    if kind == "url_verification":
        return SlackAck(challenge=_model(UrlVerification, envelope, "").challenge)
    if kind != "event_callback":  # app_rate_limited and future envelope types
        return SlackAck(outcome=Outcome.ignored)
    callback = _model(EventCallback, envelope, "")
    if retry:
        log.info(
            "slack redelivery",
            extra={"channel_id": channel.id, "event_id": callback.event_id, "retry": retry},
        )
    return SlackAck(outcome=await handle_event(core, channel, callback))


async def _interaction(core: Core, channel: Channel, body: bytes) -> SlackAck:
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("body is not a form", field="payload") from None
    raw = form.get("payload")
    if not raw and form.get("command"):  # a slash command pointed here: not used by Kith
        return SlackAck(outcome=Outcome.ignored)
    if not raw:
        raise InvalidInput("interaction without a payload", field="payload")
    payload = _json(raw[0], "payload")
    if _model(Envelope, payload, "payload").type != "block_actions":
        return SlackAck(outcome=Outcome.ignored)  # shortcuts, modals: not used by Kith
    actions = _model(BlockActions, payload, "payload")
    return SlackAck(outcome=await handle_block_actions(core, channel, actions))


async def _process(
    core: Core, channel: Channel, payload: Payload, retry: str | None = None
) -> SlackAck:
    content_type = (payload.content_type or "").partition(";")[0].strip().lower()
    if content_type == FORM:
        return await _interaction(core, channel, payload.body)
    return await _events(core, channel, payload.body, retry)


async def replay(core: Core, channel: Channel, payload: Payload) -> str:
    """A kept dead letter, parsed and handled again (its signature held when it came)."""
    return (await _process(core, channel, payload)).outcome or Outcome.ignored


async def _receive(core: Core, channel_id: str, request: Request) -> SlackAck:
    """Signed requests only; a signed payload Kith cannot use is kept as a dead letter and
    acknowledged, since a 4xx makes Slack retry it and, repeated, disable the subscription."""
    channel = await _slack_channel(core, channel_id)
    body = await request.body()
    verify_request(wall(core.clock), channel, body, request.headers)
    payload = Payload(body=body, content_type=request.headers.get("content-type"))
    try:
        return await _process(core, channel, payload, request.headers.get("x-slack-retry-num"))
    except InvalidInput as exc:
        await keep_dead_letter(core, channel, payload, exc)
        return SlackAck(outcome=Outcome.dead_letter)


@router.post(
    "/webhooks/slack/{channel_id}", response_model=SlackAck, response_model_exclude_none=True
)
async def events(
    channel_id: str, request: Request, core: Annotated[Core, Depends(current_core)]
) -> SlackAck:
    """Events API Request URL (also takes interactions)."""
    return await _receive(core, channel_id, request)


@router.post(
    "/webhooks/slack/{channel_id}/interactive",
    response_model=SlackAck,
    response_model_exclude_none=True,
)
async def interactive(
    channel_id: str, request: Request, core: Annotated[Core, Depends(current_core)]
) -> SlackAck:
    """Interactivity Request URL: Block Kit button presses."""
    return await _receive(core, channel_id, request)
