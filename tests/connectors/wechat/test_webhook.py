"""WeChat pushes end to end: URL check, every message type in every mode, events, abuse."""

from __future__ import annotations

from typing import Any

import pytest

from kith.connectors.wechat.replay import NONCES, PURGE_AFTER
from kith.core.channel_records import get_channel
from kith.core.clock import ManualClock, ScaledClock, utcnow
from kith.core.context import Core
from kith.core.dead_letters import (
    Payload,
    do_replay_dead_letter,
    keep_dead_letter,
    list_dead_letters,
)
from kith.core.errors import InvalidInput
from kith.core.models import ChannelEvent
from kith.core.pipeline import channel_event_of
from tests.connectors.wechat.conftest import OPENID, WeChatSetup, fixture
from tests.connectors.wechat.fake_wechat import sign
from tests.support.consumers import drain, recorder

MODES = ["plain", "compatible", "safe"]


class EventsSeen:
    """What a consumer subscribed to channel events receives."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.events = recorder(core, ["channel.*"])

    async def __call__(self) -> list[ChannelEvent]:
        await drain(self.core)
        return [channel_event_of(event) for event in self.events]


def events_seen(core: Core) -> EventsSeen:
    return EventsSeen(core)


async def the_message(wechat: WeChatSetup) -> dict[str, Any]:
    conversation = await wechat.conversation()
    assert conversation["external_user_id"] == OPENID
    [message] = await wechat.messages(conversation["id"])
    return message


async def test_url_check_echoes_echostr_once_the_signature_holds(wechat: WeChatSetup) -> None:
    query = wechat.pusher.query(echostr="5838479218127813673")
    answer = await wechat.http.get(wechat.pusher.url, params=query)
    assert answer.status_code == 200
    assert answer.text == "5838479218127813673"

    forged = {**query, "signature": sign("guessed", query["timestamp"], query["nonce"])}
    refused = await wechat.http.get(wechat.pusher.url, params=forged)
    assert refused.status_code == 401
    assert "5838479218127813673" not in refused.text


EXPECTED: dict[str, dict[str, Any]] = {
    "text": {"text": "我的订单到哪了？", "channel_message_id": "24400000000000001"},
    "image": {
        "text": "",
        "attachments": [
            {
                "kind": "image",
                "url": "http://mmbiz.qpic.cn/mmbiz_jpg/example/0",
                "file_id": "eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0",
            }
        ],
    },
    "voice": {
        "text": "腾讯微信团队",  # WeChat's speech recognition, when the account enabled it
        "attachments": [
            {
                "kind": "audio",
                "mime": "audio/amr",
                "file_id": "wPnmP3rYp8dcg6MZ0sDd7ukVQNtl6u6voKMsb4yoFxb1tjWrcrQuyj2aQYCbVwF0",
            }
        ],
    },
    "location": {
        "text": "广州市海珠区 (23.134521, 113.358803)",
        "attachments": [
            {"kind": "location", "name": "广州市海珠区", "url": "geo:23.134521,113.358803"}
        ],
    },
    "link": {
        "text": "公众平台官网链接\n公众平台官网链接\nhttps://mp.weixin.qq.com",
        "attachments": [
            {"kind": "link", "name": "公众平台官网链接", "url": "https://mp.weixin.qq.com"}
        ],
    },
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", sorted(EXPECTED))
async def test_each_message_type_is_stored_in_each_mode(
    wechat: WeChatSetup, kind: str, mode: str
) -> None:
    answer = await wechat.pusher.push(fixture(kind), mode)
    assert answer.status_code == 200, answer.text
    assert answer.text == "success"

    message = await the_message(wechat)
    expected = EXPECTED[kind]
    assert message["direction"] == "in"
    assert message["text"] == expected["text"]
    attachments = [{k: v for k, v in a.items() if v is not None} for a in message["attachments"]]
    assert attachments == expected.get("attachments", [])
    if "channel_message_id" in expected:
        assert message["channel_message_id"] == expected["channel_message_id"]


async def test_voice_without_recognition_is_an_audio_attachment_only(
    wechat: WeChatSetup,
) -> None:
    xml = fixture("voice").replace("<Recognition><![CDATA[腾讯微信团队]]></Recognition>", "")
    assert (await wechat.pusher.push(xml, "safe")).status_code == 200
    message = await the_message(wechat)
    assert message["text"] == ""
    assert message["attachments"][0]["kind"] == "audio"


EVENTS = {
    "subscribe": ("subscribed", None),
    "subscribe_qrscene": ("subscribed", "123123"),  # qrscene_123123: the referral scene
    "unsubscribe": ("unsubscribed", None),
    "scan": ("scan", "123123"),
    "click": ("menu_click", "V1001_TRACK_ORDER"),
    "view": ("menu_click", "https://www.qq.com/"),
}


@pytest.mark.parametrize("name", sorted(EVENTS))
async def test_events_become_channel_events(wechat: WeChatSetup, core: Core, name: str) -> None:
    seen = events_seen(core)
    answer = await wechat.pusher.push(fixture(name), "safe")
    assert answer.status_code == 200, answer.text
    assert answer.text == "success"
    [event] = await seen()
    assert (event.kind.value, event.payload) == EVENTS[name]
    assert event.user.id == OPENID
    assert await core.store.messages.count_documents({}) == 0


async def test_events_kith_does_not_use_are_acknowledged_and_ignored(
    wechat: WeChatSetup, core: Core
) -> None:
    seen = events_seen(core)
    unknown_type = fixture("text").replace("[CDATA[text]]", "[CDATA[miniprogrampage_v9]]")
    for xml in (fixture("location_event"), unknown_type):
        answer = await wechat.pusher.push(xml, "plain")
        assert (answer.status_code, answer.text) == (200, "success")
    assert await seen() == []
    assert await core.store.messages.count_documents({}) == 0


async def test_wechat_retrying_a_message_three_times_stores_it_once(
    wechat: WeChatSetup, core: Core
) -> None:
    for nonce in ("1", "2", "3"):  # each retry is signed afresh, same MsgId
        wechat.pusher.nonce = nonce
        answer = await wechat.pusher.push(fixture("text"), "safe")
        assert (answer.status_code, answer.text) == (200, "success")
    assert await core.store.messages.count_documents({}) == 1
    conversation = await wechat.conversation()
    assert conversation["unread_count"] == 1


async def test_a_push_sent_again_with_its_nonce_is_answered_without_being_handled_again(
    wechat: WeChatSetup, core: Core
) -> None:
    """WeChat's retry of a push answered too late, or a replay of its signed URL with another
    body: `success`, and nothing new stored; one still in hand is a 409 (WeChat tries again)."""
    wechat.pusher.sign_afresh()
    body, query = wechat.pusher.envelope(fixture("text"), "plain")
    assert (await wechat.pusher.post(body.encode(), query)).text == "success"
    again = await wechat.pusher.post(body.encode(), query)
    assert (again.status_code, again.text) == (200, "success")
    other = body.replace("我的订单到哪了？", "把钱退给我").replace("24400000000000001", "1")
    assert other != body
    replayed = await wechat.pusher.post(other.encode(), query)
    assert (replayed.status_code, replayed.text) == (200, "success")
    assert await core.store.messages.count_documents({}) == 1

    wechat.pusher.sign_afresh()
    body, query = wechat.pusher.envelope(fixture("text"), "plain")
    held = {"_id": f"{wechat.channel_id}:{query['timestamp']}:{query['nonce']}"}
    doc = {**held, "purge_at": utcnow() + PURGE_AFTER, "done": False}
    await core.store.collection(NONCES).insert_one(doc)
    busy = await wechat.pusher.post(body.encode(), query)
    assert busy.status_code == 409, busy.text


async def test_a_retried_event_is_consumed_once(wechat: WeChatSetup, core: Core) -> None:
    seen = events_seen(core)
    for _ in range(3):
        assert (await wechat.pusher.push(fixture("click"), "plain")).status_code == 200
    assert len(await seen()) == 1


@pytest.mark.parametrize("attack", ["xxe", "billion_laughs", "external_dtd"])
@pytest.mark.parametrize("mode", MODES)
async def test_xml_with_entity_declarations_is_refused_before_parsing(
    wechat: WeChatSetup, core: Core, attack: str, mode: str
) -> None:
    seen = events_seen(core)
    answer = await wechat.pusher.push(fixture(attack), mode)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "unsafe_xml"
    assert await core.store.messages.count_documents({}) == 0
    assert await seen() == []


async def test_forged_signatures_are_refused(wechat: WeChatSetup, core: Core) -> None:
    body, query = wechat.pusher.envelope(fixture("text"), "plain")
    for forged in (
        {**query, "signature": sign("not-the-token", query["timestamp"], query["nonce"])},
        {k: v for k, v in query.items() if k != "signature"},
        {**query, "timestamp": "1767225601"},  # replayed with another timestamp
    ):
        answer = await wechat.pusher.post(body.encode(), forged)
        assert answer.status_code == 401, answer.text
    body, query = wechat.pusher.envelope(fixture("text"), "safe")
    other = sign(wechat.pusher.token, query["timestamp"], query["nonce"], "another ciphertext")
    answer = await wechat.pusher.post(body.encode(), {**query, "msg_signature": other})
    assert answer.status_code == 401
    assert await core.store.messages.count_documents({}) == 0


async def test_pushes_are_fresh_by_the_wall_clock_also_under_the_demos_clock(
    wechat: WeChatSetup, core: Core
) -> None:
    """WeChat stamps pushes with real seconds; `kith demo` runs Kith's time an hour a
    second: a push is fresh within five real minutes, never against the demo's time."""
    real = wechat.pusher.clock
    assert isinstance(real, ManualClock)
    ticks = [0.0]
    core.clock = ScaledClock(3600, base=real, monotonic=lambda: ticks[0])
    ticks[0] = 10.0  # ten hours of demo time, ten real seconds
    real.advance(10)
    assert (await wechat.pusher.push(fixture("text"))).text == "success"
    wechat.pusher.clock = None  # stamp by hand, as a replay or a skewed sender would
    for skew in (-301, 301):
        wechat.pusher.timestamp = str(int(real.now().timestamp()) + skew)
        wechat.pusher.nonce = str(skew)
        refused = await wechat.pusher.post(fixture("text").encode(), wechat.pusher.query())
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["field"] == "timestamp"


