"""Admin-written regex triggers, run on customer text with RE2 (linear time, no backtracking).

Python's `re` backtracks: a pattern like `(a+)+$` on a long customer message can hold the
event loop for seconds. RE2 (Google's engine, via `google-re2`) matches in time linear in the
text, and refuses what it cannot do that way (backreferences, look-arounds), which saving a
bot reports as a 4xx naming the trigger.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

MAX_PROGRAM_BYTES = 1 << 20  # RE2's memory budget for one compiled pattern


class PatternError(ValueError):
    """A pattern RE2 cannot compile (bad syntax, or a feature that needs backtracking)."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the error reaches the admin as a 4xx, not stderr
    options.max_mem = MAX_PROGRAM_BYTES
    return options


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Any:
    """The compiled pattern (cached: bots run the same triggers on every message)."""
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise PatternError(str(detail)) from None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` occurs in `text`; a pattern that does not compile never matches."""
    try:
        return compile_pattern(pattern).search(text) is not None
    except PatternError:
        return False
