"""WeChat referral QR codes: made with the scene `ref_<code>` at a fake WeChat API; a
follow through one is remembered, and credited to the code's owner once that customer
(merged with their Telegram self) joins the group."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from kith.core.clock import ManualClock
from kith.core.customers import do_merge_customers
from tests.communities.referral_support import (
    BotApiWithMe,
    customer_of,
    install_admin,
    make_group,
    private,
)
from tests.connectors.telegram.conftest import BOT_TOKEN, TelegramSetup
from tests.connectors.wechat.conftest import APP_ID, APP_SECRET, fixture, make_setup
from tests.connectors.wechat.fake_wechat import FakeWeChatApi
from tests.support.consumers import drain

ADA, BOB = 424242001, 500001
OPENID = "oia2TjjewbmiOUlr6X-1crbLOvLw"  # the follower in the subscribe fixture


@dataclass
class Platforms:
    """Telegram's Bot API and WeChat's API behind Core's one HTTP client; WeChat's also
    makes QR codes (`qrcode/create`) for a token it issued."""

    telegram: BotApiWithMe
    wechat: FakeWeChatApi
    qr_codes: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = dict(scope["headers"]).get(b"host", b"").decode()
        if host.startswith("telegram.test"):
            await self.telegram(scope, receive, send)
        elif scope["path"] == "/cgi-bin/qrcode/create":
            await self._qr(scope, receive, send)
        else:
            await self.wechat(scope, receive, send)

    async def _qr(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = json.loads((await receive())["body"])
        token = dict(httpx.QueryParams(scope["query_string"].decode())).get("access_token")
        if token != self.wechat.current:
            answer: dict[str, Any] = {"errcode": 40001, "errmsg": "invalid credential"}
        else:
            self.qr_codes.append(body)
            n = len(self.qr_codes)
            answer = {
                "ticket": f"TICKET{n}",
                "expire_seconds": 60,
                "url": f"http://weixin.qq.com/q/{n}",
            }
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps(answer).encode()})


@pytest.fixture
def callbacks(clock: ManualClock) -> Platforms:
    return Platforms(
        BotApiWithMe(token=BOT_TOKEN),
        FakeWeChatApi(app_id=APP_ID, app_secret=APP_SECRET, clock=clock),
    )


async def test_a_follow_through_a_referral_qr_code_credits_once_the_follower_joins(
    telegram: TelegramSetup,
    callbacks: Platforms,
    client: httpx.AsyncClient,
    workspace_id: str,
) -> None:
    core = telegram.core
    install_admin(core)
    group = await make_group(telegram)
    wechat = await make_setup(core, client, workspace_id)
    await telegram.deliver(private(ADA, "Ada", "hello", 1))
    await drain(core)
    ada = await customer_of(core, telegram.channel_id, ADA)

    answer = await client.post(
        f"/api/v1/communities/{group.id}/invite-links",
        json={"customer_id": ada, "wechat_channel_id": wechat.channel_id},
        headers=telegram.auth,
    )
    assert answer.status_code == 201, answer.text
    invite = answer.json()
    [made] = callbacks.qr_codes
    assert made["action_name"] == "QR_STR_SCENE"
    assert made["action_info"]["scene"]["scene_str"] == f"ref_{invite['code']}"
    assert invite["wechat_qr"]["ticket"] == "TICKET1"
    assert invite["wechat_qr"]["image_url"].endswith("showqrcode?ticket=TICKET1")

    xml = fixture("subscribe_qrscene").replace("qrscene_123123", f"qrscene_ref_{invite['code']}")
    assert (await wechat.pusher.push(xml)).status_code == 200
    await drain(core)
    follower = await customer_of(core, wechat.channel_id, OPENID)
    await telegram.deliver(private(BOB, "Bob", "hi, it's me from WeChat", 2))
    await drain(core)
    bob = await customer_of(core, telegram.channel_id, BOB)
    # One person on two channels: the follow's memory moves to the survivor with the merge.
    await do_merge_customers(core, workspace_id, bob, follower)
    await drain(core)
    await group.join(BOB, "Bob")  # no link named: the QR follow is the referral
    [credit] = await telegram.events("community.referral_credited")
    assert credit["customer_id"] == ada
    assert credit["data"]["via"] == "wechat_qr"
    assert credit["data"]["referred_id"] == bob
