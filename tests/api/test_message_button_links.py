"""An agent's or an API client's message buttons link only to web addresses (QA pass 8, M4:
`POST /conversations/{id}/messages` stored `{"url": "javascript:alert(1)"}` with a 201).
Checked where a message is given, so that messages stored before the check still read."""

from __future__ import annotations

import pytest

from kith.core.context import Core
from tests.api.conftest import ApiSetup


async def _conversation(api: ApiSetup) -> str:
    assert (await api.say("u-1", "hi")).status_code in (200, 201, 202)
    listed = await api.http.get("/api/v1/conversations", headers=api.auth)
    return str(listed.json()["items"][0]["id"])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("javascript:alert(1)", "url_scheme"),
        ("tg://resolve?domain=shop", "url_scheme"),
        ("shop.example/help", "url_scheme"),
        ("https://shop.example/\u0000", "url_parsing"),
        ("https://shop.example@evil.example", "url_credentials"),
    ],
)
async def test_a_button_link_that_is_no_web_address_is_refused_and_nothing_sent(
    api: ApiSetup, core: Core, url: str, reason: str
) -> None:
    conversation_id = await _conversation(api)
    buttons = [{"label": "Help", "url": "https://shop.example/help"}, {"label": "x", "url": url}]
    answer = await api.http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "See", "buttons": buttons},
        headers=api.auth,
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert [(f["field"], f["reason"]) for f in error["fields"]] == [("buttons.1.url", reason)]
    assert await core.store.messages.count_documents({"direction": "out"}) == 0


async def test_a_web_link_and_a_link_beside_a_payload_are_sent(api: ApiSetup) -> None:
    conversation_id = await _conversation(api)
    buttons = [
        {"label": "Help", "url": "https://shop.example/help"},
        {"label": "Person", "payload": "kith:human", "url": "http://shop.example/p"},
    ]
    answer = await api.http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "See", "buttons": buttons},
        headers=api.auth,
    )
    assert answer.status_code == 201, answer.text
    assert [b["url"] for b in answer.json()["buttons"]] == [b["url"] for b in buttons]


async def test_a_message_stored_with_a_bad_link_still_reads(api: ApiSetup, core: Core) -> None:
    conversation_id = await _conversation(api)
    sent = await api.http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "See", "buttons": [{"label": "Help", "url": "https://shop.example"}]},
        headers=api.auth,
    )
    assert sent.status_code == 201, sent.text
    await core.store.messages.update_one(  # as a message sent before links were checked
        {"_id": sent.json()["id"]}, {"$set": {"buttons.0.url": "javascript:alert(1)"}}
    )
    read = await api.http.get(f"/api/v1/conversations/{conversation_id}/messages", headers=api.auth)
    assert read.status_code == 200, read.text
    assert [b["url"] for m in read.json()["items"] for b in m["buttons"]] == ["javascript:alert(1)"]
    back = await api.http.get(
        f"/webhooks/api/{api.channel_id}/messages",
        params={"user_id": "u-1"},
        headers=api.channel_auth,
    )
    assert back.status_code == 200, back.text
    assert [b["url"] for m in back.json()["items"] for b in m["buttons"]] == ["javascript:alert(1)"]
