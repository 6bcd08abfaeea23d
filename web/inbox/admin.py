"""`/app/admin/...`: the settings pages (users, teams, channels, bots and FAQ, API tokens, one's
own account), and their JSON.

Pages are for admins; marketers may read the bots page, and everyone opens their account
page. The JSON sits under `/app/api` next to the inbox's own, behind the same session and
CSRF rules (reads of users, teams and channels are the inbox's). Routes parse, call a core
or bots action, and answer; the role is checked in a dependency, so a refused caller learns
nothing from body validation. The channels' JSON is in `kith.web.inbox.admin_channels`, the
tokens' and passwords' in `kith.web.inbox.admin_accounts`.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, get_args, get_origin

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from kith.bots import examples
from kith.bots.flows import Bot, StepBase, StepTypes
from kith.bots.knowledge import ArticleIn
from kith.bots.steps import BUILT_IN
from kith.bots.store import (
    delete_article,
    delete_bot,
    get_bot,
    list_articles,
    list_bots,
    save_article,
    save_bot,
)
from kith.bots.webhook_keys import new_webhook_secret
from kith.core.errors import Forbidden, NotFound
from kith.core.models import Role
from kith.core.permissions import ensure_admin
from kith.core.sessions import Session
from kith.core.users import do_update_user
from kith.web.inbox.deps import Agent, AgentDep, CoreDep, optional_session
from kith.web.inbox.pages import page_context, render
from kith.web.inbox.schemas import user_out

router = APIRouter(include_in_schema=False)
# Each page and the roles that may open it; the first a role may open is its landing page.
PAGES: dict[str, frozenset[Role]] = {
    "users": frozenset({Role.admin}),
    "teams": frozenset({Role.admin}),
    "channels": frozenset({Role.admin}),
    "bots": frozenset({Role.admin, Role.marketer}),
    "hours": frozenset({Role.admin}),  # business and quiet hours: admin_hours.py
    "sla": frozenset({Role.admin}),  # SLA policies: admin_sla.py
    "tokens": frozenset({Role.admin}),
    "account": frozenset({Role.admin, Role.agent, Role.marketer}),
}


async def _admin(agent: AgentDep) -> Agent:
    ensure_admin(agent.scope)
    return agent


async def _bot_reader(agent: AgentDep) -> Agent:
    if agent.user.role not in PAGES["bots"]:
        raise Forbidden("only admins and marketers see bots")
    return agent


AdminDep = Annotated[Agent, Depends(_admin)]
BotReaderDep = Annotated[Agent, Depends(_bot_reader)]


# ---- pages ---------------------------------------------------------------------------------


async def _page_context(request: Request, core: CoreDep, session: Session) -> dict[str, Any]:
    role = session.user.role
    return {
        **await page_context(request, core, session),
        "pages": [name for name, roles in PAGES.items() if role in roles],
        "section": "settings",
        "can_edit": role == Role.admin,
        "must_change_password": session.must_change_password,
    }


@router.get("/app/admin")
async def admin_home(request: Request, core: CoreDep) -> Response:
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    mine = [name for name, roles in PAGES.items() if session.user.role in roles]
    return RedirectResponse(f"/app/admin/{(mine or ['users'])[0]}", status_code=303)


@router.get("/app/admin/{page}")
async def admin_page(page: str, request: Request, core: CoreDep) -> Response:
    """A settings page: sign in first; a role that may not open it gets the 403 page."""
    if page not in PAGES:
        return Response(status_code=404)
    session = await optional_session(request, core)
    if session is None:
        return RedirectResponse("/app/login", status_code=303)
    context = await _page_context(request, core, session)
    if session.user.role not in PAGES[page]:
        return render("admin_forbidden.html", 403, page="forbidden", **context)
    return render(f"admin_{page}.html", page=page, **context)


# ---- users ---------------------------------------------------------------------------------


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=128)
    role: Role | None = None
    team_ids: list[str] | None = Field(default=None, max_length=50)
    disabled: bool | None = None


@router.patch("/app/api/users/{user_id}")
async def change_user(
    user_id: str, body: UserChange, agent: AdminDep, core: CoreDep
) -> dict[str, Any]:
    """Rename, change role or teams, disable (ending every session) or enable a user."""
    changes = body.model_dump(exclude_unset=True)
    return user_out(await do_update_user(core, agent.user, user_id, **changes))


# ---- bots ----------------------------------------------------------------------------------


@cache
def bot_examples() -> dict[str, dict[str, Any]]:
    """The example bots shipped in `kith.bots.examples` (the FAQ file there is articles)."""
    found = {path.stem: examples.load(path.stem) for path in sorted(examples.HERE.glob("*.json"))}
    return {name: data for name, data in found.items() if isinstance(data, dict)}


def bot_out(bot: Bot) -> dict[str, Any]:
    return bot.model_dump(mode="json")


@router.get("/app/api/bot-examples")
async def example_list(agent: BotReaderDep) -> dict[str, Any]:
    return {"items": [{"id": k, "name": v.get("name", k)} for k, v in bot_examples().items()]}


@router.get("/app/api/bot-examples/{name}")
async def example(name: str, agent: BotReaderDep) -> dict[str, Any]:
    found = bot_examples().get(name)
    if found is None:
        raise NotFound("no such example", field="name")
    return found


@router.get("/app/api/bots")
async def bots(agent: BotReaderDep, core: CoreDep) -> dict[str, Any]:
    found = await list_bots(core, agent.user.workspace_id)
    return {"items": [bot_out(b) for b in sorted(found, key=lambda b: b.name.lower())]}


@router.get("/app/api/bots/{bot_id}")
async def bot(bot_id: str, agent: BotReaderDep, core: CoreDep) -> dict[str, Any]:
    return bot_out(await get_bot(core, agent.user.workspace_id, bot_id))


def installed_steps(request: Request) -> StepTypes:
    """The step types of the app's installed features (set by `create_app`)."""
    steps: StepTypes = getattr(request.app.state, "bot_steps", BUILT_IN)
    return steps


