"""tests/run's lanes in several processes: every test in exactly one share, modules whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest

from tests.support.shards import shares, wanted_shard


@dataclass(frozen=True)
class Collected:  # what the split reads of a pytest.Item: its module's path
    path: Path
    name: str


def suite() -> list[pytest.Item]:
    sizes = {"a.py": 7, "b_browser.py": 3, "c.py": 5, "d.py": 1, "e.py": 4, "f_browser.py": 1}
    items = [
        Collected(Path("tests") / module, f"{module}::t{i}")
        for module, size in sizes.items()
        for i in range(size)
    ]
    return cast(list[pytest.Item], items)


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_every_test_is_in_exactly_one_share_in_the_collections_order(count: int) -> None:
    items = suite()
    split = shares(items, count)
    assert len(split) == count
    assert sorted(item.name for part in split for item in part) == sorted(i.name for i in items)
    for part in split:
        assert part == [item for item in items if item in part]  # the collection's order


def test_a_module_stays_whole_and_the_weights_are_near_equal() -> None:
    split = shares(suite(), 2)
    modules = [{item.path for item in part} for part in split]
    assert not modules[0] & modules[1]
    weights = [sum(5 if "browser" in i.path.name else 1 for i in part) for part in split]
    assert weights == [19, 18]  # b_browser (3 x 5) + e (4); a (7) + c (5) + f_browser (5) + d (1)


def test_the_shard_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_TEST_SHARD", "2/3")
    assert wanted_shard() == (1, 3)
    monkeypatch.setenv("KITH_TEST_SHARD", "")
    assert wanted_shard() is None
    for wrong in ("4/3", "0/2", "1", "a/b"):
        monkeypatch.setenv("KITH_TEST_SHARD", wrong)
        with pytest.raises(pytest.UsageError, match="KITH_TEST_SHARD"):
            wanted_shard()
