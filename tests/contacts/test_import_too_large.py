"""Regression: a file over the import's limit was refused without a `reason` (and, at the
upload's body cap, without naming `file`), so the Contacts page could only show the server's
English. It is a 413 on `file` with the reason `too_large` and the limit in bytes."""

from __future__ import annotations

import pytest

from kith.core.context import Core
from kith.core.settings import Settings
from tests.api.conftest import ApiSetup

LIMIT = 4096


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"import_max_bytes": LIMIT})


async def test_a_file_over_the_limit_is_a_413_on_file_with_its_reason(
    api: ApiSetup, core: Core
) -> None:
    header = b"name,email\n"
    row = b"Ada,ada@example.com\n"
    over = header + row * (LIMIT // len(row) + 1)
    assert len(over) > LIMIT
    answer = await api.http.post(
        "/api/v1/customers/import",
        content=over,
        headers={**api.auth, "Content-Type": "text/csv"},
    )
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"] == {
        "code": "payload_too_large",
        "message": f"the file is over {LIMIT} bytes, the largest an import takes",
        "field": "file",
        "reason": "too_large",
        "limits": {"max_bytes": LIMIT},
        "fields": [
            {
                "field": "file",
                "message": f"the file is over {LIMIT} bytes, the largest an import takes",
                "reason": "too_large",
                "limits": {"max_bytes": LIMIT},
            }
        ],
    }
    assert await core.store.collection("jobs").count_documents({}) == 0
    assert await core.store.collection("import_rows").count_documents({}) == 0

    at_the_limit = (header + row * LIMIT)[:LIMIT].rsplit(b"\n", 1)[0] + b"\n"
    taken = await api.http.post(
        "/api/v1/customers/import",
        content=at_the_limit,
        headers={**api.auth, "Content-Type": "text/csv"},
    )
    assert taken.status_code == 202, taken.text


async def test_other_bodies_keep_the_general_cap(api: ApiSetup, core: Core) -> None:
    """Only the import's upload names `file`: any other body over the cap stays unnamed."""
    big = {"name": "x" * (core.settings.max_body_bytes + 1)}
    answer = await api.http.post("/api/v1/customers", json=big, headers=api.auth)
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert answer.json()["error"]["field"] is None
    assert "reason" not in answer.json()["error"]