async def test_oversized_and_malformed_pushes_are_refused(wechat: WeChatSetup, core: Core) -> None:
    huge = fixture("text").replace("我的订单到哪了？", "啊" * 60_000)
    assert (await wechat.pusher.push(huge, "plain")).status_code == 413
    for broken in (
        "<xml><ToUserName>gh</xml>",  # not well-formed
        "<root><MsgType>text</MsgType></root>",  # not WeChat's <xml> root
    ):
        answer = await wechat.pusher.push(broken, "plain")
        assert answer.status_code == 422, (broken, answer.text)
    assert await core.store.messages.count_documents({}) == 0


async def test_a_signed_push_kith_cannot_map_is_acknowledged_and_kept(
    wechat: WeChatSetup, core: Core, workspace_id: str
) -> None:
    """Well-formed and signed, but not a push Kith can store: WeChat gets its `success`."""
    for broken in (
        fixture("text").replace("<MsgType><![CDATA[text]]></MsgType>", ""),
        fixture("text").replace(
            "<FromUserName><![CDATA[oia2TjjewbmiOUlr6X-1crbLOvLw]]>", "<FromUserName><![CDATA[]]>"
        ),
    ):
        answer = await wechat.pusher.push(broken, "plain")
        assert (answer.status_code, answer.text) == (200, "success")
    kept = await list_dead_letters(core, workspace_id)
    assert len(kept) == 2 and {d.channel_type for d in kept} == {"wechat"}
    assert await core.store.messages.count_documents({}) == 0


