"""A broadcast's recipients through the API: who received it and who was skipped and why, a
template's failure for one customer with a reason a page can word, in pages, by status."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from kith.broadcasts import recipients_list
from kith.core.context import Core
from tests.broadcasts.test_sending import finish, start


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_recipients_say_who_was_skipped_and_why(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    ada, bo, cy = await people(3)
    body = {"text": {"en": "Hi {{ customer.attributes.city }}"}}
    broadcast = await start(bcore, [ada, bo, cy], message=body, channels=["api", "telegram"])
    await bcore.store.customers.update_many(
        {"_id": {"$in": [ada.id, cy.id]}}, {"$set": {"attributes.city": "上海"}}
    )
    await bcore.store.identities.delete_many({"customer_id": cy.id})
    await finish(bcore, broadcast)
    url = f"/api/v1/broadcasts/{broadcast.id}/recipients"

    everyone = (await client.get(url, headers=auth(token))).json()
    by_customer = {r["customer_id"]: r for r in everyone["items"]}
    assert set(by_customer) == {ada.id, bo.id, cy.id} and everyone["next_cursor"] is None
    assert (by_customer[ada.id]["status"], by_customer[ada.id]["channel_type"]) == ("sent", "api")
    assert by_customer[ada.id]["sent_at"] and by_customer[ada.id]["customer_name"] == ada.name
    failed = by_customer[bo.id]
    assert (failed["status"], failed["reason"]) == ("skipped", "template_error")
    assert failed["detail_reason"] == "template_missing_value"
    assert failed["detail_limits"]["name"] == "city" and "city" in failed["detail"]
    assert by_customer[cy.id]["reason"] == "no_reachable_channel"

    skipped = await client.get(url, params={"status": "skipped", "limit": 1}, headers=auth(token))
    first = skipped.json()
    assert [r["status"] for r in first["items"]] == ["skipped"] and first["next_cursor"]
    rest = await client.get(
        url,
        params={"status": "skipped", "limit": 1, "cursor": first["next_cursor"]},
        headers=auth(token),
    )
    seen = {r["customer_id"] for r in first["items"] + rest.json()["items"]}
    assert seen == {bo.id, cy.id}

    wrong = await client.get(url, params={"status": "lost"}, headers=auth(token))
    assert wrong.status_code == 422 and wrong.json()["error"]["field"].startswith("status")
    elsewhere = await client.get("/api/v1/broadcasts/nope/recipients", headers=auth(token))
    assert elsewhere.status_code == 404


async def test_recipients_as_a_csv_file_for_a_spreadsheet(
    bcore: Core,
    client: httpx.AsyncClient,
    token: str,
    people: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every recipient in the list's order, read a page at a time (one a page here), with
    names a spreadsheet shows right (Chinese) and cannot run (a formula is defused)."""
    ada, bo, cy = await people(3)
    broadcast = await start(bcore, [ada, bo, cy], channels=["api", "telegram"])
    await bcore.store.customers.update_one({"_id": ada.id}, {"$set": {"name": "李雷"}})
    await bcore.store.customers.update_one({"_id": bo.id}, {"$set": {"name": "=HYPERLINK(1)"}})
    await bcore.store.identities.delete_many({"customer_id": cy.id})
    await finish(bcore, broadcast)
    monkeypatch.setattr(recipients_list, "CSV_PAGE", 1)
    url = f"/api/v1/broadcasts/{broadcast.id}/recipients.csv"

    answer = await client.get(url, headers=auth(token))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    stamp = bcore.clock.now().strftime("%Y%m%d-%H%M")
    named = f"broadcast-spring-sale-{stamp}-recipients.csv"
    assert answer.headers["content-disposition"] == f'attachment; filename="{named}"'
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    listed = (await client.get(url.removesuffix(".csv"), headers=auth(token))).json()["items"]
    assert [r["customer_id"] for r in rows] == [r["customer_id"] for r in listed]
    by_customer = {r["customer_id"]: r for r in rows}
    assert by_customer[ada.id]["customer_name"] == "李雷"
    assert (by_customer[ada.id]["status"], by_customer[ada.id]["channel_type"]) == ("sent", "api")
    assert by_customer[ada.id]["sent_at"].startswith(str(bcore.clock.now().year))
    assert by_customer[bo.id]["customer_name"] == "'=HYPERLINK(1)"
    assert (by_customer[cy.id]["status"], by_customer[cy.id]["reason"]) == (
        "skipped",
        "no_reachable_channel",
    )

    skipped = await client.get(url, params={"status": "skipped"}, headers=auth(token))
    only = list(csv.DictReader(io.StringIO(skipped.content.decode("utf-8-sig"))))
    assert [r["customer_id"] for r in only] == [cy.id]
    wrong = await client.get(url, params={"status": "lost"}, headers=auth(token))
    assert wrong.status_code == 422 and wrong.json()["error"]["field"].startswith("status")
    elsewhere = await client.get("/api/v1/broadcasts/nope/recipients.csv", headers=auth(token))
    assert elsewhere.status_code == 404


@pytest.mark.parametrize(
    ("name", "fallback", "utf8"),
    [
        ("会员日", "{id}", "会员日"),
        ("周六见面会 · Saturday meet-up!", "saturday-meet-up", "周六见面会-saturday-meet-up"),
        ('"; filename=evil.sh', "filename-evil-sh", None),
    ],
)
async def test_the_csv_file_is_named_after_the_broadcast_in_any_language(
    bcore: Core,
    client: httpx.AsyncClient,
    token: str,
    people: Callable[..., Any],
    name: str,
    fallback: str,
    utf8: str | None,
) -> None:
    """A Chinese name downloads as itself (RFC 5987 `filename*`), with an ASCII `filename` for
    older clients: the name's ASCII words, else the broadcast's id; quotes and separators in
    a name never reach the header."""
    (ada,) = await people(1)
    broadcast = await finish(bcore, await start(bcore, [ada], name=name))
    answer = await client.get(
        f"/api/v1/broadcasts/{broadcast.id}/recipients.csv", headers=auth(token)
    )
    assert answer.status_code == 200, answer.text
    stamp = bcore.clock.now().strftime("%Y%m%d-%H%M")
    ascii_name = f"broadcast-{fallback.format(id=broadcast.id)}-{stamp}-recipients.csv"
    header = answer.headers["content-disposition"]
    if utf8 is None:
        assert header == f'attachment; filename="{ascii_name}"'
        return
    plain, _, encoded = header.partition("; filename*=UTF-8''")
    assert plain == f'attachment; filename="{ascii_name}"'
    assert unquote(encoded) == f"broadcast-{utf8}-{stamp}-recipients.csv"
    assert encoded.isascii() and " " not in encoded
