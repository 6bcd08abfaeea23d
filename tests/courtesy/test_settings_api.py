"""`/api/v1/courtesy`: defaults, replacing them, and bad input named by field."""

from __future__ import annotations

import httpx


async def test_defaults_then_replace(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    http, auth = api
    answer = await http.get("/api/v1/courtesy", headers=auth)
    assert answer.status_code == 200
    assert answer.json() == {
        "quiet_start": "21:00:00",
        "quiet_end": "09:00:00",
        "daily_cap": 2,
        "timezone": "UTC",
        "require_granted": [],
    }
    body = {
        "quiet_start": "22:30",
        "quiet_end": "08:00",
        "daily_cap": 1,
        "timezone": "Asia/Shanghai",
        "require_granted": [],
    }
    answer = await http.put("/api/v1/courtesy", json=body, headers=auth)
    assert answer.status_code == 200
    assert (await http.get("/api/v1/courtesy", headers=auth)).json() == {
        "quiet_start": "22:30:00",
        "quiet_end": "08:00:00",
        "daily_cap": 1,
        "timezone": "Asia/Shanghai",
        "require_granted": [],
    }


async def test_bad_input_names_the_field(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    http, auth = api
    for body, field in (
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"daily_cap": 0}, "daily_cap"),
        ({"quiet_start": "25:00"}, "quiet_start"),
        ({"quiet": "21:00"}, "quiet"),
    ):
        answer = await http.put("/api/v1/courtesy", json=body, headers=auth)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["field"] == field


async def test_a_put_needs_every_field_and_a_patch_keeps_the_others(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    """Regression (QA marketer #6): a PUT of `daily_cap` alone reset the time zone and
    `require_granted` (double opt-in) to their defaults, and `pigeon` was taken as a channel."""
    http, auth = api
    whole = {
        "quiet_start": "21:00",
        "quiet_end": "09:00",
        "daily_cap": 2,
        "timezone": "Asia/Shanghai",
        "require_granted": ["api"],
    }
    assert (await http.put("/api/v1/courtesy", json=whole, headers=auth)).status_code == 200
    partial = await http.put("/api/v1/courtesy", json={"daily_cap": 3}, headers=auth)
    assert partial.status_code == 422
    assert partial.json()["error"]["field"] == "quiet_start"
    patched = await http.patch("/api/v1/courtesy", json={"daily_cap": 3}, headers=auth)
    assert patched.status_code == 200, patched.text
    expected = {**whole, "quiet_start": "21:00:00", "quiet_end": "09:00:00", "daily_cap": 3}
    assert patched.json() == expected
    assert (await http.get("/api/v1/courtesy", headers=auth)).json() == expected
    for method, body in (
        ("PUT", {**whole, "require_granted": ["api", "pigeon"]}),
        ("PATCH", {"require_granted": ["pigeon"]}),
    ):
        answer = await http.request(method, "/api/v1/courtesy", json=body, headers=auth)
        assert answer.status_code == 422, (method, answer.text)
        field = "require_granted.1" if method == "PUT" else "require_granted.0"
        assert answer.json()["error"]["field"] == field
    assert (await http.get("/api/v1/courtesy", headers=auth)).json() == expected


async def test_needs_a_token(api: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    http, _ = api
    assert (await http.get("/api/v1/courtesy")).status_code == 401
