"""Contacts search (`GET /api/v1/customers?q=`, the Contacts page's `/app/api/contacts` and the
export): a phone as people type it, an email whole or by its words, a name substring, a tag in
any case (QA pass 4, M5)."""

from __future__ import annotations

import pytest

from kith.core.context import Core
from tests.api.conftest import ApiSetup
from tests.support.consumers import indexed

PEOPLE = {  # name: (emails, phones, tags)
    "张三丰": (["zhang3@example.com"], ["+8613900010002"], ["vip"]),
    "张三": ([], ["+8613900010003"], ["VIP"]),
    "Ada Lovelace": (["ada@example.com"], [], ["vip"]),
    "Ada Byron": (["byron@example.org"], ["+447911123456"], ["beta"]),
    "Grace": (["grace@example.com"], [], []),
}


@pytest.fixture
async def people(api: ApiSetup, core: Core) -> dict[str, str]:
    ids = {}
    for name, (emails, phones, tags) in PEOPLE.items():
        body = {"name": name, "emails": emails, "phones": phones, "tags": tags}
        created = await api.http.post("/api/v1/customers", json=body, headers=api.auth)
        assert created.status_code == 201, created.text
        ids[created.json()["id"]] = name
    await indexed(core)  # the search feature computes a new profile's terms a moment later
    return ids


async def found(api: ApiSetup, people: dict[str, str], q: str) -> set[str]:
    answer = await api.http.get("/api/v1/customers", params={"q": q}, headers=api.auth)
    assert answer.status_code == 200, answer.text
    return {people[c["id"]] for c in answer.json()["items"]}


ZSF = {"张三丰"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("+8613900010002", ZSF),  # as stored
        ("13900010002", ZSF),  # the national number
        ("+86 139 0001 0002", ZSF),  # as written on a card
        ("139-0001-0002", ZSF),
        ("(139) 0001.0002", ZSF),
        ("0002", ZSF),  # the last digits
        ("＋８６ １３９ ０００１ ０００２", ZSF),  # full-width, from a Chinese keyboard
        ("+86 139 0001", {"张三丰", "张三"}),  # still being typed: the start of a number
        ("139 0001 000", {"张三丰", "张三"}),
        ("0001", set()),  # neither the start nor the end: not on an index (documented)
    ],
)
async def test_a_phone_as_people_type_it(
    api: ApiSetup, people: dict[str, str], q: str, expected: set[str]
) -> None:
    assert await found(api, people, q) == expected


async def test_a_national_number_with_its_trunk_zero(api: ApiSetup, people: dict[str, str]) -> None:
    assert await found(api, people, "07911 123456") == {"Ada Byron"}
    assert await found(api, people, "0044 7911 123456") == {"Ada Byron"}
    assert await found(api, people, "123456") == {"Ada Byron"}


async def test_an_email_whole_or_by_its_words(api: ApiSetup, people: dict[str, str]) -> None:
    assert await found(api, people, "zhang3") == {"张三丰"}
    assert await found(api, people, "zhan") == {"张三丰"}  # a word's start
    assert await found(api, people, "zhang3@example.com") == {"张三丰"}
    assert await found(api, people, "ZHANG3@Example.COM") == {"张三丰"}
    assert await found(api, people, "zhang3@exam") == {"张三丰"}  # being typed
    # A whole address is that address, not a namesake at the same domain.
    assert await found(api, people, "ada@example.org") == set()
    assert await found(api, people, "byron@example.org") == {"Ada Byron"}
    assert await found(api, people, "example") == {"张三丰", "Ada Lovelace", "Ada Byron", "Grace"}
    # Inside a word is not searchable on an index: not found (documented).
    assert await found(api, people, "hang3") == set()


async def test_a_name_substring_in_any_language(api: ApiSetup, people: dict[str, str]) -> None:
    assert await found(api, people, "三丰") == {"张三丰"}
    assert await found(api, people, "张三") == {"张三丰", "张三"}
    assert await found(api, people, "张") == {"张三丰", "张三"}
    assert await found(api, people, "ada") == {"Ada Lovelace", "Ada Byron"}
    assert await found(api, people, "LOVE") == {"Ada Lovelace"}
    assert await found(api, people, "velac") == {"Ada Lovelace"}  # inside a word, as before
    assert await found(api, people, "ada lovelace") == {"Ada Lovelace"}


async def test_a_tag_in_any_case(api: ApiSetup, people: dict[str, str]) -> None:
    vips = {"张三丰", "张三", "Ada Lovelace"}
    assert await found(api, people, "VIP") == vips
    assert await found(api, people, "vip") == vips
    assert await found(api, people, "Vip ") == vips
    assert await found(api, people, "vi") == set()  # a tag is matched whole


async def test_the_query_is_only_data(api: ApiSetup, people: dict[str, str]) -> None:
    for q in (".*", "^", '{"$gt": ""}', "$where", "a|b", "[", "\\d+", "000.*"):
        assert await found(api, people, q) == set(), q


async def test_the_contacts_page_and_the_export_search_the_same_way(
    api: ApiSetup, people: dict[str, str]
) -> None:
    answer = await api.http.get(
        "/api/v1/customers/export.csv", params={"q": "139 0001 0002"}, headers=api.auth
    )
    assert answer.status_code == 200, answer.text
    rows = answer.text.splitlines()
    assert len(rows) == 2 and "张三丰" in rows[1]
