"""The WeChat server API over `core.http`: access tokens and customer-service messages.

wechatpy's client is synchronous (requests), so it never runs on the event loop; these
few calls are made with httpx instead.

Access tokens come from `stable_token` (POST JSON): the AppSecret stays out of URLs and
logs, and the token is isolated from `cgi-bin/token`, so another tool on the same
account refreshing its own token cannot invalidate ours. One token per account lives in
the `wechat_tokens` collection, shared by every Kith process; whoever finds it due takes
a `kith.core.leases` lease to refresh it, so workers do not refresh all at once.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any, TypeGuard

import httpx

from kith.connectors.wechat.config import WeChatConfig
from kith.core import leases
from kith.core.clock import wall
from kith.core.context import Core
from kith.core.errors import DeliveryDeferred, DeliveryError

STABLE_TOKEN_URL_PATH = "/cgi-bin/stable_token"  # noqa: S105 (a URL path, not a secret)
CUSTOM_SEND_PATH = "/cgi-bin/message/custom/send"
REFRESH_EARLY = 300.0  # WeChat rotates a stable token 5 minutes before it expires
LEASE_SECONDS = 30.0
TOKEN_REJECTED = {40001, 40014, 42001}  # invalid credential / invalid token / token expired
RETRYABLE = {-1: None, 45009: 60.0, 45011: 60.0}  # busy; daily / minute quota: seconds to wait


class WeChatApiError(Exception):
    """WeChat answered `errcode` ≠ 0."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def _cache_id(config: WeChatConfig) -> str:
    """Per AppID *and* AppSecret: a channel that knows only another account's (public)
    AppID must fetch its own token, and fail, rather than borrow the cached one."""
    digest = hashlib.sha256(config.app_secret.encode()).hexdigest()[:16]
    return f"{config.app_id}:{digest}"


def token_lease_name(config: WeChatConfig) -> str:
    """The lease a worker holds while it refreshes the account's token."""
    return f"wechat-token:{_cache_id(config)}"


async def _post(
    core: Core, url: str, payload: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """POST JSON (UTF-8, not \\u-escaped, as WeChat wants); raise on errcode ≠ 0."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    try:
        response = await core.http.post(
            url,
            params={"access_token": token} if token else None,
            content=body,
            headers={"content-type": "application/json; charset=utf-8"},
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"WeChat API unreachable: {type(exc).__name__}") from None
    if response.status_code != 200:  # WeChat itself answers 200; this is a proxy or outage
        raise DeliveryError(
            f"WeChat API answered HTTP {response.status_code}",
            retryable=response.status_code == 429 or response.status_code >= 500,
        )
    try:
        answer = response.json()
    except ValueError:
        raise DeliveryError(f"WeChat API answered HTTP {response.status_code}, not JSON") from None
    if not isinstance(answer, dict):
        raise DeliveryError("WeChat API answered an unexpected shape")
    errcode = int(answer.get("errcode") or 0)
    if errcode:
        raise WeChatApiError(errcode, str(answer.get("errmsg", "")))
    return answer


async def _fetch_token(core: Core, config: WeChatConfig) -> dict[str, Any]:
    payload = {
        "grant_type": "client_credential",
        "appid": config.app_id,
        "secret": config.app_secret,
        "force_refresh": False,
    }
    try:
        answer = await _post(core, config.base_url + STABLE_TOKEN_URL_PATH, payload)
    except WeChatApiError as exc:
        raise delivery_error(exc, "getting an access token") from None
    token, expires_in = answer.get("access_token"), answer.get("expires_in")
    if not isinstance(token, str) or not token or not isinstance(expires_in, int):
        raise DeliveryError("WeChat stable_token answer has no access_token")
    now = wall(core.clock).now()  # WeChat's seconds are real ones, whatever the demo's speed
    # Refresh before WeChat rotates it; a nearly spent token is refreshed halfway instead.
    refresh_in = max(expires_in - REFRESH_EARLY, expires_in / 2)
    doc = {
        "access_token": token,
        "expires_at": now + timedelta(seconds=expires_in),
        "refresh_at": now + timedelta(seconds=refresh_in),
        "refreshed_at": now,
    }
    await core.store.collection("wechat_tokens").update_one(
        {"_id": _cache_id(config)}, {"$set": doc}, upsert=True
    )
    return doc


def _usable(
    doc: dict[str, Any] | None, core: Core, stale: str | None, *, due: str
) -> TypeGuard[dict[str, Any]]:
    if doc is None or doc.get("access_token") == stale:
        return False
    return bool(doc[due] > wall(core.clock).now())


async def access_token(core: Core, config: WeChatConfig, *, stale: str | None = None) -> str:
    """A valid token for the account, refreshed when due or when `stale` was rejected."""
    tokens = core.store.collection("wechat_tokens")
    doc = await tokens.find_one({"_id": _cache_id(config)})
    if _usable(doc, core, stale, due="refresh_at"):
        return str(doc["access_token"])
    owner = uuid.uuid4().hex
    if not await leases.acquire(core, token_lease_name(config), owner, LEASE_SECONDS):
        # Another worker is refreshing: the current token serves until it really expires.
        if _usable(doc, core, stale, due="expires_at"):
            return str(doc["access_token"])
        raise DeliveryDeferred(1.0, "another worker is refreshing the WeChat access token")
    try:
        doc = await tokens.find_one({"_id": _cache_id(config)})  # refreshed while we waited?
        if not _usable(doc, core, stale, due="refresh_at"):
            doc = await _fetch_token(core, config)
        return str(doc["access_token"])
    finally:
        await leases.release(core, token_lease_name(config), owner)


async def call(
    core: Core, config: WeChatConfig, path: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """POST to an access-token API; a rejected token is refreshed and the call made once more.
    Answers WeChat's JSON (a QR code's ticket …)."""
    token = await access_token(core, config)
    try:
        return await _post(core, config.base_url + path, payload, token)
    except WeChatApiError as exc:
        if exc.errcode not in TOKEN_REJECTED:
            raise
    token = await access_token(core, config, stale=token)
    return await _post(core, config.base_url + path, payload, token)


def delivery_error(exc: WeChatApiError, doing: str = "sending") -> DeliveryError:
    """How the outbox should treat an errcode: retry (busy, quota) or give up with a reason."""
    reason = PERMANENT.get(exc.errcode)
    if exc.errcode in RETRYABLE:
        return DeliveryError(
            f"WeChat busy while {doing} (errcode {exc.errcode}: {exc.errmsg})",
            retry_after=RETRYABLE[exc.errcode],
        )
    if exc.errcode in TOKEN_REJECTED:
        return DeliveryError(f"WeChat rejected a fresh access token (errcode {exc.errcode})")
    detail = f"{reason} " if reason else ""
    return DeliveryError(
        f"{detail}(WeChat errcode {exc.errcode} while {doing}: {exc.errmsg})".strip(),
        retryable=False,
    )


PERMANENT = {
    40003: "Not a follower of this account (invalid openid).",
    40013: "The channel's app_id is not a valid AppID.",
    40125: "The channel's app_secret is wrong.",
    40164: "Kith's IP address is not on the account's IP whitelist.",
    43004: "The customer no longer follows the account.",
    45015: "Outside WeChat's 48-hour customer-service window.",
    45047: "WeChat's customer-service message limit is reached until the customer writes.",
    48001: "The account has no customer-service message permission.",
}
