"""The Broadcasts page, `/app/broadcasts`: list with stats, compose, preview, move.

Its template extends the inbox's `page_base.html` (one look); its script is served from
here, and its JSON is `/app/api/broadcasts` (`kith.broadcasts.api`) plus the segments and
the communities a marketer may pick.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from kith.broadcasts.api import Asker, session_asker
from kith.communities.broadcasts import Choice, choices
from kith.core.context import Core
from kith.core.models import Role
from kith.web.inbox.deps import AgentDep, CoreDep, optional_session
from kith.web.inbox.pages import SECURITY_HEADERS, page_context, page_templates, static_file

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
templates = page_templates(_HERE / "templates")


class SegmentChoice(BaseModel):
    id: str
    name: str
    size: int | None = None


@router.get("/app/broadcasts")
async def broadcasts_page(request: Request, core: CoreDep) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    allowed = session.user.role in {Role.admin, Role.marketer}
    html = templates.get_template("broadcasts.html").render(
        **await page_context(request, core, session),
        section="broadcasts",
        allowed=allowed,
        channel_types=await channel_types(core, session.user.workspace_id) if allowed else [],
    )
    return HTMLResponse(html, status_code=200 if allowed else 403, headers=SECURITY_HEADERS)


# The order the compose form offers the channel types in, which is the order a customer is
# tried on them (a type not named here comes after these, by name).
PREFERENCE = ("telegram", "wechat", "whatsapp", "email", "webchat", "slack", "api")


async def channel_types(core: Core, workspace_id: str) -> list[str]:
    """The types of the workspace's enabled channels (a broadcast goes out on those only),
    as the compose form's checkboxes offer them, in `PREFERENCE` order."""
    found = await core.store.channels.distinct(
        "type", {"workspace_id": workspace_id, "enabled": True}
    )
    known = [str(t) for t in found if core.channels.get(str(t)) is not None]
    rank = {name: n for n, name in enumerate(PREFERENCE)}
    return sorted(known, key=lambda t: (rank.get(t, len(PREFERENCE)), t))


STATIC = {"broadcasts.js": "text/javascript", "broadcasts.css": "text/css"}


@router.get("/app/broadcasts/static/{name}")
async def static(name: str) -> Response:
    return static_file(_HERE / "static" / name, STATIC.get(name))


@router.get("/app/api/broadcast-audiences", response_model=list[SegmentChoice])
async def audiences(core: CoreDep, agent: AgentDep) -> list[SegmentChoice]:
    """The workspace's segments, for the audience picker."""
    asker: Asker = await session_asker(agent)
    cursor = core.store.collection("segments").find(
        {"workspace_id": asker.workspace_id}, {"name": 1, "size": 1}, sort=[("name", 1)], limit=500
    )
    return [
        SegmentChoice(id=d["_id"], name=str(d.get("name", "")), size=d.get("size"))
        async for d in cursor
    ]


@router.get("/app/api/broadcast-communities", response_model=list[Choice])
async def community_choices(core: CoreDep, agent: AgentDep) -> list[Choice]:
    """The workspace's communities, for the audience picker (`kith.communities.broadcasts`)."""
    asker: Asker = await session_asker(agent)
    return await choices(core, asker.workspace_id)
