"""What a conversation found by a search shows of itself: the newest message that holds the
words searched for, cut to one line around the first of them, as Chatwoot's and Zendesk's
results do. Its last message says nothing of why it was found when the match is older.

A message holds the words as the search finds them (`kith.core.search`): every term of the
query in the message's own `terms`, or, for one CJK character, a term that starts with it.
Notes and deleted messages are never shown. A conversation found by its customer's name or
email alone has no such message: the caller shows its last message then.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kith.core.context import Core
from kith.core.search_terms import lone_character, query_terms, starting_with

SNIPPET_CHARS = 140
LEAD = 40  # characters kept before the first match, so it reads in its sentence
NEAR = 20  # how far back from there a word's start is looked for


async def matched_snippets(core: Core, conversation_ids: list[str], q: str) -> dict[str, str]:
    """Each conversation's newest message holding `q`, as a snippet (none: no message
    holds it); one indexed read per conversation, all at once."""
    wanted = query_terms(q)
    if not wanted:
        return {}
    character = lone_character(q)
    held: dict[str, Any] = (
        {"$elemMatch": starting_with(character)} if character else {"$all": wanted}
    )
    texts = await asyncio.gather(*(_newest(core, c, held) for c in conversation_ids))
    return {
        conversation_id: around(text, [character] if character else wanted)
        for conversation_id, text in zip(conversation_ids, texts, strict=True)
        if text
    }


async def _newest(core: Core, conversation_id: str, held: dict[str, Any]) -> str | None:
    query = {
        "conversation_id": conversation_id,
        "terms": held,
        "private": {"$ne": True},
        "deleted": {"$ne": True},
    }
    found = core.store.messages.find(query, {"text": 1}).sort("created_at", -1).limit(1)
    docs = await found.to_list(1)
    text = docs[0].get("text") if docs else None
    return text if isinstance(text, str) and text.strip() else None


def one_line(text: str) -> str:
    """`text` on one line of at most `SNIPPET_CHARS`, cut with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= SNIPPET_CHARS else line[: SNIPPET_CHARS - 1] + "…"


def around(text: str, terms: list[str]) -> str:
    """`text` as `one_line`, from a little before the first term it shows as written (case
    aside); from its start when none does (a term NFKC or accents changed: "cafe" for
    "café")."""
    line = " ".join(text.split())
    folded = line.casefold()
    spots = [folded.find(t) for t in terms] if len(folded) == len(line) else []
    first = min((s for s in spots if s >= 0), default=0)
    cut = first - LEAD
    if cut <= 0:
        return one_line(line)
    space = line.rfind(" ", max(0, cut - NEAR), cut)  # a word's start, if one is near
    start = space + 1 if space >= 0 else (0 if cut <= NEAR else cut)  # (none: CJK, a long word)
    return one_line("…" + line[start:] if start > 0 else line)
