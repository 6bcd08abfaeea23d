"""Four small things of the inbox, found by a probe of the demo as a service agent:

- an agent's reply to an unassigned conversation makes it theirs, and the page says so at
  once: their Assignee control, and a colleague's *Unassigned* list, which loses it live;
- a row's time follows the sort: sorted by last activity it showed "waiting since …" (the
  waiting sort's time) whenever the customer waited, not the last activity;
- "/" in the reply box of a workspace with no canned responses said nothing: now a polite
  status under the box says where to add one, gone at the next key;
- the account menu's arrow keys, as a menu button's menu has them: ↓ on its button opens it
  at its first item, ↓ and ↑ move between its items (the language too, without switching
  it), and Escape closes it with focus back on the button.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import add_member, create_team
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def fixed_clock(core: Core) -> None:
    core.clock = ManualClock(START)


async def seed(core: Core, workspace: Workspace) -> None:
    """Ada wrote at 10:00 and again at 12:00, unanswered (waiting since 10:00, last active at
    12:00); two agents of the team; no canned response."""
    clock = core.clock
    assert isinstance(clock, ManualClock)
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    team = await create_team(core, workspace.id, "Support", [channel.id])
    for name in ("alice", "bob"):
        user = await create_user(
            core, workspace.id, f"{name}@kith.test", PASSWORD, name=name.title(), role=Role.agent
        )
        await add_member(core, workspace.id, team.id, user.id)
    ada = InboundUser(id="u-ada", name="Ada Lovelace")
    for n, text in enumerate(("Where is my parcel?", "Hello??")):
        message = InboundMessage.on(channel, channel_message_id=f"m{n}", user=ada, text=text)
        await ingest(core, channel, message)
        clock.advance(2 * 3600)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed, prepare=fixed_clock) as app:
        yield app


async def test_replying_to_an_unassigned_conversation_takes_it_live(live: Live) -> None:
    from playwright.async_api import expect

    bob = await live.sign_in("bob@kith.test")
    await bob.get_by_role("button", name="Unassigned", exact=True).click()
    ada_for_bob = bob.get_by_role("button", name=re.compile("Ada Lovelace"))
    await expect(ada_for_bob).to_be_visible()

    alice = await live.sign_in("alice@kith.test")
    await alice.get_by_role("button", name=re.compile("Ada Lovelace")).click()
    assignee = alice.get_by_label("Assignee")
    await expect(assignee).to_have_value("")
    await alice.get_by_label("Reply").fill("It left the depot this morning.")
    await alice.get_by_role("button", name="Send").click()
    await expect(alice.get_by_label("Reply")).to_have_value("")
    alice_user = await live.core.store.users.find_one({"email": "alice@kith.test"})
    assert alice_user is not None
    await expect(assignee).to_have_value(alice_user["_id"])
    await expect(ada_for_bob).to_have_count(0)  # the event took it off his Unassigned

    await alice.get_by_role("button", name="Mine").click()
    await expect(alice.get_by_role("button", name=re.compile("Ada Lovelace"))).to_be_visible()


async def test_a_rows_time_follows_the_sort(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    row_time = page.get_by_role("button", name=re.compile("Ada Lovelace")).locator("time")
    # By last activity (the default): Ada's second message, at 12:00; no "waiting since".
    await expect(row_time).to_have_attribute("datetime", re.compile(r"T12:00"))
    await expect(row_time).not_to_contain_text("waiting since")
    # Written as every page's lists write a moment this year (not "Mar 2, 12:00 PM").
    await expect(row_time).to_have_text(re.compile(r"^2 Mar, \d\d:\d\d$"))
    await page.get_by_label("Sort").select_option("waiting")
    await expect(row_time).to_have_attribute("datetime", re.compile(r"T10:00"))
    await expect(row_time).to_contain_text("waiting since")
    await page.get_by_label("Sort").select_option("activity")
    await expect(row_time).to_have_attribute("datetime", re.compile(r"T12:00"))
    await expect(row_time).not_to_contain_text("waiting since")


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("en-US", "No canned responses yet. Add one under “Canned responses”"),
        ("zh-CN", "还没有快捷回复。可在客户面板底部的“快捷回复”中添加。"),
    ],
)
async def test_a_slash_with_no_canned_responses_says_where_to_add_one(
    live: Live, locale: str, said: str
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test", locale=locale)
    await page.get_by_role("button", name=re.compile("Ada Lovelace")).click()
    reply = page.locator("#reply")
    await reply.click()  # once the conversation shows (a hidden box takes no focus)
    await expect(reply).to_be_focused()
    status = page.get_by_role("status").filter(has_text=said)
    await reply.press("/")
    await expect(status).to_be_visible()
    await expect(page.locator("#canned")).to_be_hidden()
    await reply.press("t")  # the next key
    await expect(page.locator("#canned-none")).to_be_empty()
    await expect(reply).to_have_value("/t")


async def test_the_account_menu_by_arrow_keys(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    button = page.get_by_role("button", name="Account menu for Alice")
    menu = page.locator("#user-menu")
    search = menu.get_by_role("searchbox", name="Find conversations, tickets and customers")
    account = menu.get_by_role("link", name="My account")
    language = menu.get_by_label("Language")
    log_out = menu.get_by_role("button", name="Log out")
    await expect(button).to_be_enabled()  # once user_menu.js runs
    await button.focus()
    await expect(button).to_be_focused()

    await page.keyboard.press("ArrowDown")  # opens it at its first item
    await expect(menu).to_be_visible()
    await expect(button).to_have_attribute("aria-expanded", "true")
    await expect(search).to_be_focused()
    for item in (account, language, log_out, search):  # round from the last to the first
        await page.keyboard.press("ArrowDown")
        await expect(item).to_be_focused()
    await page.keyboard.press("ArrowUp")
    await expect(log_out).to_be_focused()
    await page.keyboard.press("ArrowUp")
    await expect(language).to_be_focused()
    await page.keyboard.press("ArrowUp")  # passing the language does not switch it
    await expect(account).to_be_focused()
    await expect(language).to_have_value("en")
    await page.keyboard.press("End")
    await expect(log_out).to_be_focused()
    await page.keyboard.press("Home")
    await expect(search).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(menu).to_be_hidden()
    await expect(button).to_be_focused()
    await expect(button).to_have_attribute("aria-expanded", "false")

    await page.keyboard.press("ArrowUp")  # opens it at its last item
    await expect(log_out).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(button).to_be_focused()
    await expect(page).to_have_url(live.url + "/app")  # no switch, no sign-out on the way
