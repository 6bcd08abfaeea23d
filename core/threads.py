"""The thread → conversation rule, in one place.

A connector states the thread of everything it emits (a Telegram chat id, a Slack channel and
thread, an email thread); where it states none, the thread is the sender's own
(`user:<external id>`). One thread on one channel is one conversation.
"""

from __future__ import annotations

from kith.core.ids import derived_id


def thread_key(stated: str | None, external_user_id: str) -> str:
    return stated or f"user:{external_user_id}"


def conversation_id(workspace_id: str, channel_id: str, thread: str) -> str:
    return derived_id("conversation", workspace_id, channel_id, thread)
