"""Importing a CSV file: mapping, merging by each key, per-row errors, charsets, and a job
taken over from a worker that died mid-way without a row lost or written twice."""

from __future__ import annotations

import codecs
import json
from typing import Any

import httpx

from kith.consent.actions import do_change_consent
from kith.contacts.imports import ImportOptions, import_step, start_import
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.jobs import JobWorker, get_job
from kith.core.models import ConsentState, Customer
from tests.api.conftest import ApiSetup


async def run_import(api: ApiSetup, core: Core, text: str | bytes, **params: Any) -> dict[str, Any]:
    """POST the file, run the job as a `kith serve` would; the job as the API shows it."""
    data = text.encode() if isinstance(text, str) else text
    if "mapping" in params:
        params["mapping"] = json.dumps(params["mapping"])
    response = await api.http.post(
        "/api/v1/customers/import",
        content=data,
        params=params,
        headers={**api.auth, "Content-Type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    await JobWorker(core).run_once()
    job = await api.http.get(response.headers["Location"], headers=api.auth)
    assert job.status_code == 200
    return dict(job.json())


async def customers(core: Core) -> list[dict[str, Any]]:
    return await core.store.customers.find({"merged_into": None}).sort("name", 1).to_list(None)


async def test_columns_map_to_fields_attributes_tags_and_consent(api: ApiSetup, core: Core) -> None:
    csv = (
        "Full Name,E-mail,Mobile,Labels,City,Opt-in,Lang,Ignored\n"
        "Ada Lovelace,ADA@example.com,+1 (415) 555-2671,vip|math,London,yes,en,x\n"
        "李雷,lilei@example.com,138 0013 8000,vip|上海,上海,否,zh-CN,y\n"
    )
    mapping = {
        "Full Name": "name",
        "E-mail": "email",
        "Mobile": "phone",
        "Labels": "tags",
        "City": "attributes.city",
        "Opt-in": "consent.email",
        "Lang": "locale",
    }
    job = await run_import(api, core, csv, mapping=mapping, tag_separator="|")
    assert job["status"] == "done"
    assert job["progress"] == {"done": 2, "total": 2}
    assert job["result"] == {"created": 2, "updated": 0, "failed": 0, "skipped": 0}, job["errors"]
    ada, lilei = await customers(core)
    assert ada["emails"] == ["ada@example.com"] and ada["phones"] == ["+14155552671"]
    assert ada["tags"] == ["vip", "math"] and ada["attributes"] == {"city": "London"}
    assert ada["consent"]["email"]["state"] == "granted"
    assert ada["consent"]["email"]["via"] == "import"
    assert lilei["phones"] == ["+8613800138000"] and lilei["locale"] == "zh-CN"
    assert lilei["consent"]["email"]["state"] == "revoked"
    created = await core.store.events.count_documents({"type": "customer.created"})
    assert created == 2
    assert await core.store.collection("import_rows").count_documents({}) == 0  # dropped


async def test_rows_merge_by_external_id_email_and_phone(api: ApiSetup, core: Core) -> None:
    made = {}
    for name, body in {
        "by-email": {"emails": ["e@example.com"], "tags": ["old"]},
        "by-phone": {"phones": ["13900139000"]},
        "by-ext": {"attributes": {"external_id": "crm-7", "tier": "gold"}},
    }.items():
        response = await api.http.post(
            "/api/v1/customers", json={"name": name, **body}, headers=api.auth
        )
        made[name] = response.json()["id"]
    csv = (
        "name,email,phone,external_id,tags,attributes.city\n"
        ",E@Example.com,,,new,上海\n"
        "Phone Person,,+86 139 0013 9000,,,北京\n"
        ",other@example.com,,crm-7,,广州\n"
        "Fresh,fresh@example.com,,,,\n"
    )
    job = await run_import(api, core, csv)
    assert job["result"] == {"created": 1, "updated": 3, "failed": 0, "skipped": 0}
    by_email = await core.store.customers.find_one({"_id": made["by-email"]})
    assert by_email is not None
    assert by_email["name"] == "by-email"  # a blank cell changes nothing
    assert by_email["tags"] == ["old", "new"]
    assert by_email["attributes"] == {"city": "上海"}
    by_phone = await core.store.customers.find_one({"_id": made["by-phone"]})
    assert by_phone is not None and by_phone["name"] == "Phone Person"
    by_ext = await core.store.customers.find_one({"_id": made["by-ext"]})
    assert by_ext is not None
    assert by_ext["emails"] == ["other@example.com"]
    assert by_ext["attributes"] == {"external_id": "crm-7", "tier": "gold", "city": "广州"}
    assert len(await customers(core)) == 4
    updated = await core.store.events.find({"type": "customer.updated"}).to_list(None)
    assert {e["customer_id"] for e in updated} == set(made.values())
    tagged = next(e for e in updated if e["customer_id"] == made["by-email"])
    assert tagged["data"]["tags"] == ["old", "new"]
    assert "tags" in tagged["data"]["fields"]


async def test_bad_rows_are_reported_and_the_rest_imported(api: ApiSetup, core: Core) -> None:
    await api.http.post("/api/v1/customers", json={"emails": ["a@example.com"]}, headers=api.auth)
    await api.http.post("/api/v1/customers", json={"phones": ["13700137000"]}, headers=api.auth)
    csv = (
        "name,email,phone,timezone\n"
        "Good One,good1@example.com,,\n"
        "Bad Mail,not-an-email,,\n"
        ",,,\n"
        "Bad Phone,,12345,\n"
        "Two People,a@example.com,13700137000,\n"
        "Bad Zone,zone@example.com,,Mars/Base\n"
        "Good Two,good2@example.com,,Asia/Shanghai\n"
    )
    job = await run_import(api, core, csv)
    assert job["status"] == "done"
    assert job["result"] == {"created": 2, "updated": 0, "failed": 4, "skipped": 1}
    assert [(e["row"], e["column"]) for e in job["errors"]] == [
        (3, "email"),
        (5, "phone"),
        (6, "email"),
        (7, "timezone"),
    ]
    assert "different customers" in job["errors"][2]["message"]
    assert job["error_count"] == 4
    names = {c.get("name") for c in await customers(core)}
    assert {"Good One", "Good Two"} <= names
    assert not names & {"Bad Mail", "Bad Phone", "Two People", "Bad Zone"}  # nothing half-written


async def test_each_kind_of_row_error_carries_its_code(api: ApiSetup, core: Core) -> None:
    """Regression: a row error was English words only, shown as such on the Chinese page.
    Each kind now carries a code and the values its wording needs (the region a number
    without its country code is read in, a length limit, the columns naming two customers),
    so a page words it in its own language; the English message stays."""
    await api.http.post("/api/v1/customers", json={"emails": ["a@example.com"]}, headers=api.auth)
    await api.http.post("/api/v1/customers", json={"phones": ["13700137000"]}, headers=api.auth)
    csv = (
        "name,email,phone,locale,timezone,consent.api,tags,attributes.note\n"
        "Bad Mail,not-an-email,,,,,,\n"
        "Bad Phone,,12345,,,,,\n"
        "Bad Locale,,,klingon-<b>,,,,\n"
        "Bad Zone,,,,Mars/Base,,,\n"
        "Bad Consent,,,,,maybe,,\n"
        f"{'N' * 257},,,,,,,\n"
        f"Long Tag,,,,,,{'t' * 65},\n"
        f"Long Note,,,,,,,{'n' * 1025}\n"
        "Two People,a@example.com,13700137000,,,,,\n"
        'Dan,"dan"@example.com,,,,,,\n'
        '"unterminated,x@example.com\n'
    )
    job = await run_import(api, core, csv)
    assert [(e["row"], e["column"], e["code"], e["params"]) for e in job["errors"]] == [
        (2, "email", "bad_email", {}),
        (3, "phone", "bad_phone", {"region": "CN"}),
        (4, "locale", "bad_locale", {}),
        (5, "timezone", "bad_timezone", {}),
        (6, "consent.api", "bad_consent", {}),
        (7, "name", "too_long", {"max": 256}),
        (8, "tags", "too_long", {"max": 64}),
        (9, "attributes.note", "too_long", {"max": 1024}),
        (10, "email", "different_customers", {"columns": ["email", "phone"]}),
        (11, "email", "text_after_quote", {}),
        (12, "name", "unclosed_quote", {}),
    ]
    messages = {e["row"]: e["message"] for e in job["errors"]}
    assert messages[7] == "a name is at most 256 characters"
    assert messages[10] == "email and phone belong to different customers: merge them first"
    assert "@-sign" in messages[2] and "never closed" in messages[12]
    assert job["result"]["failed"] == 11 and job["result"]["created"] == 0


async def test_excel_files_in_gbk_and_utf8_with_bom(api: ApiSetup, core: Core) -> None:
    rows = (
        "姓名;邮箱;标签;attributes.城市\n"
        "王小明;wxm@example.com;vip，老客户;上海\n"
        "韩梅梅;hmm@example.com;;北京\n"
    )
    job = await run_import(api, core, rows.encode("gbk"))
    assert job["result"]["created"] == 2, job
    wang = await core.store.customers.find_one({"emails": "wxm@example.com"})
    assert wang is not None
    assert wang["name"] == "王小明" and wang["tags"] == ["vip", "老客户"]
    assert wang["attributes"] == {"城市": "上海"}
    bom = "\ufeffname,email\nZoë,zoe@example.com\n".encode()
    job = await run_import(api, core, bom)
    assert job["result"]["created"] == 1
    assert await core.store.customers.find_one({"name": "Zoë"}) is not None


async def test_a_bad_mapping_is_refused_before_anything_is_queued(
    api: ApiSetup, core: Core
) -> None:
    csv = b"name,email\nA,a@example.com\n"
    cases = [
        ({"mapping": json.dumps({"email": "mail"})}, "mapping.email"),
        ({"mapping": json.dumps({"Nope": "name"})}, "mapping.Nope"),
        ({"mapping": json.dumps({"email": "consent.fax"})}, "mapping.email"),
        ({"mapping": json.dumps({"email": "attributes.$gt"})}, "mapping.email"),
        ({"mapping": json.dumps({"name": "name", "email": "name"})}, "mapping.email"),
        ({"mapping": "[1]"}, "mapping"),
        ({"encoding": "klingon"}, "encoding"),
    ]
    for params, field in cases:
        response = await api.http.post(
            "/api/v1/customers/import", content=csv, params=params, headers=api.auth
        )
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["field"] == field
        assert field.split(".")[0] in response.json()["error"]["field"]
    empty = await api.http.post("/api/v1/customers/import", content=b"", headers=api.auth)
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "file"
    assert await core.store.collection("jobs").count_documents({}) == 0


async def test_a_file_larger_than_a_request_body_imports(api: ApiSetup, core: Core) -> None:
    note = "x" * 150
    lines = ["name,email,attributes.note"]
    lines += [f"Person {n},p{n}@example.com,{note}" for n in range(6_000)]
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) > core.settings.max_body_bytes
    job = await run_import(api, core, data)
    assert job["result"]["created"] == 6_000
    assert await core.store.customers.count_documents({}) == 6_000


async def test_a_job_taken_over_after_a_kill_loses_and_doubles_nothing(
    core: Core, second_process: Core, workspace_id: str, clock: ManualClock
) -> None:
    """Worker A imports chunk 0, then writes chunk 1's rows and dies before storing its
    position; once its lease expires, worker B (another process) resumes at chunk 1."""
    lines = ["name,email,phone"]
    lines += [f"P{n},p{n}@example.com,+86 138 0000 {n:04d}" for n in range(250)]
    lines += [f"Nameless {n},," for n in range(50)]  # no key: only the derived id dedups these
    job = await start_import(
        core, workspace_id, "\n".join(lines).encode(), ImportOptions(), chunk_rows=100
    )
    a = JobWorker(core, "a", lease_seconds=60)
    b = JobWorker(second_process, "b", lease_seconds=60)
    claimed = await a.claim()
    assert claimed is not None
    await a.run(claimed, max_steps=1)
    at_one = await get_job(core, workspace_id, job.id)
    assert at_one.position == 1 and at_one.progress.done == 100
    await import_step(core, at_one)  # A's last work: rows written, the step never committed
    assert await b.claim() is None  # A's lease still holds
    clock.advance(61)
    taken = await b.claim()
    assert taken is not None and taken.position == 1
    assert await a.step(at_one) is None  # A, back from the dead, may not commit over B
    await b.run(taken)
    done = await get_job(core, workspace_id, job.id)
    assert done.status == "done"
    assert done.progress.done == 300 and done.progress.total == 300
    assert done.result == {"created": 300, "updated": 0, "failed": 0, "skipped": 0}
    assert await core.store.customers.count_documents({}) == 300
    emails = await core.store.customers.distinct("emails", {})
    assert len(emails) == 250
    created = await core.store.events.count_documents({"type": "customer.created"})
    assert created == 300


async def test_jobs_are_workspace_scoped(api: ApiSetup, other_api: ApiSetup, core: Core) -> None:
    response = await api.http.post(
        "/api/v1/customers/import", content=b"name\nA\n", headers=api.auth
    )
    location = response.headers["Location"]
    mine = await api.http.get(location, headers=api.auth)
    assert mine.status_code == 200 and mine.json()["kind"] == "customers.import"
    theirs = await other_api.http.get(location, headers=other_api.auth)
    assert theirs.status_code == 404
    cancel = await other_api.http.post(f"{location}/cancel", headers=other_api.auth)
    assert cancel.status_code == 404
    cancelled = await api.http.post(f"{location}/cancel", headers=api.auth)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert await JobWorker(core).run_once() == 0  # a cancelled job is not run
    again = await api.http.post(f"{location}/cancel", headers=api.auth)
    assert again.status_code == 409
    assert (await api.http.get("/api/v1/jobs/nope", headers=api.auth)).status_code == 404


async def test_unauthenticated_import_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/customers/import", content=b"name\nA\n")
    assert response.status_code == 401


async def test_an_import_never_weakens_consent_and_records_each_change(
    api: ApiSetup, core: Core, clock: ManualClock
) -> None:
    """Regression (QA marketer #1): a re-imported export (`unknown` cells) removed an opt-out
    made by keyword, a `granted` cell re-subscribed, an equal state lost its proof, and no
    `consent.changed` was recorded."""
    people = {}
    for name in ("lilei", "ada", "bo"):
        made = await api.http.post(
            "/api/v1/customers", json={"name": name, "emails": [f"{name}@x.cn"]}, headers=api.auth
        )
        people[name] = made.json()["id"]
    for name, state in (("lilei", ConsentState.revoked), ("bo", ConsentState.granted)):
        doc = await core.store.customers.find_one({"_id": people[name]})
        assert doc is not None
        assert await do_change_consent(core, Customer.from_doc(doc), "api", state, "keyword")
    before = {n: await core.store.customers.find_one({"_id": i}) for n, i in people.items()}
    changes = {"type": "consent.changed"}
    recorded = await core.store.events.count_documents(changes)
    clock.advance(3600)
    csv = "email,consent.api\nlilei@x.cn,unknown\nada@x.cn,unknown\nbo@x.cn,granted\n"
    job = await run_import(api, core, csv)
    assert job["result"]["failed"] == 0
    for name, doc in before.items():  # nothing changed, proof (how and when) kept
        after = await core.store.customers.find_one({"_id": people[name]})
        assert after is not None and doc is not None
        assert after.get("consent") == doc.get("consent"), name
    assert await core.store.events.count_documents(changes) == recorded

    csv = "email,consent.api\nlilei@x.cn,granted\nada@x.cn,granted\nbo@x.cn,no\nnew@x.cn,yes\n"
    job = await run_import(api, core, csv)
    assert job["result"] == {"created": 1, "updated": 3, "failed": 0, "skipped": 0}
    lilei = await core.store.customers.find_one({"_id": people["lilei"]})
    assert lilei is not None and lilei["consent"]["api"]["state"] == "revoked"  # not re-subscribed
    assert lilei["consent"]["api"]["via"] == "keyword"
    events = await core.store.events.find({**changes, "data.via": "import"}).to_list(None)
    seen = {(e["customer_id"], e["data"]["from"], e["data"]["to"]) for e in events}
    new = await core.store.customers.find_one({"emails": "new@x.cn"})
    assert new is not None
    assert seen == {
        (people["ada"], "unknown", "granted"),
        (people["bo"], "granted", "revoked"),
        (new["_id"], "unknown", "granted"),
    }
    ada = await core.store.customers.find_one({"_id": people["ada"]})
    assert ada is not None and ada["consent"]["api"]["via"] == "import"


async def test_imported_contacts_have_not_been_seen(api: ApiSetup, core: Core) -> None:
    """Regression (QA marketer #7): `last_seen` was the import time, so every imported
    contact counted as active in a `last_seen_at within_days` segment."""
    job = await run_import(api, core, "name,email\nAda,ada@example.com\n")
    assert job["result"]["created"] == 1
    (ada,) = await customers(core)
    assert ada["first_seen"] is not None and ada.get("last_seen") is None
    recent = json.dumps({"field": "last_seen_at", "op": "within_days", "value": 30})
    listed = await api.http.get("/api/v1/customers", params={"filter": recent}, headers=api.auth)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []
    got = await api.http.get(f"/api/v1/customers/{ada['_id']}", headers=api.auth)
    assert got.status_code == 200 and got.json()["last_seen"] is None


async def test_patch_refuses_the_zone_and_locale_the_import_refuses(
    api: ApiSetup, core: Core
) -> None:
    """Regression (QA marketer #8): `PATCH` stored `Mars/Olympus` and `klingon-<b>`, which
    the import refuses; quiet hours then silently used another zone."""
    made = await api.http.post("/api/v1/customers", json={"name": "Lilei"}, headers=api.auth)
    url = f"/api/v1/customers/{made.json()['id']}"
    for field, value in (("timezone", "Mars/Olympus"), ("locale", "klingon-<b>")):
        answer = await api.http.patch(url, json={field: value}, headers=api.auth)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == field
        job = await run_import(api, core, f"name,{field}\nX,{value}\n")
        assert job["errors"][0]["column"] == field  # the same check refuses it there
    fine = await api.http.patch(
        url, json={"timezone": "Asia/Shanghai", "locale": "zh-CN"}, headers=api.auth
    )
    assert fine.status_code == 200, fine.text
    assert (fine.json()["timezone"], fine.json()["locale"]) == ("Asia/Shanghai", "zh-CN")


async def test_a_re_imported_export_updates_its_customers_by_id(api: ApiSetup, core: Core) -> None:
    """Export, edit in a spreadsheet, import again: the `id` column finds each customer, even
    one whose email the edit changed; an id Kith does not hold (another system's) is ignored."""
    for name, email in (("Ada", "ada@example.com"), ("Grace", "grace@example.com")):
        made = await api.http.post(
            "/api/v1/customers", json={"name": name, "emails": [email]}, headers=api.auth
        )
        assert made.status_code == 201, made.text
    exported = await api.http.get("/api/v1/customers/export.csv", headers=api.auth)
    lines = exported.text.lstrip("\ufeff").splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:]]
    ada = next(r for r in rows if r["name"] == "Ada")
    grace = next(r for r in rows if r["name"] == "Grace")
    csv = (
        "id,name,emails\n"
        f"{ada['id']},Ada Lovelace,ada@newmail.example\n"
        f"{grace['id']},,ada@example.com\n"
        "crm-000042,Linus,linus@example.com\n"
    )
    job = await run_import(api, core, csv)
    assert job["result"] == {"created": 1, "updated": 1, "failed": 1, "skipped": 0}
    (error,) = job["errors"]
    assert error["row"] == 3  # Grace's id, Ada's old email
    assert error["message"] == "emails and id belong to different customers: merge them first"
    names = {c["name"]: c["emails"] for c in await customers(core)}
    assert names == {
        "Ada Lovelace": ["ada@example.com", "ada@newmail.example"],
        "Grace": ["grace@example.com"],
        "Linus": ["linus@example.com"],
    }


