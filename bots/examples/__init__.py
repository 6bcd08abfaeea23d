"""Example bots and FAQ articles, shipped with Kith and loaded by `kith demo`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def load(name: str) -> Any:
    """An example's JSON, e.g. `load("shop_assistant")`."""
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
