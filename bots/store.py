"""Saving bots and knowledge-base articles (validated before anything is written)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING

from kith.bots.flows import Bot, BotDefinition, BotParts, StepTypes, TriggerKind, read_bot
from kith.bots.knowledge import (
    Article,
    ArticleIn,
    article_doc,
    distinct_questions,
    missing_languages,
)
from kith.bots.schedule import sync_schedules
from kith.bots.steps import BUILT_IN
from kith.core.context import Core
from kith.core.errors import InvalidInput, KithError, NotFound, raise_all
from kith.core.events import build_event, record
from kith.core.features import Index, keyword_claim
from kith.core.ids import new_id

BOT_SAVED = "bot.saved"

SERVING_ORDER = [("created_at", ASCENDING), ("_id", ASCENDING)]
"""Which enabled bot serves a channel that several list (saved before saving refused that,
or two saves at once): the first created (`BotEngine.bot_for`)."""

INDEXES = (
    Index("bots", (("workspace_id", ASCENDING), ("channel_ids", ASCENDING))),
    Index("kb_articles", (("workspace_id", ASCENDING),)),
)


async def _announce(core: Core, workspace_id: str, bot_id: str) -> None:
    """Scheduled flows' timers follow the bot as now stored; engines in this process drop
    their cached bots at once, others within seconds."""
    doc = await core.store.collection("bots").find_one(
        {"_id": bot_id, "workspace_id": workspace_id}
    )
    await sync_schedules(core, bot_id, _bot(doc) if doc else None)
    await record(core, build_event(core, workspace_id, BOT_SAVED, data={"bot_id": bot_id}))


async def _check_channels(
    core: Core, workspace_id: str, parts: BotParts, bot_id: str | None
) -> list[KithError]:
    """Each listed channel exists, and, when the bot is saved enabled, no other enabled bot
    serves it: a channel has one bot (as an inbox has one agent bot in Chatwoot), or the
    second would never answer there. A disabled bot may list it; enabling it is refused
    until the other is disabled or lets the channel go. A bot listing no channel serves none."""
    errors: list[KithError] = []
    enabled = parts.given.get("enabled", True) is True
    for n, channel_id in parts.strings("channel_ids"):
        field = f"channel_ids.{n}"
        found = await core.store.channels.find_one(
            {"_id": channel_id, "workspace_id": workspace_id}, {"_id": 1}
        )
        if found is None:
            why = "no such channel in this workspace"
            errors.append(InvalidInput(why, field=field, reason="no_channel"))
            continue
        if not enabled:
            continue
        other = await core.store.collection("bots").find_one(
            {
                "workspace_id": workspace_id,
                "enabled": True,
                "channel_ids": channel_id,
                "_id": {"$ne": bot_id},
            },
            {"name": 1},
            sort=SERVING_ORDER,
        )
        if other is not None:
            errors.append(
                InvalidInput(
                    f"the enabled bot {other.get('name')!r} already serves this channel, and a "
                    "channel has one bot: disable that bot or take the channel off it first, "
                    "or save this one disabled",
                    field=field,
                    reason="channel_has_bot",
                    limits={"bot": str(other.get("name", "")), "bot_id": str(other["_id"])},
                )
            )
    return errors


async def _check_keywords(core: Core, workspace_id: str, parts: BotParts) -> list[KithError]:
    """Refuse a keyword trigger that another feature answers itself (a consent keyword such
    as `STOP` or `订阅`): the bot never sees a message that is only that word, so the flow
    would never fire."""
    errors: list[KithError] = []
    for n, trigger in sorted(parts.triggers.items()):
        if trigger.kind != TriggerKind.keyword:
            continue
        for i, value in enumerate(trigger.values):
            why = await keyword_claim(core, workspace_id, value)
            if why is not None:
                field = f"flows.{n}.trigger.values.{i}"
                errors.append(InvalidInput(f"{value!r} is {why}", field=field))
    return errors


async def _check_teams(core: Core, workspace_id: str, parts: BotParts) -> list[KithError]:
    """The bot's team and each hand-off step's team must exist: a hand-off to a team that
    does not would fail in the customer's conversation instead of here."""
    team_id = parts.given.get("team_id")
    wanted = [("team_id", team_id if isinstance(team_id, str) else None)] + [
        (f"flows.{n}.steps.{i}.team_id", getattr(step, "team_id", None))
        for n, steps in sorted(parts.steps.items())
        for i, step in sorted(steps.items())
    ]
    errors: list[KithError] = []
    for field, team_id in wanted:
        if not isinstance(team_id, str):
            continue
        found = await core.store.teams.find_one(
            {"_id": team_id, "workspace_id": workspace_id}, {"_id": 1}
        )
        if found is None:
            errors.append(
                InvalidInput("no such team in this workspace", field=field, reason="no_team")
            )
    return errors


def _bot(doc: dict[str, Any]) -> Bot:
    return Bot.model_validate({**doc, "id": doc["_id"]})


