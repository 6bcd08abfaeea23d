"""The Communities pages: `/app/communities` (every group the bot is in) and
`/app/communities/{id}` (its figures as charts, its roster in cursor pages, its settings, its
moderation rules and log, its join requests, and a post to send into it). Everything shown is
rendered here from the same reads the API answers; the page's script only saves (`PATCH
/app/api/communities/{id}`), lifts (`POST …/audit/{audit_id}/lift`), approves or declines a
join request (`POST …/join-requests/{request_id}/approve|decline`) and posts (a community
broadcast through `/app/api/broadcasts`).

The settings form is built from the settings models themselves (`kith.communities.settings`):
a switch per bool, a number per int, a line per str, a choice per Literal, a text per language
for `texts` and a line per item for a list of words. Fields of other shapes are kept as they
are when saved.
Moderation has a form of its own (its rules are objects the generic form cannot show), saved
whole in one PATCH: the model refuses it all or takes it all.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from kith.broadcasts.actions import broadcasts
from kith.broadcasts.models import Broadcast
from kith.communities import stats, via, waiting
from kith.communities.askers import ensure_sees, visible
from kith.communities.audit import AuditRow, Outcome, audit
from kith.communities.charts import charts
from kith.communities.join_requests import JoinRequest, requests
from kith.communities.lift import LIFTABLE
from kith.communities.models import Community
from kith.communities.settings import (
    Action,
    JoinRequests,
    Moderation,
    Referrals,
    Rule,
    Rules,
    Welcome,
)
from kith.communities.sharing import sharing
from kith.communities.store import communities, get_community, members
from kith.core.context import Core
from kith.core.errors import Forbidden, NotFound
from kith.core.pagination import page
from kith.core.permissions import MANAGERS, scope_with_teams
from kith.web.inbox.deps import CoreDep, optional_session
from kith.web.inbox.pages import SECURITY_HEADERS, page_context, page_templates, static_file

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
templates = page_templates(_HERE / "templates")
STATIC = {
    "communities.js": "text/javascript",
    "communities.css": "text/css",
    "inbox_community.js": "text/javascript",  # the inbox's group panel
    "community_invites.js": "text/javascript",  # the page's invite links
    "community_roster.js": "text/javascript",  # the roster's search
}
SETTINGS: dict[str, type[BaseModel]] = {  # moderation: its own form (`moderation_form`)
    "welcome": Welcome,
    "rules": Rules,
    "referrals": Referrals,
    "join_requests": JoinRequests,
}
RULE_LISTS = ("words", "patterns")  # a rule's lists of text, one item a line
AUDIT_PAGE = 20
LANGUAGES = ("en", "zh")
STATUSES = ("member", waiting.STATUS, "left", "banned", "all")
REQUEST_STATUSES = ("pending", "approved", "declined", "all")
REQUESTS_SHOWN = 50
Cursor = Annotated[str | None, Query(max_length=1024)]
Days = Annotated[int, Query(ge=7, le=366)]


@dataclass(frozen=True)
class Setting:
    """One control of the settings form: `kind` is bool, int, text, choice (among
    `options`), texts or lines."""

    section: str
    name: str
    kind: str
    value: Any
    options: tuple[str, ...] = ()


def _plain(annotation: Any) -> Any:
    """`Annotated[str, constraints]` is a str to the form (the model checks the rest)."""
    if typing.get_origin(annotation) is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation


def _kind(annotation: Any) -> str | None:
    annotation = _plain(annotation)
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is str:
        return "text"
    if _options(annotation):
        return "choice"
    origin = typing.get_origin(annotation)
    args = tuple(_plain(a) for a in typing.get_args(annotation))
    if origin is dict and args == (str, str):
        return "texts"
    if origin is list and args == (str,):
        return "lines"
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return _kind(rest[0]) if len(rest) == 1 else None
    return None


def _options(annotation: Any) -> tuple[str, ...]:
    """A Literal of strings: its values (else none)."""
    if typing.get_origin(_plain(annotation)) is not typing.Literal:
        return ()
    values = typing.get_args(_plain(annotation))
    return tuple(values) if all(isinstance(v, str) for v in values) else ()


def settings_form(community: Community) -> list[tuple[str, list[Setting]]]:
    """Each settings section with the controls its model's fields call for."""
    return [
        (section, _controls(section, model, getattr(community, section)))
        for section, model in SETTINGS.items()
    ]


def _controls(section: str, model: type[BaseModel], current: BaseModel) -> list[Setting]:
    return [
        Setting(section, name, kind, getattr(current, name), _options(field.annotation))
        for name, field in model.model_fields.items()
        if (kind := _kind(field.annotation)) is not None
    ]


@dataclass(frozen=True)
class RuleForm:
    """One moderation rule's controls: on, its actions, its numbers and its lists of text."""

    name: str
    enabled: bool
    actions: list[str]
    numbers: list[tuple[str, float | int, str]]  # field, value, the input's step
    lists: list[tuple[str, list[str]]]


def _rule_form(name: str, rule: Rule) -> RuleForm:
    numbers: list[tuple[str, float | int, str]] = []
    lists: list[tuple[str, list[str]]] = []
    for field, info in type(rule).model_fields.items():
        value = getattr(rule, field)
        if field in RULE_LISTS:
            lists.append((field, list(value)))
        elif _plain(info.annotation) in (int, float):
            numbers.append((field, value, "1" if _plain(info.annotation) is int else "any"))
    return RuleForm(name, rule.enabled, [a.value for a in rule.actions], numbers, lists)


def moderation_form(moderation: Moderation) -> tuple[list[Setting], list[RuleForm]]:
    """The moderation section's plain fields (as the settings form shows them) and its rules."""
    rules = [
        _rule_form(name, value)
        for name in Moderation.model_fields
        if isinstance(value := getattr(moderation, name), Rule)
    ]
    return _controls("moderation", Moderation, moderation), rules


