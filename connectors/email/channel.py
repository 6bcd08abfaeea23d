"""The email channel's registration: config model, secrets, sender and poller."""

from __future__ import annotations

from kith.connectors.email.config import EmailChannelConfig
from kith.connectors.email.poller import EmailPoller
from kith.connectors.email.sender import EmailSender
from kith.core.channels import Capabilities, ChannelType
from kith.core.context import Core
from kith.core.errors import Conflict
from kith.core.models import Channel


def _mailbox_of(config: dict[str, object]) -> tuple[str, str, str]:
    """What a config reads: its IMAP user at its IMAP host (caseless), and the folder (two
    folders of one account, e.g. Gmail labels, are two mailboxes)."""
    return (
        str(config.get("username", "")).casefold(),
        str(config.get("imap_host", "")).casefold(),
        str(config.get("mailbox", "INBOX")).casefold(),
    )


async def refuse_second_mailbox(core: Core, channel: Channel) -> None:
    """Two channels reading one mailbox would import each mail twice and answer from two
    channels: refused (409) naming the other channel, disabled ones too (enabling one would
    bring the twin back). Checked after the write, as `on_created` runs (the write is undone)."""
    address = str(channel.config.get("address", "")).casefold()
    mailbox = _mailbox_of(channel.config)
    others = core.store.channels.find(
        {"workspace_id": channel.workspace_id, "type": "email", "_id": {"$ne": channel.id}},
        {"name": 1, "config": 1},
    )
    async for doc in others:
        config = doc.get("config") or {}
        if str(config.get("address", "")).casefold() == address:
            field, what = "config.address", f"the address {channel.config.get('address')}"
        elif _mailbox_of(config) == mailbox:
            field, what = "config.username", f"{mailbox[2]} of {mailbox[0]} on {mailbox[1]}"
        else:
            continue
        raise Conflict(
            f"the email channel {doc.get('name')!r} ({doc['_id']}) already reads {what}; "
            "edit that channel instead",
            field=field,
            code="mailbox_taken",
            reason="mailbox_taken",
            limits={"channel_id": doc["_id"], "channel_name": str(doc.get("name", ""))},
        )


async def on_updated(core: Core, before: Channel, after: Channel) -> None:
    await refuse_second_mailbox(core, after)


poller = EmailPoller()
channel_type = ChannelType(
    name="email",
    config_model=EmailChannelConfig,
    sender=EmailSender(),
    secret_fields=frozenset({"password"}),
    capabilities=Capabilities(threads=True),
    on_created=refuse_second_mailbox,
    on_updated=on_updated,
    poller=poller,
    replay=poller.replay,
    description="A mailbox over IMAP (polled) and SMTP (replies threaded by Message-ID).",
    translations={
        "zh": {
            "": "通过 IMAP 收取（轮询）、SMTP 回复的邮箱（回复按 Message-ID 归入同一会话）。",
            "address": "客服邮箱地址。",
            "username": "通常就是邮箱地址。",
            "password": "应用专用密码。",
            "idle": "服务器支持时使用 IMAP IDLE 即时收信。",
        }
    },
)
