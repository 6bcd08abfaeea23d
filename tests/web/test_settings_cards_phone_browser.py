"""Regression (H31): at 390 px the Settings lists (Bots and the knowledge base, Users,
Channels and dead letters, Business hours; then SLA policies, Teams and API tokens, QA probe)
and the Webhooks page's endpoints and delivery log
were tables wider than the phone, scrolling sideways. Each row is a card now, each cell
labelled with its column in the page's language, nothing past the right edge, in English and
Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.bots.knowledge import ArticleIn
from kith.bots.store import save_article, save_bot
from kith.core.api_tokens import create_api_token
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import create_team
from kith.tickets.sla_models import CalendarIn, PolicyIn
from kith.tickets.sla_store import save_calendar, save_policy
from kith.webhooks.actions import do_create_endpoint
from kith.webhooks.models import EndpointIn
from tests.support.browser import needs_chromium
from tests.support.cast import api_channel, inbound
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(240)]
PHONE = {"width": 390, "height": 844}
LOG = {"en-US": "Delivery log", "zh-CN": "投递记录"}
# Each page and its list bodies that hold rows.
PAGES = [
    ("/app/admin/bots", ["#bots", "#articles"]),
    ("/app/admin/users", ["#users"]),
    ("/app/admin/channels", ["#channels"]),
    ("/app/admin/hours", ["#calendars"]),
    ("/app/admin/sla", ["#policies"]),
    ("/app/admin/teams", ["#teams"]),
    ("/app/admin/tokens", ["#tokens"]),
    ("/app/webhooks", ["#endpoint-rows"]),
]

# For each row cell but the actions: its label, the label as drawn before it, whether it is
# shown, and its right edge; and for the table, how much wider it is than its box.
MEASURE = """(rows) => {
  const tbody = document.querySelector(rows);
  const box = tbody.closest(".table-scroll, .card");
  const cells = [...tbody.querySelectorAll("td:not(.actions)")].map((td) => {
    const before = getComputedStyle(td, "::before");
    return [td.dataset.label || "", before.content, before.display,
      Math.round(td.getBoundingClientRect().right)];
  });
  const heads = [...tbody.closest("table").querySelectorAll("thead th")]
    .map((th) => th.textContent.trim());
  return { cells, heads, over: box.scrollWidth - box.clientWidth,
    page: document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth };
}"""


async def seed(core: Core, workspace: Workspace) -> None:
    """An admin; a channel with a bot on it and an FAQ article; a calendar; a webhook
    endpoint (on a closed loopback port) and one delivery to it."""
    await create_user(core, workspace.id, "admin@kith.test", PASSWORD, role=Role.admin)
    channel, _ = await api_channel(core, workspace.id)
    bot = {
        "name": "Greeter",
        "channel_ids": [channel.id],
        "flows": [{"id": "main", "trigger": {"kind": "keyword", "values": ["hi"]},
                   "steps": [{"id": "bye", "type": "end"}]}],
    }  # fmt: skip
    await save_bot(core, workspace.id, bot)
    article = {"title": "Opening hours", "questions": ["When are you open?"],
               "answer": {"en": "Nine to six.", "zh": "九点到六点。"}}  # fmt: skip
    await save_article(core, workspace.id, ArticleIn.model_validate(article))
    week = {day: [("09:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
    office = {"name": "Office", "zone": "Asia/Shanghai", "hours": week}
    calendar = await save_calendar(core, workspace.id, CalendarIn.model_validate(office))
    targets = {"urgent": {"first_reply": 30, "resolution": 240}, "normal": {"first_reply": 240}}
    policy = {"name": "Standard", "calendar_id": calendar.id, "targets": targets}
    await save_policy(core, workspace.id, PolicyIn.model_validate(policy))
    await create_team(core, workspace.id, "Support", [channel.id])
    await create_api_token(core, workspace.id, "CRM sync")
    hook = {"url": "http://127.0.0.1:9/hooks/kith", "events": ["message.created"],
            "description": "Our CRM"}  # fmt: skip
    await do_create_endpoint(core, workspace.id, EndpointIn.model_validate(hook))
    await ingest(core, channel, inbound(channel, "ada", "hello"))


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def check(page, rows: str) -> None:
    """The list's rows are labelled cards within the phone's width."""
    from playwright.async_api import expect

    await expect(page.locator(rows + " > tr").first).to_be_visible()
    seen = await page.evaluate(MEASURE, rows)
    assert seen["page"] <= 0 and seen["over"] <= 0, (rows, seen)
    assert seen["cells"], rows
    for label, before, display, right in seen["cells"]:
        assert label in seen["heads"], (rows, label, seen["heads"])
        assert before == f'"{label}"' and display != "none", (rows, label, before, display)
        assert right <= PHONE["width"], (rows, label, right)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_on_a_phone_settings_lists_are_labelled_cards(live: Live, locale: str) -> None:
    page = await live.sign_in("admin@kith.test", locale=locale)
    await page.set_viewport_size(PHONE)
    for path, bodies in PAGES:
        await page.goto(live.url + path)
        for rows in bodies:
            await check(page, rows)
    # the endpoint's delivery log, opened from its row
    await page.locator("#endpoint-rows").get_by_role("button", name=LOG[locale]).click()
    await check(page, "#delivery-rows")
