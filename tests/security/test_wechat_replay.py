"""A WeChat push is taken once, and only while fresh: plaintext mode signs no body.

The clock is Kith's injected `ManualClock`, started at the wall clock (the embedded engine
expires TTL-indexed documents against real time).
"""

from __future__ import annotations

import httpx
import pytest

from kith.core.clock import ManualClock, utcnow
from kith.core.context import Core
from tests.connectors.wechat.conftest import AES_KEY, WeChatSetup, fixture, make_setup
from tests.connectors.wechat.fake_wechat import sign
from tests.support.faults import failing

REWRITTEN = fixture("text").replace("我的订单到哪了？", "forged").replace("0001<", "0002<")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=utcnow())


@pytest.fixture
async def wechat(core: Core, client: httpx.AsyncClient, workspace_id: str) -> WeChatSetup:
    return await make_setup(core, client, workspace_id, encoding_aes_key=AES_KEY)


def signed_query(wechat: WeChatSetup, timestamp: str, nonce: str) -> dict[str, str]:
    token = wechat.pusher.token
    return {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


async def texts(core: Core) -> list[str]:
    return [m["text"] async for m in core.store.messages.find({}, {"text": 1})]


async def test_a_correctly_signed_push_from_1970_is_refused(wechat: WeChatSetup, core: Core):
    answer = await wechat.pusher.post(fixture("text").encode(), signed_query(wechat, "1", "77"))
    assert answer.status_code == 401 and answer.json()["error"]["field"] == "timestamp"
    assert await texts(core) == []


@pytest.mark.parametrize(("skew", "status"), [(-299, 200), (299, 200), (-301, 401), (301, 401)])
async def test_timestamps_more_than_five_minutes_away_are_refused(
    wechat: WeChatSetup, clock: ManualClock, skew: int, status: int
) -> None:
    sent = str(int(clock.now().timestamp()) + skew)
    answer = await wechat.pusher.post(fixture("text").encode(), signed_query(wechat, sent, "42"))
    assert answer.status_code == status, answer.text


async def test_one_signature_is_not_good_for_another_body(
    wechat: WeChatSetup, core: Core, clock: ManualClock
) -> None:
    query = signed_query(wechat, str(int(clock.now().timestamp())), "1320562132")
    assert (await wechat.pusher.post(fixture("text").encode(), query)).status_code == 200
    clock.advance(60)
    replayed = await wechat.pusher.post(REWRITTEN.encode(), query)
    # Answered as the retry it could be, never read: the forged body is not stored.
    assert (replayed.status_code, replayed.text) == (200, "success")
    assert await texts(core) == ["我的订单到哪了？"]


async def test_a_nonce_stays_used_whatever_the_mode(wechat: WeChatSetup, core: Core) -> None:
    wechat.pusher.sign_afresh()
    body, query = wechat.pusher.envelope(fixture("text"), "safe")
    assert (await wechat.pusher.post(body.encode(), query)).status_code == 200
    [used] = await core.store.collection("wechat_nonces").find({}).to_list(None)
    assert used["done"] is True
    assert (await wechat.pusher.post(body.encode(), query)).text == "success"
    assert await core.store.messages.count_documents({}) == 1


async def test_a_push_that_fails_gives_its_nonce_back_for_wechats_retry(
    wechat: WeChatSetup, core: Core, clock: ManualClock
) -> None:
    query = signed_query(wechat, str(int(clock.now().timestamp())), "5150")
    with failing(core.store.events, "bulk_write"), pytest.raises(ConnectionError):
        await wechat.pusher.post(fixture("text").encode(), query)
    assert (await wechat.pusher.post(fixture("text").encode(), query)).status_code == 200
    assert await core.store.messages.count_documents({}) == 1


async def test_used_nonces_expire_by_wall_clock_ttl(wechat: WeChatSetup, core: Core) -> None:
    assert (await wechat.pusher.push(fixture("text"))).status_code == 200
    [used] = [d async for d in core.store.collection("wechat_nonces").find({})]
    assert used["_id"].startswith(wechat.channel_id + ":")
    indexes = await core.store.collection("wechat_nonces").index_information()
    ttl = [list(i["key"]) for i in indexes.values() if i.get("expireAfterSeconds") == 0]
    assert ttl == [[("purge_at", 1)]]
