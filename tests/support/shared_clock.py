"""A manual clock that several processes share: the test moves it, every worker reads it.

`ManualClock` lives in one process; a worker in another process needs the same time without
sleeping for it. `FileClock` keeps the moment in a file (milliseconds since the epoch, as
text): `now()` reads it on every call, `advance()` writes a new file and renames it over the
old one, so a reader sees either the old or the new moment, never half of one.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

ENV = "KITH_TEST_CLOCK_FILE"


class FileClock:
    def __init__(self, path: Path, start: datetime | None = None) -> None:
        self.path = path
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        millis = int(self.path.read_text())
        return datetime.fromtimestamp(millis / 1000, UTC)

    def set(self, moment: datetime) -> datetime:
        millis = int(moment.timestamp() * 1000)
        fresh = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        fresh.write_text(str(millis))
        fresh.replace(self.path)
        return self.now()

    def advance(self, seconds: float) -> datetime:
        return self.set(self.now() + timedelta(seconds=seconds))
