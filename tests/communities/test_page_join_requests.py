"""A community's join requests on its page: pending ones rendered on the server (customer
text escaped, the customer linked, the link named, Approve and Decline named for whom), the
settled ones only under their filter and never offered again, a decision through the app API
shown on the next load, the mode as a choice in the settings, the demo's request, Chinese."""

from __future__ import annotations

import html
import re

import httpx

from kith.communities.demo import seed_demo_activity, seed_demo_community
from kith.communities.demo_join_requests import LINK_NAME, seed_demo_join_request
from kith.communities.models import Community
from kith.communities.store import community_id, get_community
from kith.core.auth import create_user
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Role
from kith.core.teams import create_team
from tests.communities.audit_support import HOSTILE
from tests.communities.join_request_support import (
    EVE,
    POSTER,
    install_join_admin,
    seed_requests,
)
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.support.consumers import drain
from tests.web.conftest import PASSWORD, sign_in

GROUP = "-1001234567890"


def request_rows(page: str) -> dict[str, str]:
    """Each row of the join requests table, by request id: its HTML."""
    table = re.search(r'<table class="grid" id="join-requests".*?</table>', page, re.S)
    assert table, "no join requests on the page"
    return dict(re.findall(r'<tr data-join-request="([^"]+)"[^>]*>(.*?)</tr>', table.group(), re.S))


async def _signed_in(telegram: TelegramSetup, workspace_id: str, email: str, role: Role) -> str:
    user = await create_user(
        telegram.core, workspace_id, email, PASSWORD, name="Ann Marsh", role=role
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


async def test_pending_requests_are_offered_escaped_and_settled_ones_are_not(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    community = await _community(telegram, workspace_id)
    made = await seed_requests(telegram.core, community)
    await _signed_in(telegram, workspace_id, "mar@kith.test", Role.marketer)
    page = (await telegram.http.get(f"/app/communities/{community.id}")).text

    assert HOSTILE not in page and POSTER not in page
    shown = request_rows(page)
    assert list(shown) == [made["eve"].id, made["nameless"].id]  # pending, newest first
    eve = shown[made["eve"].id]
    assert f'<a href="/app/contacts/cust-eve">{html.escape(EVE, quote=False)}</a>' in eve
    assert html.escape(POSTER, quote=False) in eve
    for verdict in ("approve", "decline"):
        assert f'data-request="{made["eve"].id}" data-verdict="{verdict}"' in eve
    label = html.escape(f"Approve the request of {EVE}")
    assert f'aria-label="{label}"' in eve
    nameless = shown[made["nameless"].id]
    assert "424242777" in nameless and "/app/contacts/" not in nameless
    assert "(none named)" in nameless and 'data-verdict="approve"' in nameless

    settled = (
        await telegram.http.get(
            f"/app/communities/{community.id}", params={"requests_status": "all"}
        )
    ).text
    every = request_rows(settled)
    assert len(every) == 4
    assert "Approved by Mia Moderator" in every[made["ada"].id]
    assert "Declined" in every[made["bob"].id] and "join requests" not in every[made["bob"].id]
    assert all("data-verdict" not in every[made[k].id] for k in ("ada", "bob"))
    approved = (
        await telegram.http.get(
            f"/app/communities/{community.id}", params={"requests_status": "approved"}
        )
    ).text
    assert list(request_rows(approved)) == [made["ada"].id]
    assert '<option value="approved" selected>' in approved

    chinese = (await telegram.http.get(f"/app/communities/{community.id}?lang=zh")).text
    assert "入群申请" in chinese and "邀请链接" in chinese
    assert html.escape(f"批准 {EVE} 的入群申请") in chinese
    assert ">拒绝</button>" in chinese


async def test_a_decision_shows_on_the_next_load_and_a_second_is_refused(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    community = await _community(telegram, workspace_id)
    made = await seed_requests(telegram.core, community)
    admin = install_join_admin(telegram.core)
    csrf = await _signed_in(telegram, workspace_id, "mar@kith.test", Role.marketer)
    path = f"/app/api/communities/{community.id}/join-requests/{made['eve'].id}"

    answer = await telegram.http.post(f"{path}/approve", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    assert admin.named("approve_join_request") == [(GROUP, "424242005")]
    again = await telegram.http.post(f"{path}/decline", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409 and "approved already" in again.text

    page = (await telegram.http.get(f"/app/communities/{community.id}")).text
    assert list(request_rows(page)) == [made["nameless"].id]
    every = request_rows(
        (
            await telegram.http.get(
                f"/app/communities/{community.id}", params={"requests_status": "all"}
            )
        ).text
    )
    assert "Approved by Ann Marsh" in every[made["eve"].id]
    assert "data-verdict" not in every[made["eve"].id]


async def test_an_agent_who_works_the_inbox_decides_too(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    community = await _community(telegram, workspace_id)
    made = await seed_requests(telegram.core, community)
    install_join_admin(telegram.core)
    csrf = await _signed_in(telegram, workspace_id, "age@kith.test", Role.agent)
    shown = request_rows((await telegram.http.get(f"/app/communities/{community.id}")).text)
    assert 'data-verdict="decline"' in shown[made["eve"].id]
    path = f"/app/api/communities/{community.id}/join-requests/{made['eve'].id}/decline"
    answered = await telegram.http.post(path, headers={"X-CSRF-Token": csrf})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "declined"


async def test_no_section_without_requests_and_the_mode_is_a_choice(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    community = await _community(telegram, workspace_id)
    await _signed_in(telegram, workspace_id, "adm@kith.test", Role.admin)
    page = (await telegram.http.get(f"/app/communities/{community.id}")).text
    assert 'id="requests"' not in page and "Join requests</h2>" not in page
    settings = re.search(r'<form id="settings".*?</form>', page, re.S)
    assert settings
    select = re.search(
        r'<select[^>]*data-field="join_requests.mode".*?</select>', settings.group(), re.S
    )
    assert select, "no choice of who lets people in"
    assert '<option value="moderators" selected>' in select.group()
    assert '<option value="approve">The bot, at once</option>' in select.group()
    assert 'data-field="join_requests.language"' in settings.group()


async def test_the_demo_request_waits_on_the_page(
    core: Core, clock: ManualClock, workspace_id: str, client: httpx.AsyncClient
) -> None:
    community = await seed_demo_community(core, workspace_id)
    await seed_demo_activity(core, workspace_id, community)
    await seed_demo_join_request(core, workspace_id, community.id)
    await drain(core)
    await create_user(core, workspace_id, "adm@kith.test", PASSWORD, name="A", role=Role.admin)
    await sign_in(client, "adm@kith.test")
    [row] = request_rows((await client.get(f"/app/communities/{community.id}")).text).values()
    assert "Zhang Wei 张伟" in row and LINK_NAME in row
    assert 'data-verdict="approve"' in row and 'data-verdict="decline"' in row
