"""Tracked links: a sequence message's URLs go through Kith, which counts the click and
redirects.

`track()` rewrites each http(s) URL of a text to `{public base}/l/{token}`, and
`track_buttons()` each button's link the same way; the token names
(workspace, run, URL), signed like the unsubscribe links (`kith.consent.links.seal`, under
its own purpose, so neither kind of token stands for the other). `GET /l/{token}` redirects
only to the URL its valid token names, so Kith is never an open redirect; a bad token gets a
404 page. The first click sets `clicked_at` on the run and on its enrolment (conditional
writes: counted once per customer however often they click); later clicks only redirect.

The rewriting (`track_text`, `track_button_links`) and the following (`follow_token`) take
the link-making and the click-counting as arguments, so that broadcasts track their links the
same way under their own purpose and path (`kith.broadcasts.links`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kith.consent.links import public_base, seal, unseal
from kith.core.context import Core
from kith.core.models import LINK_MAX, Button
from kith.sequences.store import enrolments, runs
from kith.web.api.deps import CoreDep
from kith.web.inbox.i18n import messages, pick_locale
from kith.web.inbox.pages import SECURITY_HEADERS, page_templates

PURPOSE = b"kith.tracked-link.v1"
MAX_URL = 2000  # longer URLs are left as they are (the token carries the URL)
MAX_TOKEN = 4096
# A URL runs to whitespace, quotes, angle brackets or CJK punctuation; trailing sentence
# punctuation is not part of it.
_URL = re.compile(r"""https?://[^\s<>"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+""", re.I)
_TRAILING = ".,;:!?"

# A tracked link for a URL (its token made for one message to one customer), and what counts
# a click from a valid token's fields.
LinkMaker = Callable[[str], Awaitable[str]]
Counter = Callable[[Core, list[str]], Awaitable[bool]]

router = APIRouter(include_in_schema=False)
_pages = page_templates(Path(__file__).parent / "templates")


def _split(found: str) -> tuple[str, str]:
    """The URL and what follows it in the sentence ("see https://x.test/a)." → ")." after)."""
    url = found.rstrip(_TRAILING)
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(_TRAILING)
    return url, found[len(url) :]


def _web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


async def link_url(core: Core, workspace_id: str, run_id: str, url: str) -> str:
    return f"{public_base(core)}/l/{await seal(core, [workspace_id, run_id, url], PURPOSE)}"


def _trackable(core: Core, url: str) -> bool:
    """A web URL that is not Kith's own (unsubscribe, already tracked) nor over `MAX_URL`."""
    own = public_base(core) + "/"
    return not url.startswith(own) and len(url) <= MAX_URL and _web_url(url)


async def track_text(core: Core, text: str, link: LinkMaker) -> str:
    """`text` with each http(s) URL replaced by `link(url)`. Kith's own links (unsubscribe,
    already tracked) and URLs over `MAX_URL` characters stay as written."""
    parts: list[str] = []
    at = 0
    for match in _URL.finditer(text):
        url, after = _split(match.group())
        parts.append(text[at : match.start()])
        at = match.end()
        if _trackable(core, url):
            parts.append(await link(url) + after)
        else:
            parts.append(url + after)
    parts.append(text[at:])
    return "".join(parts)


async def track_button_links(core: Core, buttons: list[Button], link: LinkMaker) -> list[Button]:
    """The buttons with each web link tracked as the text's are, so that a button's click
    counts as a link's does. One whose tracked link would outgrow what a button holds
    (`LINK_MAX`) stays as written: the message must still read once stored."""
    out: list[Button] = []
    for button in buttons:
        if button.url and _trackable(core, button.url):
            tracked = await link(button.url)
            if len(tracked) <= LINK_MAX:
                button = button.model_copy(update={"url": tracked})
        out.append(button)
    return out


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


def _invalid(request: Request) -> HTMLResponse:
    """The 404 page of a link Kith did not make, in the reader's language."""
    locale = pick_locale(request.query_params.get("lang"), request.headers.get("accept-language"))
    html = _pages.get_template("tracked_link_invalid.html").render(
        t=messages(locale), locale=locale
    )
    return HTMLResponse(html, status_code=404, headers=SECURITY_HEADERS)


async def follow_token(
    core: Core, request: Request, token: str, purpose: bytes, count: Counter
) -> HTMLResponse | RedirectResponse:
    """Count the click of a valid token for `purpose` (its fields: workspace, the message's
    own id, URL) and redirect to its URL; the 404 page for any other token."""
    fields = await unseal(core, token, purpose, 3) if len(token) <= MAX_TOKEN else None
    if fields is None or not _web_url(fields[2]):
        return _invalid(request)
    await count(core, fields)
    return RedirectResponse(fields[2], status_code=302, headers={"Cache-Control": "no-store"})


async def _count_run(core: Core, fields: list[str]) -> bool:
    workspace_id, run_id, _ = fields
    return await clicked(core, workspace_id, run_id)


@router.get("/l/{token}", response_model=None)
async def follow(token: str, request: Request, core: CoreDep) -> HTMLResponse | RedirectResponse:
    """Count the click and go where the message pointed; 404 for any token Kith did not make."""
    return await follow_token(core, request, token, PURPOSE, _count_run)
