"""The inbox's search box, the list's one-line preview and the panel's "Merge with…", in a
real browser against a live server (the `live` setup of test_inbox_browser)."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import needs_chromium
from tests.support.consumers import caught_up
from tests.support.held import HeldFirst
from tests.web.test_inbox_browser import LIVE, Live
from tests.web.test_inbox_browser import live as live

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


async def test_the_search_box_finds_chinese_words_and_names(live: Live) -> None:
    from playwright.async_api import expect

    await live.customer_says("我要退款谢谢", user="u-wang", name="王芳")
    await live.customer_says("好的", user="u-wang", name="王芳")
    await live.customer_says("Where is my parcel?")
    hostile = "<img src=x onerror=alert(1)>"
    await live.customer_says(hostile, user="u-mal", name="Mallory")
    await caught_up(live.core)  # the words are searchable
    page = await live.sign_in("alice@kith.test")
    conversations = page.get_by_role("list", name="Conversations")
    await expect(conversations.get_by_role("listitem")).to_have_count(3, timeout=LIVE)
    # The preview is the last message, as text.
    await expect(conversations.get_by_text(hostile, exact=True)).to_be_visible()
    await expect(conversations.get_by_text("好的", exact=True)).to_be_visible()
    assert await page.locator("#conversations img").count() == 0

    search = page.get_by_role("searchbox", name="Search")
    await search.fill("退款")
    await expect(conversations.get_by_role("listitem")).to_have_count(1)
    await expect(conversations.get_by_role("button", name=re.compile("王芳"))).to_be_visible()
    # Searched, a conversation shows the message that holds the words, not its last.
    await expect(conversations.get_by_text("我要退款谢谢")).to_be_visible()
    await expect(conversations.get_by_text("好的", exact=True)).to_have_count(0)
    await search.fill("PARCEL")
    await expect(
        conversations.get_by_role("button", name=re.compile("Ada Lovelace"))
    ).to_be_visible()
    await expect(conversations.get_by_role("listitem")).to_have_count(1)
    await search.fill("onerror")
    await expect(conversations.get_by_text(hostile, exact=True)).to_be_visible()
    assert await page.locator("#conversations img").count() == 0
    await search.fill("王")  # one character of a name
    await expect(conversations.get_by_role("button", name=re.compile("王芳"))).to_be_visible()
    await expect(conversations.get_by_role("listitem")).to_have_count(1)
    await search.fill(".*")
    await expect(page.get_by_text("No conversations here.")).to_be_visible()
    await search.fill("")
    await expect(conversations.get_by_role("listitem")).to_have_count(3)


async def test_an_agent_merges_a_duplicate_from_the_customer_panel(live: Live) -> None:
    from playwright.async_api import expect

    await live.customer_says("hi from my work account", user="u-ada-work", name="Ada (work)")
    await live.customer_says("Hello, it's Ada")
    page = await live.sign_in("alice@kith.test")
    await page.get_by_role("button", name=re.compile("Ada Lovelace")).click()
    panel = page.get_by_role("complementary", name="Customer")
    await expect(panel.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    await panel.get_by_text("Merge with…").click()
    await panel.get_by_role("searchbox", name="Find the other customer").fill("work")
    found = panel.get_by_role("list", name="Customers found")
    # Generous waits: on a loaded machine's real engine a merge touches every collection.
    await found.get_by_role("button", name=re.compile(r"Ada \(work\)")).click(timeout=LIVE)
    await expect(
        panel.get_by_text(re.compile(r"Merge Ada \(work\) into Ada Lovelace\?"))
    ).to_be_visible()
    await panel.get_by_role("button", name="Merge", exact=True).click()
    done = panel.get_by_text("Merged Ada (work) into Ada Lovelace.")
    await expect(done).to_be_visible(timeout=LIVE)
    identities = panel.get_by_role("list").filter(has_text="u-ada-work")
    await expect(identities).to_be_visible(timeout=LIVE)  # the panel shows both identities
    customers = await live.core.store.customers.find({"merged_into": None}).to_list(None)
    assert [c["name"] for c in customers] == ["Ada Lovelace"]


async def test_a_search_spans_every_status(live: Live) -> None:
    """The list shows open conversations; a search also finds a resolved or pending one (as
    Chatwoot's does), says so in the Status filter, and clearing it puts Open back."""
    from playwright.async_api import expect

    from kith.core.conversations import do_update_conversation, get_conversation
    from kith.core.models import ConversationStatus
    from kith.core.workspaces import ensure_default_workspace

    workspace = await ensure_default_workspace(live.core)
    ada = await live.customer_says("The courier left my parcel outside")
    grace = await live.customer_says("Courier never came", user="u-grace", name="Grace Hopper")
    await live.customer_says("Hello there", user="u-li", name="李雷")
    await caught_up(live.core)
    for said, status in ((ada, "resolved"), (grace, "pending")):
        conv = await get_conversation(live.core, workspace.id, said["conversation_id"])
        await do_update_conversation(live.core, conv, status=ConversationStatus(status))
    page = await live.sign_in("alice@kith.test")
    conversations = page.get_by_role("list", name="Conversations")
    filters = page.get_by_role("search")
    status = filters.get_by_role("combobox", name="Status")
    await expect(conversations.get_by_role("listitem")).to_have_count(1)  # 李雷's, open
    await filters.get_by_role("searchbox", name="Search").fill("courier")
    await expect(status).to_have_value("any")
    await expect(conversations.get_by_role("listitem")).to_have_count(2)
    await expect(
        conversations.get_by_role("button", name=re.compile("Ada Lovelace"))
    ).to_be_visible()
    await status.select_option("pending")  # narrowing the search again is the agent's choice
    await expect(conversations.get_by_role("listitem")).to_have_count(1)
    await expect(
        conversations.get_by_role("button", name=re.compile("Grace Hopper"))
    ).to_be_visible()
    await filters.get_by_role("searchbox", name="Search").fill("")
    await expect(status).to_have_value("open")
    await expect(conversations.get_by_role("button", name=re.compile("李雷"))).to_be_visible()
    await expect(conversations.get_by_role("listitem")).to_have_count(1)


async def test_merging_two_customers_of_one_name_tells_them_apart(live: Live) -> None:
    """Regression (QA demo #13): "将 王测试 合并到 王测试？" named both the same; the question
    adds what tells each apart (here their ids on the channel)."""
    from playwright.async_api import expect

    await live.customer_says("你好", user="u-wang-1", name="王测试")
    await live.customer_says("你好，我是另一个", user="u-wang-2", name="王测试")
    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    conversations = page.get_by_role("list", name="会话")
    await conversations.get_by_role("button", name=re.compile("王测试")).first.click()
    panel = page.get_by_role("complementary", name="客户")
    await panel.get_by_text("合并到此客户…").click()
    await panel.get_by_role("searchbox").fill("王测试")
    found = panel.get_by_role("list").filter(
        has=page.get_by_role("button", name=re.compile("王测试"))
    )
    await found.get_by_role("button", name=re.compile("王测试")).first.click(timeout=LIVE)
    question = panel.locator("#merge-question")
    await expect(question).to_contain_text(
        re.compile(r"将 王测试（u-wang-\d） 合并到 王测试（u-wang-\d）？")
    )
    text = await question.text_content()
    assert text is not None and "u-wang-1" in text and "u-wang-2" in text


async def test_a_search_typed_before_the_first_list_keeps_its_answer(live: Live) -> None:
    """The unfiltered first list, landing after a search's answer, is not drawn over it."""
    from playwright.async_api import expect

    await live.customer_says("我要退款谢谢", user="u-wang", name="王芳")
    await live.customer_says("Where is my parcel?")
    await caught_up(live.core)
    page = await live.sign_in("alice@kith.test")
    first = HeldFirst("/conversations", method="GET")
    await first.install(page)
    await page.reload()
    await first.first()
    conversations = page.get_by_role("list", name="Conversations")
    await page.get_by_role("searchbox", name="Search").fill("退款")
    await expect(conversations.get_by_role("listitem")).to_have_count(1)
    first.release()
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)  # the first answer is in
    await expect(conversations.get_by_role("listitem")).to_have_count(1)
    await expect(conversations.get_by_role("button", name=re.compile("王芳"))).to_be_visible()


async def test_the_labels_kith_writes_are_worded_in_the_pages_language(live: Live) -> None:
    """Regression (QA, agent probe #13): "handoff" and "negative-sentiment" showed in English
    on the Chinese inbox. An agent's own label shows as written."""
    from playwright.async_api import expect

    from kith.core.conversations import do_update_conversation, get_conversation

    await live.customer_says("我要退款")
    found = await live.core.store.conversations.find_one({})
    assert found is not None
    conversation = await get_conversation(live.core, found["workspace_id"], found["_id"])
    labels = ["handoff", "negative-sentiment", "vip"]
    await do_update_conversation(live.core, conversation, labels=labels)
    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    tags = page.get_by_role("list", name="会话").locator(".tag")
    await expect(tags).to_have_text(["转人工", "负面情绪", "vip"], timeout=LIVE)
    await expect(tags.first).to_have_attribute("title", "handoff")
