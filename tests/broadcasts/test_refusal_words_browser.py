"""The Broadcasts page in Chromium, by keyboard, in English and Chinese (QA pass 12):

- an audience of customers with no segment and no ids is refused in words about customers,
  not "Pick at least one community";
- a send-by time before the send time, and no channel ticked, are refused in the page's
  language at their fields, not in the API's English with its field names;
- a field emptied after a refusal is refused anew at its field in the page's words, and the
  old words go: the form leaves its checks to the page (`novalidate`), so the browser's own
  `required` check no longer stops the send before the page clears them;
- each row button is named with the broadcast it acts on ("Edit: Spring sale"), keeping its
  visible words and its `data-action`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from kith.broadcasts.actions import do_create_broadcast
from kith.broadcasts.models import BroadcastIn
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.web.inbox.i18n import messages
from tests.support.browser import needs_chromium
from tests.support.cast import api_channel, inbound
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
SYSTEM = Author(kind=AuthorKind.system, name="t")
LOCALES = ["en-US", "zh-CN"]


async def seed(core: Core, workspace: Workspace) -> None:
    """Mary the marketer; Ada, who wrote on the API channel; a draft to her to send when
    scheduled, one for tomorrow, and one stored with a blank name (before names were checked)."""
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, role=Role.marketer)
    channel, _ = await api_channel(core, workspace.id)
    ada = (await ingest(core, channel, inbound(channel, "ada", "hi"))).conversation.customer_id
    for name, send_at in (("Spring sale", None), ("Autumn sale", timedelta(days=1)), ("-", None)):
        body = BroadcastIn.model_validate(
            {"name": name, "message": {"text": {"en": "Hello"}}, "channels": ["api"],
             "customer_ids": [ada], "send_at": core.clock.now() + send_at if send_at else None}
        )  # fmt: skip
        await do_create_broadcast(core, workspace.id, body, SYSTEM)
    await core.store.collection("broadcasts").update_one({"name": "-"}, {"$set": {"name": " "}})


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def ada_id(live: Live) -> str:
    doc = await live.core.store.customers.find_one({})
    assert doc is not None
    return str(doc["_id"])


async def compose_form(live: Live, locale: str) -> Any:
    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/broadcasts")
    return page.get_by_role("form", name=t["broadcasts_compose"])


@pytest.mark.parametrize("locale", LOCALES)
async def test_no_customers_is_worded_for_customers(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    form = await compose_form(live, locale)
    ids = form.get_by_label(t["broadcasts_customer_ids"])
    await form.get_by_label(t["broadcasts_name"], exact=True).fill("QA")
    await form.get_by_label(t["broadcasts_text_en"]).fill("Hi")
    await form.get_by_label(t["broadcasts_name"], exact=True).press("Enter")

    words = t["broadcasts_refused_customer_ids_too_short"]
    await expect(ids).to_be_focused()
    await expect(ids).to_have_attribute("aria-invalid", "true")
    await expect(form.locator("#customers-error")).to_have_text(words)
    await expect(ids).to_have_accessible_description(words)
    said = t["broadcasts_refused_field"].format(field=t["broadcasts_field_customer_ids"], why=words)
    await expect(form.locator("#compose-error")).to_have_text(said)
    await expect(form).not_to_contain_text(t["broadcasts_refused_community_ids_too_short"])


@pytest.mark.parametrize("locale", LOCALES)
async def test_times_and_channels_are_refused_in_the_pages_words(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    form = await compose_form(live, locale)
    group = form.get_by_role("group", name=t["broadcasts_channels"])
    channels = group.get_by_role("checkbox").first  # the field's mark is on its first box
    send_by = form.get_by_label(t["broadcasts_send_by"])
    name = form.get_by_label(t["broadcasts_name"], exact=True)
    await name.fill("QA")
    await form.get_by_label(t["broadcasts_customer_ids"]).fill(await ada_id(live))
    await form.get_by_label(t["broadcasts_text_en"]).fill("Hi")
    for box in await group.get_by_role("checkbox").all():
        await box.uncheck()
    await form.get_by_label(t["broadcasts_send_at"]).fill("2030-01-02T09:00")
    await send_by.fill("2030-01-01T09:00")
    await send_by.press("Enter")

    await expect(channels).to_be_focused()  # the higher of the two
    none = t["broadcasts_refused_no_channels"]  # no channel ticked
    await expect(form.locator("#channels-error")).to_have_text(none)
    await expect(channels).to_have_accessible_description(none)
    late = t["broadcasts_refused_send_by_not_after_send_at"]
    await expect(form.locator("#send-by-error")).to_have_text(late)
    await expect(send_by).to_have_accessible_description(late)
    await expect(form.locator("#compose-error")).to_have_text(t["broadcasts_errors_at"].format(n=2))
    await expect(form).not_to_contain_text(re.compile("send_by|send_at|channel type"))

    # The time fixed: only the channels stay refused, and the banner names them.
    await send_by.fill("2030-01-03T09:00")
    await send_by.press("Enter")
    await expect(form.locator("#send-by-error")).to_have_text("")
    await expect(send_by).not_to_have_attribute("aria-invalid", "true")
    said = t["broadcasts_refused_field"].format(field=t["broadcasts_field_channels"], why=none)
    await expect(form.locator("#compose-error")).to_have_text(said)


@pytest.mark.parametrize("locale", LOCALES)
async def test_an_emptied_field_is_refused_anew(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    form = await compose_form(live, locale)
    name = form.get_by_label(t["broadcasts_name"], exact=True)
    group = form.get_by_role("group", name=t["broadcasts_channels"])
    channels = group.get_by_role("checkbox").first  # the field's mark is on its first box
    ids = form.get_by_label(t["broadcasts_customer_ids"])
    await name.fill("QA")
    await ids.fill("nobody-1")
    await form.get_by_label(t["broadcasts_text_en"]).fill("Hi")
    await name.press("Enter")
    unknown = t["broadcasts_refused_unknown_customer"].format(id="nobody-1")
    await expect(form.locator("#customers-error")).to_have_text(unknown)

    # The name emptied and no channel ticked: each refused at its field, the customers' old
    # words gone once they are fixed.
    await ids.fill(await ada_id(live))
    for box in await group.get_by_role("checkbox").all():
        await box.uncheck()
    await name.fill("")
    await name.press("Enter")
    none = t["broadcasts_refused_no_channels"]
    await expect(form.locator("#channels-error")).to_have_text(none)
    await expect(channels).to_have_accessible_description(none)
    await expect(form.locator("#name-error")).to_have_text(t["reason_blank"])
    await expect(name).to_be_focused()
    await expect(form).not_to_contain_text("nobody-1")
    assert await live.core.store.collection("broadcasts").count_documents({}) == 3  # the seed's


@pytest.mark.parametrize("locale", LOCALES)
async def test_row_buttons_name_their_broadcast(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/broadcasts")
    table = page.get_by_role("table", name=t["broadcasts_list"])
    for named, move in (
        ("Spring sale", "broadcasts_do_send_now"),
        ("Autumn sale", "broadcasts_do_schedule"),
        (t["broadcasts_unnamed"], "broadcasts_do_send_now"),
    ):
        link = page.get_by_role("link", name=named, exact=True)
        row = table.locator("tr[data-id]").filter(has=link)
        for action, words in (
            ("edit", t["broadcasts_do_edit"]),
            ("schedule", t[move]),
            ("cancel", t["broadcasts_do_cancel"]),
            ("open", t["broadcasts_open"]),
        ):
            button = row.get_by_role("button", name=words + t["colon"] + named, exact=True)
            await expect(button).to_have_text(words)
            await expect(button).to_have_attribute("data-action", action)
    labels = await table.locator("button").evaluate_all("(all) => all.map((b) => b.ariaLabel)")
    assert len(labels) == 12 and len(set(labels)) == 12, labels
