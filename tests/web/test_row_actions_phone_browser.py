"""Regression (QA pass 9, minor 8): at 390 px the list tables' row actions started past the
right edge, in tables scrolling sideways with no hint: Broadcasts (Edit / Send now / Cancel /
Stats, and the name was no way in), Sequences (Activate / Archive), a community's invite
links (Copy); in the bot editor a branch case's fields shrank to about 120 px. On a phone
each row is a labelled card now, every action within the window and reached by Tab, in
English and Chinese; at 1280 px the tables stay tables."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from kith.bots.flows import BotDefinition, StepTypes
from kith.bots.store import save_bot
from kith.broadcasts.actions import do_create_broadcast, do_schedule
from kith.broadcasts.models import BroadcastIn
from kith.communities.demo import CHAT, seed_demo_community
from kith.communities.demo_referrals import seed_demo_referrals
from kith.communities.store import communities
from kith.core.auth import create_user
from kith.core.channel_records import get_channel, update_channel
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.sequences.actions import do_create_sequence
from kith.sequences.models import SequenceIn
from kith.web.app import bot_step_types
from tests.support.browser import needs_chromium
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain
from tests.support.group_admin import install_admin
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(240)]
SYSTEM = Author(kind=AuthorKind.system, name="t")
PHONE = {"width": 390, "height": 844}
BOT = "Sizes"
BRANCHING = {
    "name": BOT,
    "flows": [
        {
            "id": "main",
            "trigger": {"kind": "keyword", "values": ["size"]},
            "steps": [
                {
                    "id": "split",
                    "type": "branch",
                    "cases": [
                        {
                            "when": {"attribute": "size", "equals": "S", "hour_from": 9},
                            "goto": "bye",
                        }
                    ],
                },
                {"id": "bye", "type": "end"},
            ],
        }
    ],
}


async def seed(core: Core, workspace: Workspace) -> None:
    """An admin; a draft broadcast and a scheduled one (every move a row can show); a draft
    sequence; the demo community with an invite link; a bot with a branch."""
    await create_user(core, workspace.id, "admin@kith.test", PASSWORD, role=Role.admin)
    channel, _ = await api_channel(core, workspace.id)
    ada = (await ingest(core, channel, inbound(channel, "ada", "hi"))).conversation.customer_id
    for name, send_at in (("Spring sale", None), ("Autumn sale", timedelta(days=30))):
        body = BroadcastIn.model_validate(
            {"name": name, "message": {"text": {"en": "Hello"}}, "channels": ["api"],
             "customer_ids": [ada], "send_at": core.clock.now() + send_at if send_at else None}
        )  # fmt: skip
        made = await do_create_broadcast(core, workspace.id, body, SYSTEM)
        if send_at:
            await do_schedule(core, made, SYSTEM)
    sequence = {
        "name": "Welcome series",
        "channels": ["api"],
        "steps": [{"id": "hello", "type": "send", "message": {"text": {"en": "Hi"}}}],
    }
    await do_create_sequence(core, workspace.id, SequenceIn.model_validate(sequence))
    community = await seed_demo_community(core, workspace.id)
    telegram = await get_channel(core, workspace.id, community.channel_id)
    await update_channel(
        core,
        workspace.id,
        telegram.id,
        config={**telegram.config, "api_base": "http://127.0.0.1:9"},
    )
    await seed_demo_referrals(core, workspace.id, community.id)
    await drain(core)
    steps = StepTypes(bot_step_types(core.features))
    await save_bot(core, workspace.id, BotDefinition.model_validate(BRANCHING), step_types=steps)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed, prepare=install_admin, reuse_seed=True) as app:
        yield app


# Each page, and what the keyboard starts from (the table's scroll box, or its heading's
# link), the row actions, and the rows' count to wait for.
async def pages(live: Live) -> list[tuple[str, str, str, int]]:
    doc = await communities(live.core).find_one({"title": str(CHAT["title"])})
    assert doc is not None
    return [
        ("/app/broadcasts", "#broadcast-rows", "#broadcast-rows a, #broadcast-rows button", 2),
        ("/app/sequences", "#sequence-rows", "#sequence-rows a, #sequence-rows button", 1),
        (f"/app/communities/{doc['_id']}", "#invite-links tbody", "#invite-links button", 1),
    ]


TABBED = """(selector) => {
  const el = document.activeElement;
  return [...document.querySelectorAll(selector)].indexOf(el);
}"""


async def tab_through(page, rows: str, targets: str) -> None:
    """From the element before the table, Tab reaches every row action in turn."""
    count = await page.locator(targets).count()
    assert count > 0, targets
    # the first tabbable element before the table's first cell: its heading's region or a link
    await page.evaluate(
        """(rows) => {
          const tbody = document.querySelector(rows);
          const all = [...document.querySelectorAll(
            'a[href], button, input, select, textarea, [tabindex="0"]')]
            .filter((el) => !el.disabled && el.offsetParent !== null);
          const before = all.filter((el) =>
            tbody.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING);
          before[before.length - 1].focus();
        }""",
        rows,
    )
    reached: set[int] = set()
    for _ in range(count * 3 + 5):
        await page.keyboard.press("Tab")
        at = await page.evaluate(TABBED, targets)
        if at >= 0:
            reached.add(at)
        if len(reached) == count:
            break
    assert reached == set(range(count)), (targets, sorted(reached), count)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_on_a_phone_every_row_action_is_in_view_and_reached_by_tab(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test", locale=locale)
    await page.set_viewport_size(PHONE)
    await page.clock.install()  # the Broadcasts list refreshes every 5 s: not while tabbing
    for path, rows, targets, n in await pages(live):
        await page.goto(live.url + path)
        await expect(page.locator(rows + " > tr")).to_have_count(n)
        now = await page.evaluate("Date.now()")
        await page.clock.pause_at(datetime.fromtimestamp(now / 1000 + 1, UTC))
        # measured in the page at once (Playwright's own checks wait for frames the paused
        # clock holds back)
        boxes = await page.evaluate(
            "(s) => [...document.querySelectorAll(s)].map((e) => {"
            " const r = e.getBoundingClientRect(); return [r.left, r.right, r.width]; })",
            targets,
        )
        assert boxes, (path, targets)
        for left, right, width in boxes:
            assert width > 0 and 0 <= left and right <= PHONE["width"], (path, boxes)
        # each cell says which column it is, in the page's language
        label = await page.locator(rows + " td[data-label]").first.get_attribute("data-label")
        assert label and label == label.strip(), (path, label)
        scroll = await page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll[0] <= scroll[1], (path, scroll)
        await tab_through(page, rows, targets)
        await page.clock.resume()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_broadcasts_name_opens_it(live: Live, locale: str) -> None:
    """The name is a link, as Chatwoot's and Braze's lists have it: a draft opens in the
    compose form, a scheduled one at its stats."""
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test", locale=locale)
    await page.set_viewport_size(PHONE)
    await page.goto(live.url + "/app/broadcasts")
    await page.get_by_role("link", name="Spring sale", exact=True).focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#compose [name=name]")).to_be_focused()
    await expect(page.locator("#compose [name=name]")).to_have_value("Spring sale")
    await page.get_by_role("link", name="Autumn sale", exact=True).focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#stats")).to_be_visible()
    await expect(page.locator("#stats-heading")).to_contain_text("Autumn sale")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_on_a_phone_a_branch_cases_fields_keep_their_width(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test", locale=locale)
    await page.set_viewport_size(PHONE)
    await page.goto(live.url + "/app/admin/bots")
    await page.get_by_role("button", name=re.compile(re.escape(BOT) + "$")).first.click()
    cases = page.locator('fieldset.be-rows[data-field$=".cases"]')
    await expect(cases).to_have_count(1)
    fields = cases.locator("input[type=text], input[type=number], select")
    assert await fields.count() >= 4
    for i in range(await fields.count()):
        field = fields.nth(i)
        await field.scroll_into_view_if_needed()
        box = await field.bounding_box()
        assert box["x"] + box["width"] <= PHONE["width"], (i, box)
    scroll = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll[0] <= scroll[1], scroll


async def test_on_a_desktop_the_lists_stay_tables(live: Live) -> None:
    """At 1280 px nothing changes: a row's cells side by side, the headings shown."""
    page = await live.sign_in("admin@kith.test")
    await page.set_viewport_size({"width": 1280, "height": 900})
    for path, rows, _, _ in await pages(live):
        await page.goto(live.url + path)
        first = page.locator(rows + " > tr").first
        await first.wait_for()
        assert await first.evaluate("(tr) => getComputedStyle(tr).display") == "table-row"
        thead = page.locator(rows).locator("xpath=..").locator("thead")
        assert await thead.evaluate("(t) => getComputedStyle(t).position") == "static", path
        cells = await first.evaluate(
            "(tr) => [...tr.cells].map((c) => Math.round(c.getBoundingClientRect().top))"
        )
        assert len(set(cells)) == 1, (path, cells)  # one line of cells
