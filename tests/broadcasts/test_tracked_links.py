"""A broadcast's web links (text and buttons) go through Kith (both lanes): the first click of
each recipient sets their row's `clicked_at` and bumps `stats.clicked` once however often they
click; Kith's own links are left as written; a token not made for a broadcast (a sequence's,
an unsubscribe one, an altered one) is a 404 that counts nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from kith.broadcasts.audience import recipient_id, recipients
from kith.broadcasts.models import Broadcast
from kith.broadcasts.worker import message_id
from kith.consent.links import LinkTarget, make_token, public_base
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Customer
from kith.sequences import links as sequence_links
from tests.broadcasts.test_api import auth
from tests.broadcasts.test_sending import finish, start
from tests.support.tokens import damaged

LINK = re.compile(r"https?://[^\s/]+/l/b/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
SALE = "https://shop.test/sale?a=1&b=2"
BUTTON = "https://shop.test/kettles"


async def sent_with_links(core: Core, customers: list[Customer]) -> Broadcast:
    """A broadcast to `customers` whose text has a web link, Kith's own unsubscribe link and a
    mail address, and whose buttons link to the web, sent and finished."""
    own = f"{public_base(core)}/u/kiths-own"
    text = {"en": f"Hi {{{{ customer.name }}}}: {SALE}. Stop: {own} or mailto:help@shop.test"}
    message = {"text": text, "buttons": [{"label": "Kettles", "url": BUTTON}]}
    return await finish(core, await start(core, customers, message=message))


async def message_of(core: Core, broadcast: Broadcast, customer: Customer) -> dict[str, Any]:
    doc = await core.store.messages.find_one({"_id": message_id(broadcast.id, customer.id)})
    assert doc is not None
    return doc


def path_of(link: str) -> str:
    return urlsplit(link).path


async def test_each_recipients_first_click_counts_once_text_and_buttons_alike(
    bcore: Core,
    clock: ManualClock,
    people: Callable[..., Any],
    client: httpx.AsyncClient,
    token: str,
) -> None:
    ada, bo, cy = await people(3)
    broadcast = await sent_with_links(bcore, [ada, bo, cy])
    to_ada = await message_of(bcore, broadcast, ada)
    [text_link] = LINK.findall(to_ada["text"])
    assert SALE not in to_ada["text"]  # the URL travels inside the signed token only
    assert f" Stop: {public_base(bcore)}/u/kiths-own or mailto:help@shop.test" in to_ada["text"]
    [button] = to_ada["buttons"]
    assert LINK.fullmatch(button["url"]) and button["label"] == "Kettles"

    clock.advance(60)
    first = bcore.clock.now()
    answer = await client.get(path_of(text_link))
    assert answer.status_code == 302 and answer.headers["location"] == SALE
    clock.advance(60)
    for link in (text_link, button["url"], text_link):  # again, and by the button
        again = await client.get(path_of(link))
        assert again.status_code == 302
    assert again.headers["location"] == SALE
    pressed = await client.get(path_of(button["url"]))
    assert pressed.headers["location"] == BUTTON
    row = await recipients(bcore).find_one({"_id": recipient_id(broadcast.id, ada.id)})
    assert row is not None and row["clicked_at"] == first  # the first click only

    [bos_button] = (await message_of(bcore, broadcast, bo))["buttons"]
    assert bos_button["url"] != button["url"]  # each recipient's own link
    assert (await client.get(path_of(bos_button["url"]))).headers["location"] == BUTTON

    read = await client.get(f"/api/v1/broadcasts/{broadcast.id}", headers=auth(token))
    stats = read.json()["stats"]
    assert (stats["sent"], stats["clicked"], stats["click_rate"]) == (3, 2, 0.6667)
    listed = await client.get(f"/api/v1/broadcasts/{broadcast.id}/recipients", headers=auth(token))
    clicked = {r["customer_id"]: r["clicked_at"] for r in listed.json()["items"]}
    assert clicked[cy.id] is None and clicked[ada.id] is not None and clicked[bo.id] is not None


async def test_a_token_not_made_for_a_broadcast_is_refused_and_counts_nothing(
    bcore: Core,
    workspace_id: str,
    people: Callable[..., Any],
    client: httpx.AsyncClient,
) -> None:
    (ada,) = await people(1)
    broadcast = await sent_with_links(bcore, [ada])
    row_id = recipient_id(broadcast.id, ada.id)
    [link] = LINK.findall((await message_of(bcore, broadcast, ada))["text"])
    body, _, mac = path_of(link).removeprefix("/l/b/").partition(".")
    # A sequence's tracked link naming the same row and URL, signed for sequences.
    as_sequence = await sequence_links.link_url(bcore, workspace_id, row_id, SALE)
    sequence_token = path_of(as_sequence).removeprefix("/l/")
    unsubscribe = await make_token(bcore, LinkTarget(workspace_id, ada.id, "api"))
    for bad in (sequence_token, f"{body}.{damaged(mac)}", body, unsubscribe, "x" * 5000):
        answer = await client.get(f"/l/b/{bad}")
        assert answer.status_code == 404 and "location" not in answer.headers, bad
    # The reader gets the tracked links' page, in their language.
    refused = await client.get(f"/l/b/{sequence_token}", headers={"accept-language": "zh-CN"})
    assert refused.status_code == 404 and "链接无效" in refused.text
    assert await recipients(bcore).count_documents({"clicked_at": {"$ne": None}}) == 0
    doc = await bcore.store.collection("broadcasts").find_one({"_id": broadcast.id})
    assert doc is not None and doc["stats"]["clicked"] == 0
