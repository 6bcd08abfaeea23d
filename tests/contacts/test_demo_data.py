"""The demo's sample contacts import as the demo promises: most rows in, the bad ones
reported, the VIPs in 上海 there for the segment the demo builds next."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.jobs import JobWorker
from kith.web.demo import SAMPLE_CONTACTS, contacts_lines
from tests.api.conftest import ApiSetup


async def test_the_sample_file_imports_with_its_bad_rows_reported(
    api: ApiSetup, core: Core
) -> None:
    await api.say("ada", "hi", user={"id": "ada", "email": "ada@example.com"})
    response = await api.http.post(
        "/api/v1/customers/import",
        content=SAMPLE_CONTACTS.read_bytes(),
        headers={**api.auth, "Content-Type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    await JobWorker(core).run_once()
    job = (await api.http.get(response.headers["Location"], headers=api.auth)).json()
    assert job["status"] == "done"
    assert [(e["row"], e["column"]) for e in job["errors"]] == [
        (44, "email"),
        (45, "phone"),
        (46, "consent.email"),
        (47, "timezone"),
        (48, "external_id"),  # 王芳's CRM id again: reported as a duplicate of row 2
    ]
    [again] = [e for e in job["errors"] if e["row"] == 48]
    assert again["code"] == "duplicate_in_file"
    # Ada spoke on a channel first: her row updates her; the rest are new.
    assert job["result"] == {"created": 42, "updated": 1, "failed": 5, "skipped": 0}
    vip_shanghai = await core.store.customers.count_documents(
        {"tags": "vip", "attributes.city": "上海"}
    )
    assert vip_shanghai >= 3
    wang = await core.store.customers.find_one({"attributes.external_id": "CRM-1001"})
    assert wang is not None and wang["attributes"]["level"] == "gold"  # the first row won
    assert str(SAMPLE_CONTACTS) in "\n".join(contacts_lines("http://127.0.0.1:8000", "t"))
