"""Unsubscribe links cannot be forged, altered, pointed at another customer or used after
the workspace's link key was rotated; a refused link changes nothing (GET and POST alike)."""

from __future__ import annotations

from kith.consent.links import LinkTarget, make_token
from kith.core.models import ConsentState
from tests.consent.conftest import Shop, shop  # noqa: F401 (a fixture, found by name)
from tests.support.tokens import damaged

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


async def test_forged_damaged_and_revoked_links_are_refused(shop: Shop) -> None:  # noqa: F811
    received = await shop.says("hi")
    target = LinkTarget(shop.workspace_id, received.message.customer_id, "email")
    token = await make_token(shop.core, target)
    body, _, mac = token.partition(".")
    other = await make_token(shop.core, LinkTarget(shop.workspace_id, "someone-else", "email"))
    forged = [
        f"{other.partition('.')[0]}.{mac}",  # another customer under this signature
        f"{body}.{damaged(mac)}",
        body,
        "not-a-token",
        "x" * 600,
    ]
    for bad in forged:
        assert (await shop.http.get(f"/u/{bad}")).status_code == 404, bad
        assert (await shop.http.post(f"/u/{bad}", data=ONE_CLICK)).status_code == 404, bad
    assert (await shop.customer(received.message.customer_id)).consent == {}

    answer = await shop.http.post("/api/v1/consent/link-key", headers=shop.auth)
    assert answer.status_code == 200
    assert (await shop.http.post(f"/u/{token}", data=ONE_CLICK)).status_code == 404
    fresh = await make_token(shop.core, target)
    assert (await shop.http.post(f"/u/{fresh}", data=ONE_CLICK)).status_code == 200
    consent = (await shop.customer(received.message.customer_id)).consent["email"]
    assert consent.state == ConsentState.revoked
