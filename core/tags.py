"""Customer tags are one thing whatever their case: `VIP`, `vip` and ` Vip ` are the tag `vip`.

Every write stores a tag folded (stripped, then `str.casefold()`: Unicode's caseless form, so
`Straße` and `STRASSE` are one tag too), as Chatwoot lower-cases its labels; every comparison
with a tag someone typed (a segment's value, a bot's or a sequence's step) folds that side. Only
the folded form is kept: a display form would be one more thing to keep in step, and a tag's
case says nothing a marketer needs (Chinese tags, most of Kith's, have none).

A conversation's labels are folded the same way (`VIP` and `vip` are one label, as in
Chatwoot); a label filter also matches the label as typed, which is how a label written
before labels were folded is stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BeforeValidator


def fold_tag(tag: str) -> str:
    """The one stored form of `tag`."""
    return tag.strip().casefold()


def fold_tags(tags: Iterable[str]) -> list[str]:
    """`tags` folded, in their order, each once, without the empty ones."""
    return list(dict.fromkeys(t for t in (fold_tag(tag) for tag in tags) if t))


def _folded(value: Any) -> Any:
    return fold_tag(value) if isinstance(value, str) else value


def labelled(label: str | None) -> dict[str, list[str]] | None:
    """The match of a conversation label filter: the label folded, as labels are stored, or
    as typed, as a label written before labels were folded may be stored."""
    if label is None:
        return None
    return {"$in": list(dict.fromkeys([fold_tag(label), label]))}


# A tag field of a model (a step's, a goal's): folded before its length is checked.
FoldedTag = Annotated[str, BeforeValidator(_folded)]
