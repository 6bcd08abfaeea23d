"""The funnel table on a sequence's page (both lanes), from real runs: the Skipped column
counts the customers who skipped each step, with why (a send nobody could receive on its
channel, a customer who withdrew consent), "0" where nobody did; and a row shows only the
figures its step can have: a wait, a branch or an end has none, a tag step only its skips."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Channel, ConsentState
from kith.core.pipeline import ingest
from kith.sequences.feature import feature
from kith.sequences.runner import SequenceWorker
from kith.web.inbox.i18n import messages
from tests.support.cast import inbound
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)

SEND = {"type": "send", "message": {"text": {"en": "Hello"}}}
STEPS = [
    {"id": "hello", **SEND},
    {"id": "pause", "type": "wait", "duration": "PT1H"},
    {"id": "ask", "type": "branch", "since": "clicked", "then": "fin"},
    {"id": "mark", "type": "tag", "tag": "nurtured"},
    # Its own channel, which nobody of the cast is on: skipped, the journey goes on.
    {"id": "wx", **SEND, "channels": ["wechat"]},
    {"id": "fin", "type": "end"},
]
MEASURES = ["sent", "delivered", "failed", "replied", "clicked", "converted", "skipped"]


@pytest.fixture(autouse=True)
def with_sequences(core: Core) -> None:
    install(core, [feature(core)])


class FunnelTable(HTMLParser):
    """Each row of `#funnel-table`'s body: its step id and its cells' texts by measure, and
    its header's text (`headers`, the words only screen readers get included)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.rows: dict[str, dict[str, str]] = {}
        self.headers: dict[str, str] = {}
        self.in_header = False
        self.step: str | None = None
        self.measure: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.inside = found.get("id") == "funnel-table"
        elif self.inside and tag == "tr" and found.get("data-step"):
            self.step = found["data-step"]
            self.rows[self.step or ""] = {}
            self.headers[self.step or ""] = ""
        elif self.inside and tag == "th" and self.step:
            self.in_header = True
        elif self.inside and tag == "td" and self.step:
            self.measure = found.get("data-measure")
            self.rows[self.step][self.measure or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self.measure = None
        elif tag == "th":
            self.in_header = False
        elif tag == "table":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside and self.step and self.measure:
            self.rows[self.step][self.measure] += data
        elif self.inside and self.step and self.in_header:
            self.headers[self.step] += data


def funnel(page: str) -> dict[str, dict[str, str]]:
    table = FunnelTable()
    table.feed(page)
    return table.rows


def funnel_headers(page: str) -> dict[str, str]:
    table = FunnelTable()
    table.feed(page)
    return table.headers


async def _customer(core: Core, channel: Channel, who: str) -> str:
    result = await ingest(core, channel, inbound(channel, who, "hi"))
    return result.conversation.customer_id


async def test_skipped_counts_each_steps_skips_and_rows_count_only_what_they_can(
    core: Core,
    clock: ManualClock,
    cast: Cast,  # noqa: F811 (the fixture imported above)
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    clock.advance(12 * 3600)  # noon: outside quiet hours
    ada = await _customer(core, cast.shop, "ada")
    grace = await _customer(core, cast.shop, "grace")
    mary = await browser("mary")
    body = {"name": "Nurture", "channels": ["api"], "steps": STEPS}
    made = await mary.api("POST", "/sequences", json=body)
    assert made.status_code == 201, made.text
    base = f"/sequences/{made.json()['id']}"
    await mary.api("POST", f"{base}/activate")
    enrolled = await mary.api("POST", f"{base}/enrolments", json={"customer_ids": [ada, grace]})
    assert [r["outcome"] for r in enrolled.json()["results"]] == ["enrolled", "enrolled"]
    # Grace withdraws consent on the channel before her first message goes out.
    revoked = {"consent.api": {"state": ConsentState.revoked.value, "at": clock.now()}}
    await core.store.customers.update_one({"_id": grace}, {"$set": revoked})
    worker = SequenceWorker(core)
    assert await worker.run_once() == 2
    clock.advance(3600)
    assert await worker.run_once() == 2

    t = messages("en")
    page = (await mary.http.get(f"/app{base}")).text
    rows = funnel(page)
    assert list(rows) == [s["id"] for s in STEPS]
    assert rows["hello"]["sent"] == "1"
    assert rows["hello"]["skipped"] == "1 (no consent: 1)"
    assert rows["wx"]["skipped"] == "2 (no reachable channel: 2)"
    assert rows["wx"]["sent"] == "0"
    # QA pass 7: a cell not counted is a quiet "—" (its words once, in the row's header, for
    # screen readers), not "not counted for this step" in every cell.
    headers = funnel_headers(page)
    for step in ("pause", "ask", "fin"):  # nothing a wait, a branch or an end could count
        assert rows[step] == {m: "—" for m in MEASURES}, step
        assert headers[step].endswith(t["sequences_counts_nothing"]), headers[step]
    assert rows["mark"]["skipped"] == "0"  # nobody erased meanwhile
    assert {m: v for m, v in rows["mark"].items() if m != "skipped"} == {
        m: "—" for m in MEASURES[:-1]
    }
    assert headers["mark"].endswith(": only “Skipped” is counted for this kind of step")
    assert headers["hello"] == "1. hello (Send)"  # a send counts everything: nothing to say
    table = page[page.index('id="funnel-table"') :]
    table = table[: table.index("</table>")]
    assert table.count(t["sequences_counts_nothing"]) == 3  # once per row, not per cell

    zh = messages("zh")
    page = (await mary.http.get(f"/app{base}?lang=zh")).text
    rows = funnel(page)
    assert rows["hello"]["skipped"] == "1（未同意接收：1）"  # full-width, as Chinese writes them
    assert rows["wx"]["skipped"] == "2（没有可用渠道：2）"
    assert rows["pause"]["sent"] == "—"
    assert funnel_headers(page)["pause"].endswith(zh["sequences_counts_nothing"])
    assert funnel_headers(page)["mark"].endswith("：此类步骤只计“已跳过”")


async def test_several_reasons_are_listed_most_frequent_first(
    core: Core,
    clock: ManualClock,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    clock.advance(12 * 3600)
    people = [await _customer(core, cast.shop, who) for who in ("ada", "grace", "li")]
    mary = await browser("mary")
    body = {"name": "Once", "channels": ["api"], "steps": [{"id": "hello", **SEND}]}
    base = f"/sequences/{(await mary.api('POST', '/sequences', json=body)).json()['id']}"
    await mary.api("POST", f"{base}/activate")
    await mary.api("POST", f"{base}/enrolments", json={"customer_ids": people})
    revoked = {"consent.api": {"state": ConsentState.revoked.value, "at": clock.now()}}
    await core.store.customers.update_many({"_id": {"$in": people[1:]}}, {"$set": revoked})
    # The third customer is erased meanwhile.
    await core.store.customers.update_one({"_id": people[0]}, {"$set": {"merged_into": "x"}})
    assert await SequenceWorker(core).run_once() == 3
    rows = funnel((await mary.http.get(f"/app{base}")).text)
    assert rows["hello"]["skipped"] == "3 (no consent: 2, erased: 1)"
    page = (await mary.http.get(f"/app{base}?lang=zh")).text
    rows = funnel(page)
    assert rows["hello"]["skipped"] == "3（未同意接收：2、已删除：1）"
