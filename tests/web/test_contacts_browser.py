"""The Contacts pages in a real browser against a live server: a marketer lands on Contacts,
searches in Chinese and English, filters, merges a suggested pair and undoes it, and edits a
customer's tags by keyboard; an admin erases a customer after confirming; an agent reads
contacts only; both languages, with screenshots.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.events import build_event, record
from kith.core.jobs import JobWorker
from kith.core.models import Author, AuthorKind, Channel, InboundUser, Role
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.core.teams import add_member, create_team
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import build_core
from tests.support.browser import chromium, live_server, needs_chromium
from tests.support.cast import inbound
from tests.support.pages import Live, assert_every_control_is_named
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# How many leaves of an element show `name` on screen (a visually hidden one is 1px wide).
SHOWN_TEXTS = """(root, name) => [...root.querySelectorAll("*")].filter((el) => !el.children.length
  && el.textContent.trim() === name && el.getBoundingClientRect().width > 1).length"""
PEOPLE = (  # (channel, user id, name, email, phone, tags)
    ("web", "w-ada", "Ada Lovelace", "ada@example.com", None, ["vip"]),
    ("app", "a-ada", "Ada L.", "ada@example.com", None, ["beta"]),
    ("web", "w-li", "李雷", "lilei@example.cn", "+8613800000000", ["vip", "上海"]),
    ("app", "a-carol", "Carol <b>Chen</b>", None, "+15550100", []),
)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    settings = settings.model_copy(update={"nlp_enabled": False})
    core = build_core(settings)
    core.store = Store.from_settings(settings)
    await core.start()
    workspace = await ensure_default_workspace(core)
    config = {"callback_url": "http://integrator.test/kith"}
    channels: dict[str, Channel] = {
        "web": (await create_channel(core, workspace.id, "api", "Website", config))[0],
        "app": (await create_channel(core, workspace.id, "api", "Shop app", config))[0],
    }
    team = await create_team(core, workspace.id, "Web desk", [channels["web"].id])
    for name, role, teams in (
        ("admin", Role.admin, []),
        ("mary", Role.marketer, []),
        ("alice", Role.agent, [team.id]),
    ):
        user = await create_user(
            core, workspace.id, f"{name}@kith.test", PASSWORD, name=name.title(), role=role
        )
        for team_id in teams:
            await add_member(core, workspace.id, team_id, user.id)
    for channel, user_id, name, email, phone, tags in PEOPLE:
        user = InboundUser(id=user_id, name=name, email=email, phone=phone)
        received = await ingest(core, channels[channel], inbound(channels[channel], user=user))
        await core.store.customers.update_one(
            {"_id": received.message.customer_id},
            {
                "$set": {
                    "tags": tags,
                    "attributes": {"city": "上海" if "上海" in tags else "London"},
                }
            },
        )
    try:
        async with live_server(core) as server, chromium() as browser:
            yield Live(server.url, core, browser)
    finally:
        await core.store.client.drop_database(settings.db_name)
        await core.close()


async def search(page, text: str) -> None:
    """Type a search and press Enter, as a keyboard user does."""
    box = page.get_by_role("searchbox", name="Search")
    await box.fill(text)
    await box.press("Enter")


async def test_a_marketer_lands_on_contacts_searches_and_filters(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await expect(page).to_have_url(live.url + "/app/contacts")
    nav = page.get_by_role("navigation", name="Sections")
    await expect(nav.get_by_role("link")).to_have_text(
        ["Contacts", "Segments", "Broadcasts", "Sequences", "Communities"]
    )
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await assert_every_control_is_named(page)
    results = page.get_by_role("table", name="Customers")
    await expect(results.get_by_role("row")).to_have_count(1 + len(PEOPLE))
    # Customer text is shown as text, never as markup.
    await expect(results.get_by_role("link", name="Carol <b>Chen</b>")).to_be_visible()

    await search(page, "李")
    await expect(results.get_by_role("row")).to_have_count(2)
    await expect(results.get_by_role("link", name="李雷")).to_be_visible()
    await search(page, "ada@example.com")
    await expect(results.get_by_role("row")).to_have_count(3)
    await search(page, "")
    await page.get_by_label("Tags").fill("vip")
    await page.get_by_label("Tags").press("Enter")
    await expect(results.get_by_role("row")).to_have_count(3)
    await page.get_by_label("Attribute", exact=True).fill("city")
    await page.get_by_label("Attribute value").fill("上海")
    await page.get_by_role("button", name="Apply").click()
    await expect(results.get_by_role("row")).to_have_count(2)
    export = await page.get_by_role("link", name="Export CSV").get_attribute("href")
    assert export is not None and export.startswith("/api/v1/customers/export.csv?filter=")
    await page.get_by_role("button", name="Clear").click()
    await expect(results.get_by_role("row")).to_have_count(1 + len(PEOPLE))


@pytest.mark.parametrize(
    ("locale", "hint"), [("en-US", "Type the attribute's name first"), ("zh-CN", "请先填写属性名")]
)
async def test_an_attribute_value_waits_for_its_attribute(
    live: Live, locale: str, hint: str
) -> None:
    """A value typed without an attribute filtered nothing and said nothing: the whole list
    looked filtered. Now the value is disabled until an attribute is named, and says why."""
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test", locale=locale)
    value = page.locator("#attr-value")
    await expect(value).to_be_disabled()
    await expect(value).to_have_accessible_description(hint)
    await page.locator("input[name=attr_key]").fill("city")
    await expect(value).to_be_enabled()
    await expect(page.get_by_text(hint)).to_be_hidden()
    await value.fill("上海")
    await value.press("Enter")
    await expect(page.locator("#contacts").get_by_role("row")).to_have_count(1)  # Shanghai
    await page.locator("input[name=attr_key]").fill(" ")
    await expect(value).to_be_disabled()
    await expect(value).to_have_value("上海")  # kept, unused


async def test_a_marketer_merges_a_suggestion_and_undoes_it(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    suggestions = page.get_by_role("list").filter(has=page.get_by_text("Same email"))
    await expect(suggestions.get_by_text("ada@example.com")).to_be_visible()
    await page.get_by_role("radio", name=re.compile("Ada Lovelace")).check()
    merge = page.get_by_role("button", name="Merge: ada@example.com")
    await merge.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(
        "Merged. You can undo it under Recent merges."
    )
    await expect(page.get_by_text("No suggestions.")).to_be_visible()
    # focus moves to what took the merged suggestion's place: here, none left, the heading
    await expect(page.get_by_role("heading", name="Merge suggestions")).to_be_focused()
    results = page.get_by_role("table", name="Customers")
    await expect(results.get_by_role("row")).to_have_count(len(PEOPLE))
    undo = page.get_by_role("button", name="Undo: Ada L.")
    line = page.get_by_role("link", name="Ada L. merged into Ada Lovelace by Mary")
    await expect(line).to_be_visible()  # the kept customer by name, not by id
    await undo.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Merge undone.")
    await expect(page.get_by_text("Undone", exact=True)).to_be_visible()
    await expect(line).to_be_focused()  # both still named once the journal dropped its copies
    await expect(page.get_by_text("(no name)")).to_have_count(0)
    await expect(results.get_by_role("row")).to_have_count(1 + len(PEOPLE))
    await expect(page.get_by_role("button", name="Merge: ada@example.com")).to_be_visible()
    merge_doc = await live.core.store.collection("merges").find_one({})
    assert merge_doc["actor"]["name"] == "Mary"
    assert merge_doc["via"].startswith("suggestion:")
    assert merge_doc["undone_by"]["name"] == "Mary"


async def test_merge_suggestions_read_with_full_width_punctuation_in_chinese(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test", locale="zh-CN")
    suggestion = page.locator("#suggestions li").first
    await expect(suggestion).to_contain_text("相同邮箱：ada@example.com")
    await expect(suggestion).not_to_contain_text(re.compile(r":\s"))  # "18:14" is fine
    await page.get_by_role("radio", name=re.compile("Ada Lovelace")).check()
    await page.get_by_role("button", name="合并：ada@example.com").press("Enter")
    await expect(page.get_by_role("heading", name="合并建议")).to_be_focused()
    line = page.get_by_role("link", name="Mary 将 Ada L. 合并到 Ada Lovelace")
    await expect(line).to_be_visible()
    await page.get_by_role("button", name="撤销：Ada L.").press("Enter")
    await expect(page.get_by_text("已撤销", exact=True)).to_be_visible()
    await expect(line).to_be_focused()


async def test_a_marketer_edits_tags_on_the_customer_page(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await page.get_by_role("link", name="李雷").click()
    await expect(page.get_by_role("heading", name="李雷")).to_be_visible()
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await assert_every_control_is_named(page)
    identities = page.get_by_role("table", name="Identities")
    await expect(identities.get_by_role("cell", name="Website")).to_be_visible()
    await expect(page.get_by_role("link", name=re.compile("Website conversation"))).to_be_visible()
    timeline = page.locator("#timeline")
    await expect(timeline.get_by_text("Message received")).to_have_count(1)
    consent = page.get_by_role("table", name="Marketing consent")
    await expect(consent.get_by_role("row", name=re.compile("API Unknown"))).to_be_visible()

    await expect(page.get_by_role("button", name="Erase customer…")).to_have_count(0)  # admins
    await page.get_by_label("New tag").focus()
    await page.keyboard.type("newsletter")
    await page.keyboard.press("Enter")
    tags = page.locator("#tags")
    await expect(tags).to_contain_text("newsletter")
    await page.get_by_role("button", name="Remove tag vip").click()
    await expect(tags).not_to_contain_text("vip")
    stored = await live.core.store.customers.find_one({"name": "李雷"})
    assert stored["tags"] == ["上海", "newsletter"]

    notice = page.locator("#notice")
    await expect(notice).to_have_text("Saved.")
    answer: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def held(route: Any) -> None:
        if route.request.method == "PATCH":
            await answer
        await route.continue_()

    await page.route("**/app/api/**", held)
    await page.get_by_label("New tag").fill("later")
    await page.keyboard.press("Enter")
    await expect(notice).to_have_text("")  # not the last save's "Saved." before this answer
    answer.set_result(None)
    await expect(notice).to_have_text("Saved.")
    await expect(tags).to_contain_text("later")
    await page.reload()
    await expect(timeline.get_by_text("Profile changed")).to_have_count(3)


async def test_an_admin_erases_a_customer_after_confirming_by_name(live: Live) -> None:
    from playwright.async_api import expect

    carol = "Carol <b>Chen</b>"  # customer text, shown as text
    stored = await live.core.store.customers.find_one({"name": carol})
    page = await live.sign_in("admin@kith.test")
    nav = page.get_by_role("navigation", name="Sections")
    await nav.get_by_role("link", name="Contacts").click()
    await page.get_by_role("link", name=carol).click()
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await assert_every_control_is_named(page)
    erase = page.get_by_role("button", name="Erase customer…")
    await erase.focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text(f"Erase {carol} and everything they said?")
    await page.keyboard.press("Escape")  # changed their mind: nothing happens
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("heading", name=carol)).to_be_visible()
    assert await live.core.store.customers.count_documents({"_id": stored["_id"]}) == 1

    await erase.click()
    await dialog.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("heading", name="Customer erased")).to_be_visible()
    await expect(page.locator("#notice")).to_have_text("Customer erased")
    assert await live.core.store.customers.count_documents({"_id": stored["_id"]}) == 0
    assert await live.core.store.messages.count_documents({"customer_id": stored["_id"]}) == 0
    await page.get_by_role("link", name="Back to contacts").click()
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    results = page.get_by_role("table", name="Customers")
    await expect(results.get_by_role("link", name="李雷")).to_be_visible()
    await expect(results.get_by_role("link", name=carol)).to_have_count(0)


async def test_an_agent_reads_contacts_of_their_channels_only(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await expect(page).to_have_url(live.url + "/app")
    nav = page.get_by_role("navigation", name="Sections")
    await expect(nav.get_by_role("link")).to_have_text(
        ["Inbox", "Tickets", "Contacts", "Communities"]
    )
    await nav.get_by_role("link", name="Contacts").click()
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    results = page.get_by_role("table", name="Customers")
    await expect(results.get_by_role("row")).to_have_count(3)  # the web channel's two
    await expect(page.get_by_role("heading", name="Import CSV")).to_have_count(0)
    await expect(page.get_by_role("heading", name="Merge suggestions")).to_have_count(0)
    await results.get_by_role("link", name="Ada Lovelace").click()
    await expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    await expect(page.get_by_label("New tag")).to_have_count(0)
    await expect(page.get_by_role("button", name=re.compile("Remove tag"))).to_have_count(0)


async def test_the_chinese_contacts_pages_and_screenshots(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    shots = []
    for locale, section, heading in (
        ("en-US", "Contacts", "Merge suggestions"),
        ("zh-CN", "联系人", "合并建议"),
    ):
        page = await live.sign_in("admin@kith.test", locale=locale)
        await (
            page.get_by_role("navigation", name=re.compile("Sections|栏目"))
            .get_by_role("link", name=section)
            .click()
        )
        await expect(page.get_by_role("heading", name=heading)).to_be_visible()
        await expect(page.locator("#suggestions li")).to_have_count(1)
        shots.append(tmp_path / f"contacts-{locale[:2]}.png")
        await page.screenshot(path=str(shots[-1]), full_page=True)
        await page.get_by_role("link", name="李雷").click()
        await expect(page.locator("body[data-ready=true]")).to_have_count(1)
        shots.append(tmp_path / f"contact-{locale[:2]}.png")
        await page.screenshot(path=str(shots[-1]), full_page=True)
    await expect(page.get_by_role("heading", name="时间线")).to_be_visible()
    await expect(page.get_by_role("heading", name="营销同意")).to_be_visible()
    assert await page.evaluate("document.documentElement.lang") == "zh-Hans"
    if os.environ.get("KITH_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for path in shots:
            shutil.copy(path, SCREENSHOTS / path.name)


async def test_the_import_form_follows_the_job_to_its_end(live: Live, tmp_path: Path) -> None:
    """The file goes to `POST /api/v1/customers/import` with the session; the page follows the
    job while a worker imports it: the live server's own (it runs its workers, as `kith serve`
    does) or the one driven here, whichever claims the job first."""
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    sample = tmp_path / "people.csv"
    sample.write_text("name,email\nZoe,zoe@example.com\nYu,yu@example.cn\nBad,nope\n")
    form = page.get_by_role("form", name="Import CSV")
    await form.get_by_label("CSV file").set_input_files(str(sample))
    await form.get_by_role("button", name="Import").click()
    await expect(page.locator("#import-job")).to_be_visible()

    await JobWorker(live.core).run_once()  # 0 when the server's worker was first: it runs it
    await expect(page.get_by_text("Done: 3 of 3 rows")).to_be_visible()
    errors = page.get_by_role("table", name="Rows with errors")
    await expect(errors.get_by_role("row", name=re.compile(r"^4 email"))).to_be_visible()
    imported = await live.core.store.customers.count_documents({"name": {"$in": ["Zoe", "Yu"]}})
    assert imported == 2


async def test_the_language_switch_works_on_every_page(live: Live) -> None:
    """Regression (QA marketer #4): the header's Language select did nothing on Contacts, a
    contact, Broadcasts, Sequences, Communities and Webhooks (each page wired its own, or
    none); `dom.js` wires it on every page now."""
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    html = page.locator("html")
    await expect(html).to_have_attribute("lang", "en")
    await page.locator("#user-menu-button").click()
    await page.get_by_label("Language").select_option(label="简体中文")
    await expect(html).to_have_attribute("lang", "zh-Hans")
    await page.get_by_role("link", name="李雷").click()
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await page.locator("#user-menu-button").click()
    await page.get_by_label("语言").select_option(label="English")
    await expect(html).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", name="李雷")).to_be_visible()
    await page.goto(live.url + "/app/broadcasts")
    await page.locator("#user-menu-button").click()
    await page.get_by_label("Language").select_option(label="简体中文")
    await expect(html).to_have_attribute("lang", "zh-Hans")
    await expect(page).to_have_url(live.url + "/app/broadcasts")
    for path in ("/app/sequences", "/app/communities"):
        await page.goto(live.url + path)
        await page.locator("#user-menu-button").click()
        await page.get_by_label("语言").select_option(label="English")
        await expect(html).to_have_attribute("lang", "en")
        await page.wait_for_load_state()  # the reloaded page's scripts wired the switch
        await page.locator("#user-menu-button").click()
        await page.get_by_label("Language").select_option(label="简体中文")
        await expect(html).to_have_attribute("lang", "zh-Hans")
        await expect(page).to_have_url(live.url + path)
    admin = await live.sign_in("admin@kith.test")
    for path in ("/app/webhooks", "/app", "/app/tickets", "/app/admin"):
        await admin.goto(live.url + path)
        await admin.locator("#user-menu-button").click()
        await admin.get_by_label("Language").select_option(label="简体中文")
        await expect(admin.locator("html")).to_have_attribute("lang", "zh-Hans")
        await admin.wait_for_load_state()
        await admin.locator("#user-menu-button").click()
        await admin.get_by_label("语言").select_option(label="English")
        await expect(admin.locator("html")).to_have_attribute("lang", "en")
        await admin.wait_for_load_state()
    await admin.goto(live.url + "/app?lang=zh")  # a page opened in a language by its URL
    await admin.locator("#user-menu-button").click()
    await admin.get_by_label("语言").select_option(label="English")
    await expect(admin.locator("html")).to_have_attribute("lang", "en")
    await expect(admin).to_have_url(live.url + "/app")


async def test_the_import_panel_counts_rows_and_lists_ignored_columns(
    live: Live, tmp_path: Path
) -> None:
    """Regression (QA marketer #11): the panel said "Done: 4 of 4 rows" and listed row
    errors, but not what the job counted (created, updated, failed), nor (QA #10) the columns
    it ignored and why; a broken quote is a row error there too. English and Chinese."""
    from playwright.async_api import expect

    sample = tmp_path / "people.csv"
    sample.write_text(
        "name,email,consent.sms,attributes.first name\n"
        "Zoe,zoe@example.com,yes,Zoe\n"
        "Ada again,ada@example.com,,\n"
        '"unterminated,x@example.com\n'
    )
    for locale, words in (
        (
            "en-US",
            {
                "form": "Import CSV",
                "file": "CSV file",
                "start": "Import",
                "done": "Done: 3 of 3 rows",
                "counts": [
                    ("Created", "1"),
                    ("Updated", "1"),
                    ("Rows with errors", "1"),
                    ("Blank rows", "0"),
                    ("Ignored columns", "2"),
                ],
                "sms": "No such channel type",
                "first name": "Not allowed as an attribute name",
                "broken": "A quote opens in this cell and is never closed",
                "errors": "Rows with errors",
                "ignored": "Ignored columns",
            },
        ),
        (
            "zh-CN",
            {
                "form": "导入 CSV",
                "file": "CSV 文件",
                "start": "导入",
                "done": "完成：3 / 3 行",
                "counts": [
                    ("新建", "0"),
                    ("更新", "2"),
                    ("出错的行", "1"),
                    ("空行", "0"),
                    ("已忽略的列", "2"),
                ],
                "sms": "没有这个渠道类型",
                "first name": "不能作为属性名",
                "broken": "此单元格中的引号没有闭合",
                "errors": "出错的行",
                "ignored": "已忽略的列",
            },
        ),
    ):
        page = await live.sign_in("mary@kith.test", locale=locale)
        await expect(page.locator("body[data-ready=true]")).to_have_count(1)
        form = page.get_by_role("form", name=words["form"])
        await form.get_by_label(words["file"]).set_input_files(str(sample))
        await form.get_by_role("button", name=words["start"]).click()
        await expect(page.locator("#import-job")).to_be_visible()  # the job is in
        await JobWorker(live.core).run_once()
        await expect(page.get_by_text(words["done"])).to_be_visible()
        counts = page.locator("#import-counts")
        await expect(counts.locator("dt")).to_have_text([t for t, _ in words["counts"]])
        await expect(counts.locator("dd")).to_have_text([n for _, n in words["counts"]])
        ignored = page.get_by_role("table", name=words["ignored"])
        await expect(ignored.get_by_role("row", name=re.compile("^consent.sms"))).to_contain_text(
            words["sms"]
        )
        await expect(
            ignored.get_by_role("row", name=re.compile("^attributes.first name"))
        ).to_contain_text(words["first name"])
        errors = page.get_by_role("table", name=words["errors"])
        await expect(errors.get_by_role("row", name=re.compile(r"^4 name"))).to_contain_text(
            words["broken"]
        )
        await assert_every_control_is_named(page)
    assert await live.core.store.customers.count_documents({"name": {"$regex": "untermin"}}) == 0


async def test_row_errors_read_in_the_page_language(live: Live, tmp_path: Path) -> None:
    """Regression: the Chinese import panel worded the ignored columns in Chinese but each
    row's error in the API's English ("not a valid phone number for its country"). It words
    the error by its code now, with its values in the page's language too: the region a
    number without its country code is read in, a length limit, the columns naming two
    customers."""
    from playwright.async_api import expect

    sample = tmp_path / "people.csv"
    sample.write_text(
        "name,email,phone\n"
        "Bad Mail,not-an-email,\n"
        "Bad Phone,,12345\n"
        f"{'N' * 257},,\n"
        "Two People,ada@example.com,+8613800000000\n"  # Ada's email, 李雷's phone
    )
    page = await live.sign_in("mary@kith.test", locale="zh-CN")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    form = page.get_by_role("form", name="导入 CSV")
    await form.get_by_label("CSV 文件").set_input_files(str(sample))
    await form.get_by_role("button", name="导入").click()
    await expect(page.locator("#import-job")).to_be_visible()  # the job is in
    await JobWorker(live.core).run_once()
    await expect(page.get_by_text("完成：4 / 4 行")).to_be_visible()
    errors = page.get_by_role("table", name="出错的行")
    await expect(errors.locator("tbody tr")).to_have_text(
        [
            "2email不是邮箱地址（应写作 name@example.com）",
            re.compile(r"^3phone不是有效的电话号码：.*不带国家代码的号码按中国的号码读取$"),
            "4name太长：最多 256 个字符",
            "5emailemail和phone 分属不同的客户：请先合并他们",  # the columns as a Chinese list
        ]
    )


async def test_the_timeline_reads_in_words_in_both_languages(live: Live) -> None:
    """Regression (QA marketer #11): the timeline showed raw types (`message.delivered`,
    `ticket.updated`, `customer.sentiment_changed`) and actors ("system", "Sentiment",
    "Ticket rules"). A type without a label still reads ("Ticket: reassigned")."""
    from playwright.async_api import expect

    core = live.core
    li = await core.store.customers.find_one({"name": "李雷"})
    assert li is not None
    workspace_id = li["workspace_id"]
    shop_bot = Author(kind=AuthorKind.bot, id="bot-1", name="Shop assistant")
    for type_, actor in (
        ("message.delivered", Author(kind=AuthorKind.system)),
        ("ticket.updated", Author(kind=AuthorKind.system, name="Ticket rules")),
        ("customer.sentiment_changed", Author(kind=AuthorKind.system, name="Sentiment")),
        ("message.created", shop_bot),
        ("ticket.reassigned", Author(kind=AuthorKind.system, name="API token Zapier")),
        ("widget.spun_around", Author(kind=AuthorKind.system, name="Gizmo")),
    ):
        event = build_event(core, workspace_id, type_, actor=actor, customer_id=li["_id"])
        await record(core, event)
    expected = {
        "en-US": [
            "Widget spun around · Gizmo",
            "Ticket: reassigned · API token Zapier",
            "Message sent · Bot Shop assistant",
            "Sentiment changed · Sentiment analysis",
            "Ticket changed · Ticket rules",
            "Message delivered · Kith (automatic)",
        ],
        "zh-CN": [
            "Widget spun around · Gizmo",
            "工单：reassigned · API 令牌 Zapier",
            "发出消息 · 机器人 Shop assistant",
            "情绪发生变化 · 情绪分析",
            "工单已修改 · 工单规则",
            "消息已送达 · Kith（自动）",
        ],
    }
    for locale, lines in expected.items():
        page = await live.sign_in("mary@kith.test", locale=locale)
        await page.goto(f"{live.url}/app/contacts/{li['_id']}")
        await expect(page.locator("body[data-ready=true]")).to_have_count(1)
        shown = await page.locator("#timeline li").all_inner_texts()
        assert len(shown) >= len(lines)
        for line, text in zip(lines, shown, strict=False):  # newest first, after its time
            assert text.endswith(line), (text, line)


async def test_the_header_names_the_section_once(live: Live) -> None:
    """Regression (QA marketer #11): Contacts said "Contacts" three times in its header (the
    current nav link, a bold title, an underlined link), Broadcasts "Broadcasts" likewise. The
    nav link marks the section; the page's h1 is kept for screen readers only."""
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    li = await live.core.store.customers.find_one({"name": "李雷"})
    assert li is not None
    for path, section in (
        ("/app/contacts", "Contacts"),
        (f"/app/contacts/{li['_id']}", "Contacts"),
        ("/app/broadcasts", "Broadcasts"),
        ("/app/sequences", "Sequences"),
        ("/app/communities", "Communities"),
    ):
        await page.goto(live.url + path)
        header = page.locator("header.top")
        assert await header.evaluate(SHOWN_TEXTS, section) == 1
        await expect(page.get_by_role("heading", level=1, name=section)).to_have_count(1)
        current = page.get_by_role("navigation", name="Sections").get_by_role("link", name=section)
        await expect(current).to_have_attribute("aria-current", "page")


async def test_a_file_that_is_not_text_is_refused_in_the_page_language(
    live: Live, tmp_path: Path
) -> None:
    """Regression (QA marketer, file-level errors): an image picked by mistake was refused in
    English, naming garbled "columns" (最牡慢敧: unknown field …), on the Chinese page too. It
    is refused as not text, worded by its reason in the page's language; a UTF-16 file (Excel's
    "Unicode text") imports."""
    from playwright.async_api import expect

    image = tmp_path / "photo.csv"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    page = await live.sign_in("mary@kith.test", locale="zh-CN")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    form = page.get_by_role("form", name="导入 CSV")
    await form.get_by_label("CSV 文件").set_input_files(str(image))
    await form.get_by_role("button", name="导入").click()
    await expect(form.locator(".form-error")).to_have_text(
        "这个文件不是文本文件：请把表格另存为 CSV（逗号分隔值）后导入该文件。"
    )
    await expect(page.locator("#import-job")).to_be_hidden()

    unicode_text = tmp_path / "people.txt"
    unicode_text.write_bytes("name\temail\n王芳\twangfang@example.cn\n".encode("utf-16"))
    await form.get_by_label("CSV 文件").set_input_files(str(unicode_text))
    await form.get_by_role("button", name="导入").click()
    await expect(page.locator("#import-job")).to_be_visible()  # the job is in
    await JobWorker(live.core).run_once()
    await expect(page.get_by_text("完成：1 / 1 行")).to_be_visible()
    await expect(form.locator(".form-error")).to_have_text("")
    results = page.get_by_role("table", name="客户")
    await expect(results.get_by_role("link", name="王芳")).to_be_visible()


async def test_dates_read_one_way_with_the_month_in_words(live: Live) -> None:
    """Regression (QA marketer): Contacts wrote a date month first (12/30/2026, the browser's
    way), the sequence page day first (08/01/2027). Every page writes it as KithDom does: the
    month in words, in the page's language; the customer's page too (its profile and timeline
    wrote 12/30/2026, 2:05:00 PM and 2026/12/30 14:05:00)."""
    from playwright.async_api import expect

    seen = datetime(2026, 12, 30, 12, 0, tzinfo=UTC)  # the 30th in any browser's time zone
    await live.core.store.customers.update_one({"name": "李雷"}, {"$set": {"last_seen": seen}})
    li = await live.core.store.customers.find_one({"name": "李雷"})
    assert li is not None
    event = build_event(live.core, li["workspace_id"], "customer.updated", customer_id=li["_id"])
    await record(live.core, event.model_copy(update={"created_at": seen}))  # the newest
    for locale, last_seen, written in (
        ("en-US", "Last seen", r"^30 Dec 2026, \d{2}:\d{2}$"),
        ("zh-CN", "最近出现", r"^2026年12月30日 \d{2}:\d{2}$"),
    ):
        page = await live.sign_in("mary@kith.test", locale=locale)
        await expect(page.locator("body[data-ready=true]")).to_have_count(1)
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name="李雷"))
        await expect(row.locator("time")).to_have_text(re.compile(written))
        await page.goto(f"{live.url}/app/contacts/{li['_id']}")
        await expect(page.locator("body[data-ready=true]")).to_have_count(1)
        profile = page.locator("#profile")
        seen_there = profile.get_by_text(last_seen, exact=True).locator(
            "xpath=following-sibling::dd[1]"
        )
        await expect(seen_there).to_have_text(re.compile(written))
        await expect(page.locator("#timeline li").first.locator("time")).to_have_text(
            re.compile(written)
        )
