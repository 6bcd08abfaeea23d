"""A community note's stored wording, checked against the inbox's texts: its key and each
term (each key of a list-valued term) is worded in English and in Chinese, and every
`{name}` of both sentences is one of its values or terms."""

from __future__ import annotations

import re
from typing import Any

from kith.web.inbox.i18n import messages


def assert_worded(wording: dict[str, Any]) -> None:
    given = set(wording["values"]) | set(wording["terms"])
    sentence = f"said_{wording['key']}"
    keys = [sentence]
    for term in wording["terms"].values():
        keys += term if isinstance(term, list) else [term]
    english, chinese = messages("en"), messages("zh")
    for key in keys:
        assert key in english, key
        assert chinese[key] != english[key], f"{key} is not in Chinese"  # no fallback
    for texts in (english, chinese):
        names = set(re.findall(r"\{(\w+)\}", texts[sentence]))
        assert names <= given, f"{sentence} names {sorted(names - given)}"
