"""Which of a community's per-language texts to use: the first language asked for that the
managers wrote a text in, else Kith's own text in it, else English."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def pick(defaults: Mapping[str, str], texts: Mapping[str, str], languages: Iterable[str]) -> str:
    wanted = [language for language in languages if language]
    for language in wanted:
        if texts.get(language):
            return texts[language]
    for language in wanted:
        if defaults.get(language):
            return defaults[language]
    return defaults.get("en") or next(iter(texts.values()), "")


def fill_name(template: str, name: str | None) -> str:
    """`{name}` filled in once with the member's name as plain text: one line, at most 64
    characters, never read as a template itself. The channel's sender escapes the whole text
    as its platform needs (Slack's `&<>`; Telegram's text goes without markup)."""
    clean = " ".join("".join(c if c.isprintable() else " " for c in name or "").split())
    return template.replace("{name}", clean[:64] or "👋")
