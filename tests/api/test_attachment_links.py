"""Message attachments link only to web addresses, as buttons do (leftover of QA pass 8, M4:
`POST /conversations/{id}/messages` and the API channel stored `{"url": "javascript:…"}`
attachments with a 2xx). Checked where a message is given, so that messages stored before
the check, and a platform's own links (WeChat's `geo:` places), still read."""

from __future__ import annotations

import pytest

from kith.core.context import Core
from tests.api.conftest import ApiSetup

BAD = [
    ("javascript:alert(1)", "url_scheme"),
    ("data:text/html,<b>hi</b>", "url_scheme"),
    ("/files/a.pdf", "url_scheme"),
    ("geo:31.2,121.5", "url_scheme"),
    ("https://shop.example@evil.example/a.pdf", "url_credentials"),
]


async def _conversation(api: ApiSetup) -> str:
    assert (await api.say("u-1", "hi")).status_code in (200, 201, 202)
    listed = await api.http.get("/api/v1/conversations", headers=api.auth)
    return str(listed.json()["items"][0]["id"])


@pytest.mark.parametrize(("url", "reason"), BAD)
async def test_a_reply_attachment_that_is_no_web_address_is_refused_and_nothing_sent(
    api: ApiSetup, core: Core, url: str, reason: str
) -> None:
    conversation_id = await _conversation(api)
    attachments = [{"kind": "file", "url": "https://shop.example/a.pdf"}, {"url": url}]
    answer = await api.http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "See", "attachments": attachments},
        headers=api.auth,
    )
    assert answer.status_code == 422, answer.text
    fields = answer.json()["error"]["fields"]
    assert [(f["field"], f["reason"]) for f in fields] == [("attachments.1.url", reason)]
    assert await core.store.messages.count_documents({"direction": "out"}) == 0


async def test_a_bad_button_and_a_bad_attachment_are_refused_in_one_answer(
    api: ApiSetup,
) -> None:
    conversation_id = await _conversation(api)
    answer = await api.http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={
            "text": "See",
            "buttons": [{"label": "x", "url": "javascript:alert(1)"}],
            "attachments": [{"url": "data:text/html,x"}],
        },
        headers=api.auth,
    )
    assert answer.status_code == 422, answer.text
    fields = [f["field"] for f in answer.json()["error"]["fields"]]
    assert fields == ["buttons.0.url", "attachments.0.url"]


async def test_web_links_and_attachments_without_a_link_are_sent(api: ApiSetup) -> None:
    conversation_id = await _conversation(api)
    attachments = [
        {"kind": "image", "url": "https://shop.example/kettle.png"},
        {"kind": "file", "url": "http://shop.example/manual.pdf"},
        {"kind": "file", "file_id": "platform-file-7"},
    ]
    answer = await api.http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "See", "attachments": attachments},
        headers=api.auth,
    )
    assert answer.status_code == 201, answer.text
    assert [a["url"] for a in answer.json()["attachments"]] == [
        "https://shop.example/kettle.png",
        "http://shop.example/manual.pdf",
        None,
    ]


@pytest.mark.parametrize(("url", "reason"), BAD)
async def test_the_api_channel_refuses_a_customer_attachment_that_is_no_web_address(
    api: ApiSetup, core: Core, url: str, reason: str
) -> None:
    answer = await api.say("u-1", "photo", attachments=[{"kind": "image", "url": url}])
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == ("attachments.0.url", reason)
    assert await core.store.messages.count_documents({}) == 0

    fine = await api.say(
        "u-1", "photo", attachments=[{"kind": "image", "url": "https://cdn.example/p.jpg"}]
    )
    assert fine.status_code in (200, 201, 202), fine.text


async def test_a_message_stored_with_a_bad_attachment_link_still_reads(
    api: ApiSetup, core: Core
) -> None:
    conversation_id = await _conversation(api)
    sent = await api.http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "See", "attachments": [{"url": "https://shop.example/a.pdf"}]},
        headers=api.auth,
    )
    assert sent.status_code == 201, sent.text
    await core.store.messages.update_one(  # as a message sent before links were checked
        {"_id": sent.json()["id"]}, {"$set": {"attachments.0.url": "javascript:alert(1)"}}
    )
    read = await api.http.get(f"/api/v1/conversations/{conversation_id}/messages", headers=api.auth)
    assert read.status_code == 200, read.text
    urls = [a["url"] for m in read.json()["items"] for a in m["attachments"]]
    assert urls == ["javascript:alert(1)"]
    back = await api.http.get(
        f"/webhooks/api/{api.channel_id}/messages",
        params={"user_id": "u-1"},
        headers=api.channel_auth,
    )
    assert back.status_code == 200, back.text
    assert [a["url"] for m in back.json()["items"] for a in m["attachments"]] == [
        "javascript:alert(1)"
    ]
