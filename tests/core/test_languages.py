"""The language a stored message tells, for surveys, notices, broadcasts and sequences."""

from __future__ import annotations

from kith.core.languages import language_of_message


def test_what_nlp_found_wins_unless_it_could_not_tell() -> None:
    assert language_of_message({"text": "Bonjour à tous", "nlp": {"language": "fr"}}) == "fr"
    # Regression: NLP's "und" (an email address, "ok") was taken for a language.
    assert language_of_message({"text": "wang@example.com", "nlp": {"language": "und"}}) == "en"
    assert language_of_message({"text": "好的 ok", "nlp": {"language": "und"}}) == "zh"
    assert language_of_message({"text": "退款"}) == "zh"
    assert language_of_message({"text": ""}) == "en"
