"""Tracked links: a message's web URLs go through Kith, which counts the click and redirects.

Sequences (`kith.sequences.links`) and broadcasts (`kith.broadcasts.links`) track their
messages' links the same way, each under its own token purpose and path; this is the part
they share. `track_text` rewrites each http(s) URL of a text, and `track_button_links` each
button's link, to the tracked link a feature's `LinkMaker` makes for one message to one
customer: `{public base}/l/.../{token}`, where the token (`seal`) names (workspace, the
message's own id in the feature, URL), signed like the unsubscribe links
(`kith.consent.links.seal`) under the feature's purpose, so that no kind of token stands for
another. `follow_token` is the redirect: it goes only to the URL a valid token names, so Kith
is never an open redirect, after the feature's `Counter` counted the click; any other token
gets a 404 page in the reader's language.

This lives beside the web pages rather than in `kith.core`, which imports nothing of Kith's
but itself: the signing is consent's and the 404 page is one of the pages'.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kith.consent.links import public_base, seal, unseal
from kith.core.context import Core
from kith.core.models import LINK_MAX, Button
from kith.web.inbox.i18n import messages, pick_locale
from kith.web.inbox.pages import render

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


def _split(found: str) -> tuple[str, str]:
    """The URL and what follows it in the sentence ("see https://x.test/a)." → ")." after)."""
    url = found.rstrip(_TRAILING)
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(_TRAILING)
    return url, found[len(url) :]


def _web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


async def tracked_url(
    core: Core, path: str, purpose: bytes, workspace_id: str, own_id: str, url: str
) -> str:
    """`{public base}/{path}/{token}`, the token naming (workspace, `own_id`, URL) for
    `purpose`: what a feature's `LinkMaker` answers (`own_id`: its run, its recipient row)."""
    token = await seal(core, [workspace_id, own_id, url], purpose)
    return f"{public_base(core)}/{path}/{token}"


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


def _invalid(request: Request) -> HTMLResponse:
    """The 404 page of a link Kith did not make, in the reader's language."""
    locale = pick_locale(request.query_params.get("lang"), request.headers.get("accept-language"))
    return render("tracked_link_invalid.html", 404, t=messages(locale), locale=locale)


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
