"""Outbound: `chat.postMessage` through slack_sdk's `AsyncWebClient`, in the right thread.

Slack allows about one message per second per channel (short bursts tolerated), so each
send reserves that slot first and defers when it is taken. Slack's own 429 carries
`Retry-After`, which the outbox honours; `ok: false` errors are permanent unless Slack
says it is having trouble, and 5xx or network errors are retried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from kith.connectors.slack.config import SlackChannelConfig
from kith.connectors.slack.render import render
from kith.core.channels import SendResult
from kith.core.egress import EgressRefused, aiohttp_session
from kith.core.errors import DeliveryDeferred, DeliveryError
from kith.core.ratelimit import reserve_all

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.models import Channel, Conversation, Message

PER_CHANNEL = (1, 1.0)  # chat.postMessage: 1 message per second per Slack channel
TRANSIENT = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
TIMEOUT_SECONDS = 15


def client_for(channel: Channel, session: aiohttp.ClientSession) -> AsyncWebClient:
    """The library's client on the channel's token; `api_base` points it elsewhere (tests,
    proxies). Retries are the outbox's job, so the client's own retry handlers are off.
    `session` is an egress-guarded one (`kith.core.egress.aiohttp_session`)."""
    settings = channel.settings_as(SlackChannelConfig)
    return AsyncWebClient(
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[],
        session=session,
    )


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def failure(exc: SlackApiError, refused: str = "Slack refused the message") -> DeliveryError:
    response = exc.response
    # An AsyncSlackResponse, or aiohttp's response when Slack's body was not JSON.
    status = int(getattr(response, "status_code", None) or getattr(response, "status", 0) or 0)
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    if status == 429 or error == "ratelimited":
        headers = getattr(response, "headers", None)
        return DeliveryError("Slack rate limit", retry_after=_retry_after(headers))
    if status >= 500 or error in TRANSIENT:
        return DeliveryError(f"Slack answered HTTP {status}: {error or 'no error code'}")
    return DeliveryError(f"{refused}: {error or status}", retryable=False)


def error_code(exc: SlackApiError) -> str | None:
    """Slack's `error` (`cant_delete_message` …), when it answered JSON."""
    data = getattr(exc.response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    return str(code) if code else None


class SlackSender:
    """Posts into the conversation's Slack channel, in its thread when it has one."""

    async def send(
        self, core: Core, channel: Channel, conversation: Conversation, message: Message
    ) -> SendResult:
        slack_channel, _, thread_ts = conversation.thread_key.partition(":")
        if not slack_channel:
            raise DeliveryError("conversation has no Slack channel", retryable=False)
        wait = await reserve_all(core, [(f"slack:{channel.id}:{slack_channel}", *PER_CHANNEL)])
        if wait > 0:
            raise DeliveryDeferred(wait)
        text, blocks = render(message)
        try:
            async with aiohttp_session(core.egress, TIMEOUT_SECONDS) as session:
                response = await client_for(channel, session).chat_postMessage(
                    channel=slack_channel,
                    text=text,
                    blocks=blocks,
                    thread_ts=thread_ts or None,
                    unfurl_links=False,
                )
        except SlackApiError as exc:
            raise failure(exc) from exc
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, EgressRefused):
                raise DeliveryError(f"Slack: {exc.os_error}", retryable=False) from exc
            raise DeliveryError(f"Slack unreachable: {type(exc).__name__}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"Slack unreachable: {type(exc).__name__}") from exc
        posted = response.get("channel") or slack_channel
        ts = response.get("ts")
        return SendResult(channel_message_id=f"{posted}:{ts}" if ts else None)
