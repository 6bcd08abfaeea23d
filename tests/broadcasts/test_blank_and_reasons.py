"""Refusals a page can word in its own language (QA pass 11, M2 and m2): a blank name or a
blank text is refused as `blank` at its field (names are stored stripped); a text over the
size limit, an unknown segment, a segment in use and an unknown language each carry a
`reason` and its `limits`, with English and Chinese words for each in the pages' strings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.broadcasts.actions import broadcasts
from kith.broadcasts.templates import MAX_SOURCE
from kith.core.context import Core
from kith.segments.records import do_create_segment
from kith.web.inbox.i18n import messages
from tests.broadcasts.test_api import auth, draft


def refused(answer: httpx.Response) -> list[tuple[str, str | None, dict[str, Any] | None]]:
    assert answer.status_code in (409, 422), answer.text
    return [(f["field"], f["reason"], f["limits"]) for f in answer.json()["error"]["fields"]]


@pytest.mark.parametrize("name", ["   ", "", "\t"])
async def test_a_blank_name_is_refused(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any], name: str
) -> None:
    (ada,) = await people(1)
    answer = await draft(client, token, name=name, customer_ids=[ada.id])
    assert [(field, reason) for field, reason, _ in refused(answer)] == [("name", "blank")]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ({"en": ""}, "message.text.en"),
        ({"en": "   "}, "message.text.en"),
        ({"en": "Hi", "zh": "\n "}, "message.text.zh"),
    ],
)
async def test_a_blank_text_is_refused(
    bcore: Core,
    client: httpx.AsyncClient,
    token: str,
    people: Callable[..., Any],
    text: dict[str, str],
    field: str,
) -> None:
    (ada,) = await people(1)
    answer = await draft(client, token, customer_ids=[ada.id], message={"text": text})
    assert [(f, reason) for f, reason, _ in refused(answer)] == [(field, "blank")]
    assert await broadcasts(bcore).count_documents({}) == 0


async def test_a_name_is_stored_stripped_and_a_patch_to_blank_is_refused(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    made = await draft(client, token, name="  Spring sale ", customer_ids=[ada.id])
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "Spring sale"
    url = f"/api/v1/broadcasts/{made.json()['id']}"
    patched = await client.patch(url, json={"name": "  "}, headers=auth(token))
    assert [(f, reason) for f, reason, _ in refused(patched)] == [("name", "blank")]


async def test_a_blank_name_stored_before_still_reads(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    made = await draft(client, token, customer_ids=[ada.id])
    bid = made.json()["id"]
    await broadcasts(bcore).update_one({"_id": bid}, {"$set": {"name": " ", "message.text.en": ""}})
    listed = await client.get("/api/v1/broadcasts", headers=auth(token))
    assert listed.status_code == 200 and listed.json()["items"][0]["name"] == " "
    got = await client.get(f"/api/v1/broadcasts/{bid}", headers=auth(token))
    assert got.status_code == 200 and got.json()["message"]["text"]["en"] == ""


async def test_an_unknown_language_is_refused_at_message_text(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    answer = await draft(client, token, customer_ids=[ada.id], message={"text": {"fr": "Salut"}})
    assert refused(answer) == [
        ("message.text", "unknown_language", {"language": "fr", "expected": "en, zh"})
    ]


async def test_a_text_too_long_names_its_limit(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    text = {"en": "x" * (MAX_SOURCE + 1)}
    answer = await draft(client, token, customer_ids=[ada.id], message={"text": text})
    assert refused(answer) == [("message.text.en", "string_too_long", {"max_length": MAX_SOURCE})]


async def test_an_unknown_segment_names_its_reason(
    bcore: Core, client: httpx.AsyncClient, token: str
) -> None:
    answer = await draft(client, token, segment_id="no-such-segment")
    assert refused(answer) == [("segment_id", "no_segment", {})]


async def test_a_segment_in_use_names_its_users(
    bcore: Core, client: httpx.AsyncClient, token: str, workspace_id: str
) -> None:
    segment = await do_create_segment(
        bcore, workspace_id, "temp", {"field": "tags", "op": "contains", "value": "vip"}
    )
    made = await draft(client, token, segment_id=segment.id)
    answer = await client.delete(f"/api/v1/segments/{segment.id}", headers=auth(token))
    assert answer.status_code == 409
    [(field, reason, limits)] = refused(answer)
    assert (field, reason, limits["count"]) == ("segment_id", "segment_in_use", 1)
    assert made.json()["id"] in limits["names"] and "Spring sale" in limits["names"]


@pytest.mark.parametrize(
    "reason", ["blank", "unknown_language", "string_too_long", "no_segment", "segment_in_use"]
)
def test_each_reason_is_worded_in_both_languages(reason: str) -> None:
    english, chinese = messages("en")[f"reason_{reason}"], messages("zh")[f"reason_{reason}"]
    assert english and chinese and english != chinese
