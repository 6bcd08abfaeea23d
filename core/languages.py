"""A customer's language: one rule for what Kith writes to them unprompted (order notices,
satisfaction surveys, broadcasts, sequences). The locale on their profile; failing that, the
language of their latest message (what sentiment detected, or Chinese for CJK text), since a
customer who writes 我要退款 over a channel that sends no locale still reads Chinese."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kith.core.context import Core
from kith.core.models import Direction

CJK = re.compile(r"[\u4e00-\u9fff]")
# A BCP 47 tag as profiles use it: language[-Script][-REGION] (RFC 5646's langtag without
# extlang, variants or extensions): `en`, `zh-CN`, `zh-Hans-CN`, `es-419`. `_` is read as
# `-`, as POSIX locales (`zh_CN`) write it.
LOCALE_TAG = re.compile(r"([a-z]{2,3})(?:[-_]([a-z]{4}))?(?:[-_]([a-z]{2}|[0-9]{3}))?", re.I)
LOCALE_MAX = 35


def check_locale(raw: str) -> str:
    """`raw` as a language tag in its conventional case (`zh_cn` → `zh-CN`, `ZH-HANT-tw` →
    `zh-Hant-TW`); ValueError if it is not one. The one check of a locale given from outside:
    `PATCH /api/v1/customers/{id}`, `POST /api/v1/customers` (and the CSV import's cells)."""
    found = LOCALE_TAG.fullmatch(raw) if len(raw) <= LOCALE_MAX else None
    if found is None:
        raise ValueError("not a language tag: language[-Script][-REGION], e.g. en, zh-CN")
    language, script, region = found.groups()
    parts = [language.lower(), script and script.title(), region and region.upper()]
    return "-".join(p for p in parts if p)


def language_of_locale(locale: str | None) -> str | None:
    """`zh-CN` → zh, `en_GB` → en; None when there is none."""
    language = (locale or "").split("-")[0].split("_")[0].strip().lower()
    return language or None


UNDETERMINED = "und"  # what NLP stores for a text it cannot judge ("ok", an email address)


def language_of_message(doc: Mapping[str, Any]) -> str:
    """What sentiment detected in a stored message, else Chinese for CJK text, else English.
    NLP's "undetermined" is no language: a survey or a notice is never sent in `und`."""
    found = (doc.get("nlp") or {}).get("language")
    if found and found != UNDETERMINED:
        return str(found)
    return "zh" if CJK.search(doc.get("text") or "") else "en"


def pick_text(texts: Mapping[str, str], language: str | None) -> tuple[str, str]:
    """(language, text) of a per-language message in `language`, else its first given."""
    if language is not None and language in texts:
        return language, texts[language]
    first = next(iter(texts))
    return first, texts[first]


async def customer_language(core: Core, customer_id: str, conversation_id: str) -> str | None:
    """The customer's language code, or None when nothing tells (callers pick a default)."""
    customer = await core.store.customers.find_one({"_id": customer_id}, {"locale": 1})
    language = language_of_locale((customer or {}).get("locale"))
    if language is not None:
        return language
    last = await core.store.messages.find_one(
        {"conversation_id": conversation_id, "direction": Direction.inbound.value},
        {"text": 1, "nlp": 1},
        sort=[("created_at", -1)],
    )
    return None if last is None else language_of_message(last)


async def customer_languages(
    core: Core, locales: Mapping[str, str | None]
) -> dict[str, str | None]:
    """The languages of a batch of customers (customer id → the locale on their profile), for
    what goes to many at once (broadcasts, sequences): the customers without a locale are
    looked up in one query, for their latest message on any conversation."""
    languages = {customer_id: language_of_locale(locale) for customer_id, locale in locales.items()}
    unknown = sorted(c for c, language in languages.items() if language is None)
    if not unknown:
        return languages
    latest = await core.store.messages.aggregate(
        [
            {"$match": {"customer_id": {"$in": unknown}, "direction": Direction.inbound.value}},
            {"$sort": {"created_at": -1}},
            {
                "$group": {
                    "_id": "$customer_id",
                    "text": {"$first": "$text"},
                    "nlp": {"$first": "$nlp"},
                }
            },
        ]
    )
    async for doc in latest:
        languages[doc["_id"]] = language_of_message(doc)
    return languages
