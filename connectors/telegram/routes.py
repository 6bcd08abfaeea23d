"""Telegram's HTTP side: the webhook Telegram calls, and on-demand file downloads."""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from kith.connectors.base import bearer_token, current_core
from kith.connectors.telegram.client import bot_for, ready
from kith.connectors.telegram.config import TelegramConfig
from kith.connectors.telegram.inbound import Outcome, fill_documented_gaps, handle_update
from kith.core.auth import workspace_for_token
from kith.core.channel_records import active_channel
from kith.core.context import Core
from kith.core.dead_letters import Payload, keep_dead_letter
from kith.core.errors import DeliveryError, InvalidInput, NotFound, Unauthorized
from kith.core.models import Channel

if TYPE_CHECKING:
    from aiogram.types import Update

log = logging.getLogger(__name__)
router = APIRouter(tags=["Telegram channel"])

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)


async def telegram_channel(core: Core, channel_id: str, workspace_id: str | None = None) -> Channel:
    return await active_channel(core, channel_id, "telegram", workspace_id)


def parse_update(body: bytes) -> Update:
    """The request body as a Bot API `Update` (`InvalidInput` otherwise). Fields Telegram's
    own documented test updates leave out are filled in first (`fill_documented_gaps`)."""
    from aiogram.types import Update

    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidInput("body is not JSON", field="body", code="malformed_json") from None
    if not isinstance(data, dict):
        raise InvalidInput("an Update is a JSON object", field="body")
    try:
        return Update.model_validate(fill_documented_gaps(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise InvalidInput(f"not a Telegram Update: {err['msg']}", field=where) from None


@router.post("/webhooks/telegram/{channel_id}")
async def webhook(
    channel_id: str, request: Request, core: Annotated[Core, Depends(current_core)]
) -> dict[str, bool]:
    """Answers 200 only once the update is stored, so Telegram redelivers on any failure."""
    channel = await telegram_channel(core, channel_id)
    given = request.headers.get(SECRET_HEADER, "")
    expected = channel.settings_as(TelegramConfig).secret_token
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("secret token does not match", field=SECRET_HEADER)
    payload = Payload(body=await request.body(), content_type=request.headers.get("content-type"))
    try:
        outcome = await process(core, channel, payload)
    except InvalidInput as exc:  # a 4xx only makes Telegram retry it: keep it, answer 200
        await keep_dead_letter(core, channel, payload, exc)
        outcome = Outcome.dead_letter
    log.debug("telegram update handled", extra={"channel_id": channel.id, "outcome": outcome})
    return {"ok": True}


async def process(core: Core, channel: Channel, payload: Payload) -> str:
    """Parse and handle one update's JSON: the webhook's path and a dead letter's replay."""
    await ready()
    return await handle_update(core, channel, parse_update(payload.body))


@router.get("/webhooks/telegram/{channel_id}/files/{file_id}")
async def download(
    channel_id: str,
    file_id: str,
    request: Request,
    core: Annotated[Core, Depends(current_core)],
) -> StreamingResponse:
    """A customer's file, fetched from Telegram on demand (workspace API token required)."""
    workspace_id = await workspace_for_token(core, bearer_token(request))
    channel = await telegram_channel(core, channel_id, workspace_id)
    await ready()
    from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

    bot = bot_for(core, channel)
    try:
        file = await bot.get_file(file_id)
    except TelegramBadRequest:
        raise NotFound("Telegram does not know this file", field="file_id") from None
    except TelegramAPIError as exc:
        raise DeliveryError(f"Telegram getFile failed: {exc.message}") from None
    if not file.file_path:
        raise NotFound("Telegram cannot serve this file", field="file_id")
    url = bot.session.api.file_url(bot.token, file.file_path)
    return StreamingResponse(bot.session.stream_content(url), media_type="application/octet-stream")
