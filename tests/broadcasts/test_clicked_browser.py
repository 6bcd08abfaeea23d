"""The broadcast's stats on the page say how many recipients clicked a link of theirs, with
the share of those sent to, in English and Chinese; and Save draft sits at the compose form's
start, as the other editors' Save does (it was pushed to the right)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from kith.broadcasts.actions import do_create_broadcast, do_schedule
from kith.broadcasts.models import BroadcastIn
from kith.broadcasts.worker import message_id
from kith.core.models import Author, AuthorKind
from tests.broadcasts.test_tracked_links import LINK
from tests.support.browser import needs_chromium
from tests.support.pages import Live
from tests.web.test_broadcasts_browser import customer_ids, live  # noqa: F401 (a fixture)

pytestmark = [needs_chromium, pytest.mark.timeout(120)]
LABELS = {
    "en-US": ("Stats and preview", "Done", "Clicked", "1 (50% of sent)"),
    "zh-CN": ("统计与预览", "已完成", "点击", "1（占已发送的 50%）"),
}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_stats_say_who_clicked_and_their_share(
    live: Live,  # noqa: F811 (the fixture imported above)
    locale: str,
) -> None:
    from playwright.async_api import expect

    core = live.core
    ada, li = await customer_ids(live)
    workspace_id = (await core.store.customers.find_one({"_id": ada}))["workspace_id"]
    text = {"en": "Sale: https://shop.test/sale", "zh": "特惠：https://shop.test/sale"}
    body = BroadcastIn.model_validate(
        {"name": "Link day", "message": {"text": text}, "channels": ["api"],
         "customer_ids": [ada, li]}
    )  # fmt: skip
    system = Author(kind=AuthorKind.system)
    made = await do_create_broadcast(core, workspace_id, body, system)
    await do_schedule(core, made, system)
    open_stats, done, clicked, figure = LABELS[locale]
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/broadcasts")
    row = page.get_by_role("table").get_by_role("row", name=re.compile("Link day"))
    await expect(row).to_contain_text(done, timeout=15_000)

    sent = await core.store.messages.find_one({"_id": message_id(made.id, ada)})
    [link] = LINK.findall(sent["text"])
    async with httpx.AsyncClient(base_url=live.url) as http:
        for _ in range(2):  # twice: one recipient who clicked
            followed = await http.get(urlsplit(link).path)
            assert followed.status_code == 302
            assert followed.headers["location"] == "https://shop.test/sale"

    await row.get_by_role("button", name=open_stats).click()
    figures = page.locator("#stats-figures")
    term = figures.locator("dt", has_text=re.compile(f"^{clicked}$"))
    await expect(term).to_have_count(1)
    # The list is read again every 5 s: the click shows on the next read.
    shown = figures.locator(f"dt:text-is('{clicked}') + dd")
    await expect(shown).to_have_text(figure, timeout=15_000)

    save = page.get_by_role("form").locator("#compose-save")
    estimate = page.locator("#estimate-do")
    save_box, estimate_box = await save.bounding_box(), await estimate.bounding_box()
    assert save_box is not None and estimate_box is not None
    assert abs(save_box["x"] - estimate_box["x"]) < 1  # both at the form's start
