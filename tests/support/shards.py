"""One share of the suite, so that a lane can run as several pytest processes side by side.

`KITH_TEST_SHARD=2/3` keeps the second of three shares. A test module stays whole in one share
(its module-wide fixtures set up once); modules go, largest first, to the share with the least
work so far, a browser test counting as several others (a server and a Chromium of its own).
Every process computes the same split from the same collection, so the shares never overlap
and together hold every test.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict

import pytest

BROWSER_WEIGHT = 5  # a browser test's time against a plain one's, from CI's durations
SHARD = re.compile(r"^(?P<index>[1-9][0-9]*)/(?P<count>[1-9][0-9]*)$")


def wanted_shard() -> tuple[int, int] | None:
    """(index from 0, count) from KITH_TEST_SHARD, or None to run everything."""
    raw = os.environ.get("KITH_TEST_SHARD", "")
    if not raw:
        return None
    found = SHARD.match(raw)
    if found is None or int(found["index"]) > int(found["count"]):
        raise pytest.UsageError(f"KITH_TEST_SHARD={raw!r}: expected i/n with 1 <= i <= n")
    return int(found["index"]) - 1, int(found["count"])


def weight(item: pytest.Item) -> int:
    return BROWSER_WEIGHT if item.path.name.endswith("_browser.py") else 1


def shares(items: list[pytest.Item], count: int) -> list[list[pytest.Item]]:
    """`items` split into `count` shares of whole modules and near-equal weight, each share
    keeping the collection's order."""
    modules: dict[str, list[pytest.Item]] = defaultdict(list)
    for item in items:
        modules[str(item.path)].append(item)
    load = [0] * count
    share_of: dict[str, int] = {}
    by_weight = sorted(modules, key=lambda path: (-sum(map(weight, modules[path])), path))
    for path in by_weight:
        share = min(range(count), key=lambda index: (load[index], index))
        share_of[path] = share
        load[share] += sum(map(weight, modules[path]))
    split: list[list[pytest.Item]] = [[] for _ in range(count)]
    for item in items:
        split[share_of[str(item.path)]].append(item)
    return split


def keep_shard(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leaves in `items` only this process's share (deselecting the rest), if one is asked for."""
    wanted = wanted_shard()
    if wanted is None:
        return
    index, count = wanted
    split = shares(items, count)
    others = [item for share, part in enumerate(split) if share != index for item in part]
    if others:
        config.hook.pytest_deselected(items=others)
    items[:] = split[index]
