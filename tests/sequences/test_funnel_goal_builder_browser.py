"""A sequence's page in Chromium, in English and Chinese, by keyboard (QA pass 5, minors
15-17): the funnel table lists every step in step order, zeros where nobody has been yet;
the goal "entering a segment" is a picker by name, kept when saved; after "Add step" the
type goes back to Send and the page says which step was added."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.segments.records import do_create_segment
from kith.sequences.actions import do_create_sequence
from kith.sequences.models import SequenceIn
from kith.sequences.store import get_sequence
from kith.web.inbox.i18n import messages
from tests.sequences.test_stats_whole import STEPS
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

SEGMENT = "VIP in 上海"
SIZE_OPENS = {"en": " (", "zh": "（"}  # a segment's size after its name, in the page's punctuation


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, role=Role.marketer)
    await do_create_segment(
        core, workspace.id, "Newsletter", {"field": "tags", "op": "contains", "value": "news"}
    )
    await do_create_segment(
        core, workspace.id, SEGMENT, {"field": "tags", "op": "contains", "value": "vip"}
    )
    body = SequenceIn.model_validate({"name": "Nurture", "channels": ["api"], "steps": STEPS})
    await do_create_sequence(core, workspace.id, body)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_funnel_goal_picker_and_step_type_reset(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    doc = await live.core.store.collection("sequences").find_one({})
    assert doc is not None
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(f"{live.url}/app/sequences/{doc['_id']}")

    # The funnel: every step, in the order built (not alphabetical), none reached yet.
    table = page.get_by_role("table", name=t["sequences_funnel_table"])
    rows = table.locator("tbody tr")
    await expect(rows).to_have_count(len(STEPS))
    for n, step in enumerate(STEPS):
        kind = t["sequences_type_" + step["type"]]
        said = t["sequences_step_typed"].format(label=step["id"], type=kind)
        # A send's figures are zeros; a wait or an end counts nothing, and says so once, in
        # its header, to screen readers (QA pass 7): its cells are a quiet "—".
        note = "" if step["type"] == "send" else t["sequences_counts_nothing"]
        await expect(rows.nth(n).locator("th")).to_have_text(f"{n + 1}. {said}{note}")
        await expect(rows.nth(n).locator("td").first).to_have_text(
            "0" if step["type"] == "send" else "—"
        )

    # The goal: a segment picked by name, by keyboard; the tag box is not in the way.
    kind = page.get_by_label(t["sequences_goal_kind"])
    await kind.focus()
    await kind.select_option("segment_id")
    picker = page.get_by_label(t["sequences_goal_segment_pick"])
    await expect(picker).to_be_visible()
    await expect(page.get_by_label(t["sequences_goal_value"])).to_be_hidden()
    await page.keyboard.press("Tab")
    await expect(picker).to_be_focused()
    await expect(picker.locator("option")).to_have_text(
        [
            t["sequences_goal_segment_choose"],
            re.compile("^Newsletter" + re.escape(SIZE_OPENS[locale[:2]])),
            re.compile(f"^{SEGMENT}" + re.escape(SIZE_OPENS[locale[:2]])),
        ]
    )  # by name, with the size, as Enrol → Segment lists them
    segment = await live.core.store.collection("segments").find_one({"name": SEGMENT})
    assert segment is not None
    await picker.select_option(segment["_id"])
    await assert_every_control_is_named(page)

    # A new step: the type goes back to Send, and the live region says what was added.
    chooser = page.get_by_label(t["sequences_step_type"])
    await chooser.focus()
    await chooser.select_option("wait")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    steps = page.locator("#steps > li")
    await expect(steps).to_have_count(len(STEPS) + 1)
    await expect(steps.last.get_by_label(t["sequences_step_id"])).to_be_focused()
    await expect(steps.last.get_by_label(t["sequences_step_id"])).to_have_value("wait-1")
    await expect(chooser).to_have_value("send")
    said = t["sequences_step_added"].format(
        n=len(STEPS) + 1, type=t["sequences_type_wait"], id="wait-1"
    )
    await expect(page.locator("#notice")).to_have_text(said)  # role=status: read out
    await steps.last.get_by_role("button", name=t["sequences_remove"]).press("Enter")
    await expect(steps).to_have_count(len(STEPS))

    await page.get_by_role("button", name=t["sequences_save"], exact=True).press("Enter")
    await expect(page.locator("#sequence-version")).to_have_text("1")
    await expect(page.locator("#notice")).to_contain_text(t["sequences_saved"])
    sequence = await get_sequence(live.core, doc["workspace_id"], doc["_id"])
    assert sequence.goal is not None
    assert sequence.goal.segment_id == segment["_id"]
    await page.reload()
    await expect(page.get_by_label(t["sequences_goal_segment_pick"])).to_have_value(segment["_id"])


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_segment_trigger_picks_its_segment_by_name(live: Live, locale: str) -> None:
    """QA (pass 5): "segment entered" asked for a raw segment id, as the goal did."""
    from playwright.async_api import expect

    t = messages(locale[:2])
    doc = await live.core.store.collection("sequences").find_one({})
    assert doc is not None
    segment = await live.core.store.collection("segments").find_one({"name": SEGMENT})
    assert segment is not None
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(f"{live.url}/app/sequences/{doc['_id']}")
    await page.get_by_role("button", name=t["sequences_add_trigger"]).press("Enter")
    kind = page.get_by_label(t["sequences_trigger_kind"], exact=True)
    await expect(kind).to_be_focused()
    await expect(kind).to_have_value("segment_entered")
    picker = page.get_by_label(t["sequences_trigger_segment"], exact=True)
    await expect(picker.locator("option")).to_have_text(
        [
            t["sequences_goal_segment_choose"],
            re.compile("^Newsletter" + re.escape(SIZE_OPENS[locale[:2]])),
            re.compile(f"^{SEGMENT}" + re.escape(SIZE_OPENS[locale[:2]])),
        ]
    )
    await page.keyboard.press("Tab")
    await expect(picker).to_be_focused()
    await picker.select_option(segment["_id"])
    await kind.select_option("tag_added")  # another kind types its value
    await expect(page.get_by_label(t["sequences_trigger_value"], exact=True)).to_have_value("")
    await expect(kind).to_be_focused()
    await kind.select_option("segment_entered")
    await picker.select_option(segment["_id"])
    await assert_every_control_is_named(page)

    await page.get_by_role("button", name=t["sequences_save"], exact=True).press("Enter")
    await expect(page.locator("#notice")).to_contain_text(t["sequences_saved"])
    sequence = await get_sequence(live.core, doc["workspace_id"], doc["_id"])
    assert [(x.kind, x.value) for x in sequence.triggers] == [("segment_entered", segment["_id"])]
    await page.reload()
    await expect(page.get_by_label(t["sequences_trigger_segment"], exact=True)).to_have_value(
        segment["_id"]
    )


async def test_names_arriving_late_leave_the_focus_where_the_marketer_is(live: Live) -> None:
    """Fresh-clone CI (real engine): the segment and community names came after the marketer
    had added a trigger, and drawing the triggers again took the focus from its kind."""
    from playwright.async_api import Route, expect

    doc = await live.core.store.collection("sequences").find_one({})
    assert doc is not None
    page = await live.sign_in("mary@kith.test")
    names = asyncio.Event()

    async def later(route: Route) -> None:
        await names.wait()
        await route.continue_()

    await page.route("**/app/api/broadcast-communities", later)
    await page.goto(f"{live.url}/app/sequences/{doc['_id']}")
    t = messages("en")
    await page.get_by_role("button", name=t["sequences_add_trigger"]).press("Enter")
    kind = page.get_by_label(t["sequences_trigger_kind"], exact=True)
    await expect(kind).to_be_focused()
    names.set()  # the names land now
    picker = page.get_by_label(t["sequences_trigger_segment"], exact=True)
    await expect(picker.locator("option")).to_contain_text([re.compile(f"^{SEGMENT} \\(")])
    await expect(kind).to_be_focused()
