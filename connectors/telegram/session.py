"""aiogram's session over Kith's shared `httpx.AsyncClient`.

aiogram's default session opens an aiohttp pool per `Bot` that must be closed explicitly
(with a 250 ms grace sleep), which a connector without a shutdown hook cannot do. This
session sends aiogram's own method models as JSON (the Bot API accepts JSON for every call
without an upload) through `core.http`, so connections are pooled, closed with Core, and
tests reach a fake Bot API through httpx's ASGI transport. Response checking and the
error classes are aiogram's.

Importing this module imports aiogram (seconds of CPU): only `kith.connectors.telegram.client`
does, when a bot is first needed or in the channel's `prepare`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, cast

import httpx
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType


class HttpxSession(BaseSession):
    """An aiogram session on an `httpx.AsyncClient` it does not own (closing is a no-op)."""

    def __init__(self, http: httpx.AsyncClient, api: TelegramAPIServer, timeout: float) -> None:
        super().__init__(api=api, timeout=timeout)
        self.http = http

    async def close(self) -> None:
        """The client belongs to Core, which closes it at shutdown."""

    def _body(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
        files: dict[str, Any] = {}
        body = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None:
                body[key] = prepared
        if files:
            raise ValueError("uploads are not supported: send files by file_id or URL")
        return body

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            response = await self.http.post(
                url,
                json=self._body(bot, method),
                timeout=self.timeout if timeout is None else timeout,
            )
        except httpx.TimeoutException as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except httpx.HTTPError as exc:  # the message names the host, never the token URL path
            raise TelegramNetworkError(method=method, message=type(exc).__name__) from exc
        checked = self.check_response(bot, method, response.status_code, response.text)
        return cast(TelegramType, checked.result)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 (aiogram's signature)
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        async with self.http.stream("GET", url, headers=headers, timeout=timeout) as response:
            if raise_for_status and response.is_error:  # httpx's own error would quote the URL
                raise RuntimeError(f"Telegram file download answered HTTP {response.status_code}")
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk


def make_bot(http: httpx.AsyncClient, token: str, api_url: str, timeout: float) -> Bot:
    """A `Bot` on `http`, calling the Bot API at `api_url`."""
    return Bot(token, session=HttpxSession(http, TelegramAPIServer.from_base(api_url), timeout))
