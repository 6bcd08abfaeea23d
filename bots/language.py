"""The language a bot answers in.

A bot answers in the language the customer wrote in, when the message says it clearly; else
in their profile's locale; else in the language the conversation has had so far with the bot;
else in English. What a customer types is often not a sentence at all: an email address or a
phone number answering the bot's question, a name, "ok", a button's label. Those tell nothing
about whom the bot talks to, so a Chinese customer who types their email address is thanked
in Chinese, not in the English a guess of "wang@example.com" would give.
"""

from __future__ import annotations

import re

from kith.core.languages import UNDETERMINED, language_of_locale

SENTENCE_WORDS = 3
"""Words a message without Han needs before its language counts: "Wang Fang" or "ok
thanks" may come from anyone, "where is my order" is English."""

MAX_CHARS = 2000  # a message's beginning tells its language (and a long one costs no more)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W\d_]{2,}")  # letters only: no numbers, order ids or codes
_LINK = ("http://", "https://", "www.")


def written_language(text: str, detected: str | None = None) -> str | None:
    """The language `text` is written in, or None when it does not tell. Han script is
    Chinese (or what NLP `detected`: Japanese mixes Han with kana); other text tells as a
    sentence of SENTENCE_WORDS words or more, in what NLP detected, else English."""
    found = detected if detected and detected != UNDETERMINED else None
    # Links, email addresses and @mentions say nothing; split, not a regex over the whole
    # text, so that a 30,000-character line costs one pass.
    kept = [t for t in text[:MAX_CHARS].split() if "@" not in t and not t.startswith(_LINK)]
    if any(_HAN.search(token) for token in kept):
        return found or "zh"
    if sum(len(_WORD.findall(token)) for token in kept) >= SENTENCE_WORDS:
        return found or "en"
    return None


def reply_language(written: str | None, locale: str | None, previous: str | None) -> str:
    """What the bot answers in: the language the customer `written` in, else their `locale`'s,
    else the conversation's `previous` one with the bot, else English."""
    return written or language_of_locale(locale) or previous or "en"
