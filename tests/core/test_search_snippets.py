"""`around`: a found message as one line from a little before the first word searched for,
from a word's start, with an ellipsis only where text was left out."""

from __future__ import annotations

import pytest

from kith.core.search_snippets import SNIPPET_CHARS, around

LAMP = (
    "Hello there, I bought a lamp from you last week and it arrived broken in several pieces, "
    "so I would like a REFUND please"
)


@pytest.mark.parametrize(
    ("text", "terms", "shown"),
    [
        ("short refund", ["refund"], "short refund"),
        # The match just past the lead: a cut inside the first word starts at the text's start
        # (regression: the demo's Find showed "…an I change").
        (
            "Can I change the delivery address on the order I placed an hour ago?",
            ["order"],
            "Can I change the delivery address on the order I placed an hour ago?",
        ),
        (LAMP, ["refund"], "…broken in several pieces, so I would like a REFUND please"),
        (LAMP, ["nothing"], LAMP),  # no term as written: from the start
        ("我" * 100 + "退款" + "好" * 10, ["退款"], "…" + "我" * 40 + "退款" + "好" * 10),
        ("a  b\n\nrefund", ["refund"], "a b refund"),  # one line
    ],
)
def test_a_snippet_starts_a_little_before_the_first_match(
    text: str, terms: list[str], shown: str
) -> None:
    assert around(text, terms) == shown


def test_a_long_snippet_is_cut_with_an_ellipsis() -> None:
    shown = around("refund " + "x" * 500, ["refund"])
    assert len(shown) == SNIPPET_CHARS and shown.startswith("refund x") and shown.endswith("…")
