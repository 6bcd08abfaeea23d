"""Settings → Channels says when a mailbox cannot connect (M4), in words, in either language:
"Not connecting: authentication failed (since 14:02)", then "Last checked 14:05" once the
admin fixed the password with the keyboard. Real Dovecot, real polls, a real browser.

The test holds the channels' poll leases itself, so that the live app's own supervisor never
polls them between two looks: each poll here is the supervisor's, run when the test says.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.connectors.email.imap import ImapSession
from kith.core import leases
from kith.core.channel_records import create_channel, get_channel
from kith.core.context import Core
from kith.core.models import Workspace
from kith.core.pollers import PollerSupervisor
from kith.core.settings import Settings
from tests.connectors.email.conftest import ImapServer, Mailbox, email_config
from tests.connectors.email.conftest import imap_server as imap_server  # the fixtures
from tests.connectors.email.conftest import mailbox as mailbox
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.test_admin_browser import seed as admin_seed

pytestmark = [needs_chromium, pytest.mark.timeout(120)]
OWNER = "kith-test"  # holds the leases: the app's supervisor leaves the channels alone
CLOCK = r"(\d{1,2} \w+ \d{4}, )?\d\d:\d\d"  # today's time, or another day's date and time
CLOCK_ZH = r"(\d{4}年\d{1,2}月\d{1,2}日 )?\d\d:\d\d"


@pytest.fixture
async def sales_folder(imap_server: ImapServer, mailbox: Mailbox) -> AsyncIterator[str]:
    """A second folder of the test account: Sales mail reads it (one channel per mailbox)."""
    name = mailbox.name + "-sales"
    async with ImapSession(imap_server.settings()) as imap:
        await imap.create(name)
    yield name
    async with ImapSession(imap_server.settings()) as imap:
        await imap.delete(name)


@pytest.fixture
async def live(
    settings: Settings, imap_server: ImapServer, mailbox: Mailbox, sales_folder: str
) -> AsyncIterator[Live]:
    async def seed(core: Core, workspace: Workspace) -> None:
        await admin_seed(core, workspace)
        broken = email_config(imap_server, mailbox.name, 25, password="wrong-password")
        working = email_config(imap_server, sales_folder, 25, address="sales@shop.test")
        for name, config in (("Support mail", broken), ("Sales mail", working)):
            channel, _ = await create_channel(core, workspace.id, "email", name, config)
            lease = PollerSupervisor.lease_name(channel)
            assert await leases.acquire(core, lease, OWNER, 3600)

    async with live_app(settings, seed) as app:
        yield app


async def poll_all(core: Core) -> None:
    supervisor = PollerSupervisor(core, owner=OWNER)
    poller = core.channels.get("email").poller  # type: ignore[union-attr]
    for doc in await core.store.channels.find({"type": "email"}).to_list(None):
        await supervisor.poll(await get_channel(core, None, doc["_id"]), poller)


async def test_a_mailbox_that_cannot_connect_says_why_until_it_is_fixed(
    live: Live, imap_server: ImapServer
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + "/app/admin/channels")
    table = page.get_by_role("table", name="Channels")
    support = table.get_by_role("row", name=re.compile("Support mail"))
    await expect(support).to_contain_text("Enabled")
    await expect(support).not_to_contain_text("Not connecting")  # never polled: nothing said

    await poll_all(live.core)
    await page.reload()
    status = support.locator("td.status")
    await expect(status).to_contain_text(
        re.compile(rf"^Enabled⚠ Not connecting: authentication failed \(since {CLOCK}\)")
    )
    await expect(status).to_contain_text(re.compile(r"Kith keeps trying \(1 failed checks"))
    await expect(status.locator("time").first).to_have_attribute("datetime", re.compile("^20"))
    sales = table.get_by_role("row", name=re.compile("Sales mail"))
    await expect(sales.locator("td.status")).to_have_text(
        re.compile(rf"^EnabledLast checked {CLOCK}$")
    )
    await assert_every_control_is_named(page)

    # Fixed with the keyboard: the row's Edit, Enter, type the password, Enter.
    edit = support.get_by_role("button", name="Edit: Support mail")
    await edit.focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Edit channel: Support mail")
    await dialog.get_by_label("Password").focus()
    await page.keyboard.type(imap_server.password)
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()

    await poll_all(live.core)
    await page.reload()
    await expect(status).to_have_text(re.compile(rf"^EnabledLast checked {CLOCK}$"))


async def test_the_chinese_page_says_it_too_and_refuses_a_second_channel_for_one_mailbox(
    live: Live, imap_server: ImapServer, mailbox: Mailbox
) -> None:
    from playwright.async_api import expect

    await poll_all(live.core)
    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/admin/channels")
    table = page.get_by_role("table", name="渠道")
    support = table.get_by_role("row", name=re.compile("Support mail"))
    await expect(support.locator("td.status")).to_contain_text(
        re.compile(rf"^已启用⚠ 无法连接：身份验证失败（自 {CLOCK_ZH} 起）")
    )
    sales = table.get_by_role("row", name=re.compile("Sales mail"))
    await expect(sales.locator("td.status")).to_have_text(
        re.compile(rf"^已启用最近检查于 {CLOCK_ZH}$")
    )

    form = page.get_by_role("form", name="新建渠道")
    await form.get_by_label("类型").select_option(label="邮件")
    await form.get_by_label("名称", exact=True).fill("第二个")
    for field, value in email_config(imap_server, mailbox.name, 25).items():
        if isinstance(value, str) and field not in {"imap_security", "smtp_security"}:
            await form.locator(f'[name="{field}"]').fill(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            await form.locator(f'[name="{field}"]').fill(str(value))
    await form.get_by_role("button", name="创建渠道").click()
    await expect(form.get_by_role("alert")).to_contain_text(
        "渠道“Support mail”已在收取这个邮箱：请编辑那个渠道。"
    )
    assert await live.core.store.channels.count_documents({"type": "email"}) == 2
