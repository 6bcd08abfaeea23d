"""Small talk: "thanks", "hi", "ok", "bye" (and 谢谢, 你好, 好的, 再见) are not questions the bot
failed to answer. After the flows and the FAQ, such a message gets a short courtesy (or, for
an acknowledgement, nothing) and never counts towards handing the conversation to a person:
two thank-yous used to open an urgent ticket."""

from __future__ import annotations

import re

_END = r"\s*[!.。！~～?？]*\s*$"
_KINDS = {
    "thanks": r"(thanks?|thank (you|u)( so much| very much)?|thx|ty|cheers"
    r"|多谢|谢谢(你|您|啦)?|感谢|谢了)",
    "greeting": r"(hi|hello|hey|hiya|good (morning|afternoon|evening)|你好|您好|嗨|哈喽|在吗|在么)"
    r"( there)?",
    "bye": r"(bye|goodbye|bye bye|see you|再见|拜拜)",
    "ack": r"(ok(ay)?|k|sure|great|cool|got it|fine|noted"
    r"|好的?|嗯+|行|收到|知道了|明白了?|👍|🙏|👌)",
}
_PATTERNS = {kind: re.compile(rf"^\s*{words}{_END}", re.I) for kind, words in _KINDS.items()}

REPLIES: dict[str, dict[str, str]] = {
    "thanks": {"en": "You're welcome!", "zh": "不客气！"},
    "greeting": {"en": "Hi! How can I help you?", "zh": "您好！请问有什么可以帮您？"},
    "bye": {"en": "Goodbye! Write to us any time.", "zh": "再见！有需要随时联系我们。"},
}


def small_talk(text: str) -> str | None:
    """The kind of small talk `text` is (thanks, greeting, bye, ack), or None."""
    return next((kind for kind, pattern in _PATTERNS.items() if pattern.match(text)), None)
