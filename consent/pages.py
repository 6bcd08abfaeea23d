"""The unsubscribe page, `/u/{token}`: no login, one button, RFC 8058 one-click.

`GET` only shows the page (mail scanners and link previews fetch links: a GET must never
unsubscribe). `POST` revokes the email consent the token names, `via=link`: a mail
provider's one-click (`List-Unsubscribe=One-Click` in a form body) or the page's button.
Idempotent, and CSRF-free by design: there is no session to ride, the token in the URL is
the whole authority, and its only power is to unsubscribe the customer it names.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kith.consent.actions import do_change_consent
from kith.consent.links import LinkTarget, read_token
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, ConsentState, Customer
from kith.web.api.deps import CoreDep
from kith.web.inbox.i18n import messages, pick_locale
from kith.web.inbox.pages import render

router = APIRouter(include_in_schema=False)
MAX_TOKEN = 512
MERGE_HOPS = 5


def _page(request: Request, state: str, token: str = "", status: int = 200) -> HTMLResponse:
    locale = pick_locale(request.query_params.get("lang"), request.headers.get("accept-language"))
    return render(
        "unsubscribe.html", status, t=messages(locale), locale=locale, state=state, token=token
    )


async def _target(core: Core, token: str) -> LinkTarget | None:
    return await read_token(core, token) if len(token) <= MAX_TOKEN else None


async def _customer(core: Core, target: LinkTarget) -> Customer | None:
    """The customer the link names, or whom they were merged into since."""
    customer_id = target.customer_id
    for _ in range(MERGE_HOPS):
        doc = await core.store.customers.find_one(
            {"_id": customer_id, "workspace_id": target.workspace_id}
        )
        if doc is None:
            return None
        if not doc.get("merged_into"):
            return Customer.from_doc(doc)
        customer_id = doc["merged_into"]
    return None


@router.get("/u/{token}")
async def unsubscribe_page(token: str, request: Request, core: CoreDep) -> HTMLResponse:
    if await _target(core, token) is None:
        return _page(request, "invalid", status=404)
    return _page(request, "confirm", token)


@router.post("/u/{token}")
async def unsubscribe(token: str, request: Request, core: CoreDep) -> HTMLResponse:
    target = await _target(core, token)
    if target is None:
        return _page(request, "invalid", status=404)
    customer = await _customer(core, target)
    if customer is not None:  # an erased customer has nothing left to unsubscribe
        actor = Author(kind=AuthorKind.customer, id=customer.id, name=customer.name)
        await do_change_consent(
            core, customer, target.channel_type, ConsentState.revoked, "link", actor
        )
    return _page(request, "done")
