"""`DELETE /app/api/contacts/{id}`: only an admin erases a customer; what is answered names
collections and counts, nothing of the customer."""

from __future__ import annotations

from kith.core.context import Core
from tests.web.conftest import Cast


async def test_only_an_admin_erases_and_the_answer_holds_counts_only(
    cast: Cast, browser, core: Core
) -> None:
    shop = cast.conversations["shop"]
    ada = (await core.store.conversations.find_one({"_id": shop}))["customer_id"]
    mary, alice, admin = await browser("mary"), await browser("alice"), await browser("admin")
    for refused in (mary, alice):
        answer = await refused.api("DELETE", f"/contacts/{ada}")
        assert answer.status_code == 403, answer.text
    assert await core.store.customers.count_documents({"_id": ada}) == 1

    answer = await admin.api("DELETE", f"/contacts/{ada}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["erased"] is True and body["deleted"]["messages"] >= 1
    assert ada not in answer.text
    assert await core.store.customers.count_documents({"_id": ada}) == 0
    assert await core.store.messages.count_documents({"customer_id": ada}) == 0
    again = await admin.api("DELETE", f"/contacts/{ada}")
    assert again.status_code == 404 and again.json()["error"]["message"]
