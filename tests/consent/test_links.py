"""Unsubscribe links: marketing mail carries RFC 8058 headers and a footer link (service mail
does not); the link's page and its one-click POST (idempotent, no login); after it, the
outbox holds back marketing mail and still sends service mail. Forged and revoked links:
tests/security/test_unsubscribe_links.py."""

from __future__ import annotations

import re

from kith.consent.links import LinkTarget, make_token, read_token
from kith.core.customers import do_erase_customer, do_merge_customers
from kith.core.models import Author, AuthorKind, ConsentState, OutboundContent, Purpose
from kith.core.outbox import OutboxWorker, send
from kith.core.received import Received
from tests.consent.conftest import Shop, Smtp

MARKETER = Author(kind=AuthorKind.system, name="broadcast")
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


async def mail_customer(shop: Shop, smtp: Smtp) -> Received:
    channel = await shop.email_channel(smtp)
    return await shop.says("Hello shop", user="ada@example.com", channel=channel)


async def deliver(shop: Shop, received: Received, text: str, purpose: Purpose) -> dict:
    content = OutboundContent(text=text, purpose=purpose)
    message = await send(shop.core, received.conversation, content, MARKETER)
    await OutboxWorker(shop.core).run_once()
    doc = await shop.core.store.messages.find_one({"_id": message.id})
    assert doc is not None
    return dict(doc)


def link_path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


async def test_marketing_mail_carries_one_click_headers_and_a_footer(
    shop: Shop, smtp: Smtp
) -> None:
    received = await mail_customer(shop, smtp)
    await deliver(shop, received, "Our spring sale", Purpose.marketing)
    await deliver(shop, received, "Your order shipped", Purpose.service)
    marketing, service = smtp.mails
    header = str(marketing["List-Unsubscribe"])
    [url] = re.findall(r"^<(http://127\.0\.0\.1:8000/u/[A-Za-z0-9_\-.]+)>$", header)
    assert marketing["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in marketing.get_content()
    assert "List-Unsubscribe" not in service and "/u/" not in service.get_content()
    target = await read_token(shop.core, link_path(url).removeprefix("/u/"))
    assert target == LinkTarget(shop.workspace_id, received.message.customer_id, "email")


async def test_one_click_unsubscribes_and_the_outbox_then_holds_marketing_back(
    shop: Shop, smtp: Smtp
) -> None:
    received = await mail_customer(shop, smtp)
    await deliver(shop, received, "Our spring sale", Purpose.marketing)
    url = str(smtp.mails[0]["List-Unsubscribe"]).strip("<>")
    page = await shop.http.get(link_path(url))
    assert page.status_code == 200 and 'name="List-Unsubscribe"' in page.text
    customer = await shop.customer(received.message.customer_id)
    assert "email" not in customer.consent  # looking is not unsubscribing
    for _ in range(2):  # a provider's one-click, then the customer's own click: idempotent
        answer = await shop.http.post(link_path(url), data=ONE_CLICK)
        assert answer.status_code == 200
    customer = await shop.customer(received.message.customer_id)
    assert customer.consent["email"].state == ConsentState.revoked
    assert customer.consent["email"].via == "link"
    [changed] = await shop.events("consent.changed")
    assert changed.data == {
        "channel_type": "email",
        "from": "unknown",
        "to": "revoked",
        "via": "link",
    }

    held = await deliver(shop, received, "Summer sale", Purpose.marketing)
    assert held["delivery"]["status"] == "skipped"
    assert held["delivery"]["error"] == "no_consent"
    [skipped] = await shop.events("message.skipped")
    assert skipped.message_id == held["_id"] and skipped.data == {"reason": "no_consent"}
    sent = await deliver(shop, received, "Your refund is on its way", Purpose.service)
    assert sent["delivery"]["status"] == "sent"
    assert len(smtp.mails) == 2


async def test_a_link_follows_a_merge_and_survives_an_erasure(shop: Shop) -> None:
    first = await shop.says("hi", user="u-1")
    second = await shop.says("hi", user="u-2")
    target = LinkTarget(shop.workspace_id, second.message.customer_id, "email")
    token = await make_token(shop.core, target)
    survivor = first.message.customer_id
    await do_merge_customers(shop.core, shop.workspace_id, survivor, second.message.customer_id)
    assert (await shop.http.post(f"/u/{token}", data=ONE_CLICK)).status_code == 200
    assert (await shop.customer(survivor)).consent["email"].state == ConsentState.revoked
    await do_erase_customer(shop.core, shop.workspace_id, survivor)
    assert (await shop.http.post(f"/u/{token}", data=ONE_CLICK)).status_code == 200


async def test_the_page_speaks_chinese(shop: Shop) -> None:
    received = await shop.says("hi")
    target = LinkTarget(shop.workspace_id, received.message.customer_id, "email")
    token = await make_token(shop.core, target)
    page = await shop.http.get(f"/u/{token}", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-Hans">' in page.text and "退订" in page.text
    done = await shop.http.post(f"/u/{token}?lang=zh", data=ONE_CLICK)
    assert "您已退订" in done.text