async def test_encrypted_push_to_a_plaintext_channel_is_refused(plain_only: WeChatSetup) -> None:
    plain_only.pusher.encoding_aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    answer = await plain_only.pusher.push(fixture("text"), "safe")
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "encoding_aes_key"
    assert (await plain_only.pusher.push(fixture("text"), "plain")).status_code == 200


async def test_push_encrypted_for_another_account_is_refused(wechat: WeChatSetup) -> None:
    wechat.pusher.app_id = "wx0000000000000000"  # same key and token, another AppID inside
    answer = await wechat.pusher.push(fixture("text"), "safe")
    assert answer.status_code == 401


async def test_unknown_or_other_channels_answer_404(wechat: WeChatSetup) -> None:
    body, query = wechat.pusher.envelope(fixture("text"), "plain")
    answer = await wechat.http.post(
        "/webhooks/wechat/no-such-channel", params=query, content=body.encode()
    )
    assert answer.status_code == 404


async def test_a_kept_push_is_replayed_from_its_plaintext(
    wechat: WeChatSetup, core: Core, workspace_id: str
) -> None:
    """Dead letters keep the opened (decrypted) XML: a replay needs no signature, and a push
    an older Kith could not map is stored once however often it is replayed."""
    channel = await get_channel(core, workspace_id, wechat.channel_id)
    payload = Payload(body=fixture("text").encode(), content_type="application/xml")
    letter = await keep_dead_letter(core, channel, payload, InvalidInput("older rule"))
    first = await do_replay_dead_letter(core, workspace_id, letter.id)
    again = await do_replay_dead_letter(core, workspace_id, letter.id)
    assert first.outcome == again.outcome == "stored"
    assert await core.store.messages.count_documents({"channel_id": wechat.channel_id}) == 1
    answer = await wechat.pusher.push(fixture("text"), "safe")  # WeChat's own late retry
    assert answer.text == "success"
    assert await core.store.messages.count_documents({"channel_id": wechat.channel_id}) == 1
