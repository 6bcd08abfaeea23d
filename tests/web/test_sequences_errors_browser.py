"""The sequence builder's refusals and moves in Chromium, in English and Chinese (QA demo
probe): a negative wait, a step id the API refuses and an unknown variable are all marked in
one save, the wait sent as typed and its refusal naming the user's own number; an empty wait
is refused at its field before anything is sent; a paused sequence is resumed, not
"activated", on its page and in the list."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.sequences.actions import do_create_sequence, move
from kith.sequences.models import SequenceIn, Status
from kith.sequences.store import sequences
from kith.web.inbox.i18n import messages
from tests.sequences.conftest import WELCOME
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, role=Role.marketer)
    await do_create_sequence(core, workspace.id, SequenceIn.model_validate(WELCOME))
    paused = SequenceIn.model_validate({**WELCOME, "name": "Paused one"})
    made = await do_create_sequence(core, workspace.id, paused)
    await move(core, workspace.id, made.id, Status.active)
    await move(core, workspace.id, made.id, Status.paused)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def sequence_id(core: Core, name: str) -> str:
    doc = await sequences(core).find_one({"name": name})
    assert doc is not None
    return str(doc["_id"])


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_every_fault_is_marked_in_one_save_and_the_wait_as_typed(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(f"{live.url}/app/sequences/{await sequence_id(live.core, 'Welcome')}")
    steps = page.locator("#steps > li")
    text = steps.nth(0).locator('[data-field="steps.0.message.text.en"]')
    amount = steps.nth(1).locator('[data-field="steps.1.duration"]')
    step_id = steps.nth(2).locator('[data-field="steps.2.id"]')
    await text.fill("Hi {{ coupon }}")
    await amount.fill("-3")
    await step_id.fill("Bad Id")
    sent: list[Any] = []
    page.on(
        "request",
        lambda r: sent.append(json.loads(r.post_data or "null")) if r.method == "PUT" else None,
    )
    await page.get_by_role("button", name=t["sequences_save"], exact=True).click()

    banner = f"{t['sequences_error_at']} {t['sequences_errors_at'].format(n=3)}"
    await expect(page.locator("#builder-error")).to_have_text(banner)
    for control in (text, amount, step_id):
        await expect(control).to_have_attribute("aria-invalid", "true")
    said = t["sequences_wait_refused"].format(amount="-3", unit=t["sequences_days_unit"])
    await expect(page.locator("#f-steps-1-duration-error")).to_have_text(said)
    assert said.startswith("-3 ")
    unknown = t["reason_unknown_variable"].format(variable="coupon", line=1, column=7)
    await expect(page.locator("#f-steps-0-message-text-en-error")).to_have_text(unknown)
    await expect(page.locator("#f-steps-2-id-error")).not_to_be_empty()
    assert [body["steps"][1]["duration"] for body in sent] == ["-P3D"]  # what was typed


async def test_a_tiny_wait_is_sent_written_out_and_refused_in_the_users_words(
    live: Live,
) -> None:
    from playwright.async_api import expect

    t = messages("en")
    page = await live.sign_in("mary@kith.test", locale="en-US")
    await page.goto(f"{live.url}/app/sequences/{await sequence_id(live.core, 'Welcome')}")
    await page.locator('[data-field="steps.1.duration"]').fill("1e-7")
    sent: list[Any] = []
    page.on(
        "request",
        lambda r: sent.append(json.loads(r.post_data or "null")) if r.method == "PUT" else None,
    )
    await page.get_by_role("button", name=t["sequences_save"], exact=True).click()
    said = t["sequences_wait_refused"].format(amount="1e-7", unit=t["sequences_days_unit"])
    await expect(page.locator("#f-steps-1-duration-error")).to_have_text(said)
    assert [body["steps"][1]["duration"] for body in sent] == ["P0.0000001D"]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_an_empty_wait_is_refused_at_its_field_before_sending(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(f"{live.url}/app/sequences/{await sequence_id(live.core, 'Welcome')}")
    amount = page.locator('[data-field="steps.1.duration"]')
    await amount.fill("")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "PUT" else None)
    await page.get_by_role("button", name=t["sequences_save"], exact=True).click()
    await expect(page.locator("#f-steps-1-duration-error")).to_have_text(
        t["sequences_wait_unreadable"]
    )
    await expect(amount).to_have_attribute("aria-invalid", "true")
    await expect(amount).to_be_focused()
    assert sent == []  # nothing sent: no wait of nothing the user did not type
    shown = await live.core.store.collection("sequences").find_one({"name": "Welcome"})
    assert shown is not None and shown["steps"][1]["duration"] == "P1D"


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_paused_sequence_is_resumed_and_a_draft_activated(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    resume, activate = t["sequences_do_resume"], t["sequences_do_activate"]
    assert (resume, activate) == (("Resume", "Activate") if locale == "en-US" else ("恢复", "启用"))
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(f"{live.url}/app/sequences")
    await expect(page.get_by_role("button", name=f"{resume}{t['colon']}Paused one")).to_be_visible()
    await expect(page.get_by_role("button", name=f"{activate}{t['colon']}Welcome")).to_be_visible()

    await page.goto(f"{live.url}/app/sequences/{await sequence_id(live.core, 'Paused one')}")
    moves = page.locator("#moves")
    await expect(moves.locator('[data-move="activate"]')).to_have_text(resume)
    await moves.locator('[data-move="activate"]').click()
    await expect(page.locator("#sequence-status")).to_have_text(t["sequences_state_active"])
    await moves.locator('[data-move="pause"]').click()
    await expect(page.locator("#sequence-status")).to_have_text(t["sequences_state_paused"])
    await expect(moves.locator('[data-move="activate"]')).to_have_text(resume)
    await expect(moves.locator('[data-move="activate"]')).to_be_enabled()

    await page.goto(f"{live.url}/app/sequences/{await sequence_id(live.core, 'Welcome')}")
    await expect(page.locator("#moves [data-move='activate']")).to_have_text(activate)


async def test_the_steps_come_first_and_a_step_id_is_secondary(live: Live) -> None:
    """QA demo probe #5: the webhook signing key sat above the steps, and each step's
    technical "Step id" as prominent as its text. The key is below the builder; the id is
    small, still labelled and editable."""
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await page.goto(f"{live.url}/app/sequences/{await sequence_id(live.core, 'Welcome')}")
    builder, key = page.locator("#builder-heading"), page.locator("#key-heading")
    await expect(builder).to_be_visible()
    await expect(key).to_be_visible()
    below = await page.evaluate(
        "() => Boolean(document.getElementById('builder-heading').compareDocumentPosition("
        "document.getElementById('key-heading')) & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    assert below
    box_builder, box_key = await builder.bounding_box(), await key.bounding_box()
    assert box_builder is not None and box_key is not None and box_key["y"] > box_builder["y"]

    step = page.locator("#steps > li").first
    step_id = step.get_by_label("Step id")
    await expect(step_id).to_have_value("welcome")
    sizes = await step.evaluate(
        "(li) => [li.querySelector('[data-field=\"steps.0.id\"]'),"
        " li.querySelector('[data-field=\"steps.0.message.text.en\"]')]"
        ".map((n) => parseFloat(getComputedStyle(n.closest('label')).fontSize))"
    )
    assert sizes[0] < sizes[1], sizes  # smaller than the step's own fields' labels
    await step_id.fill("hello")
    await expect(step_id).to_have_value("hello")
