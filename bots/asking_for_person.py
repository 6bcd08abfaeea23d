"""Whether a customer's message asks for a person rather than the bot, in English or Chinese.

The bot hands off on it whatever it is in the middle of. A message that is only such a word
("human", "人工") asks; so does a short one that says so in a customer's usual words ("I want
to talk to a human", "agent please", "speak to someone", "转人工服务", "找客服"). Narration ("I
spoke to an agent yesterday about…") does not: past tenses are not matched; and a message
over `MAX_CHARS` is a story for the bot's FAQ, which may still miss and hand off.
"""

from __future__ import annotations

import re

MAX_CHARS = 200
_WHO = (
    r"(a |an |the |some |your )?(real |live |actual )?"
    r"(human|person|agent|operator|representative|rep|someone|somebody|staff|people|"
    r"customer (service|support|care)|support|advisor|adviser)"
)
# Who is wanted, where "support" or "people" would say something else ("I need support with…").
_PERSON = r"(a |an |the |some )?(real |live |actual )?(human|person|agent|operator|representative)"
_ALONE = re.compile(
    rf"^\s*{_WHO}(\s+please)?\s*[.!。！]?\s*$|^\s*(人工|转人工|人工客服|客服|真人)\s*[.!。！]?\s*$",
    re.I,
)
_ENGLISH = re.compile(
    rf"\b(talk|speak|chat|connect|transfer|put|pass)( me)?( through)? (to|with) {_WHO}\b"
    rf"|\b(want|need|would like|'d like)( to (have|get))? {_PERSON}\b"
    rf"|\b{_WHO} please\b",
    re.I,
)
_CHINESE = re.compile(r"转人工|人工服务|人工客服|找客服|联系客服|找人工|要人工|真人客服|接人工")


def asks_for_person(text: str) -> bool:
    if _ALONE.match(text):
        return True
    if len(text) > MAX_CHARS:
        return False
    return bool(_ENGLISH.search(text) or _CHINESE.search(text))
