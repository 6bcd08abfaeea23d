"""A local Bot API: answers like api.telegram.org, records every call.

It is an ASGI app reached through httpx's transport (the network boundary): aiogram builds
and checks every request and response itself. Behaviour follows the Bot API docs:
`{"ok": true, "result": …}`, errors with `error_code`/`description`/`parameters`,
getUpdates confirming updates below `offset` and holding an empty poll open for `timeout`
seconds, and 409 for getUpdates while a webhook is set. Group administration keeps what it
did (`deleted`, `banned`, `restricted`, `links`) and refuses a second delete of a message
as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Kith Shop",
    "username": "kith_shop_bot",
}

ADMIN_RIGHTS = {  # a ChatMemberAdministrator's fields, as getChatMember answers them
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_send_welcome_messages": True,
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


def error(code: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


@dataclass
class FakeBotApi:
    token: str
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _queued: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))
    _called: asyncio.Condition = field(default_factory=asyncio.Condition)
    deleted: set[tuple[int, int]] = field(default_factory=set)
    banned: dict[tuple[int, int], int] = field(default_factory=dict)  # → until_date (0: ever)
    restricted: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    links: list[dict[str, Any]] = field(default_factory=list)
    bot_status: dict[int, str] = field(default_factory=dict)  # chat → ours (else "member")
    admins: dict[int, dict[int, str]] = field(default_factory=dict)  # chat → user → status

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._method, methods=["POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    # scripting --------------------------------------------------------------
    def fail_next(self, method: str, answer: tuple[int, dict[str, Any]]) -> None:
        self.failures.setdefault(method, []).append(answer)

    def queue_update(self, update: dict[str, Any]) -> None:
        self._updates.append(update)
        self._queued.set()

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    async def wait_for_call(self, method: str, **params: Any) -> None:
        """Until `method` has been called with these parameters (an event, not a sleep)."""

        def seen() -> bool:
            return any(all(p.get(k) == v for k, v in params.items()) for p in self.called(method))

        async with self._called:
            await self._called.wait_for(seen)

    # the API ----------------------------------------------------------------
    async def _method(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse(error(401, "Unauthorized")[1], status_code=401)
        method = request.path_params["method"]
        params = await request.json() if await request.body() else {}
        self.calls.append(Call(method, params))
        async with self._called:
            self._called.notify_all()
        if self.failures.get(method):
            status, body = self.failures[method].pop(0)
            return JSONResponse(body, status_code=status)
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return JSONResponse(error(404, "Not Found")[1], status_code=404)
        status, result = await handler(params)
        body = {"ok": True, "result": result} if status == 200 else result
        return JSONResponse(body, status_code=status)

    async def _file(self, request: Request) -> Response:
        for path, content in self.files.values():
            if path == request.path_params["path"]:
                return Response(content, media_type="application/octet-stream")
        return Response(status_code=404)

    def _sent(self, params: dict[str, Any], **content: Any) -> tuple[int, Any]:
        chat_id = int(params["chat_id"])
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        message = {
            "message_id": next(self._ids),
            "from": BOT_USER,
            "chat": chat,
            "date": 1767230000,
            **content,
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return 200, message

    async def _sendMessage(self, params: dict[str, Any]) -> tuple[int, Any]:
        return self._sent(params, text=params["text"])

    async def _sendPhoto(self, params: dict[str, Any]) -> tuple[int, Any]:
        photo = [{"file_id": "AgAC-sent", "file_unique_id": "u1", "width": 800, "height": 600}]
        return self._sent(params, photo=photo, **_caption(params))

    async def _sendDocument(self, params: dict[str, Any]) -> tuple[int, Any]:
        document = {"file_id": "BQAC-sent", "file_unique_id": "u2", "file_name": "file"}
        return self._sent(params, document=document, **_caption(params))

    async def _answerCallbackQuery(self, params: dict[str, Any]) -> tuple[int, Any]:
        return 200, True

    async def _setWebhook(self, params: dict[str, Any]) -> tuple[int, Any]:
        if not str(params.get("url", "")).startswith("https://"):
            return error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = params
        return 200, True

    async def _getWebhookInfo(self, params: dict[str, Any]) -> tuple[int, Any]:
        info: dict[str, Any] = {"url": "", "has_custom_certificate": False}
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            if "allowed_updates" in self.webhook:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return 200, {**info, "pending_update_count": 0}

    async def _deleteWebhook(self, params: dict[str, Any]) -> tuple[int, Any]:
        self.webhook = None
        return 200, True

    async def _getFile(self, params: dict[str, Any]) -> tuple[int, Any]:
        found = self.files.get(params["file_id"])
        if found is None:
            return error(400, "Bad Request: invalid file_id")
        path, content = found
        return 200, {
            "file_id": params["file_id"],
            "file_unique_id": "u-" + params["file_id"],
            "file_size": len(content),
            "file_path": path,
        }

    # group administration (core.telegram.org/bots/api#available-methods) ---------
    async def _deleteMessage(self, params: dict[str, Any]) -> tuple[int, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key in self.deleted:
            return error(400, "Bad Request: message to delete not found")
        self.deleted.add(key)
        return 200, True

    async def _restrictChatMember(self, params: dict[str, Any]) -> tuple[int, Any]:
        key = (int(params["chat_id"]), int(params["user_id"]))
        rights = params["permissions"]
        if all(rights.values()):
            self.restricted.pop(key, None)
        else:
            self.restricted[key] = {**rights, "until_date": params.get("until_date", 0)}
        return 200, True

    async def _banChatMember(self, params: dict[str, Any]) -> tuple[int, Any]:
        key = (int(params["chat_id"]), int(params["user_id"]))
        self.banned[key] = int(params.get("until_date", 0))
        return 200, True

    async def _unbanChatMember(self, params: dict[str, Any]) -> tuple[int, Any]:
        key = (int(params["chat_id"]), int(params["user_id"]))
        if key not in self.banned and params.get("only_if_banned"):
            return 200, True
        self.banned.pop(key, None)
        return 200, True

    async def _createChatInviteLink(self, params: dict[str, Any]) -> tuple[int, Any]:
        number = len(self.links) + 1
        link: dict[str, Any] = {
            "invite_link": f"https://t.me/+KithInvite{number:06d}",
            "creator": BOT_USER,
            "creates_join_request": bool(params.get("creates_join_request", False)),
            "is_primary": False,
            "is_revoked": False,
        }
        for key in ("name", "expire_date", "member_limit"):
            if key in params:
                link[key] = params[key]
        self.links.append({**link, "chat_id": int(params["chat_id"])})
        return 200, link

    async def _getChatMember(self, params: dict[str, Any]) -> tuple[int, Any]:
        """Our bot's standing and the chat's `admins` are scripted; anyone else is a plain
        member."""
        chat, user_id = int(params["chat_id"]), int(params["user_id"])
        if user_id != BOT_USER["id"]:
            status = self.admins.get(chat, {}).get(user_id, "member")
            return 200, _member({"id": user_id, "is_bot": False, "first_name": "?"}, status)
        return 200, _member(BOT_USER, self.bot_status.get(chat, "member"))

    async def _getMe(self, params: dict[str, Any]) -> tuple[int, Any]:
        return 200, BOT_USER

    async def _getChatAdministrators(self, params: dict[str, Any]) -> tuple[int, Any]:
        """The creator and administrators (`admins`), and our bot where it is one."""
        chat = int(params["chat_id"])
        found = [
            _member({"id": uid, "is_bot": False, "first_name": f"Admin {uid}"}, status)
            for uid, status in self.admins.get(chat, {}).items()
        ]
        if self.bot_status.get(chat) == "administrator":
            found.append(_member(BOT_USER, "administrator"))
        return 200, found

    async def _getUpdates(self, params: dict[str, Any]) -> tuple[int, Any]:
        if self.webhook is not None:
            return error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        if offset is not None:  # confirms every update below it
            self._updates = [u for u in self._updates if u["update_id"] >= int(offset)]
        if not self._updates:
            self._queued.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queued.wait(), timeout=params.get("timeout", 0))
        return 200, self._updates[: int(params.get("limit", 100))]


def _member(user: dict[str, Any], status: str) -> dict[str, Any]:
    """A ChatMember as the Bot API documents each status's fields."""
    if status == "creator":
        return {"user": user, "status": status, "is_anonymous": False}
    rights = ADMIN_RIGHTS if status == "administrator" else {}
    return {"user": user, "status": status, **rights}


def _caption(params: dict[str, Any]) -> dict[str, Any]:
    return {"caption": params["caption"]} if params.get("caption") else {}
