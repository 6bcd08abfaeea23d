"""Refusing replayed pushes: a fresh timestamp, and each (timestamp, nonce) handled once.

In plaintext mode WeChat's `signature` covers only (token, timestamp, nonce), not the body:
whoever saw one signed URL could post any body with it, forever. So a push is taken only
when its timestamp is within five minutes of the wall clock (real seconds, also under the
demo's fast clock), and its nonce has not been seen on that channel. Nonces are claimed in
MongoDB (the `_id` is unique, a TTL index drops them once their timestamp is too old to pass
anyway), so every process agrees; a push whose handling fails gives its nonce back, so
WeChat's retry is handled, and one handled already is answered `success` without handling
its body again (a captured URL replayed with another body changes nothing).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from kith.connectors.wechat.security import CallbackQuery
from kith.core.clock import utcnow, wall
from kith.core.context import Core
from kith.core.errors import Conflict, Unauthorized
from kith.core.features import Index

NONCES = "wechat_nonces"
MAX_SKEW = timedelta(minutes=5)
PURGE_AFTER = 2 * MAX_SKEW + timedelta(minutes=5)  # wall-clock TTL, with a margin
INDEXES = (Index(NONCES, (("purge_at", ASCENDING),), {"expireAfterSeconds": 0}),)


def check_timestamp(core: Core, query: CallbackQuery) -> None:
    """The push's timestamp must be a number within MAX_SKEW of now, either way."""
    try:
        sent = float(query.timestamp)
    except ValueError:
        raise Unauthorized("bad WeChat timestamp", field="timestamp") from None
    if abs(wall(core.clock).now().timestamp() - sent) > MAX_SKEW.total_seconds():
        raise Unauthorized("stale or future WeChat timestamp", field="timestamp")


@asynccontextmanager
async def once(core: Core, channel_id: str, query: CallbackQuery) -> AsyncIterator[bool]:
    """Hold the push's nonce while it is handled: yields True for a push to handle, False for
    one whose nonce was handled already (WeChat's own retry of a push answered too late, or a
    replay: either way nothing is handled twice, and `success` is the right answer). A nonce
    still being handled is a 409, so WeChat tries again once the first has finished or failed."""
    check_timestamp(core, query)
    key = {"_id": f"{channel_id}:{query.timestamp}:{query.nonce}"}
    nonces = core.store.collection(NONCES)
    try:
        await nonces.insert_one({**key, "purge_at": utcnow() + PURGE_AFTER, "done": False})
    except DuplicateKeyError:
        held = await nonces.find_one(key, {"done": 1})
        if held is not None and held.get("done") is not False:
            yield False
            return
        raise Conflict("this WeChat push is still being handled", field="nonce") from None
    try:
        yield True
    except BaseException:
        await nonces.delete_one(key)
        raise
    await nonces.update_one(key, {"$set": {"done": True}})
