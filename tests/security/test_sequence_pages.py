"""The Sequences pages: only admins and marketers open them, and what a marketer typed (a
name, a step's text) reaches the page escaped, or as JSON a script reads into text nodes,
never as markup; the funnel's SVG holds numbers, step ids and escaped labels only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.sequences.feature import feature
from tests.web.conftest import Cast

HOSTILE = '</script><script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture(autouse=True)
def with_sequences(core: Core) -> None:
    """Installed before the app is built (autouse fixtures come first)."""
    install(core, [feature(core)])


def body(name: str) -> dict[str, Any]:
    text = {"en": "Hi {{ customer.name }} " + HOSTILE}
    steps = [{"id": "welcome", "type": "send", "message": {"text": text}}]
    return {"name": name, "channels": ["api"], "steps": steps}


async def test_only_managers_open_the_pages(cast: Cast, browser: Callable[..., Any]) -> None:
    mary, alice = await browser("mary"), await browser("alice")
    made = (await mary.api("POST", "/sequences", json=body("Onboarding Ω7"))).json()
    for path in ("/app/sequences", f"/app/sequences/{made['id']}", "/app/sequences/new"):
        assert (await mary.http.get(path)).status_code == 200
        refused = await alice.http.get(path)
        assert refused.status_code == 403 and "Onboarding Ω7" not in refused.text
    assert (await mary.http.get("/app/sequences/nope")).status_code == 404
    anonymous = await browser()
    answer = await anonymous.http.get(f"/app/sequences/{made['id']}")
    assert answer.status_code == 303 and answer.headers["location"] == "/app/login"


async def test_a_hostile_name_and_text_stay_text(cast: Cast, browser: Callable[..., Any]) -> None:
    mary = await browser("mary")
    made = (await mary.api("POST", "/sequences", json=body(HOSTILE))).json()
    page = await mary.http.get(f"/app/sequences/{made['id']}")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and 'onerror="alert' not in page.text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in page.text  # the heading, escaped
    # The builder's JSON: `<` and `>` escaped, so it cannot end its script element.
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    svg = page.text[page.text.index("<svg") : page.text.index("</svg>")]
    assert "alert" not in svg
