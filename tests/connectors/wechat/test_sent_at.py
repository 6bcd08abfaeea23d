"""WeChat's `CreateTime` is kept on the stored message as the platform's send time
(`sent_at`), beside Kith's arrival (`created_at`): community moderation counts by it."""

from __future__ import annotations

from datetime import UTC, datetime

from kith.core.clock import aware
from tests.connectors.wechat.conftest import WeChatSetup, fixture


async def test_wechat_keeps_the_create_time(wechat: WeChatSetup) -> None:
    assert (await wechat.pusher.push(fixture("text"), "plain")).status_code == 200
    [message] = await wechat.core.store.messages.find({"direction": "in"}).to_list(None)
    assert aware(message["sent_at"]) == datetime.fromtimestamp(1767225600, UTC)
