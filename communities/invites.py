"""Per-customer invite links: the ways a customer brings others into a community, each
carrying one referral code.

- Telegram: an invite link (`GroupAdmin.invite_link`) whose name ends in `ref_<code>`; a
  join through it comes back with the link's name as the join's `via`.
- The bot's deep link `https://t.me/<bot>?start=ref_<code>`: whoever starts the bot through
  it is remembered as referred by the code, and credited when they then join the group.
- WeChat (when a WeChat channel is named): a QR code with the scene `ref_<code>`, which
  comes back in the subscribe (`qrscene_ref_<code>`) or scan event.

A link is made once per (community, customer, name): the document is inserted first under a
derived id with a fresh random code, so a repeated or racing request finds the same code,
and the platform's link is stored on it once made. Each refusal names its field and a
`reason` (`no_customer`, `expire_past`, `bot_not_admin`, `no_invite_links`,
`platform_refused`, `no_channel`, `not_wechat_channel`, `wechat_refused`), for a client to
word it in its user's language. A request the model refuses (a member limit of 0) is refused
with its expiry checked too (`read_invite`): every bad field in one answer.
"""

from __future__ import annotations

import logging
import re
import secrets
import string
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Body
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError
from pymongo.errors import DuplicateKeyError

from kith.communities.models import BotStatus, Community
from kith.communities.store import get_community
from kith.connectors.telegram.client import bot_for
from kith.connectors.wechat.api import WeChatApiError, call
from kith.connectors.wechat.config import WeChatConfig
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.customers import get_customer
from kith.core.errors import (
    Conflict,
    DeliveryError,
    InvalidInput,
    NotFound,
    raise_all,
    validated,
)
from kith.core.groups import Unsupported
from kith.core.ids import derived_id
from kith.core.models import Channel, Record
from kith.web.api.sent import taken_whole

log = logging.getLogger(__name__)

INVITES = "community_invites"
CODE_ALPHABET = string.ascii_lowercase + string.digits
CODE_LENGTH = 10
PREFIX = "ref_"
LINK_NAME_MAX = 32  # Telegram's limit on an invite link's name
CODE_AT_END = re.compile(rf"(?:^|[^a-z0-9]){PREFIX}([a-z0-9]{{{CODE_LENGTH}}})$")
QR_EXPIRE_SECONDS = 30 * 24 * 3600  # WeChat's longest temporary code
QR_CREATE_PATH = "/cgi-bin/qrcode/create"
QR_IMAGE_URL = "https://mp.weixin.qq.com/cgi-bin/showqrcode"
BOT_USERNAMES: dict[str, str] = {}  # channel id → the bot's username (it never changes)


def _as_utc(moment: datetime | None) -> datetime | None:
    """A time without a zone read as UTC (compared with now, and stored, as Kith's times
    are), not compared naive with aware, which would fail the request."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class InviteIn(BaseModel):
    """`POST /api/v1/communities/{id}/invite-links`."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    name: str = Field(
        default="",
        max_length=64,
        description="A label for managers, trimmed; left out for none, never blank.",
    )
    expire_at: datetime | None = None
    member_limit: int | None = Field(default=None, ge=1, le=99_999)
    wechat_channel_id: str | None = Field(
        default=None, max_length=64, description="Also a WeChat QR code on this channel."
    )

    @field_validator("expire_at")
    @classmethod
    def _in_utc(cls, expire_at: datetime | None) -> datetime | None:
        return _as_utc(expire_at)

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        """A name given is a label the links table shows: spaces alone are none (qa11 m3)."""
        if not name.strip():
            raise PydanticCustomError("blank", "may not be blank: leave the name out for none")
        return name.strip()


# A request taken as sent, shown in the OpenAPI document as `InviteIn`: `read_invite` checks
# it whole, the model's refusals and the expiry's together.
SentInvite = Annotated[dict[str, Any], taken_whole(InviteIn), Body()]
_EXPIRY: TypeAdapter[datetime | None] = TypeAdapter(datetime | None)