@dataclass(frozen=True)
class AuditLine:
    """A row of the moderation log as shown, with whether this page offers to lift it."""

    row: AuditRow
    liftable: bool
    detail: str | None  # in the page's language where the row's facts allow


def detail_text(row: AuditRow, t: dict[str, str]) -> str | None:
    """A row's detail worded through the page's i18n from its facts (`communities_detail_*`:
    the flood's count, the repeat's members, what a lift undid); a matched word, or a row
    from before facts were kept, as stored."""
    if row.action == "lift" and "action" in row.facts:
        return t.get(f"communities_detail_lift_{row.facts['action']}", row.detail)
    template = t.get(f"communities_detail_{row.rule}")
    if template is None or not row.facts:
        return row.detail
    for name, value in row.facts.items():
        template = template.replace("{" + name + "}", str(value))
    return template


async def audit_page(
    core: Core, community: Community, cursor: str | None, t: dict[str, str]
) -> tuple[list[AuditLine], str | None]:
    """The log newest first, as `GET …/audit` pages it. Anyone signed in may lift (the API's
    rule: moderators are whoever works the inbox) a taken action not lifted yet."""
    docs, next_cursor = await page(
        audit(core),
        {"community_id": community.id},
        "at",
        cursor=cursor,
        limit=AUDIT_PAGE,
        descending=True,
    )
    lines = []
    for doc in docs:
        row = AuditRow.from_doc(doc)
        liftable = row.action in LIFTABLE and row.outcome == Outcome.taken and row.lifted_at is None
        lines.append(AuditLine(row, liftable, detail_text(row, t)))
    return lines, next_cursor


async def join_requests(
    core: Core, community: Community, status: str
) -> tuple[bool, list[JoinRequest]]:
    """Whether the community has any join request at all, and the newest of `status`. Anyone
    signed in may decide one (the API's rule, as for lifting: agents work the inbox's note)."""
    if await requests(core).find_one({"community_id": community.id}, {"_id": 1}) is None:
        return False, []
    query: dict[str, Any] = {"community_id": community.id}
    if status != "all":
        query["status"] = status
    found = requests(core).find(query, sort=[("requested_at", -1)], limit=REQUESTS_SHOWN)
    return True, [JoinRequest.from_doc(d) async for d in found]


def _login() -> Response:
    return RedirectResponse("/app/login", status_code=303)


def _html(name: str, code: int = 200, **context: Any) -> HTMLResponse:
    html = templates.get_template(name).render(section="communities", **context)
    return HTMLResponse(html, status_code=code, headers=SECURITY_HEADERS)


@router.get("/app/communities")
async def communities_page(request: Request, core: CoreDep, cursor: Cursor = None) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return _login()
    scope = scope_with_teams(session.user, session.teams)
    query = {"workspace_id": session.user.workspace_id, **visible(scope)}
    docs, next_cursor = await page(
        communities(core), query, "_id", cursor=cursor, limit=50, descending=False
    )
    found = sorted((Community.from_doc(d) for d in docs), key=lambda c: c.title.lower())
    context = await page_context(request, core, session)
    return _html(
        "communities.html",
        **context,
        communities=found,
        next_cursor=next_cursor,
        team_bound=scope.channel_ids is not None,
    )


@router.get("/app/communities/static/{name}")
async def static(name: str) -> Response:
    return static_file(_HERE / "static" / name if name in STATIC else None, STATIC.get(name))


@router.get("/app/communities/{community_id}")
async def community_page(
    community_id: str,
    request: Request,
    core: CoreDep,
    status: str = "member",
    cursor: Cursor = None,
    audit_cursor: Cursor = None,
    days: Days = 30,
    requests_status: str = "pending",
) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return _login()
    context = await page_context(request, core, session)
    try:
        community = await get_community(core, session.user.workspace_id, community_id)
        ensure_sees(scope_with_teams(session.user, session.teams), community)
    except NotFound:
        return _html("community_missing.html", 404, **context)
    except Forbidden:
        return _html("community_missing.html", 403, **context, other_team=True)
    status = status if status in STATUSES else "member"
    query = await waiting.roster_query(core, community.id, status)
    docs, next_cursor = await page(
        members(core), query, "joined_at", cursor=cursor, limit=50, descending=True
    )
    figures = await stats.read(core, community, days)
    log, next_audit = await audit_page(core, community, audit_cursor, context["t"])
    if requests_status not in REQUEST_STATUSES:
        requests_status = "pending"
    any_requests, asked = await join_requests(core, community, requests_status)
    moderation, rules = moderation_form(community.moderation)
    posts = broadcasts(core).find(
        {"workspace_id": community.workspace_id, "community_ids": community.id},
        sort=[("_id", -1)],
        limit=10,
    )
    return _html(
        "community.html",
        **context,
        community=community,
        community_json=community.model_dump(mode="json"),
        manager=session.user.role in MANAGERS,
        roster=await via.roster(core, community, docs),
        status=status,
        statuses=STATUSES,
        cursor=cursor,
        next_cursor=next_cursor,
        days=days,
        figures=figures,
        charts=charts(figures.days, context["t"]),
        settings=settings_form(community),
        languages=LANGUAGES,
        moderation=moderation,
        rules=rules,
        actions=[a.value for a in Action],
        audit=log,
        audit_cursor=audit_cursor,
        next_audit=next_audit,
        any_requests=any_requests,
        join_requests=asked,
        requests_status=requests_status,
        request_statuses=REQUEST_STATUSES,
        posts=[Broadcast.from_doc(d) async for d in posts],
        sharing=await sharing(core, community),
    )
