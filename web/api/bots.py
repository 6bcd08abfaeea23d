"""`/api/v1/bots` and `/api/v1/knowledge`: bots' flows and the FAQ they answer from."""

from __future__ import annotations

from fastapi import APIRouter

from kith.bots.flows import Bot, BotDefinition
from kith.bots.knowledge import Article, ArticleIn
from kith.bots.store import (
    delete_article,
    delete_bot,
    get_bot,
    list_articles,
    list_bots,
    save_article,
    save_bot,
)
from kith.web.api.deps import CoreDep, WorkspaceDep
from kith.web.api.schemas import Page

router = APIRouter(tags=["bots"])


@router.post("/bots", status_code=201, response_model=Bot)
async def create(body: BotDefinition, core: CoreDep, workspace_id: WorkspaceDep) -> Bot:
    """Create a bot. Flows are validated: unknown steps, dangling jumps and loops that never
    wait for the customer are refused with the offending field."""
    return await save_bot(core, workspace_id, body)


@router.get("/bots", response_model=Page[Bot])
async def list_(core: CoreDep, workspace_id: WorkspaceDep) -> Page[Bot]:
    return Page(items=await list_bots(core, workspace_id), next_cursor=None)


@router.get("/bots/{bot_id}", response_model=Bot)
async def get(bot_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> Bot:
    return await get_bot(core, workspace_id, bot_id)


@router.put("/bots/{bot_id}", response_model=Bot)
async def replace(
    bot_id: str, body: BotDefinition, core: CoreDep, workspace_id: WorkspaceDep
) -> Bot:
    return await save_bot(core, workspace_id, body, bot_id)


@router.delete("/bots/{bot_id}", status_code=204)
async def delete(bot_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> None:
    await delete_bot(core, workspace_id, bot_id)


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
