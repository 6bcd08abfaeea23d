"""Tracked links of sequences: a sequence message's URLs go through Kith, which counts the
click and redirects.

`track()` rewrites each http(s) URL of a text to `{public base}/l/{token}`, and
`track_buttons()` each button's link the same way (`kith.web.tracked_links`, shared with the
broadcasts); the token names (workspace, run, URL), signed under the sequences' own purpose,
so neither a broadcast's nor an unsubscribe token stands for it. `GET /l/{token}` redirects
only to the URL its valid token names; a bad token gets the tracked links' 404 page. The
first click sets `clicked_at` on the run and on its enrolment (conditional writes: counted
once per customer however often they click); later clicks only redirect.

The figures count the runs' `clicked_at` (`kith.sequences.stats`): the mark is the count, so
a process killed between the run's write and the enrolment's loses no click; the customer's
next click sets the enrolment's mark then.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kith.core.context import Core
from kith.core.models import Button
from kith.sequences.store import enrolments, runs
from kith.web.api.deps import CoreDep
from kith.web.tracked_links import follow_token, track_button_links, track_text, tracked_url

PURPOSE = b"kith.tracked-link.v1"

router = APIRouter(include_in_schema=False)


async def link_url(core: Core, workspace_id: str, run_id: str, url: str) -> str:
    return await tracked_url(core, "l", PURPOSE, workspace_id, run_id, url)


async def track(core: Core, text: str, run_id: str, workspace_id: str) -> str:
    """`text` with each http(s) URL replaced by its tracked link for this run."""
    return await track_text(core, text, partial(link_url, core, workspace_id, run_id))


async def track_buttons(
    core: Core, buttons: list[Button], run_id: str, workspace_id: str
) -> list[Button]:
    """The buttons with each web link tracked for this run."""
    return await track_button_links(core, buttons, partial(link_url, core, workspace_id, run_id))


async def clicked(core: Core, workspace_id: str, run_id: str) -> bool:
    """Count the first click of this run's customer (False when it was counted already or
    the run is gone, as after an erasure)."""
    run = await runs(core).find_one({"_id": run_id, "workspace_id": workspace_id})
    if run is None:
        return False
    now = core.clock.now()
    first = await runs(core).update_one(
        {"_id": run_id, "clicked_at": None}, {"$set": {"clicked_at": now}}
    )
    await enrolments(core).update_one(
        {"_id": run["enrolment_id"], "workspace_id": workspace_id, "clicked_at": None},
        {"$set": {"clicked_at": now}},
    )
    return bool(first.modified_count)


async def _count_run(core: Core, fields: list[str]) -> bool:
    workspace_id, run_id, _ = fields
    return await clicked(core, workspace_id, run_id)


@router.get("/l/{token}", response_model=None)
async def follow(token: str, request: Request, core: CoreDep) -> HTMLResponse | RedirectResponse:
    """Count the click and go where the message pointed; 404 for any token Kith did not make."""
    return await follow_token(core, request, token, PURPOSE, _count_run)