StepsDep = Annotated[StepTypes, Depends(installed_steps)]


@router.get("/app/api/bot-step-types")
async def step_types(agent: BotReaderDep, steps: StepsDep) -> dict[str, Any]:
    """The installed step types (features add theirs), each with its JSON schema and the
    fields that name another step of the flow (`step_refs`, a list's items as `*`): what
    the bot editor draws each step's form from."""
    return {
        "items": [
            {"type": name, "schema": model.model_json_schema(), "step_refs": step_refs(model)}
            for name, model in steps.models.items()
        ]
    }


def step_refs(model: type[StepBase]) -> list[str]:
    """The fields of a step that name a step to jump to (`on_error`, `cases.*.goto`): found
    by asking a step whose every text field holds its own path where it jumps (`targets`),
    so that a feature's step types are read as the built-in ones are."""
    probe = _probe(model, "")
    try:
        found = probe.targets() if isinstance(probe, StepBase) else []
    except Exception:  # a step type whose targets() needs real values: no field shown as one
        return []
    return sorted({t for t in found if isinstance(t, str)})


def _probe(model: type[BaseModel], prefix: str) -> BaseModel:
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        path = f"{prefix}{field.alias or name}"
        annotation = field.annotation
        members = set(get_args(annotation)) - {type(None)} if get_origin(annotation) else set()
        item = get_args(annotation)[0] if get_origin(annotation) is list else None
        if name in ("id", "type"):
            continue
        if annotation is str or members == {str}:
            values[name] = path
        elif isinstance(item, type) and issubclass(item, BaseModel):
            values[name] = [_probe(item, f"{path}.*.")]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            values[name] = _probe(annotation, f"{path}.")
    return model.model_construct(**values)


# A bot as sent, checked whole by `save_bot`: every refusal (the model's and the checks by
# hand) in one answer, for the form to mark them all.
SentBot = Annotated[dict[str, Any], Body()]


@router.post("/app/api/bots", status_code=201)
async def add_bot(body: SentBot, agent: AdminDep, core: CoreDep, steps: StepsDep) -> dict[str, Any]:
    """A new bot with its webhook signing key, shown in this answer only."""
    bot = await save_bot(core, agent.user.workspace_id, body, step_types=steps)
    secret = await new_webhook_secret(core, agent.user.workspace_id, bot.id)
    return {**bot_out(bot), "webhook_secret": secret}


@router.post("/app/api/bots/{bot_id}/webhook-secret")
async def new_bot_key(bot_id: str, agent: AdminDep, core: CoreDep) -> dict[str, str]:
    """A new signing key for the bot's webhook steps, shown once; the old one stops at once."""
    return {"webhook_secret": await new_webhook_secret(core, agent.user.workspace_id, bot_id)}


@router.put("/app/api/bots/{bot_id}")
async def replace_bot(
    bot_id: str, body: SentBot, agent: AdminDep, core: CoreDep, steps: StepsDep
) -> dict[str, Any]:
    return bot_out(await save_bot(core, agent.user.workspace_id, body, bot_id, step_types=steps))


@router.delete("/app/api/bots/{bot_id}")
async def remove_bot(bot_id: str, agent: AdminDep, core: CoreDep) -> dict[str, bool]:
    await delete_bot(core, agent.user.workspace_id, bot_id)
    return {"deleted": True}


# ---- the knowledge base the bots answer FAQs from ------------------------------------------


@router.get("/app/api/knowledge")
async def articles(agent: BotReaderDep, core: CoreDep) -> dict[str, Any]:
    found = await list_articles(core, agent.user.workspace_id)
    items = sorted(found, key=lambda a: a.title.lower())
    return {"items": [a.model_dump(mode="json") for a in items]}


@router.post("/app/api/knowledge", status_code=201)
async def add_article(body: ArticleIn, agent: AdminDep, core: CoreDep) -> dict[str, Any]:
    return (await save_article(core, agent.user.workspace_id, body)).model_dump(mode="json")


@router.put("/app/api/knowledge/{article_id}")
async def replace_article(
    article_id: str, body: ArticleIn, agent: AdminDep, core: CoreDep
) -> dict[str, Any]:
    """The article's new title, questions and answers (the FAQ form's Edit)."""
    saved = await save_article(core, agent.user.workspace_id, body, article_id)
    return saved.model_dump(mode="json")


@router.delete("/app/api/knowledge/{article_id}")
async def remove_article(article_id: str, agent: AdminDep, core: CoreDep) -> dict[str, bool]:
    await delete_article(core, agent.user.workspace_id, article_id)
    return {"deleted": True}
