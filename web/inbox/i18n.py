"""The inbox's two languages: English and Simplified Chinese, from the user or the browser."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path

LOCALES = ("en", "zh")
LOCALE_NAMES = {"en": "English", "zh": "简体中文"}
_FOLDER = Path(__file__).parent / "i18n"


def _strings(locale: str) -> dict[str, str]:
    """`<locale>.json` and each page family's `<name>.<locale>.json` (contacts, segments …),
    so that every family keeps its strings in its own file. A key defined twice is a mistake."""
    merged: dict[str, str] = {}
    for path in [_FOLDER / f"{locale}.json", *sorted(_FOLDER.glob(f"*.{locale}.json"))]:
        strings: dict[str, str] = json.loads(path.read_text("utf-8"))
        clash = merged.keys() & strings.keys()
        if clash:
            raise ValueError(f"{path.name} redefines {sorted(clash)[0]!r}")
        merged.update(strings)
    return merged


@cache
def messages(locale: str) -> dict[str, str]:
    """The UI strings of `locale`; a key missing in Chinese falls back to English."""
    english = _strings("en")
    if locale == "en":
        return english
    return {**english, **_strings(locale)}


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


def written_day(day: date, t: Mapping[str, str]) -> str:
    """A calendar day as every page writes one (`KithDom.date`), in the language of `t`:
    "1 Dec 2026", "2026年12月1日". Written here, not by the page's script, for text it cannot
    reach (an SVG chart's axis) and for days that are no moment (a day of figures, whose
    reading must not move with the reader's time zone)."""
    month = t["months_short"].split()[day.month - 1]
    return t["day_written"].format(day=day.day, month=month, year=day.year)
