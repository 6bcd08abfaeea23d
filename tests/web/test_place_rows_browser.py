"""`KithDom.placeRows`, the placement every live list uses, in Chromium: the list ends in the
wanted order, and only rows outside the longest run already in order are moved (a row moved
is taken out and put back, and loses a press on it, as the inbox's and the broadcasts' tests
show). Regression: a conversation moving to the top moved every row below a removed one, and
a row moving down moved every row it passed.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]

# Draws rows named by `was` into a list, places rows named by `now` (a name not in `was` is a
# new row), and says the order it ended with and which rows were put in (moved or new).
PLACE = """([was, now]) => {
  const list = document.createElement("ol");
  document.body.append(list);
  const row = (name) => Object.assign(document.createElement("li"), { textContent: name });
  const drawn = new Map(was.map((name) => [name, row(name)]));
  list.append(...drawn.values());
  const added = [];
  const watch = new MutationObserver((records) => records.forEach((r) =>
    added.push(...[...r.addedNodes].map((n) => n.textContent))));
  watch.observe(list, { childList: true });
  window.KithDom.placeRows(list, now.map((name) => drawn.get(name) || row(name)));
  added.push(...watch.takeRecords().flatMap((r) => [...r.addedNodes].map((n) => n.textContent)));
  watch.disconnect();
  const order = [...list.children].map((li) => li.textContent);
  list.remove();
  return [order, added.sort()];
}"""


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "ann@kith.test", PASSWORD, name="Ann", role=Role.agent)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


def longest_rising(places: list[int]) -> int:
    """The length of the longest rising run in `places` (quadratic, on its own)."""
    best = [1] * len(places)
    for i in range(len(places)):
        for j in range(i):
            if places[j] < places[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


async def test_rows_are_placed_with_the_fewest_moves(live: Live) -> None:
    page = await live.sign_in("ann@kith.test")
    await page.goto(live.url + "/app")

    async def place(was: list[str], now: list[str]) -> tuple[list[str], list[str]]:
        order, added = await page.evaluate(PLACE, [was, now])
        return order, added

    abcde = list("abcde")
    assert await place(abcde, abcde) == (abcde, [])
    assert await place(abcde, list("dabce")) == (list("dabce"), ["d"])  # one to the top
    assert await place(abcde, list("bcdea")) == (list("bcdea"), ["a"])  # the top one down
    assert await place(abcde, list("xabde")) == (list("xabde"), ["x"])  # one new, one gone
    assert await place(abcde, list("acd")) == (list("acd"), [])  # only removals
    assert await place([], list("ab")) == (list("ab"), ["a", "b"])
    assert await place(abcde, []) == ([], [])
    reversed_order, moved = await place(abcde, list("edcba"))
    assert reversed_order == list("edcba") and len(moved) == 4

    rng = random.Random(7)  # noqa: S311 - reproducible test data, not a secret
    for _ in range(40):
        was = [f"r{i}" for i in range(rng.randint(0, 12))]
        kept = rng.sample(was, rng.randint(0, len(was)))
        now = kept + [f"n{i}" for i in range(rng.randint(0, 3))]
        rng.shuffle(now)
        order, added = await place(was, now)
        assert order == now
        staying = longest_rising([was.index(name) for name in now if name in was])
        assert len(added) == len(now) - staying, (was, now, added)
