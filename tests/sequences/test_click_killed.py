"""A sequence's click is not lost when its process dies after the run's mark (both lanes): the
figures count the runs' `clicked_at` themselves, so nothing is left to bump; the enrolment's
mark, which a step waiting for a click reads, is set by the customer's next click."""

from __future__ import annotations

import pytest

from kith.sequences.links import track
from kith.sequences.models import Enrolment
from kith.sequences.stats import sequence_stats
from kith.sequences.store import enrolments
from tests.sequences.test_links import (  # noqa: F401 (fixtures, found by name)
    LINK,
    Tracked,
    path_of,
    sent_run,
    tracked,
    web,
)
from tests.support.faults import failing


async def test_a_click_killed_after_the_runs_mark_is_still_counted(tracked: Tracked) -> None:  # noqa: F811
    core, enrolment = tracked.core, tracked.enrolment
    welcome = await sent_run(core, enrolment, "welcome")
    [link] = LINK.findall(
        await track(core, "https://shop.test/", welcome.id, enrolment.workspace_id)
    )
    with failing(enrolments(core), "update_one"), pytest.raises(ConnectionError):
        await tracked.web.get(path_of(link))
    figures = await sequence_stats(core, enrolment.sequence_id)
    assert figures.steps["welcome"].clicked == 1
    doc = await enrolments(core).find_one({"_id": enrolment.id})
    assert doc is not None and Enrolment.from_doc(doc).clicked_at is None

    again = await tracked.web.get(path_of(link))
    assert again.status_code == 302
    assert (await sequence_stats(core, enrolment.sequence_id)).steps["welcome"].clicked == 1
    doc = await enrolments(core).find_one({"_id": enrolment.id})
    assert doc is not None and Enrolment.from_doc(doc).clicked_at is not None
