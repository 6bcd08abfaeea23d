"""The knowledge base: FAQ articles with question variants, matched by sentence embeddings.

Questions are embedded once per article version and kept in memory (derived data, safe to
hold in any process). Without an encoder (the model is still being prepared) matching falls
back to character n-gram cosine, which is weaker but never stalls the bot.
"""

from __future__ import annotations

import asyncio
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kith.bots.language import written_language
from kith.core.context import Core
from kith.core.storable import DocumentKey

Embedder = Callable[[list[str]], Sequence[Sequence[float]]]


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    questions: list[str] = Field(min_length=1, max_length=50)
    answer: dict[DocumentKey, str] = Field(description="{language: answer}, e.g. en and zh.")
    enabled: bool = True


class ArticleWarning(BaseModel):
    """Something the article is saved with that a customer may notice: it has no answer in
    `limits.language`, a language the workspace's FAQ answers in or its questions are
    written in, so a customer asking in that language is answered in another one."""

    field: str
    reason: str
    message: str
    limits: dict[str, str] = {}


class Article(ArticleIn):
    model_config = ConfigDict(extra="ignore")

    id: str
    workspace_id: str
    updated_at: datetime
    warnings: list[ArticleWarning] = Field(
        default=[], description="Saved anyway; see `ArticleWarning` (not stored)."
    )


def distinct_questions(questions: list[str]) -> list[str]:
    """The questions trimmed, each once: the first of those that differ only in case or
    spacing (a duplicate line only weighs its article twice)."""
    seen: set[str] = set()
    kept: list[str] = []
    for question in questions:
        text = question.strip()
        key = " ".join(text.casefold().split())
        if key not in seen:
            seen.add(key)
            kept.append(text)
    return kept


def missing_languages(article: ArticleIn, served: set[str]) -> list[ArticleWarning]:
    """A warning for each language in `served` (the workspace's other articles' answers') or
    in which one of the article's questions is written that its answer lacks: the bot
    answers such a customer in English or another language it has (`localized`)."""
    wanted = set(served)
    wanted.update(w for w in (written_language(q) for q in article.questions) if w)
    return [
        ArticleWarning(
            field=f"answer.{language}",
            reason="answer_language_missing",
            message=f"no answer in {language!r}: customers asking in it get another language",
            limits={"language": language},
        )
        for language in sorted(wanted - set(article.answer))
    ]


@dataclass(frozen=True)
class Match:
    article: Article
    score: float
    question: str


def _grams(text: str) -> Counter[str]:
    """Character 2- and 3-grams, plus single CJK characters (each one carries meaning)."""
    kept = "".join(c if not unicodedata.category(c).startswith("P") else " " for c in text)
    norm = re.sub(r"\s+", " ", kept.casefold()).strip()
    padded = f" {norm} "
    grams = Counter(padded[i : i + n] for n in (2, 3) for i in range(len(padded) - n + 1))
    grams.update(c for c in norm if "\u4e00" <= c <= "\u9fff")
    return grams


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return float(sum(x * y for x, y in zip(a, b, strict=True)))


class KnowledgeBase:
    """Finds the article whose question variants are closest to what the customer asked."""

    def __init__(self, embed: Embedder | None = None) -> None:
        self.embed = embed
        self._vectors: dict[tuple[str, datetime], list[Sequence[float]]] = {}

    async def articles(self, core: Core, workspace_id: str) -> list[Article]:
        docs = (
            await core.store.collection("kb_articles")
            .find({"workspace_id": workspace_id, "enabled": True})
            .to_list(None)
        )
        return [Article.model_validate({**d, "id": d["_id"]}) for d in docs]

    async def _embed(self, texts: list[str]) -> list[Sequence[float]]:
        assert self.embed is not None
        vectors = await asyncio.to_thread(self.embed, texts)
        return [list(v) for v in vectors]

    async def article(self, core: Core, workspace_id: str, article_id: str) -> Article | None:
        """One enabled article (a "did you mean" button names it by id)."""
        doc = await core.store.collection("kb_articles").find_one(
            {"_id": article_id, "workspace_id": workspace_id, "enabled": True}
        )
        return Article.model_validate({**doc, "id": doc["_id"]}) if doc else None

    async def best(self, core: Core, workspace_id: str, text: str) -> Match | None:
        ranked = await self.ranked(core, workspace_id, text)
        return ranked[0] if ranked else None

    async def ranked(self, core: Core, workspace_id: str, text: str) -> list[Match]:
        """Each article's closest question to `text`, best article first."""
        articles = await self.articles(core, workspace_id)
        if not articles or not text.strip():
            return []
        if self.embed is None:
            return _by_article(self._lexical(articles, text))
        [query] = await self._embed([text])
        scored: list[Match] = []
        for article in articles:
            key = (article.id, article.updated_at)
            if key not in self._vectors:
                self._vectors[key] = await self._embed(article.questions)
            scored += [
                Match(article, _dot(query, vector), question)
                for question, vector in zip(article.questions, self._vectors[key], strict=True)
            ]
        return _by_article(scored)

    @staticmethod
    def _lexical(articles: list[Article], text: str) -> list[Match]:
        query = _grams(text)
        return [Match(a, _cosine(query, _grams(q)), q) for a in articles for q in a.questions]


def asks_something(text: str) -> bool:
    """Long enough to be a question (three words, or four Chinese characters): "hello",
    "thanks" or 谢谢 score near some FAQ question on any encoder, and are not near misses."""
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in text)
    words = re.findall(r"[^\W\d_]+", re.sub(r"[\u4e00-\u9fff]", " ", text))
    return cjk >= 4 or len(words) >= 3


def _by_article(scored: list[Match]) -> list[Match]:
    """The best match of each article, best first (ties keep the articles' order)."""
    best: dict[str, Match] = {}
    for match in scored:
        if match.article.id not in best or match.score > best[match.article.id].score:
            best[match.article.id] = match
    return sorted(best.values(), key=lambda m: -m.score)


def article_doc(
    workspace_id: str, article_id: str, body: ArticleIn, now: datetime
) -> dict[str, Any]:
    return {"_id": article_id, "workspace_id": workspace_id, "updated_at": now, **body.model_dump()}
