"""The API channel's config, sender and registration."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from kith.connectors.api.routes import router
from kith.core.channels import Capabilities, ChannelType, SendResult
from kith.core.egress import EgressRefused
from kith.core.errors import DeliveryError
from kith.core.httpcap import CappedResponse, ResponseTooLarge, post_capped
from kith.core.signatures import SIGNATURE_HEADER, sign_now

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.models import Channel, Conversation, Message


class ApiChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    callback_url: HttpUrl | None = Field(
        default=None, description="Where replies are POSTed; leave empty to only poll for them."
    )
    callback_secret: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        min_length=16,
        description="HMAC-SHA256 key signing callbacks (generated when not given).",
    )


def callback_payload(
    channel: Channel, conversation: Conversation, message: Message
) -> dict[str, Any]:
    return {
        "event": "message.created",
        "channel_id": channel.id,
        "conversation_id": conversation.id,
        "thread": None if conversation.thread_key.startswith("user:") else conversation.thread_key,
        "user": {"id": conversation.external_user_id},
        "message": {
            "id": message.id,
            "text": message.text,
            "attachments": [a.model_dump(exclude_none=True) for a in message.attachments],
            "buttons": [b.model_dump(exclude_none=True) for b in message.buttons],
            "author": message.author.model_dump(mode="json"),
            "created_at": message.created_at.isoformat(),
        },
    }


def _retry_after(response: CappedResponse) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


class ApiSender:
    """POSTs each reply to the callback URL; 5xx, 429, network errors and answers past the
    size cap are retried."""

    async def send(
        self, core: Core, channel: Channel, conversation: Conversation, message: Message
    ) -> SendResult:
        settings = channel.settings_as(ApiChannelConfig)
        if settings.callback_url is None:
            return SendResult(channel_message_id=message.id)
        body = json.dumps(callback_payload(channel, conversation, message)).encode()
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign_now(core.clock, settings.callback_secret, body),
        }
        try:
            response = await post_capped(
                core.http,
                str(settings.callback_url),
                max_bytes=core.settings.outbox_response_max_bytes,
                content=body,
                headers=headers,
            )
        except ResponseTooLarge as exc:
            raise DeliveryError(f"callback {exc}") from exc
        except EgressRefused as exc:
            raise DeliveryError(f"callback {exc}", retryable=False) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"callback unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryError(
                f"callback answered HTTP {response.status_code}",
                retry_after=_retry_after(response),
            )
        if response.status_code >= 300:
            raise DeliveryError(f"callback refused: HTTP {response.status_code}", retryable=False)
        return SendResult(channel_message_id=message.id)


channel_type = ChannelType(
    name="api",
    config_model=ApiChannelConfig,
    sender=ApiSender(),
    secret_fields=frozenset({"callback_secret"}),
    capabilities=Capabilities(buttons=True, images=True, threads=True),
    router=router,
    description="Any system posting messages over HTTP (Chatwoot's API inbox).",
    endpoints=(("webhook_url", "/webhooks/api/{id}"),),
    translations={
        "zh": {
            "": "任何通过 HTTP 发送消息的系统（与 Chatwoot 的 API 收件箱相同）。",
            "callback_url": "回复以 POST 发送到此地址；留空则只能轮询获取回复。",
            "callback_secret": "为回调签名的 HMAC-SHA256 密钥（未填写时自动生成）。",
        }
    },
)