async def test_columns_no_field_takes_are_listed_with_why(api: ApiSetup, core: Core) -> None:
    """Regression (QA marketer #10): `attributes.$where`, `consent.pigeon`, `attributes.a.b`
    and typos such as `consent.sms` were dropped without a word (`created 1, failed 0`). The
    job names each such column with a code; an unnamed column counts only if it holds data."""
    csv = (
        "name,attributes.$where,consent.pigeon,attributes.a.b,consent.sms,"
        "attributes.first name,Company,,email,\n"
        "Ada,x,yes,y,yes,Ada,Acme,kept?,ada@example.com,\n"
    )
    response = await api.http.post(
        "/api/v1/customers/import", content=csv.encode(), headers=api.auth
    )
    assert response.status_code == 202, response.text
    ignored = [(w["column"], w["code"]) for w in response.json()["warnings"]]
    assert ignored == [
        ("attributes.$where", "bad_attribute_name"),
        ("consent.pigeon", "unknown_consent_channel"),
        ("attributes.a.b", "bad_attribute_name"),
        ("consent.sms", "unknown_consent_channel"),
        ("attributes.first name", "bad_attribute_name"),
        ("Company", "unknown_field"),
        (None, "no_header"),  # the eighth column holds a cell; the trailing one is empty
    ]
    assert "'pigeon'" in response.json()["warnings"][1]["message"]
    await JobWorker(core).run_once()
    job = (await api.http.get(response.headers["Location"], headers=api.auth)).json()
    assert job["result"] == {"created": 1, "updated": 0, "failed": 0, "skipped": 0}
    assert [w["column"] for w in job["warnings"]] == [c for c, _ in ignored]
    (ada,) = await customers(core)
    assert ada["emails"] == ["ada@example.com"] and ada.get("attributes", {}) == {}

    mapped = await run_import(
        api,
        core,
        "Name,Mail,Notes\nGrace,g@example.com,x\n",
        mapping={
            "Name": "name",
            "Mail": "email",
        },
    )
    assert [(w["column"], w["code"]) for w in mapped["warnings"]] == [("Notes", "not_in_mapping")]
    clean = await run_import(api, core, "name,email\nLinus,linus@example.com\n")
    assert clean["warnings"] == []
    exported = await api.http.get("/api/v1/customers/export.csv", headers=api.auth)
    again = await run_import(api, core, exported.content)  # what Kith keeps itself, told so
    assert [(w["column"], w["code"]) for w in again["warnings"]] == [
        ("channels", "read_only"),
        ("first_seen", "read_only"),
        ("last_seen", "read_only"),
    ]
    assert again["result"] == {"created": 0, "updated": 3, "failed": 0, "skipped": 0}


