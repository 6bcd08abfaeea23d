"""The Contacts pages' JSON: who may read which customer, who may change them, CSRF, and
another workspace. alice is an agent of Sales (channel `shop`, where Ada wrote), bob of
Support (`help`, Grace), mary a marketer (see `tests/web/conftest.py`)."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.models import InboundUser
from kith.core.pipeline import ingest
from kith.core.workspaces import create_workspace
from tests.support.cast import api_channel, inbound
from tests.web.conftest import Cast


async def _customers(core: Core, cast: Cast) -> dict[str, str]:
    docs = await core.store.customers.find({"workspace_id": cast.workspace_id}).to_list(None)
    return {d["name"].split()[0].lower(): d["_id"] for d in docs}


async def _twin(core: Core, cast: Cast) -> None:
    """Ada again, on the Support channel, with her email: a merge suggestion."""
    ada = InboundUser(id="u-ada-2", name="Twin Ada", email="ada@example.com")
    await ingest(core, cast.help, inbound(cast.help, user=ada))


async def test_an_agent_reads_only_customers_of_their_channels(
    cast: Cast, browser, core: Core
) -> None:
    ids = await _customers(core, cast)
    alice = await browser("alice")

    listed = (await alice.api("GET", "/contacts")).json()["items"]

    assert [c["id"] for c in listed] == [ids["ada"]]
    assert (await alice.api("GET", f"/contacts/{ids['ada']}")).status_code == 200
    refused = await alice.api("GET", f"/contacts/{ids['grace']}")
    assert refused.status_code == 403
    assert (await alice.api("GET", f"/contacts/{ids['grace']}/timeline")).status_code == 403
    mary = await browser("mary")
    assert len((await mary.api("GET", "/contacts")).json()["items"]) == 2


async def test_agents_change_nothing_and_see_no_merges(cast: Cast, browser, core: Core) -> None:
    await _twin(core, cast)
    ids = await _customers(core, cast)
    alice = await browser("alice")
    mary = await browser("mary")
    [suggestion] = (await mary.api("GET", "/contacts/merge-suggestions")).json()["items"]
    body = {"survivor_id": ids["ada"], "other_id": ids["twin"]}

    for method, path, payload in (
        ("PATCH", f"/contacts/{ids['ada']}", {"tags": ["x"]}),
        ("GET", "/contacts/merge-suggestions", None),
        ("POST", f"/contacts/merge-suggestions/{suggestion['id']}/merge", body),
        ("POST", f"/contacts/merge-suggestions/{suggestion['id']}/dismiss", None),
        ("GET", "/contacts/merges", None),
        ("POST", "/contacts/merges/anything/undo", None),
    ):
        answer = await alice.api(method, path, json=payload)
        assert answer.status_code == 403, (method, path, answer.text)
    assert (await core.store.customers.find_one({"_id": ids["ada"]}))["tags"] == []


async def test_changes_need_the_csrf_token(cast: Cast, browser, core: Core) -> None:
    await _twin(core, cast)
    ids = await _customers(core, cast)
    mary = await browser("mary")
    [suggestion] = (await mary.api("GET", "/contacts/merge-suggestions")).json()["items"]
    twin = next(c["id"] for c in suggestion["customers"] if c["id"] != ids["ada"])
    no_token = {"X-CSRF-Token": ""}

    patched = await mary.api(
        "PATCH", f"/contacts/{ids['ada']}", json={"tags": ["x"]}, headers=no_token
    )
    merged = await mary.api(
        "POST",
        f"/contacts/merge-suggestions/{suggestion['id']}/merge",
        json={"survivor_id": ids["ada"], "other_id": twin},
        headers=no_token,
    )

    assert (patched.status_code, merged.status_code) == (403, 403)
    assert await core.store.collection("merges").count_documents({}) == 0


async def test_another_workspace_is_not_found(cast: Cast, browser, core: Core) -> None:
    elsewhere = await create_workspace(core, "Elsewhere")
    channel, _ = await api_channel(core, elsewhere.id, "Theirs")
    theirs = await ingest(core, channel, inbound(channel, "li", "你好"))
    mary = await browser("mary")

    for method, path in (
        ("GET", f"/contacts/{theirs.message.customer_id}"),
        ("GET", f"/contacts/{theirs.message.customer_id}/timeline"),
        ("PATCH", f"/contacts/{theirs.message.customer_id}"),
    ):
        answer = await mary.api(method, path, json={"tags": ["x"]})
        assert answer.status_code == 404, (method, path)
    assert all(c["name"] != "李雷" for c in (await mary.api("GET", "/contacts")).json()["items"])


async def test_bad_filters_and_cursors_name_the_field(cast: Cast, browser) -> None:
    mary = await browser("mary")
    bad_filter = await mary.api(
        "GET", "/contacts", params={"filter": '{"field": "tags", "op": "$where", "value": 1}'}
    )
    bad_cursor = await mary.api("GET", "/contacts/merge-suggestions", params={"cursor": "x"})
    bad_tags = await mary.api("PATCH", "/contacts/whoever", json={"tags": [""]})

    assert bad_filter.status_code == 422
    assert bad_filter.json()["error"]["field"] == "filter.op"
    assert bad_cursor.json()["error"]["field"] == "cursor"
    assert bad_tags.status_code == 422
    assert bad_tags.json()["error"]["field"].startswith("tags")


async def test_the_csv_routes_take_a_managers_session_and_nothing_else(cast: Cast, browser) -> None:
    """The export link and the import upload carry the session, not a token: admins and
    marketers pass, agents are refused, anonymous callers need a token; other API routes
    never take the session."""
    path = "/api/v1/customers/export.csv"
    anonymous = await browser()
    mary = await browser("mary")
    alice = await browser("alice")

    assert (await anonymous.http.get(path)).status_code == 401
    assert (await alice.http.get(path)).status_code == 403
    assert (await mary.http.get(path)).status_code not in (401, 403)
    assert (await mary.http.get("/api/v1/customers")).status_code == 401
    assert (await mary.http.get("/api/v1/conversations")).status_code == 401
