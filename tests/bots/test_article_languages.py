"""Knowledge-base articles (QA pass 9, minor 10): an article without an answer in a language
the FAQ serves is saved, with a warning naming that language (the bot would answer a customer
asking in it in another language), and a question given twice is kept once."""

from __future__ import annotations

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.context import Core


@pytest.fixture
async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 't')}"}


SHIPPING = {
    "title": "Shipping",
    "questions": ["How long does shipping take?", "发货要多久？"],
    "answer": {"en": "3 to 5 days.", "zh": "3到5天。"},
}
WARRANTY = {
    "title": "Warranty",
    "questions": ["How long is the warranty?"],
    "answer": {"en": "Two years."},
}


def missing(article: dict[str, object]) -> list[tuple[str, str, object]]:
    warnings = article["warnings"]
    assert isinstance(warnings, list)
    return [(w["field"], w["reason"], w["limits"]) for w in warnings]


async def test_an_article_missing_a_language_the_faq_answers_in_is_saved_with_a_warning(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    shipping = await client.post("/api/v1/knowledge", json=SHIPPING, headers=auth)
    assert shipping.status_code == 201 and missing(shipping.json()) == []
    warranty = await client.post("/api/v1/knowledge", json=WARRANTY, headers=auth)
    assert warranty.status_code == 201, warranty.text
    expected = [("answer.zh", "answer_language_missing", {"language": "zh"})]
    assert missing(warranty.json()) == expected
    listed = (await client.get("/api/v1/knowledge", headers=auth)).json()["items"]
    by_title = {a["title"]: missing(a) for a in listed}
    assert by_title == {"Shipping": [], "Warranty": expected}
    answered = {**WARRANTY, "answer": {"en": "Two years.", "zh": "两年。"}}
    fixed = await client.put(
        f"/api/v1/knowledge/{warranty.json()['id']}", json=answered, headers=auth
    )
    assert fixed.status_code == 200 and missing(fixed.json()) == []


async def test_a_question_written_in_a_language_the_answer_lacks_is_warned_of(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    alone = {**WARRANTY, "questions": ["How long is the warranty?", "保修多久？"]}
    saved = await client.post("/api/v1/knowledge", json=alone, headers=auth)
    assert saved.status_code == 201, saved.text
    assert missing(saved.json()) == [("answer.zh", "answer_language_missing", {"language": "zh"})]


async def test_an_english_only_faq_warns_of_nothing(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    saved = await client.post("/api/v1/knowledge", json=WARRANTY, headers=auth)
    assert saved.status_code == 201 and missing(saved.json()) == []


async def test_duplicate_question_lines_are_kept_once(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    questions = [
        "How long is the warranty?",
        "  how long is  the WARRANTY? ",
        "保修多久？",
        "保修多久？",
    ]
    body = {**WARRANTY, "questions": questions, "answer": {"en": "Two years.", "zh": "两年。"}}
    saved = await client.post("/api/v1/knowledge", json=body, headers=auth)
    assert saved.status_code == 201, saved.text
    assert saved.json()["questions"] == ["How long is the warranty?", "保修多久？"]
    listed = (await client.get("/api/v1/knowledge", headers=auth)).json()["items"]
    assert listed[0]["questions"] == ["How long is the warranty?", "保修多久？"]
