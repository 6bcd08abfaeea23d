"""A password an admin chose must be replaced at the next sign-in (QA 8, minor 5)."""

from __future__ import annotations

from kith.core.context import Core
from tests.web.conftest import PASSWORD, Browser, Cast, sign_in

CHOSEN = "chosen by the admin"
OWN = "my very own secret"


async def test_a_new_user_chooses_their_own_password_before_anything_else(
    cast: Cast, browser, core: Core
) -> None:
    admin = await browser("admin")
    made = await admin.api(
        "POST", "/users", json={"email": "nina@kith.test", "password": CHOSEN, "role": "agent"}
    )
    assert made.status_code == 201 and made.json()["must_change_password"] is True
    listed = (await admin.api("GET", "/users")).json()["items"]
    assert [u["email"] for u in listed if u["must_change_password"]] == ["nina@kith.test"]

    nina: Browser = await browser()
    signed = await sign_in(nina.http, "nina@kith.test", CHOSEN)
    assert signed.status_code == 303
    me = await nina.api("GET", "/me")  # allowed: who am I, and the CSRF token
    assert me.status_code == 200
    nina.csrf = me.json()["csrf_token"]
    for page in ("/app", "/app/admin/users", "/app/admin/bots", "/app/contacts", "/app/login"):
        answer = await nina.http.get(page)
        assert (answer.status_code, answer.headers.get("location")) == (303, "/app/admin/account")
    account = await nina.http.get("/app/admin/account")
    assert account.status_code == 200 and 'id="must-change-password"' in account.text
    for method, path, body in (
        ("GET", "/conversations", None),
        ("GET", "/users", None),
        ("PATCH", f"/conversations/{cast.conversations['help']}", {"status": "resolved"}),
    ):
        refused = await nina.api(method, path, json=body)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["error"]["code"] == "password_change_required"
    changed = await nina.api(
        "PUT", "/me/password", json={"current_password": CHOSEN, "new_password": OWN}
    )
    assert changed.status_code == 200, changed.text
    assert (await nina.api("GET", "/conversations")).status_code == 200
    assert (await nina.http.get("/app")).status_code == 200
    account = await nina.http.get("/app/admin/account")
    assert 'id="must-change-password"' not in account.text
    listed = (await admin.api("GET", "/users")).json()["items"]
    assert not any(u["must_change_password"] for u in listed)


async def test_a_reset_password_must_be_replaced_but_an_admins_own_reset_need_not(
    cast: Cast, browser, core: Core
) -> None:
    admin = await browser("admin")
    bob_id, admin_id = cast.users["bob"].id, cast.users["admin"].id
    reset = await admin.api("PUT", f"/users/{bob_id}/password", json={"password": CHOSEN})
    assert reset.status_code == 200
    own = await admin.api("PUT", f"/users/{admin_id}/password", json={"password": OWN})
    assert own.status_code == 200
    flags = {
        u["id"]: u["must_change_password"]
        for u in (await admin.api("GET", "/users")).json()["items"]
    }
    assert flags[bob_id] is True and flags[admin_id] is False
    assert (await admin.api("GET", "/conversations")).status_code == 200
    bob: Browser = await browser()
    await sign_in(bob.http, "bob@kith.test", CHOSEN)
    bob.csrf = (await bob.api("GET", "/me")).json()["csrf_token"]
    assert (await bob.api("GET", "/conversations")).status_code == 403
    # Signing out still works.
    out = await bob.http.post("/app/logout", headers={"X-CSRF-Token": bob.csrf})
    assert (out.status_code, out.headers["location"]) == (303, "/app/login")
    assert (await bob.api("GET", "/me")).status_code == 401


async def test_users_made_outside_the_users_page_are_not_asked(cast: Cast, browser) -> None:
    """The cast (as the demo's and `kith user create`'s users) is made by `create_user`:
    whoever typed the password uses it."""
    alice = await browser("alice")
    assert (await alice.api("GET", "/conversations")).status_code == 200
    assert (await alice.http.get("/app")).status_code == 200
    assert PASSWORD
