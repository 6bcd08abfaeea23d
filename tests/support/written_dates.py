"""How every Kith page writes a date (`KithDom.date` and `KithDom.dateTime` in dom.js), for
the browser tests to check a page against: the month in words, never 12/30/2026 nor
2026/12/30, and the time on the 24-hour clock."""

from __future__ import annotations

import re

# "30 Dec 2026" and "2026年12月30日", whatever the day: for a date the test does not fix.
DAY = {"en": r"\d{1,2} [A-Z][a-z]{2} \d{4}", "zh": r"\d{4}年\d{1,2}月\d{1,2}日"}
# KithDom.dateTime adds the time: ", 14:05" in English, " 14:05" in Chinese.
DAY_TIME = {"en": DAY["en"] + r", \d{2}:\d{2}", "zh": DAY["zh"] + r" \d{2}:\d{2}"}


def day(language: str) -> re.Pattern[str]:
    """A whole text that is one date as KithDom.date writes it in `language` (en or zh)."""
    return re.compile(f"^{DAY[language]}$")


def day_time(language: str) -> re.Pattern[str]:
    """A whole text that is one date and time as KithDom.dateTime writes it."""
    return re.compile(f"^{DAY_TIME[language]}$")
