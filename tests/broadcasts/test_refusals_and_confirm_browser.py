"""The Broadcasts page in Chromium, by keyboard, in English and Chinese (QA pass 7):

- minor 7: a draft refused for several fields (a template error, a send time gone by, a
  customer id not found) has every one marked at its control at once (aria-invalid and its
  words beside it), the highest focused; fixing one leaves the others marked;
- minor 10: a draft that would go out at once asks first, naming its reach ("Send “Spring
  sale” to 3 customers now?"): Escape sends nothing, Confirm schedules it; a draft with a
  time ahead says when."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from kith.broadcasts.actions import do_create_broadcast
from kith.broadcasts.models import BroadcastIn
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.ids import new_id
from kith.core.models import Author, AuthorKind, Customer, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.web.inbox.i18n import messages
from tests.support.browser import needs_chromium
from tests.support.cast import api_channel, inbound
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
TEXT = {"en": "Hello {{ customer.name }}", "zh": "你好 {{ customer.name }}"}
SYSTEM = Author(kind=AuthorKind.system, name="t")


async def seed(core: Core, workspace: Workspace) -> None:
    """Mary the marketer; Ada, who wrote on the API channel, and two contacts; a draft to the
    three of them to send when scheduled, and one for tomorrow."""
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, role=Role.marketer)
    channel, _ = await api_channel(core, workspace.id)
    ada = (await ingest(core, channel, inbound(channel, "ada", "hi"))).conversation.customer_id
    ids = [ada]
    for name in ("Wu Song", "Zhao Liu"):
        contact = Customer(
            id=new_id(), workspace_id=workspace.id, name=name, first_seen=core.clock.now()
        )
        await core.store.customers.insert_one(contact.to_doc())
        ids.append(contact.id)
    for name, send_at in (("Spring sale", None), ("Autumn sale", timedelta(days=1))):
        body = BroadcastIn.model_validate(
            {"name": name, "message": {"text": TEXT}, "channels": ["api"], "customer_ids": ids,
             "send_at": core.clock.now() + send_at if send_at else None}
        )  # fmt: skip
        await do_create_broadcast(core, workspace.id, body, SYSTEM)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_every_refused_field_is_marked_at_once(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/broadcasts")
    form = page.get_by_role("form", name=t["broadcasts_compose"])
    ids = form.get_by_label(t["broadcasts_customer_ids"])
    text = form.get_by_label(t["broadcasts_text_en"])
    send_at = form.get_by_label(t["broadcasts_send_at"])
    await form.get_by_label(t["broadcasts_name"], exact=True).fill("QA")
    await ids.fill("nobody-1")
    await text.fill("Hi {{ customer.name }")
    await send_at.fill("2020-01-02T09:00")
    await send_at.press("Enter")

    await expect(ids).to_be_focused()  # the highest of the three
    for control in (ids, text, send_at):
        await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(form.locator("#compose-error")).to_have_text(t["broadcasts_errors_at"].format(n=3))
    unknown = t["broadcasts_refused_unknown_customer"].format(id="nobody-1")
    await expect(form.locator("#customers-error")).to_have_text(unknown)
    await expect(form.locator("#text-en-error")).to_contain_text(
        t["reason_template_unexpected"].split("{token}")[0] + "}”"
    )
    passed = t["broadcasts_refused_send_at_passed"]
    await expect(form.locator("#send-at-error")).to_have_text(passed)
    await expect(send_at).to_have_accessible_description(passed)

    # The template fixed, by keyboard from where the focus is: the other two stay marked.
    await page.keyboard.press("Tab")
    await expect(text).to_be_focused()
    await text.fill("Hi {{ customer.name }}")
    await form.get_by_label(t["broadcasts_name"], exact=True).press("Enter")
    await expect(ids).to_be_focused()
    await expect(text).not_to_have_attribute("aria-invalid", "true")
    await expect(form.locator("#text-en-error")).to_have_text("")
    await expect(send_at).to_have_attribute("aria-invalid", "true")
    await expect(form.locator("[aria-invalid=true]")).to_have_count(2)
    assert await live.core.store.collection("broadcasts").count_documents({}) == 2  # the seed's


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_send_asks_first_naming_its_reach(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/broadcasts")
    table = page.get_by_role("table", name=t["broadcasts_list"])
    spring = table.get_by_role("row", name="Spring sale")
    send_now = t["broadcasts_do_send_now"] + t["colon"] + "Spring sale"
    send = spring.get_by_role("button", name=send_now, exact=True)
    dialog = page.get_by_role("dialog")
    reach = t["broadcasts_reach_customers"].format(n=3)
    asked = t["broadcasts_confirm_now"].format(name="Spring sale", reach=reach)

    await send.focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_have_accessible_name(asked)
    await page.keyboard.press("Escape")  # nothing is sent
    await expect(dialog).to_be_hidden()
    await expect(spring).to_contain_text(t["broadcasts_state_draft"])
    doc = await live.core.store.collection("broadcasts").find_one({"name": "Spring sale"})
    assert doc is not None and doc["status"] == "draft"

    await send.focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_have_accessible_name(asked)
    await dialog.get_by_role("button", name=t["confirm"]).focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(spring).not_to_contain_text(t["broadcasts_state_draft"])
    doc = await live.core.store.collection("broadcasts").find_one({"name": "Spring sale"})
    assert doc is not None and doc["status"] != "draft"

    # A time ahead: "Schedule", and the question says when.
    autumn = table.get_by_role("row", name="Autumn sale")
    schedule = t["broadcasts_do_schedule"] + t["colon"] + "Autumn sale"
    await autumn.get_by_role("button", name=schedule, exact=True).press("Enter")
    words = t["broadcasts_confirm_at"].replace("{name}", "Autumn sale").replace("{reach}", reach)
    before, after = words.split("{when}")
    await expect(dialog).to_have_accessible_name(
        re.compile(f"^{re.escape(before)}.+{re.escape(after)}$")
    )
    await page.keyboard.press("Escape")
    doc = await live.core.store.collection("broadcasts").find_one({"name": "Autumn sale"})
    assert doc is not None and doc["status"] == "draft"