def read_invite(core: Core, sent: dict[str, Any]) -> InviteIn:
    """The request as the model takes it; when the model refuses it, refused with an expiry
    already past beside the model's refusals (the expiry read on its own, when it reads)."""
    wanted, errors = validated(InviteIn, sent)
    if wanted is not None:
        return wanted
    try:
        expire_at = _as_utc(_EXPIRY.validate_python(sent.get("expire_at")))
    except ValidationError:
        expire_at = None  # refused above, at its field
    past = _past(expire_at, core.clock.now())
    if past is not None:
        errors.append(past)
    raise_all(errors)
    raise AssertionError("a refused request names a field")  # pragma: no cover


def _past(expire_at: datetime | None, now: datetime) -> InvalidInput | None:
    """The refusal of an expiry that is not in the future (None: no expiry, or a later one)."""
    if expire_at is None or expire_at > now:
        return None
    return InvalidInput("the expiry must be in the future", field="expire_at", reason="expire_past")


class WeChatQr(BaseModel):
    channel_id: str
    ticket: str
    url: str  # what the QR code encodes
    image_url: str


class Invite(Record):
    community_id: str
    customer_id: str
    code: str
    name: str = ""
    invite_link: str | None = None  # the platform's link (Telegram)
    deep_link: str | None = None  # the bot's start link
    wechat_qr: WeChatQr | None = None
    expire_at: datetime | None = None
    member_limit: int | None = None
    created_at: datetime


def invites(core: Core) -> Any:
    return core.store.collection(INVITES)


def code_of(text: str | None) -> str | None:
    """The referral code a link name, start payload or QR scene carries (None: none)."""
    if not text:
        return None
    found = CODE_AT_END.search(text.strip())
    return found.group(1) if found else None


def link_name(label: str, code: str) -> str:
    """The label, cut to fit Telegram's 32 characters with ` ref_<code>` at the end."""
    suffix = f"{PREFIX}{code}"
    room = LINK_NAME_MAX - len(suffix) - 1
    head = label.strip()[:room].strip()
    return f"{head} {suffix}" if head else suffix


async def find_by_code(core: Core, workspace_id: str, code: str) -> Invite | None:
    doc = await invites(core).find_one({"workspace_id": workspace_id, "code": code})
    return Invite.from_doc(doc) if doc else None


async def create_invite(core: Core, workspace_id: str, community_id: str, body: InviteIn) -> Invite:
    """The customer's invite link to the community, made once (see the module's doc)."""
    invite, _ = await make_invite(core, workspace_id, community_id, body)
    return invite


async def make_invite(
    core: Core, workspace_id: str, community_id: str, body: InviteIn
) -> tuple[Invite, bool]:
    """`create_invite`, and whether this call made the link's record (False: it was made
    before, by an earlier or racing request, and is the one answered)."""
    community = await get_community(core, workspace_id, community_id)
    try:
        customer = await get_customer(core, workspace_id, body.customer_id)
    except NotFound:
        raise NotFound("no such customer", field="customer_id", reason="no_customer") from None
    admin = _group_admin(core, community)
    now = core.clock.now()
    past = _past(body.expire_at, now)
    if past is not None:
        raise past
    wechat = await _wechat_channel(core, workspace_id, body.wechat_channel_id)
    invite, made = await _claim(core, community, customer.id, body, now)
    changes: dict[str, Any] = {}
    if invite.invite_link is None:
        changes["invite_link"] = await _platform_link(core, community, admin, invite)
    if invite.deep_link is None and community.channel_type == "telegram":
        changes["deep_link"] = await _deep_link(core, community.channel_id, invite.code)
    if wechat is not None and invite.wechat_qr is None:
        changes["wechat_qr"] = (await _wechat_qr(core, wechat, invite.code)).model_dump()
    changes = {k: v for k, v in changes.items() if v is not None}
    if changes:
        # Racing requests may both have made a link: the first stored is the one kept.
        unset = {k: None for k in changes}
        await invites(core).update_one({"_id": invite.id, **unset}, {"$set": changes})
        doc = await invites(core).find_one({"_id": invite.id})
        invite = Invite.from_doc(doc)
    return invite, made


def _group_admin(core: Core, community: Community) -> Any:
    channel_type = core.channels.get(community.channel_type)
    admin = channel_type.group_admin if channel_type else None
    if admin is None or community.bot_status != BotStatus.admin:
        raise Conflict(
            "the bot must be an admin of the group to create invite links",
            field="community_id",
            reason="bot_not_admin",
        )
    return admin


