"""The Communities pages over HTTP: a session is needed, customer text is escaped, the charts
are drawn on the server, and only the page's own files are served."""

from __future__ import annotations

import re

from kith.communities.store import community_id
from kith.core.auth import create_user
from kith.core.models import Role
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.support.consumers import drain
from tests.support.written_dates import DAY
from tests.web.conftest import PASSWORD, sign_in

GROUP = "-1001234567890"
HOSTILE = "<img src=x onerror=alert(1)>"


async def test_the_pages_escape_customer_text_and_draw_the_charts(
    telegram: TelegramSetup, workspace_id: str
) -> None:
    http = telegram.http
    answer = await http.get("/app/communities", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/app/login")

    said = update("group_text")
    said["message"]["from"]["first_name"] = HOSTILE
    said["message"]["chat"]["title"] = "Kettle <b>Club</b>"
    await telegram.deliver(said)
    await drain(telegram.core)
    await create_user(
        telegram.core, workspace_id, "m@kith.test", PASSWORD, name="M", role=Role.marketer
    )
    await sign_in(http, "m@kith.test")

    listed = await http.get("/app/communities")
    assert listed.status_code == 200
    assert "Kettle &lt;b&gt;Club&lt;/b&gt;" in listed.text and "<b>Club" not in listed.text
    cid = community_id(telegram.channel_id, GROUP)
    shown = await http.get(f"/app/communities/{cid}?days=7&status=nonsense")
    assert shown.status_code == 200
    assert HOSTILE not in shown.text and "&lt;img src=x onerror=alert(1)&gt;" in shown.text
    assert shown.text.count('<svg class="chart"') == 3
    # Days as every page writes them ("7 Dec 2026"), in the table and on the charts' axes:
    # never an ISO "2026-12-07" as text.
    table = shown.text[shown.text.index('id="days-table"') :]
    assert re.search(rf'<time datetime="\d{{4}}-\d{{2}}-\d{{2}}">{DAY["en"]}</time>', table)
    assert re.search(rf'text-anchor="end">{DAY["en"]}</text>', shown.text)
    assert not re.search(r">\d{4}-\d{2}-\d{2}<", shown.text)
    assert 'id="settings"' in shown.text and 'id="post"' in shown.text  # a manager's forms
    assert shown.headers["content-security-policy"].startswith("default-src 'self'")
    missing = await http.get("/app/communities/nope")
    assert missing.status_code == 404

    assert (await http.get("/app/communities/static/communities.js")).status_code == 200
    assert (await http.get("/app/communities/static/page.py")).status_code == 404
