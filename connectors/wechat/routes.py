"""The server URL an Official Account pushes to: `/webhooks/wechat/{channel_id}`.

GET is WeChat's URL check (echo `echostr` once the signature holds). POST is a push in
plaintext, compatible or safe mode: verified, decrypted, mapped, ingested, and only then
acknowledged with `success`, well inside WeChat's 5-second limit. A push must be fresh and
its nonce unused (`replay`). A failed answer makes
WeChat retry (three times, same MsgId); ingest dedups, so nothing is stored twice.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError

from kith.connectors.base import current_core
from kith.connectors.wechat import replay
from kith.connectors.wechat.config import WeChatConfig
from kith.connectors.wechat.inbound import parse
from kith.connectors.wechat.menu import pressed_payload
from kith.connectors.wechat.security import MAX_BODY_BYTES, CallbackQuery, open_push, url_check_echo
from kith.core.channel_records import active_channel
from kith.core.context import Core
from kith.core.dead_letters import Payload, keep_dead_letter
from kith.core.errors import InvalidInput, PayloadTooLarge
from kith.core.models import Channel, ChannelEvent
from kith.core.pipeline import ingest, ingest_event

router = APIRouter(tags=["WeChat channel"])
TEXT = {"x-content-type-options": "nosniff"}


async def wechat_channel(channel_id: str, core: Annotated[Core, Depends(current_core)]) -> Channel:
    return await active_channel(core, channel_id, "wechat")


def callback_query(request: Request) -> CallbackQuery:
    try:
        return CallbackQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        field = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise InvalidInput("malformed WeChat query string", field=field) from None


ChannelDep = Annotated[Channel, Depends(wechat_channel)]
QueryDep = Annotated[CallbackQuery, Depends(callback_query)]


@router.get("/webhooks/wechat/{channel_id}", response_class=PlainTextResponse)
async def url_check(channel: ChannelDep, query: QueryDep) -> PlainTextResponse:
    """Answer the check WeChat runs when the server URL is saved in the developer settings."""
    echo = url_check_echo(channel.settings_as(WeChatConfig), query)
    return PlainTextResponse(echo, headers=TEXT)


def acknowledge() -> PlainTextResponse:
    """WeChat's "received, no passive reply" answer.

    The seam for passive replies: a bot answering within the 5 seconds would render a
    `wechatpy.replies` reply here (encrypted with `WeChatCrypto.encrypt_message` when the
    push was); until then every reply goes through the customer-service API.
    """
    return PlainTextResponse("success", headers=TEXT)


@router.post("/webhooks/wechat/{channel_id}", response_class=PlainTextResponse)
async def push(
    request: Request,
    channel: ChannelDep,
    query: QueryDep,
    core: Annotated[Core, Depends(current_core)],
) -> PlainTextResponse:
    """Take one message or event push; answer `success` only once it is stored."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"WeChat push over {MAX_BODY_BYTES} bytes", field="body")
    config = channel.settings_as(WeChatConfig)
    xml = open_push(config, query, await request.body())
    payload = Payload(body=xml.encode(), content_type="application/xml")
    async with replay.once(core, channel.id, query) as fresh:
        if fresh:
            await _process_or_keep(core, channel, payload)
    return acknowledge()


async def _process_or_keep(core: Core, channel: Channel, payload: Payload) -> None:
    try:
        await process(core, channel, payload)
    except InvalidInput as exc:  # verified and opened, but unusable: keep it, WeChat is done
        await keep_dead_letter(core, channel, payload, exc)


async def process(core: Core, channel: Channel, payload: Payload) -> str:
    """Map and ingest one opened push (its plaintext XML): the webhook's path and a dead
    letter's replay. Dead letters keep the plaintext, so a replay needs no signature."""
    inbound = parse(channel, payload.body.decode("utf-8"))
    if isinstance(inbound, ChannelEvent):
        return "event" if await ingest_event(core, channel, inbound) else "duplicate"
    if inbound is None:
        return "ignored"
    pressed = await pressed_payload(core, channel, inbound)
    if pressed is not None:
        inbound = inbound.model_copy(update={"payload": pressed})
    received = await ingest(core, channel, inbound)
    return "duplicate" if received.duplicate else "stored"
