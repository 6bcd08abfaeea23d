"""The inbox's conversation header in a real browser, in English and Chinese, by keyboard.

QA (pass 7): M1, a refused change (a label of 70 characters) showed nothing at all; now the
refusal is said at the control it names, in the page's language, and what was typed stays.
Minor 1, a second Enter in the ticket panel opened the same ticket twice; now the subject
is emptied once the ticket opens. Minor 2, Kith's own notes were signed "You · Note"; now
"System · Note". Minor 3, at desktop width the address never followed the open
conversation; now it does, and Back returns to the one before, then to the list.
Minor 5, the marketer was offered as an assignee; now only who can answer is.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import (
    Author,
    AuthorKind,
    Conversation,
    InboundMessage,
    InboundUser,
    OutboundContent,
    Role,
    Workspace,
)
from kith.core.outbox import send
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import add_member, create_team
from kith.tickets.store import tickets
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

WORDS = {
    "en-US": {
        "labels": "Labels",
        "too_long": "Each label is at most 64 characters.",
        "system_note": "System · Note",
        "subject": "Subject of a new ticket",
        "opened": "Ticket #1 opened.",
    },
    "zh-CN": {
        "labels": "标签",
        "too_long": "每个标签最多 64 个字符。",
        "system_note": "系统 · 备注",
        "subject": "新工单的主题",
        "opened": "已创建工单 #1。",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    team = await create_team(core, workspace.id, "Support", [channel.id])
    agent = await create_user(
        core, workspace.id, "alice@kith.test", PASSWORD, name="Alice", role=Role.agent
    )
    await add_member(core, workspace.id, team.id, agent.id)
    await create_user(
        core, workspace.id, "mary@kith.test", PASSWORD, name="Mary Marketer", role=Role.marketer
    )
    said = (("u-ada", "Ada Lovelace", "Where is my order?"), ("u-li", "李雷", "在吗？"))
    for n, (uid, name, text) in enumerate(said):
        user = InboundUser(id=uid, name=name)
        message = InboundMessage.on(channel, channel_message_id=f"m{n}", user=user, text=text)
        found = await ingest(core, channel, message)
        if n == 0:
            note = OutboundContent(text="The customer left their email in the chat", private=True)
            conversation: Conversation = found.conversation
            await send(core, conversation, note, Author(kind=AuthorKind.system))


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_header_says_a_refusal_and_the_address_follows(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    words = WORDS[locale]
    page = await live.sign_in("alice@kith.test", locale=locale)
    await expect(page.locator("body[data-ready='true']")).to_be_attached()
    ada = page.locator("#conversations .conv", has_text="Ada Lovelace")
    li = page.locator("#conversations .conv", has_text="李雷")

    # The address follows the open conversation at desktop width, and Back retraces it.
    await ada.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#conv-title")).to_contain_text("Ada Lovelace")
    ada_id = await ada.get_attribute("data-id")
    await expect(page).to_have_url(re.compile(r"\?conversation=" + re.escape(ada_id)))
    await li.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#conv-title")).to_contain_text("李雷")
    li_id = await li.get_attribute("data-id")
    await expect(page).to_have_url(re.compile(r"\?conversation=" + re.escape(li_id)))
    await page.go_back()
    await expect(page.locator("#conv-title")).to_contain_text("Ada Lovelace")
    await page.go_back()
    await expect(page).to_have_url(live.url + "/app")
    await expect(page.locator("#conversation")).to_be_hidden()
    await page.go_forward()
    await expect(page.locator("#conv-title")).to_contain_text("Ada Lovelace")

    # Kith's own note is signed by the system, not the agent reading it.
    note = page.locator("#messages .msg-note")
    await expect(note.locator(".author")).to_have_text(words["system_note"])

    # Only who can answer is offered (not the marketer).
    options = await page.locator("#assignee option").all_text_contents()
    assert "Alice" in options and "Mary Marketer" not in options, options

    # A label too long: refused at the Labels box, in the page's language, text kept.
    labels = page.locator("#conversation").get_by_label(words["labels"], exact=True)
    await labels.focus()
    await page.keyboard.type("x" * 70)
    await page.keyboard.press("Tab")
    await expect(page.locator("#save-labels")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(labels).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#labels-error")).to_have_text(words["too_long"])
    await expect(labels).to_be_focused()
    await expect(labels).to_have_value("x" * 70)
    # Put right, the mark goes and the labels are saved.
    await page.keyboard.press("Control+a")
    await page.keyboard.type("vip")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(labels).not_to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#labels-error")).to_be_empty()
    await expect(ada.locator(".tag")).to_have_text("vip")

    # A ticket from the panel: the subject empties once it opens, so Enter again opens none.
    subject = page.locator("#tickets").get_by_label(words["subject"])
    await subject.fill("Parcel late 包裹延误")
    await page.keyboard.press("Enter")
    await expect(page.locator("#tickets").get_by_role("link", name=words["opened"])).to_be_visible()
    await expect(subject).to_have_value("")
    await expect(subject).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#tickets .panel-tickets li")).to_have_count(1)
    assert await tickets(live.core).count_documents({}) == 1
