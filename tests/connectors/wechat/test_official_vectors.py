"""Tencent's published encryption samples, through wechatpy's real crypto and our webhook."""

from __future__ import annotations

import httpx
import pytest
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from kith.core.clock import ManualClock
from kith.core.context import Core
from tests.connectors.wechat.conftest import make_setup, vectors
from tests.connectors.wechat.fake_wechat import WeChatPusher, sign


class SampleRandom(PrpCrypto):  # type: ignore[misc]  # wechatpy ships no type hints
    """The sample's fixed 16-byte prefix, so the ciphertext is reproducible."""

    def get_random_string(self) -> str:
        return str(vectors()["safe_mode"]["random"])


@pytest.mark.parametrize(
    ("plain", "cipher"), [("plaintext", "ciphertext"), ("plaintext_xml", "ciphertext_xml")]
)
def test_pushes_are_encrypted_here_exactly_as_in_tencents_sample(plain: str, cipher: str) -> None:
    """The fake WeChat server's encryption (used by every safe-mode test) is Tencent's."""
    v = vectors()["safe_mode"]
    key = WeChatCrypto(v["token"], v["encoding_aes_key"], v["app_id"]).key
    assert SampleRandom(key).encrypt(v[plain], v["app_id"]).decode() == v[cipher]


async def test_encrypted_url_check_decrypts_echostr_with_the_official_vector(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    v = vectors()["encrypted_url_check"]
    setup = await make_setup(
        core,
        client,
        workspace_id,
        app_id=v["app_id"],
        token=v["token"],
        encoding_aes_key=v["encoding_aes_key"],
    )
    query = {k: v[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}
    answer = await client.get(setup.pusher.url, params=query)
    assert answer.status_code == 200, answer.text
    assert answer.text == v["echo"]

    tampered = await client.get(setup.pusher.url, params={**query, "nonce": "263014781"})
    assert tampered.status_code == 401


def at_the_vectors_time(clock: ManualClock, timestamp: str) -> None:
    """Pushes older than five minutes are refused as replays: move Kith's clock to the
    vector's own time."""
    clock.advance(int(timestamp) + 30 - clock.now().timestamp())


async def test_official_compatible_mode_sample_is_decrypted_and_stored(
    core: Core, client: httpx.AsyncClient, workspace_id: str, clock: ManualClock
) -> None:
    v = vectors()["compatible_mode"]
    setup = await make_setup(
        core,
        client,
        workspace_id,
        app_id=v["app_id"],
        token=v["token"],
        encoding_aes_key=v["encoding_aes_key"],
    )
    at_the_vectors_time(clock, v["timestamp"])
    query = {
        "signature": sign(v["token"], v["timestamp"], v["nonce"]),
        "timestamp": v["timestamp"],
        "nonce": v["nonce"],
        "encrypt_type": "aes",
        "msg_signature": v["msg_signature"],
    }
    # Only the ciphertext is signed: a rewritten plaintext copy must not be what is stored.
    body = v["body"].replace("<![CDATA[abcdteT]]>", "<![CDATA[rewritten in transit]]>")
    answer = await setup.pusher.post(body.encode(), query)
    assert answer.status_code == 200, answer.text

    listed = await client.get("/api/v1/conversations", headers=setup.auth)
    [conversation] = listed.json()["items"]
    assert conversation["external_user_id"] == v["openid"]
    [message] = await setup.messages(conversation["id"])
    assert message["text"] == v["content"]
    assert message["channel_message_id"] == v["msg_id"]


async def test_official_safe_mode_ciphertext_is_decrypted_and_stored(
    core: Core, client: httpx.AsyncClient, workspace_id: str, clock: ManualClock
) -> None:
    v = vectors()["safe_mode"]
    setup = await make_setup(core, client, workspace_id, encoding_aes_key=v["encoding_aes_key"])
    pusher = WeChatPusher(client, setup.channel_id, v["app_id"], v["token"], v["encoding_aes_key"])
    cipher = v["ciphertext_xml"]
    at_the_vectors_time(clock, pusher.timestamp)
    body = (
        f"<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[{cipher}]]></Encrypt></xml>"
    )
    query = pusher.query(
        encrypt_type="aes", msg_signature=sign(v["token"], pusher.timestamp, pusher.nonce, cipher)
    )
    answer = await pusher.post(body.encode(), query)
    assert answer.status_code == 200, answer.text

    listed = await client.get("/api/v1/conversations", headers=setup.auth)
    [conversation] = listed.json()["items"]
    assert conversation["external_user_id"] == "gh_7f083739789a"
    [message] = await setup.messages(conversation["id"])
    assert message["attachments"][0]["kind"] == "video"
