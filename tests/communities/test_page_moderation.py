"""A community's page: its moderation log rendered on the server (customer text escaped, the
member linked, the appeal, Lift where the API would lift, lifted rows saying by whom, cursor
pages), its moderation rules form (all five rules, English and Chinese), and the demo's
spammer's deletion and warning in that log."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from fastapi import FastAPI

from kith.communities.demo import (
    DemoBotApi,
    seed_demo_activity,
    seed_demo_community,
    use_demo_bot_api,
)
from kith.communities.demo_moderation import SPAMMER
from kith.communities.models import Community
from kith.communities.store import community_id, get_community
from kith.core.auth import create_user
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Role
from kith.core.teams import create_team
from tests.communities.audit_support import APPEAL, HOSTILE, seed_audit
from tests.communities.moderation_kit import install_admin, post, set_rules
from tests.communities.welcome_support import run_due
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.support.consumers import drain
from tests.web.conftest import PASSWORD, sign_in

GROUP = "-1001234567890"


def audit_rows(page: str) -> dict[str, str]:
    """Each row of the moderation log, by audit id: its HTML."""
    table = re.search(r'<table class="grid" id="audit-log".*?</table>', page, re.S)
    assert table, "no moderation log on the page"
    return dict(re.findall(r'<tr data-audit="([^"]+)"[^>]*>(.*?)</tr>', table.group(), re.S))


async def _signed_in(telegram: TelegramSetup, workspace_id: str, email: str, role: Role) -> str:
    user = await create_user(
        telegram.core, workspace_id, email, PASSWORD, name=email[:3], role=role
    )
    if role == Role.agent:  # an agent sees the groups of their teams' channels
        await create_team(telegram.core, workspace_id, "Groups", [telegram.channel_id], [user.id])
    await sign_in(telegram.http, email)
    return str((await telegram.http.get("/app/api/me")).json()["csrf_token"])


async def _community(telegram: TelegramSetup, workspace_id: str) -> Community:
    await telegram.deliver(update("group_text"))
    await drain(telegram.core)
    return await get_community(
        telegram.core, workspace_id, community_id(telegram.channel_id, GROUP)
    )


async def test_the_log_escapes_customer_text_offers_lift_and_pages(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    community = await _community(telegram, workspace_id)
    made = await seed_audit(telegram.core, community, older=20)
    await _signed_in(telegram, workspace_id, "mar@kith.test", Role.marketer)
    page = (await telegram.http.get(f"/app/communities/{community.id}")).text

    assert HOSTILE not in page and APPEAL not in page
    shown = audit_rows(page)
    assert len(shown) == 20  # a page; newest first
    assert list(shown)[:5] == [made[k].id for k in ("muted", "warn", "delete", "mute", "ban")]
    warn = shown[made["warn"].id]
    assert html.escape(f"FREE MONEY {HOSTILE}", quote=False) in warn
    assert html.escape(APPEAL, quote=False) in warn and "Appealed" in warn
    assert '<a href="/app/contacts/cust-carl">Crypto Carl</a>' in warn
    assert "Banned words and patterns" in warn and "free money" in warn and "warned" in warn
    # Lift only where the platform can undo: a mute or a ban, not a deletion or a warning.
    assert "data-lift" not in warn and "data-lift" not in shown[made["delete"].id]
    muted = shown[made["muted"].id]
    assert f'data-lift="{made["muted"].id}"' in muted
    assert 'aria-label="Unmute Crypto Carl"' in muted
    mute = shown[made["mute"].id]
    assert "data-lift" not in mute and "refused by the platform: not enough rights" in mute
    assert "until" in mute
    ban = shown[made["ban"].id]
    assert "data-lift" not in ban and "Lifted by Mia Moderator" in ban
    assert "/app/contacts/" not in ban and "424242999" in ban  # no customer: the platform id
    assert "No appeal" in ban

    older = re.search(r'href="\?status=member&amp;days=30&amp;audit_cursor=([^"#]+)#audit"', page)
    assert older, "no link to older actions"
    second = await telegram.http.get(
        f"/app/communities/{community.id}", params={"audit_cursor": html.unescape(older.group(1))}
    )
    rest = audit_rows(second.text)
    assert len(rest) == 5 and not set(rest) & set(shown)
    assert "Latest actions" in second.text

    chinese = (await telegram.http.get(f"/app/communities/{community.id}?lang=zh")).text
    assert "管理记录" in chinese and "已由 Mia Moderator 撤销" in chinese
    assert "解除 Crypto Carl 的禁言" in chinese and "管理规则" in chinese


async def test_a_lift_shows_on_the_row_and_an_agent_may_lift_but_not_edit_rules(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    install_admin(telegram.core)  # the platform takes the unmute
    community = await _community(telegram, workspace_id)
    made = await seed_audit(telegram.core, community)
    csrf = await _signed_in(telegram, workspace_id, "age@kith.test", Role.agent)
    page = (await telegram.http.get(f"/app/communities/{community.id}")).text
    assert 'id="moderation"' not in page and 'id="settings"' not in page
    assert f'data-lift="{made["muted"].id}"' in page  # the API lets whoever signs in lift

    lifted = await telegram.http.post(
        f"/app/api/communities/{community.id}/audit/{made['muted'].id}/lift",
        headers={"X-CSRF-Token": csrf},
    )
    assert lifted.status_code == 200, lifted.text
    shown = audit_rows((await telegram.http.get(f"/app/communities/{community.id}")).text)
    assert "data-lift" not in shown[made["muted"].id]
    assert "Lifted by age" in shown[made["muted"].id]
    [lift] = [row for key, row in shown.items() if key not in {r.id for r in made.values()}]
    assert "lifted" in lift and "a moderator" in lift and "data-lift" not in lift


async def test_the_rules_form_shows_every_rule_and_the_settings_form_leaves_them_to_it(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    community = await _community(telegram, workspace_id)
    await _signed_in(telegram, workspace_id, "adm@kith.test", Role.admin)
    page = (await telegram.http.get(f"/app/communities/{community.id}")).text
    form = re.search(r'<form id="moderation".*?</form>', page, re.S)
    assert form
    rules = re.findall(r'data-rule="(\w+)"', form.group())
    assert rules == ["words", "links", "flood", "repeat", "media"]
    for field in (
        "moderation.words.patterns",
        "moderation.words.words",
        "moderation.links.min_days",
        "moderation.flood.messages",
        "moderation.flood.seconds",
        "moderation.repeat.members",
        "moderation.media.actions",
        "moderation.mute_minutes",
        "moderation.ban_days",
        "moderation.warn_texts.zh",
    ):
        assert f'data-field="{field}"' in form.group(), field
        assert f'data-error-for="{field}"' in form.group(), field
    assert form.group().count('data-action="mute"') == 5
    assert 'step="any"' in form.group()  # min_days takes fractions
    settings = re.search(r'<form id="settings".*?</form>', page, re.S)
    assert settings and 'data-section="moderation"' not in settings.group()
    assert "No moderation action yet." in page


DEMO_API = DemoBotApi()


@pytest.fixture
def callbacks() -> FastAPI:
    """The demo's own Bot API, reached for every host (as in `kith demo`)."""
    app = FastAPI()
    app.include_router(DEMO_API.router())
    return app


