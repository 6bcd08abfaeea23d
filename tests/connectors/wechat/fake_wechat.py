"""The two sides of WeChat that cannot exist here, at the network boundary.

`FakeWeChatApi` is an ASGI app answering like api.weixin.qq.com (stable_token and
customer-service send, with WeChat's errcodes), reached through Core's real httpx client.
`WeChatPusher` does what WeChat's servers do to our webhook: sign each push (SHA1 computed
here independently) and, in compatible and safe modes, encrypt it with wechatpy's
implementation of Tencent's scheme, checked against the official vectors.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
from starlette.types import Receive, Scope, Send
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from kith.core.clock import Clock

INVALID_TOKEN = {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
EXPIRED_TOKEN = {"errcode": 42001, "errmsg": "access_token expired"}


@dataclass
class ApiCall:
    host: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    raw: bytes
    answer: dict[str, Any]


@dataclass
class FakeWeChatApi:
    """One Official Account's API: a stable token on Kith's clock, and a send log.

    Like `stable_token` in normal mode, a token is handed out again, with its remaining
    lifetime, until it expires (or `rotate()` stands for a force refresh elsewhere).
    """

    app_id: str
    app_secret: str
    clock: Clock
    lifetime: int = 7200
    calls: list[ApiCall] = field(default_factory=list)
    send_errors: list[int] = field(default_factory=list)
    token_errors: list[int] = field(default_factory=list)
    current: str | None = None
    expires_at: float = 0.0
    revoked: set[str] = field(default_factory=set)
    issued: int = 0

    @property
    def token_calls(self) -> list[ApiCall]:
        return [c for c in self.calls if c.path == "/cgi-bin/stable_token"]

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Customer-service messages WeChat accepted."""
        return [
            c.body
            for c in self.calls
            if c.path == "/cgi-bin/message/custom/send" and c.answer["errcode"] == 0
        ]

    def _now(self) -> float:
        return float(self.clock.now().timestamp())

    def rotate(self) -> None:
        """Someone force-refreshed the token elsewhere: the current one stops working."""
        if self.current:
            self.revoked.add(self.current)
        self.current = None

    def _token(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("grant_type") != "client_credential" or body.get("appid") != self.app_id:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if body.get("secret") != self.app_secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        if self.token_errors:
            return {"errcode": self.token_errors.pop(0), "errmsg": "scripted"}
        if self.current is None or self._now() >= self.expires_at:
            self.issued += 1
            self.current = f"ACCESS_TOKEN_{self.issued}"
            self.expires_at = self._now() + self.lifetime
        return {"access_token": self.current, "expires_in": int(self.expires_at - self._now())}

    def _send(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        token = query.get("access_token", "")
        known = token.startswith("ACCESS_TOKEN_") and token not in self.revoked
        if not known:
            return INVALID_TOKEN
        if token != self.current or self._now() >= self.expires_at:
            return EXPIRED_TOKEN
        if self.send_errors:
            return {"errcode": self.send_errors.pop(0), "errmsg": "scripted"}
        return {"errcode": 0, "errmsg": "ok"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        body = json.loads(raw) if raw else {}
        path = scope["path"]
        if path == "/cgi-bin/stable_token" and scope["method"] == "POST":
            answer = self._token(body)
        elif path == "/cgi-bin/message/custom/send" and scope["method"] == "POST":
            answer = self._send(query, body)
        else:
            answer = {"errcode": 40066, "errmsg": "invalid url"}
        self.calls.append(ApiCall(headers.get("host", ""), path, query, body, raw, answer))
        payload = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json; encoding=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 (WeChat's)


@dataclass
class WeChatPusher:
    """Pushes to one channel's webhook as WeChat's servers do."""

    http: httpx.AsyncClient
    channel_id: str
    app_id: str
    token: str
    encoding_aes_key: str | None = None
    clock: Clock | None = None
    timestamp: str = "1767225600"
    nonce: str = "1320562132"

    def sign_afresh(self) -> None:
        """A new timestamp (now, on the clock) and nonce, as WeChat uses for every push."""
        if self.clock is not None:
            self.timestamp = str(int(self.clock.now().timestamp()))
        self.nonce = str(secrets.randbelow(10**10))

    @property
    def url(self) -> str:
        return f"/webhooks/wechat/{self.channel_id}"

    def encrypt(self, xml: str) -> str:
        assert self.encoding_aes_key, "compatible and safe modes need the channel's AES key"
        key = WeChatCrypto(self.token, self.encoding_aes_key, self.app_id).key
        return str(PrpCrypto(key).encrypt(xml, self.app_id).decode())

    def query(self, **extra: str) -> dict[str, str]:
        params = {
            "signature": sign(self.token, self.timestamp, self.nonce),
            "timestamp": self.timestamp,
            "nonce": self.nonce,
        }
        params.update(extra)
        return params

    def envelope(self, xml: str, mode: str) -> tuple[str, dict[str, str]]:
        """The body and query WeChat sends for `xml` in plain, compatible or safe mode."""
        if mode == "plain":
            return xml, self.query()
        encrypted = self.encrypt(xml)
        query = self.query(
            encrypt_type="aes",
            msg_signature=sign(self.token, self.timestamp, self.nonce, encrypted),
        )
        cipher = f"<Encrypt><![CDATA[{encrypted}]]></Encrypt>"
        if mode == "compatible":  # the plaintext fields and the ciphertext side by side
            return xml.rstrip().removesuffix("</xml>") + cipher + "</xml>", query
        assert mode == "safe", mode
        return f"<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>{cipher}</xml>", query

    async def push(self, xml: str, mode: str = "plain") -> httpx.Response:
        self.sign_afresh()
        body, query = self.envelope(xml, mode)
        return await self.post(body.encode(), query)

    async def post(self, body: bytes, query: dict[str, str]) -> httpx.Response:
        return await self.http.post(
            self.url, params=query, content=body, headers={"content-type": "text/xml"}
        )