async def _wechat_channel(core: Core, workspace_id: str, channel_id: str | None) -> Channel | None:
    if channel_id is None:
        return None
    try:
        channel = await get_channel(core, workspace_id, channel_id)
    except NotFound:
        raise NotFound("no such channel", field="wechat_channel_id", reason="no_channel") from None
    if channel.type != "wechat":
        raise InvalidInput(
            "not a WeChat channel", field="wechat_channel_id", reason="not_wechat_channel"
        )
    return channel


async def claim(
    core: Core, community: Community, customer_id: str, body: InviteIn, now: datetime
) -> Invite:
    """The link's record, inserted under its derived id unless it is there already."""
    invite, _ = await _claim(core, community, customer_id, body, now)
    return invite


async def _claim(
    core: Core, community: Community, customer_id: str, body: InviteIn, now: datetime
) -> tuple[Invite, bool]:
    invite_id = derived_id("community-invite", community.id, customer_id, body.name)
    found = await invites(core).find_one({"_id": invite_id})
    if found is not None:
        return Invite.from_doc(found), False
    invite = Invite(
        id=invite_id,
        workspace_id=community.workspace_id,
        community_id=community.id,
        customer_id=customer_id,
        code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
        name=body.name,
        expire_at=body.expire_at,
        member_limit=body.member_limit,
        created_at=now,
    )
    try:
        await invites(core).insert_one(invite.to_doc())
    except DuplicateKeyError:  # a racing request made it first
        doc = await invites(core).find_one({"_id": invite_id})
        assert doc is not None
        return Invite.from_doc(doc), False
    return invite, True


async def community_invites(core: Core, community: Community, limit: int = 50) -> list[Invite]:
    """The community's invite links, newest first (the community page lists them)."""
    found = invites(core).find(
        {"community_id": community.id}, sort=[("created_at", -1), ("_id", -1)], limit=limit
    )
    return [Invite.from_doc(doc) async for doc in found]


async def _platform_link(core: Core, community: Community, admin: Any, invite: Invite) -> str:
    channel = await get_channel(core, community.workspace_id, community.channel_id)
    try:
        url = await admin.invite_link(
            core,
            channel,
            community.platform_chat_id,
            link_name(invite.name, invite.code),
            invite.expire_at,
            invite.member_limit,
        )
    except Unsupported:
        raise Conflict(
            "this platform makes no invite links for the group",
            field="community_id",
            reason="no_invite_links",
        ) from None
    except DeliveryError as exc:
        raise Conflict(
            f"the platform refused the invite link: {exc}",
            field="community_id",
            reason="platform_refused",
        ) from None
    return str(url)


async def _deep_link(core: Core, channel_id: str, code: str) -> str | None:
    """`https://t.me/<bot>?start=ref_<code>`; None when the bot cannot be asked its name."""
    username = BOT_USERNAMES.get(channel_id)
    if username is None:
        from aiogram.exceptions import TelegramAPIError

        channel = await get_channel(core, None, channel_id, strict=False)
        try:
            me = await bot_for(core, channel).get_me()
        except (TelegramAPIError, DeliveryError) as exc:
            log.warning("no deep link: getMe failed: %s", exc, extra={"channel_id": channel_id})
            return None
        if not me.username:
            return None
        username = BOT_USERNAMES[channel_id] = me.username
    return f"https://t.me/{username}?start={PREFIX}{code}"


async def _wechat_qr(core: Core, channel: Channel, code: str) -> WeChatQr:
    """A temporary QR code (30 days) with the scene `ref_<code>`, through WeChat's
    `qrcode/create` over Kith's HTTP client (wechatpy's client would block the loop)."""
    payload = {
        "expire_seconds": QR_EXPIRE_SECONDS,
        "action_name": "QR_STR_SCENE",
        "action_info": {"scene": {"scene_str": f"{PREFIX}{code}"}},
    }
    try:
        answer = await call(core, channel.settings_as(WeChatConfig), QR_CREATE_PATH, payload)
    except (WeChatApiError, DeliveryError) as exc:
        raise Conflict(
            f"WeChat made no QR code: {exc}", field="wechat_channel_id", reason="wechat_refused"
        ) from None
    ticket = str(answer.get("ticket", ""))
    return WeChatQr(
        channel_id=channel.id,
        ticket=ticket,
        url=str(answer.get("url", "")),
        image_url=f"{QR_IMAGE_URL}?ticket={ticket}",
    )