async def test_the_demo_spammers_deletion_and_warning_are_in_the_log(
    core: Core, clock: ManualClock, workspace_id: str, client: httpx.AsyncClient
) -> None:
    community = await seed_demo_community(core, workspace_id)
    await seed_demo_activity(core, workspace_id, community)
    await use_demo_bot_api(core, workspace_id, "http://demo.test")
    await run_due(core)
    await create_user(core, workspace_id, "adm@kith.test", PASSWORD, name="A", role=Role.admin)
    await sign_in(client, "adm@kith.test")
    shown = audit_rows((await client.get(f"/app/communities/{community.id}")).text)
    carl = [row for row in shown.values() if str(SPAMMER["first_name"]) in row]
    assert any("deleted" in row for row in carl) and any("warned" in row for row in carl), shown
    assert all("data-lift" not in row for row in carl)  # nothing the platform could undo
    assert all("FREE MONEY" in row for row in carl)


async def test_a_lift_and_a_flood_are_worded_in_the_page_s_language(
    telegram: TelegramSetup, workspace_id: str, clock: ManualClock
) -> None:
    """Their details are kept as facts, not English sentences (`lifts warn` before)."""
    install_admin(telegram.core)
    community = await _community(telegram, workspace_id)
    made = await seed_audit(telegram.core, community)
    await set_rules(telegram, flood={"enabled": True, "messages": 2, "seconds": 10})
    for n in range(3):
        await telegram.deliver(post(clock.now(), 424242333, "Fast Fred", f"hi {n}"))
    await drain(telegram.core)
    csrf = await _signed_in(telegram, workspace_id, "mia@kith.test", Role.marketer)
    lifted = await telegram.http.post(
        f"/app/api/communities/{community.id}/audit/{made['muted'].id}/lift",
        headers={"X-CSRF-Token": csrf},
    )
    assert lifted.status_code == 200, lifted.text

    rows = audit_rows((await telegram.http.get(f"/app/communities/{community.id}?lang=zh")).text)
    seeded = {row.id for row in made.values()} | {lifted.json()["id"]}
    lift = rows[lifted.json()["id"]]
    [flood, *_] = [row for key, row in rows.items() if key not in seeded and "刷屏" in row]
    assert "撤销禁言" in lift and "lifts" not in lift
    assert "10 秒内 3 条消息" in flood and "messages in" not in flood
    english = audit_rows((await telegram.http.get(f"/app/communities/{community.id}")).text)
    assert "lifts the mute" in english[lifted.json()["id"]]
