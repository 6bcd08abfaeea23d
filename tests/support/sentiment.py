"""The sentiment model's seam for tests: a message holding the word is very negative,
anything else neutral (the real model is not what these tests are about)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Scored:
    label: str
    score: float
    language: str = "en"


@dataclass
class NegativeOn:
    """Scores `word` very negative wherever it appears."""

    word: str

    async def analyze_async(self, texts: Sequence[Any]) -> list[Scored]:
        return [
            Scored("negative", -0.95) if self.word in str(t) else Scored("neutral", 0.0)
            for t in texts
        ]
