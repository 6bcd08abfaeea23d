"""`/api/v1/bots` and `/api/v1/knowledge`: bots' flows and the FAQ they answer from.

The router is built for the app's step types (`build_router(step_types)`, the list the bot
engine gets): a flow's steps are their discriminated union in what a save accepts and what
is answered, so a bad step is refused with its field (`flows.0.steps.2.text`) and the OpenAPI
document shows every step model. Bots are answered as stored, not checked again: a bot that
uses a step type of a feature since removed from the app still reads (the engine skips its
flow). No `from __future__ import annotations` here: the body types are built at run time,
and FastAPI reads route annotations as objects.
"""

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from kith.bots.flows import Bot, StepType, StepTypes
from kith.bots.knowledge import Article, ArticleIn
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
from kith.web.api.deps import CoreDep, WorkspaceDep
from kith.web.api.schemas import Page
from kith.web.api.sent import taken_whole


def build_router(step_types: Iterable[StepType[Any]] | None = None) -> APIRouter:
    """The bots and knowledge routes for these step types (default: the built-in ones)."""
    steps = BUILT_IN if step_types is None else StepTypes(step_types)
    router = APIRouter(tags=["bots"])
    _bot_routes(router, steps)
    _knowledge_routes(router)
    return router


def _sent_as(model: type[BaseModel]) -> Any:
    """A JSON object taken as sent, shown in the OpenAPI document as `model`: the save
    checks it whole (`kith.bots.store.save_bot`), so that a refusal names every bad field at
    once, those the model refuses and those the checks by hand do, rather than the model's
    first and the others only once those are fixed."""
    return Annotated[dict[str, Any], taken_whole(model), Body()]


def _bot_routes(router: APIRouter, steps: StepTypes) -> None:
    definition, answer = _sent_as(steps.definition), steps.bot

    @router.post("/bots", status_code=201, response_model=answer)
    async def create(
        body: definition,  # type: ignore[valid-type]
        core: CoreDep,
        workspace_id: WorkspaceDep,
    ) -> JSONResponse:
        """Create a bot. Flows are validated: unknown steps, dangling jumps and loops that
        never wait for the customer are refused with the offending field. The answer also
        carries `webhook_secret`, shown this once: it signs the bot's webhook steps
        (`X-Kith-Signature`, as API-channel callbacks)."""
        bot = await save_bot(core, workspace_id, body, step_types=steps)
        secret = await new_webhook_secret(core, workspace_id, bot.id)
        return _stored(bot, 201, webhook_secret=secret)

    @router.get("/bots", response_model=Page[answer])  # type: ignore[valid-type]
    async def list_(core: CoreDep, workspace_id: WorkspaceDep) -> JSONResponse:
        return _stored(Page[Bot](items=await list_bots(core, workspace_id), next_cursor=None))

    @router.get("/bots/{bot_id}", response_model=answer)
    async def get(bot_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> JSONResponse:
        return _stored(await get_bot(core, workspace_id, bot_id))

    @router.put("/bots/{bot_id}", response_model=answer)
    async def replace(
        bot_id: str,
        body: definition,  # type: ignore[valid-type]
        core: CoreDep,
        workspace_id: WorkspaceDep,
    ) -> JSONResponse:
        return _stored(await save_bot(core, workspace_id, body, bot_id, step_types=steps))

    @router.post("/bots/{bot_id}/webhook-secret", response_model=WebhookSecret)
    async def rotate_webhook_secret(
        bot_id: str, core: CoreDep, workspace_id: WorkspaceDep
    ) -> WebhookSecret:
        """A new key for the bot's webhook steps, shown this once; the old one stops."""
        return WebhookSecret(webhook_secret=await new_webhook_secret(core, workspace_id, bot_id))

    @router.delete("/bots/{bot_id}", status_code=204)
    async def delete(bot_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> None:
        await delete_bot(core, workspace_id, bot_id)


class WebhookSecret(BaseModel):
    webhook_secret: str


def _stored(value: BaseModel, status: int = 200, **shown_once: str) -> JSONResponse:
    """The answer as stored; `response_model` documents it typed."""
    return JSONResponse(value.model_dump(mode="json") | shown_once, status_code=status)


def _knowledge_routes(router: APIRouter) -> None:
    @router.post("/knowledge", status_code=201, response_model=Article)
    async def create_article(body: ArticleIn, core: CoreDep, workspace_id: WorkspaceDep) -> Article:
        return await save_article(core, workspace_id, body)

    @router.get("/knowledge", response_model=Page[Article])
    async def articles(core: CoreDep, workspace_id: WorkspaceDep) -> Page[Article]:
        return Page(items=await list_articles(core, workspace_id), next_cursor=None)

    @router.put("/knowledge/{article_id}", response_model=Article)
    async def replace_article(
        article_id: str, body: ArticleIn, core: CoreDep, workspace_id: WorkspaceDep
    ) -> Article:
        return await save_article(core, workspace_id, body, article_id)

    @router.delete("/knowledge/{article_id}", status_code=204)
    async def remove_article(article_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> None:
        await delete_article(core, workspace_id, article_id)
