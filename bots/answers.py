"""Checking a customer's answer to an `ask` step: a clean value, or None to ask again."""

from __future__ import annotations

import re
from datetime import datetime

from kith.bots.steps import Ask, Validation

MAX_EMAIL = 254  # RFC 5321's longest path; longer answers are refused before any scan
_PHONE_CHARS = re.compile(r"[\s\-().]")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y年%m月%d日")


def _date(text: str) -> str | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _email(text: str) -> str | None:
    """One `@`, a local part, and a dotted domain whose last label has 2+ characters.

    Plain string operations, each one pass over at most MAX_EMAIL characters: a regex here
    once backtracked quadratically on `a@` followed by many dots.
    """
    if len(text) > MAX_EMAIL or text.count("@") != 1 or any(c.isspace() for c in text):
        return None
    local, domain = text.split("@")
    labels = domain.split(".")
    if not local or len(labels) < 2 or not all(labels) or len(labels[-1]) < 2:
        return None
    return text.lower()


def _choice(text: str, choices: list[tuple[str, list[str]]]) -> str | None:
    """A choice's value, by its number or any of its texts (`Ask.choice_labels`)."""
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return choices[int(text) - 1][0]
    folded = text.casefold()
    return next((value for value, said in choices if folded in map(str.casefold, said)), None)


def check_answer(step: Ask, text: str) -> str | float | None:
    """The value to store, or None when the answer does not fit the step's validation."""
    text = text.strip()
    if not text:
        return None
    match step.validate_as:
        case Validation.email:
            return _email(text)
        case Validation.phone:
            digits = _PHONE_CHARS.sub("", text)
            ok = digits.lstrip("+").isdigit() and 6 <= len(digits.lstrip("+")) <= 15
            return digits if ok else None
        case Validation.number:
            return float(text.replace(",", ".")) if _NUMBER.match(text) else None
        case Validation.date:
            return _date(text)
        case Validation.choice:
            return _choice(text, step.choice_labels())
        case _:
            return text[:1000]


__all__ = ["check_answer"]
