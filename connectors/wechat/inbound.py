"""From a decrypted push to Kith's normalized inbound message or channel event.

wechatpy's `parse_message` types the XML (it knows every MsgType and Event); this module
validates what Kith keeps with pydantic and maps it. Dedup keys: a message's `MsgId`
(WeChat retries a push three times with the same one); an event has no id, so
`FromUserName:CreateTime:Event` stands in, as WeChat's own docs suggest.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from wechatpy import events as ev
from wechatpy import messages as msgs
from wechatpy import parse_message

from kith.core.errors import InvalidInput
from kith.core.models import (
    Attachment,
    Channel,
    ChannelEvent,
    ChannelEventKind,
    InboundMessage,
    InboundUser,
)

VOICE_MIME = {"amr": "audio/amr", "speex": "audio/speex", "mp3": "audio/mpeg"}
PAYLOAD_MAX = 1024


class Push(BaseModel):
    """The envelope every push shares, checked before anything is stored."""

    model_config = ConfigDict(extra="forbid")

    openid: str = Field(min_length=1, max_length=128, description="FromUserName")
    create_time: int = Field(ge=0, description="CreateTime, Unix seconds")
    msg_id: int = Field(default=0, ge=0, description="MsgId; 0 on events")

    @property
    def sent_at(self) -> datetime:
        return datetime.fromtimestamp(self.create_time, UTC)


Content = tuple[str, list[Attachment]]


def _text(m: msgs.TextMessage) -> Content:
    return m.content or "", []


def _image(m: msgs.ImageMessage) -> Content:
    return "", [Attachment(kind="image", url=m.image or None, file_id=m.media_id or None)]


def _voice(m: msgs.VoiceMessage) -> Content:
    fmt = (m.format or "").lower()
    audio = Attachment(kind="audio", file_id=m.media_id or None, mime=VOICE_MIME.get(fmt))
    return m.recognition or "", [audio]  # Recognition: WeChat's speech-to-text, when enabled


def _video(m: msgs.VideoMessage | msgs.ShortVideoMessage) -> Content:
    return "", [Attachment(kind="video", file_id=m.media_id or None)]


def _location(m: msgs.LocationMessage) -> Content:
    lat, lng = float(m.location_x), float(m.location_y)  # Location_X is the latitude
    label = m.label or ""
    where = Attachment(kind="location", name=label or None, url=f"geo:{lat},{lng}")
    return f"{label} ({lat}, {lng})".strip(), [where]


def _link(m: msgs.LinkMessage) -> Content:
    lines = [m.title or "", m.description or "", m.url or ""]
    link = Attachment(kind="link", name=m.title or None, url=m.url or None)
    return "\n".join(line for line in lines if line), [link]


MESSAGES = {
    msgs.TextMessage: _text,
    msgs.ImageMessage: _image,
    msgs.VoiceMessage: _voice,
    msgs.VideoMessage: _video,
    msgs.ShortVideoMessage: _video,
    msgs.LocationMessage: _location,
    msgs.LinkMessage: _link,
}


def _event_kind(e: ev.BaseEvent) -> tuple[ChannelEventKind, str | None] | None:
    """Kith's kind and payload for the events it uses; None for the rest (ignored)."""
    if isinstance(e, ev.SubscribeScanEvent):  # EventKey qrscene_<id>: the referral scene
        return ChannelEventKind.subscribed, e.scene_id or None
    if isinstance(e, ev.SubscribeEvent) or e.event == "subscribe_scan_product":
        return ChannelEventKind.subscribed, None
    if isinstance(e, ev.UnsubscribeEvent):
        return ChannelEventKind.unsubscribed, None
    if isinstance(e, ev.ScanEvent):
        return ChannelEventKind.scan, e.scene_id or None
    if isinstance(e, ev.ClickEvent):
        return ChannelEventKind.menu_click, e.key or None
    if isinstance(e, ev.ViewEvent):  # a menu button that opens a page: payload is its URL
        return ChannelEventKind.menu_click, (e.url or "")[:PAYLOAD_MAX] or None
    return None


def parse(channel: Channel, xml: str) -> InboundMessage | ChannelEvent | None:
    """Map one plaintext push; None for a valid push Kith does not use."""
    try:
        push = parse_message(xml)
        if push is None:
            raise InvalidInput("empty WeChat push", field="body")
        envelope = Push(openid=push.source, create_time=push.time, msg_id=push.id or 0)
        if isinstance(push, ev.BaseEvent):
            return _to_event(channel, push, envelope)
        mapper = MESSAGES.get(type(push))
        if mapper is None:
            return None
        text, attachments = mapper(push)
        return InboundMessage.on(
            channel,
            channel_message_id=str(envelope.msg_id or f"{envelope.openid}:{push.time}:{push.type}"),
            user=InboundUser(id=envelope.openid),
            text=text,
            attachments=attachments,
            sent_at=envelope.sent_at,
        )
    except InvalidInput:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # pydantic's too
        raise InvalidInput(f"malformed WeChat push ({type(exc).__name__})", field="body") from None


def _to_event(channel: Channel, push: ev.BaseEvent, envelope: Push) -> ChannelEvent | None:
    mapped = _event_kind(push)
    if mapped is None:
        return None
    kind, payload = mapped
    return ChannelEvent(
        workspace_id=channel.workspace_id,
        channel_id=channel.id,
        channel_type=channel.type,
        event_id=f"{envelope.openid}:{envelope.create_time}:{push.event}",
        kind=kind,
        user=InboundUser(id=envelope.openid),
        thread_key=None,  # the follower's own thread, as their messages
        payload=payload,
        occurred_at=envelope.sent_at,
    )
