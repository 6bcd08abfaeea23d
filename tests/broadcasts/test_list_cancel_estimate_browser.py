"""The Broadcasts page in Chromium, in English and Chinese (QA probe of the demo):

- bug 1: Cancel asks first, naming the broadcast; declined (Escape or the dialog's Cancel),
  nothing changes and focus is back on the row's button; confirmed, it is cancelled;
- bug 2: at 1366 and 1280 px no heading, state or figure of the list breaks inside a word,
  the table fits its box, and the row's buttons stay in view; at 390 px each row is a card;
- bug 3: the reach estimate's refusal goes once its field is edited, or at the next save;
- bug 4: a scheduled row says when it goes out (a <time>, as every page writes a moment), and
  "Send now" says the broadcast was sent to the queue, not "Scheduled";
- the channels are checkboxes of the workspace's enabled channel types (not free text
  defaulting to types it lacks), all ticked at first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from kith.broadcasts.actions import do_create_broadcast, do_schedule
from kith.broadcasts.models import BroadcastIn
from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.ids import new_id
from kith.core.models import Author, AuthorKind, Channel, Customer, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.segments.records import do_create_segment
from kith.web.inbox.i18n import messages
from tests.support.browser import needs_chromium
from tests.support.cast import api_channel, inbound
from tests.support.pages import Live, live_app, poll_page
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
TEXT = {"en": "Hello {{ customer.name }}", "zh": "你好 {{ customer.name }}"}
SYSTEM = Author(kind=AuthorKind.system, name="t")
LOCALES = ["en-US", "zh-CN"]
LONG_NAME = "Weekend offer for members in Shanghai and Beijing · 上海会员周末特惠"
LONG_SEGMENT = "VIP customers in 上海 who ordered twice this year"


async def seed(core: Core, workspace: Workspace) -> None:
    """Mary the marketer; Ada (on the API channel) and two contacts; "Spring sale", a draft to
    send when scheduled; "Autumn sale", scheduled for tomorrow."""
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, role=Role.marketer)
    channel, _ = await api_channel(core, workspace.id)
    await create_channel(core, workspace.id, "webchat", "Site chat", {})
    # A Telegram bot switched off: no broadcast goes out on it, so none is offered.
    off = Channel(
        id=new_id(), workspace_id=workspace.id, type="telegram", name="Old bot",
        enabled=False, created_at=core.clock.now(),
    )  # fmt: skip
    await core.store.channels.insert_one(off.to_doc())
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
        made = await do_create_broadcast(core, workspace.id, body, SYSTEM)
        if send_at:
            await do_schedule(core, made, SYSTEM)
    # Names as long as real ones (the demo's): the columns must share the width.
    segment = await do_create_segment(
        core, workspace.id, LONG_SEGMENT, {"field": "tags", "op": "contains", "value": "vip"}
    )
    body = BroadcastIn.model_validate(
        {"name": LONG_NAME, "message": {"text": TEXT}, "channels": ["api"],
         "segment_id": segment.id}
    )  # fmt: skip
    await do_create_broadcast(core, workspace.id, body, SYSTEM)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def status_of(live: Live, name: str) -> str:
    doc = await live.core.store.collection("broadcasts").find_one({"name": name})
    assert doc is not None
    return str(doc["status"])


@pytest.mark.parametrize("locale", LOCALES)
async def test_cancel_asks_first_naming_the_broadcast(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/broadcasts")
    table = page.get_by_role("table", name=t["broadcasts_list"])
    spring = table.get_by_role("row", name="Spring sale")
    cancel = spring.get_by_role(
        "button", name=t["broadcasts_do_cancel"] + t["colon"] + "Spring sale", exact=True
    )
    dialog = page.get_by_role("dialog")
    asked = t["broadcasts_confirm_cancel"].format(name="Spring sale")

    await cancel.click()
    await expect(dialog).to_be_visible()
    await expect(dialog).to_have_accessible_name(asked)
    # Worded for the question: "Cancel" would be ambiguous under "Cancel the broadcast?"
    await expect(dialog.get_by_role("button", name=t["broadcasts_cancel_keep"])).to_be_focused()
    await page.keyboard.press("Enter")  # Keep it, focused: declined
    await expect(dialog).to_be_hidden()
    await expect(cancel).to_be_focused()
    await expect(spring).to_contain_text(t["broadcasts_state_draft"])
    assert await status_of(live, "Spring sale") == "draft"

    await page.keyboard.press("Enter")  # asked again, from the row's button
    await expect(dialog).to_have_accessible_name(asked)
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(cancel).to_be_focused()
    assert await status_of(live, "Spring sale") == "draft"

    send_now = t["broadcasts_do_send_now"] + t["colon"] + "Spring sale"
    send = spring.get_by_role("button", name=send_now, exact=True)
    await send.click()  # another question: the dialog's own words again
    await expect(dialog.get_by_role("button", name=t["cancel"], exact=True)).to_be_focused()
    await expect(dialog.get_by_role("button", name=t["confirm"], exact=True)).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()

    await cancel.click()
    await dialog.get_by_role("button", name=t["broadcasts_cancel_yes"]).click()
    await expect(dialog).to_be_hidden()
    await expect(spring).to_contain_text(t["broadcasts_state_cancelled"])
    assert await status_of(live, "Spring sale") == "cancelled"


# Each heading, state, figure and button text of the list laid out on more than one line, or
# cut: the line boxes of each of its text nodes are counted (a word broken in two makes two).
WRAPPED = """() => {
  const table = document.getElementById("broadcast-rows").closest("table");
  if (!table.tBodies[0].rows.length) return null;
  const cells = [...table.querySelectorAll("thead th, tbody td:nth-child(n+3), tbody button")]
    .filter((el) => !el.querySelector("button"));
  const broken = (el) => {
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const tops = [...range.getClientRects()].filter((r) => r.width > 0)
        .map((r) => Math.round(r.top));
      if (new Set(tops).size > 1) return true;
    }
    return el.scrollWidth > el.clientWidth + 1;
  };
  const bad = cells.filter(broken).map((el) => el.textContent.trim());
  const box = table.closest(".table-scroll");
  return { bad, overflow: box.scrollWidth > box.clientWidth + 1, cells: cells.length };
}"""


@pytest.mark.parametrize("locale", LOCALES)
async def test_the_list_reads_whole_words_at_laptop_widths(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    for width in (1366, 1280):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.goto(live.url + "/app/broadcasts")
        table = page.get_by_role("table", name=t["broadcasts_list"])
        await expect(table.get_by_role("row", name="Autumn sale")).to_be_visible()
        seen = await poll_page(page, WRAPPED)
        assert isinstance(seen, dict), seen
        assert seen["cells"] > 20
        assert seen["bad"] == [], (width, seen)
        assert not seen["overflow"], (width, seen)
        figure = table.locator("tbody td:nth-child(4)").first
        assert await figure.evaluate("(el) => getComputedStyle(el).textAlign") == "right"

    # A phone: each row is a card, its buttons in view.
    await page.set_viewport_size({"width": 390, "height": 844})
    spring = page.get_by_role("row", name="Spring sale")
    assert await spring.evaluate("(el) => getComputedStyle(el).display") == "block"
    for button in await spring.get_by_role("button").all():
        await expect(button).to_be_in_viewport()
    assert await page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_stale_estimate_refusal_goes(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/broadcasts")
    form = page.get_by_role("form", name=t["broadcasts_compose"])
    channels = form.get_by_role("group", name=t["broadcasts_channels"])
    boxes = channels.get_by_role("checkbox")
    estimate = form.locator("#compose-estimate .estimate")
    refused = t["broadcasts_refused_field"].format(
        field=t["broadcasts_field_channels"], why=t["broadcasts_refused_channels_too_short"]
    )
    ids = await live.core.store.customers.distinct("_id")

    async def untick_all() -> None:
        for box in await boxes.all():
            await box.uncheck()

    await form.get_by_label(t["broadcasts_name"], exact=True).fill("QA")
    await form.get_by_label(t["broadcasts_customer_ids"]).fill(", ".join(ids))
    await untick_all()
    await form.get_by_role("button", name=t["broadcasts_estimate_do"]).click()
    await expect(estimate).to_have_text(refused)

    # Corrected (the field edited), then saved while the template is still wrong: the
    # estimate's refusal of the channels is gone, the template's refusal is shown.
    await channels.get_by_role("checkbox", name=t["channel_type_api"]).check()
    await expect(estimate).to_have_text("")
    await form.get_by_label(t["broadcasts_text_en"]).fill("Hi {{ customer.name }")
    await form.get_by_role("button", name=t["broadcasts_save"]).click()
    await expect(form.get_by_label(t["broadcasts_text_en"])).to_have_attribute(
        "aria-invalid", "true"
    )
    await expect(estimate).to_have_text("")
    await expect(form).not_to_contain_text(t["broadcasts_refused_channels_too_short"])

    # Refused again by an estimate, then a save (a new attempt) with the channels still
    # unticked: the save's own mark says it, the estimate's stale words go.
    await untick_all()
    await form.get_by_role("button", name=t["broadcasts_estimate_do"]).click()
    await expect(estimate).to_have_text(refused)
    await form.get_by_role("button", name=t["broadcasts_save"]).click()
    await expect(boxes.first).to_have_attribute("aria-invalid", "true")
    await expect(form.locator("#channels-error")).to_have_text(t["broadcasts_refused_no_channels"])
    await expect(estimate).to_have_text("")
    # Editing a field the save refused takes its mark away; the others stay.
    await form.get_by_label(t["broadcasts_text_en"]).fill("Hi {{ customer.name }}")
    await expect(form.get_by_label(t["broadcasts_text_en"])).not_to_have_attribute(
        "aria-invalid", "true"
    )
    await expect(boxes.first).to_have_attribute("aria-invalid", "true")
    await boxes.last.check()
    await expect(form.locator("[aria-invalid=true]")).to_have_count(0)
    await expect(form.locator("#channels-error")).to_have_text("")
    assert await live.core.store.collection("broadcasts").count_documents({}) == 3


@pytest.mark.parametrize("locale", LOCALES)
async def test_the_channels_offered_are_the_workspaces(live: Live, locale: str) -> None:
    """Checkboxes of the workspace's enabled channel types, all ticked, in the order a
    customer is tried on them; the draft saved sends on the ticked ones (the API as before);
    a draft's type the workspace lacks is offered, ticked and said so, when it is edited."""
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/broadcasts")
    form = page.get_by_role("form", name=t["broadcasts_compose"])
    channels = form.get_by_role("group", name=t["broadcasts_channels"])
    boxes = channels.get_by_role("checkbox")
    offered = [t["channel_type_webchat"], t["channel_type_api"]]  # no Telegram (disabled)
    await expect(channels.locator("label")).to_have_text(offered)
    for box in await boxes.all():
        await expect(box).to_be_checked()
    await expect(form).not_to_contain_text("wechat")

    await form.get_by_label(t["broadcasts_name"], exact=True).fill("Ticked")
    ids = await live.core.store.customers.distinct("_id")
    await form.get_by_label(t["broadcasts_customer_ids"]).fill(ids[0])
    await form.get_by_label(t["broadcasts_text_en"]).fill("Hi")
    await form.get_by_role("button", name=t["broadcasts_save"]).click()
    table = page.get_by_role("table", name=t["broadcasts_list"])
    await expect(table.get_by_role("row", name="Ticked")).to_be_visible()
    doc = await live.core.store.collection("broadcasts").find_one({"name": "Ticked"})
    assert doc is not None and doc["channels"] == ["webchat", "api"]

    # A draft on WeChat, which the workspace does not have: offered while editing, then gone.
    await live.core.store.collection("broadcasts").update_one(
        {"_id": doc["_id"]}, {"$set": {"channels": ["wechat", "api"]}}
    )
    await page.reload()
    row = page.get_by_role("table", name=t["broadcasts_list"]).get_by_role("row", name="Ticked")
    await row.get_by_role("button", name=t["broadcasts_do_edit"] + t["colon"] + "Ticked").click()
    wechat = t["broadcasts_channel_not_here"].format(name=t["channel_type_wechat"])
    await expect(channels.get_by_role("checkbox", name=wechat)).to_be_checked()
    await expect(channels.get_by_role("checkbox", name=t["channel_type_api"])).to_be_checked()
    await expect(
        channels.get_by_role("checkbox", name=t["channel_type_webchat"])
    ).not_to_be_checked()
    await form.get_by_role("button", name=t["broadcasts_edit_stop"]).click()
    await expect(boxes).to_have_count(2)
    for box in await boxes.all():
        await expect(box).to_be_checked()


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_scheduled_row_says_when_and_send_now_says_queued(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/broadcasts")
    table = page.get_by_role("table", name=t["broadcasts_list"])
    autumn = table.get_by_role("row", name="Autumn sale")
    doc = await live.core.store.collection("broadcasts").find_one({"name": "Autumn sale"})
    assert doc is not None and doc["status"] == "scheduled"
    moment = autumn.locator("td:nth-child(3) time")
    await expect(moment).to_have_count(1)
    at = await moment.get_attribute("datetime")
    assert at is not None
    written = await page.evaluate("(iso) => window.KithDom.dateTime(iso)", at)
    year = str(doc["send_at"].year)
    assert year in written
    await expect(moment).to_have_text(written)
    await expect(autumn.locator("td:nth-child(3)")).to_contain_text(t["broadcasts_state_scheduled"])
    # Not a draft's row: no time.
    spring = table.get_by_role("row", name="Spring sale")
    await expect(spring.locator("td:nth-child(3) time")).to_have_count(0)

    send_now = t["broadcasts_do_send_now"] + t["colon"] + "Spring sale"
    await spring.get_by_role("button", name=send_now, exact=True).click()
    await page.get_by_role("dialog").get_by_role("button", name=t["confirm"]).click()
    notice = page.locator("#notice")
    await expect(notice).to_have_text("Spring sale" + t["colon"] + t["broadcasts_queued_now"])
    await expect(notice).not_to_contain_text(t["broadcasts_state_scheduled"])
