"""Tracked links of broadcasts: a message's web URLs (text and buttons) go through Kith, which
counts the recipient's first click and redirects.

The rewriting and the redirect are the tracked links' (`kith.web.tracked_links`, shared with
the sequences); a broadcast's token names (workspace, recipient row, URL) and is signed under
its own purpose, at its own path (`{public base}/l/b/{token}`), so that a sequence's token (or
an unsubscribe one) never stands for a broadcast's, nor the other way round. The first click
sets `clicked_at` on the recipient row with a conditional write and only then bumps the
broadcast's `stats.clicked`: counted once per recipient however often they click; later
clicks only redirect. A bump lost between the two writes is made good from the rows' marks
(`kith.broadcasts.stats.recount_clicks`).

A community broadcast's post is left as written: the whole group reads one post, so a click
names no one recipient.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kith.broadcasts import stats
from kith.broadcasts.audience import recipients
from kith.core.context import Core
from kith.core.models import Button
from kith.web.api.deps import CoreDep
from kith.web.tracked_links import follow_token, track_button_links, track_text, tracked_url

PURPOSE = b"kith.broadcast-link.v1"

router = APIRouter(include_in_schema=False)


async def link_url(core: Core, workspace_id: str, recipient_id: str, url: str) -> str:
    return await tracked_url(core, "l/b", PURPOSE, workspace_id, recipient_id, url)


async def track(core: Core, text: str, workspace_id: str, recipient_id: str) -> str:
    return await track_text(core, text, partial(link_url, core, workspace_id, recipient_id))


async def track_buttons(
    core: Core, buttons: list[Button], workspace_id: str, recipient_id: str
) -> list[Button]:
    links = partial(link_url, core, workspace_id, recipient_id)
    return await track_button_links(core, buttons, links)


async def clicked(core: Core, workspace_id: str, recipient_id: str) -> bool:
    """Count the recipient's first click (False when it was counted already or the row is
    gone, as after an erasure)."""
    rows = recipients(core)
    row = await rows.find_one({"_id": recipient_id, "workspace_id": workspace_id})
    if row is None:
        return False
    first = await rows.update_one(
        {"_id": recipient_id, "clicked_at": None}, {"$set": {"clicked_at": core.clock.now()}}
    )
    if not first.modified_count:
        return False
    await stats.bump(core, row["broadcast_id"], {"clicked": 1})
    return True


async def _count(core: Core, fields: list[str]) -> bool:
    workspace_id, recipient_id, _ = fields
    return await clicked(core, workspace_id, recipient_id)


@router.get("/l/b/{token}", response_model=None)
async def follow(token: str, request: Request, core: CoreDep) -> HTMLResponse | RedirectResponse:
    """Count the click and go where the broadcast pointed; 404 for any token Kith did not
    make for a broadcast."""
    return await follow_token(core, request, token, PURPOSE, _count)
