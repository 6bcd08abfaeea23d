"""A broadcast's buttons and image link only to web addresses (leftover of QA pass 8, M4: a
draft saved `{"url": "javascript:alert(1)"}` buttons and `data:` images with a 201), refused
on create and on edit, every bad link in one answer naming its field. A draft stored before
the check still reads, and its links are checked again when it is edited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.core.context import Core
from tests.broadcasts.test_api import TEXT, auth, draft


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("javascript:alert(1)", "url_scheme"),
        ("data:image/png;base64,AAAA", "url_scheme"),
        ("/sale", "url_scheme"),
        ("weixin://dl/chat", "url_scheme"),
        ("https://shop.example@evil.example", "url_credentials"),
    ],
)
async def test_a_link_that_is_no_web_address_is_refused_on_create(
    bcore: Core,
    client: httpx.AsyncClient,
    token: str,
    people: Callable[..., Any],
    url: str,
    reason: str,
) -> None:
    [ada] = await people(1)
    message = {
        "text": TEXT,
        "buttons": [
            {"label": "Shop", "url": "https://shop.example/sale"},
            {"label": "x", "url": url},
        ],
        "image": {"kind": "image", "url": url},
    }
    answer = await draft(client, token, customer_ids=[ada.id], message=message)
    assert answer.status_code == 422, answer.text
    fields = [(f["field"], f["reason"]) for f in answer.json()["error"]["fields"]]
    assert fields == [("message.buttons.1.url", reason), ("message.image.url", reason)]
    assert await bcore.store.collection("broadcasts").count_documents({}) == 0


async def test_web_links_are_saved_and_a_bad_one_is_refused_on_edit(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    [ada] = await people(1)
    message = {
        "text": TEXT,
        "buttons": [{"label": "Shop", "url": "https://shop.example/sale"}],
        "image": {"kind": "image", "url": "http://cdn.example/kettle.png"},
    }
    made = await draft(client, token, customer_ids=[ada.id], message=message)
    assert made.status_code == 201, made.text
    url = f"/api/v1/broadcasts/{made.json()['id']}"

    bad = {**message, "buttons": [{"label": "Shop", "url": "javascript:alert(1)"}]}
    answer = await client.patch(url, json={"message": bad}, headers=auth(token))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "message.buttons.0.url"
    read = (await client.get(url, headers=auth(token))).json()
    assert read["message"]["buttons"][0]["url"] == "https://shop.example/sale"
    assert read["version"] == 1


async def test_a_draft_stored_with_a_bad_link_still_reads_and_its_edit_names_it(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    [ada] = await people(1)
    message = {"text": TEXT, "buttons": [{"label": "Shop", "url": "https://shop.example"}]}
    made = await draft(client, token, customer_ids=[ada.id], message=message)
    assert made.status_code == 201, made.text
    broadcast_id = made.json()["id"]
    await bcore.store.collection("broadcasts").update_one(  # as saved before links were checked
        {"_id": broadcast_id},
        {
            "$set": {
                "message.buttons.0.url": "javascript:alert(1)",
                "message.image": {"kind": "image", "url": "data:image/png;base64,AAAA"},
            }
        },
    )
    url = f"/api/v1/broadcasts/{broadcast_id}"
    read = await client.get(url, headers=auth(token))
    assert read.status_code == 200, read.text
    assert read.json()["message"]["buttons"][0]["url"] == "javascript:alert(1)"
    listed = await client.get("/api/v1/broadcasts", headers=auth(token))
    assert [b["id"] for b in listed.json()["items"]] == [broadcast_id]

    renamed = await client.patch(url, json={"name": "Renamed"}, headers=auth(token))
    assert renamed.status_code == 422, renamed.text
    fields = [f["field"] for f in renamed.json()["error"]["fields"]]
    assert fields == ["message.buttons.0.url", "message.image.url"]


async def test_an_unknown_customer_is_refused_with_its_reason(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    """(h15) `core.storage.existing_ids` refuses with `no_customer`, as every other "no such
    … in this workspace" refusal has a reason the pages word."""
    [ada] = await people(1)
    answer = await draft(client, token, customer_ids=[ada.id, "nobody"])
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == ("customer_ids.1", "no_customer")
    body = {"customer_ids": ["nobody"], "channels": ["api"]}
    estimate = await client.post("/api/v1/broadcasts/estimate", json=body, headers=auth(token))
    assert estimate.status_code == 422, estimate.text
    error = estimate.json()["error"]
    assert (error["field"], error["reason"]) == ("customer_ids.0", "no_customer")