async def test_a_file_none_of_whose_columns_maps_is_refused_naming_them(
    api: ApiSetup, core: Core
) -> None:
    """A file whose every column would be ignored imports nothing: refused before a job is
    queued, the message naming each column and why, so the typo can be fixed."""
    response = await api.http.post(
        "/api/v1/customers/import",
        content=b"consent.sms,Company\nyes,Acme\n",
        headers=api.auth,
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "mapping"
    assert "consent.sms: no channel type 'sms'" in error["message"]
    assert "Company: unknown field 'Company'" in error["message"]
    assert (error["reason"], error["limits"]) == ("no_column", {"columns": "consent.sms, Company"})
    assert await core.store.collection("jobs").count_documents({}) == 0


async def test_broken_quoting_is_a_row_error_and_the_rows_after_it_import(
    api: ApiSetup, core: Core
) -> None:
    """Regression (QA marketer #10): `"unterminated,x@example.com` made a customer named
    `unterminated,x@example.com`; a lenient reader also glues every row after a stray quote
    into one cell. A quote never closed, or text after a closing quote, is that row's error
    (row, column, why), and the rows after it are read whole."""
    job = await run_import(api, core, 'name,email\n"unterminated,x@example.com\n')
    assert job["result"] == {"created": 0, "updated": 0, "failed": 1, "skipped": 0}
    assert job["errors"] == [
        {
            "row": 2,
            "column": "name",
            "code": "unclosed_quote",
            "params": {},
            "message": "a quote opens in this cell and is never closed",
        }
    ]
    csv = (
        "name,email\n"
        '"Stray,stray@example.com\n'  # its quote "closes" at Carol's: Bob and Carol are swallowed
        "Bob,bob@example.com\n"
        '"Carol, C.",carol@example.com\n'
        'Dan,"dan"@example.com\n'  # text after a closing quote
        '"Eve ""E"" Ng","eve@example.com"\n'  # quoting done right
        '"Multi\nline",multi@example.com\n'
    )
    job = await run_import(api, core, csv)
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(2, "name"), (5, "email")]
    assert "never closed" in job["errors"][0]["message"]
    assert 'write a quote inside a cell as ""' in job["errors"][1]["message"]
    assert job["result"] == {"created": 4, "updated": 0, "failed": 2, "skipped": 0}
    assert job["progress"] == {"done": 6, "total": 6}
    names = sorted(c["name"] for c in await customers(core))
    assert names == ["Bob", "Carol, C.", 'Eve "E" Ng', "Multi\nline"]