async def save_bot(
    core: Core,
    workspace_id: str,
    definition: BotDefinition | Mapping[str, Any],
    bot_id: str | None = None,
    *,
    step_types: StepTypes = BUILT_IN,
) -> Bot:
    """Check the bot with the app's `step_types` and store it with its steps as typed (every
    field of every step, defaults included). `definition` may be the JSON object as sent:
    every refusal comes in one answer, the model's, the checks by hand and the store's
    (channels, keywords, teams) of each part that is well-formed, so that a form marks each
    bad field at once."""
    parts = read_bot(definition, step_types)
    raise_all(
        [
            *parts.refusals,
            *await _check_channels(core, workspace_id, parts, bot_id),
            *await _check_keywords(core, workspace_id, parts),
            *await _check_teams(core, workspace_id, parts),
        ]
    )
    typed = parts.typed
    if typed is None:  # pragma: no cover - the model's refusal was raised above
        raise InvalidInput("the bot is not valid", field="body")
    body = typed.model_dump(mode="json", by_alias=True)
    if bot_id is None:
        doc = {
            "_id": new_id(),
            "workspace_id": workspace_id,
            "created_at": core.clock.now(),
            **body,
        }
        await core.store.collection("bots").insert_one(doc)
        await _announce(core, workspace_id, doc["_id"])
        return _bot(doc)
    result = await core.store.collection("bots").update_one(
        {"_id": bot_id, "workspace_id": workspace_id}, {"$set": body}
    )
    if not result.matched_count:
        raise NotFound("no such bot", field="bot_id")
    await _announce(core, workspace_id, bot_id)
    return await get_bot(core, workspace_id, bot_id)


async def get_bot(core: Core, workspace_id: str, bot_id: str) -> Bot:
    doc = await core.store.collection("bots").find_one(
        {"_id": bot_id, "workspace_id": workspace_id}
    )
    if doc is None:
        raise NotFound("no such bot", field="bot_id")
    return _bot(doc)


async def list_bots(core: Core, workspace_id: str) -> list[Bot]:
    docs = await core.store.collection("bots").find({"workspace_id": workspace_id}).to_list(None)
    return [_bot(d) for d in docs]


async def delete_bot(core: Core, workspace_id: str, bot_id: str) -> None:
    result = await core.store.collection("bots").delete_one(
        {"_id": bot_id, "workspace_id": workspace_id}
    )
    if not result.deleted_count:
        raise NotFound("no such bot", field="bot_id")
    await _announce(core, workspace_id, bot_id)


async def save_article(
    core: Core, workspace_id: str, body: ArticleIn, article_id: str | None = None
) -> Article:
    """Store the article with its questions each once (`distinct_questions`); it is saved
    without an answer in a language the FAQ serves, and answered with `warnings` saying so."""
    if not body.answer or any(not v.strip() for v in body.answer.values()):
        raise InvalidInput("an article needs an answer", field="answer", reason="answer_required")
    if any(not q.strip() or len(q) > 500 for q in body.questions):
        raise InvalidInput(
            "questions must be 1 to 500 characters",
            field="questions",
            reason="question_length",
            limits={"max_length": 500},
        )
    body = body.model_copy(update={"questions": distinct_questions(body.questions)})
    doc = article_doc(workspace_id, article_id or new_id(), body, core.clock.now())
    if article_id is None:
        await core.store.collection("kb_articles").insert_one(doc)
    else:
        result = await core.store.collection("kb_articles").replace_one(
            {"_id": article_id, "workspace_id": workspace_id}, doc
        )
        if not result.matched_count:
            raise NotFound("no such article", field="article_id")
    others = await _answer_languages(core, workspace_id, {"_id": {"$ne": doc["_id"]}})
    warnings = missing_languages(body, others)
    return Article.model_validate({**doc, "id": doc["_id"], "warnings": warnings})


async def _answer_languages(core: Core, workspace_id: str, query: dict[str, Any]) -> set[str]:
    """The languages the workspace's enabled articles (those `query` picks) answer in."""
    docs = core.store.collection("kb_articles").find(
        {"workspace_id": workspace_id, "enabled": True, **query}, {"answer": 1}
    )
    return {language for d in await docs.to_list(None) for language in d.get("answer") or {}}


async def list_articles(core: Core, workspace_id: str) -> list[Article]:
    """The articles, each with the warnings its save gave, as the FAQ stands now."""
    docs = (
        await core.store.collection("kb_articles")
        .find({"workspace_id": workspace_id})
        .to_list(None)
    )
    articles = [Article.model_validate({**d, "id": d["_id"]}) for d in docs]
    served = {language for a in articles if a.enabled for language in a.answer}
    for article in articles:
        article.warnings = missing_languages(article, served)
    return articles


async def delete_article(core: Core, workspace_id: str, article_id: str) -> None:
    result = await core.store.collection("kb_articles").delete_one(
        {"_id": article_id, "workspace_id": workspace_id}
    )
    if not result.deleted_count:
        raise NotFound("no such article", field="article_id")
