"""Two people editing one draft, in Chromium, by keyboard, in English and Chinese: the page
sends the version it loaded, so the second save is refused in the page's language (the first
person's edit is kept), the form keeps what the second person typed, and the list shows the
draft as saved.

Regression (H3): the last of two edits silently won."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kith.broadcasts.actions import do_create_broadcast, do_update_broadcast, get_broadcast
from kith.broadcasts.models import BroadcastIn, BroadcastPatch
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.workspaces import ensure_default_workspace
from tests.support.browser import needs_chromium
from tests.support.cast import api_channel, inbound
from tests.support.pages import Live, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
OTHER = Author(kind=AuthorKind.system, name="another marketer")

WORDS = {
    "en-US": {
        "edit": "Edit",
        "form": "Compose a broadcast",
        "text": "Text in English",
        "save": "Save changes",
        "refused": (
            "Someone else saved changes to this draft since you opened it. Your edits are still "
            "in the form: copy what you need, press Stop editing, then press the draft’s Edit to "
            "see the latest version."
        ),
    },
    "zh-CN": {
        "edit": "编辑",
        "form": "撰写群发",
        "text": "英文内容",
        "save": "保存修改",
        "refused": (
            "自你打开后，其他人已保存了对这份草稿的修改。你的编辑仍在表单中：请复制需要的内容，"
            "点击“退出编辑”，再点击草稿的“编辑”查看最新版本。"
        ),
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    """Mary the marketer and a draft to Ada."""
    await create_user(
        core, workspace.id, "mary@kith.test", PASSWORD, name="Mary", role=Role.marketer
    )
    channel, _ = await api_channel(core, workspace.id)
    ada = (await ingest(core, channel, inbound(channel, "ada", "hi"))).conversation.customer_id
    body = BroadcastIn.model_validate(
        {"name": "Spring sale", "message": {"text": {"en": "Hello"}}, "channels": ["api"],
         "customer_ids": [ada]}
    )  # fmt: skip
    await do_create_broadcast(core, workspace.id, body, OTHER)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_stale_draft_edit_is_refused_in_words(
    live: Live, locale: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    words = WORDS[locale]
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/broadcasts")
    row = page.get_by_role("row", name=re.compile("Spring sale"))
    await row.get_by_role("button", name=words["edit"]).focus()
    await page.keyboard.press("Enter")
    form = page.get_by_role("form", name=words["form"])
    await expect(form.get_by_label(words["text"])).to_have_value("Hello")

    # Meanwhile another marketer saves their edit of the same draft.
    core = live.core
    workspace_id = (await ensure_default_workspace(core)).id
    [draft] = await core.store.collection("broadcasts").find({}).to_list(None)
    loaded = await get_broadcast(core, workspace_id, draft["_id"])
    theirs = BroadcastPatch(name="Spring sale (theirs)", version=loaded.version)
    await do_update_broadcast(core, loaded, theirs, OTHER)

    await form.get_by_label(words["text"]).fill("Hello from Mary")
    await form.get_by_role("button", name=words["save"]).focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#compose-error")).to_have_text(words["refused"])
    await expect(form.get_by_label(words["text"])).to_have_value("Hello from Mary")
    await expect(
        page.get_by_role("row", name=re.compile(r"Spring sale \(theirs\)"))
    ).to_be_visible()
    kept = await get_broadcast(core, workspace_id, draft["_id"])
    assert (kept.name, kept.message.text, kept.version) == (
        "Spring sale (theirs)",
        {"en": "Hello"},
        2,
    )
    await keep_screenshot(page, f"broadcasts-stale-draft-{locale}.png", tmp_path)
