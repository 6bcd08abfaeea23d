"""The inbox's two languages: English and Simplified Chinese, from the user or the browser."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LOCALES = ("en", "zh")
LOCALE_NAMES = {"en": "English", "zh": "简体中文"}
_FOLDER = Path(__file__).parent / "i18n"


@cache
def messages(locale: str) -> dict[str, str]:
    """The UI strings of `locale`; a key missing in Chinese falls back to English."""
    english: dict[str, str] = json.loads((_FOLDER / "en.json").read_text("utf-8"))
    if locale == "en":
        return english
    return {**english, **json.loads((_FOLDER / f"{locale}.json").read_text("utf-8"))}


def pick_locale(user_setting: str | None, accept_language: str | None) -> str:
    """The user's own choice wins; otherwise the browser's most preferred language we have."""
    if user_setting in LOCALES:
        return user_setting
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for quality, _, tag in sorted(ranked):
        language = tag.split("-")[0]
        if quality < 0 and language in LOCALES:
            return language
    return "en"