async def test_a_file_whose_quotes_never_pair_up_is_refused(api: ApiSetup, core: Core) -> None:
    """Each quote never closed is read to the end of the file; a file made of them is not
    CSV, and reading it again and again must not tie up a worker."""
    data = ("name,email\n" + '"x,""\n' * 50).encode()
    response = await api.http.post("/api/v1/customers/import", content=data, headers=api.auth)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "not a CSV file: its quotes do not pair up",
        "field": "file",
        "reason": "not_csv",
        "limits": {},
        "fields": [
            {
                "field": "file",
                "message": "not a CSV file: its quotes do not pair up",
                "reason": "not_csv",
                "limits": {},
            }
        ],
    }


async def test_utf16_files_import_and_a_binary_file_is_refused_as_not_text(
    api: ApiSetup, core: Core
) -> None:
    """Regression (QA marketer, file-level errors): a UTF-16 CSV, or a binary file, was read
    as a charset guess's garble and refused as "no column maps to a customer field (最牡慢敧:
    unknown field …)". UTF-16 is read by its byte-order mark (or its zero bytes when it has
    none); bytes that are not text are refused as `not_text` before any job or row exists."""
    rows = "name\temail\n张三\tzhang@example.cn\nAnn\tann@example.com\n"  # Excel's "Unicode text"
    job = await run_import(api, core, codecs.BOM_UTF16_LE + rows.encode("utf-16-le"))
    assert job["result"]["created"] == 2, job
    assert await core.store.customers.find_one({"emails": "zhang@example.cn"}) is not None
    job = await run_import(api, core, "name,email\nBea,bea@example.com\n".encode("utf-16-be"))
    assert job["result"]["created"] == 1, job
    job = await run_import(api, core, "name,email\n李雷,lilei@example.cn\n".encode())
    assert job["result"]["created"] == 1, job
    assert await core.store.customers.find_one({"name": "李雷"}) is not None
    jobs = await core.store.collection("jobs").count_documents({})
    chunks = await core.store.collection("import_rows").count_documents({})

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 4
    unmarked = b"\x00\x01garbage\x00" + bytes(range(128, 256)) * 8  # no known signature
    for data in (png, unmarked):
        response = await api.http.post(
            "/api/v1/customers/import",
            content=data,
            headers={**api.auth, "Content-Type": "text/csv"},
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert (error["field"], error["reason"]) == ("file", "not_text"), error
        assert error["message"].startswith("not a text file")
    assert await core.store.collection("jobs").count_documents({}) == jobs
    assert await core.store.collection("import_rows").count_documents({}) == chunks
