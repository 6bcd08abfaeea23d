"""Small talk: "thanks", "hi", "ok", "bye" (and 谢谢, 你好, 好的, 再见) are not questions the bot
failed to answer. Such a message gets a short courtesy (or, for an acknowledgement, nothing)
and never counts towards handing the conversation to a person: two thank-yous used to open an
urgent ticket, and "thanks a lot" after a "did you mean" handed a customer over (QA7 M3).

A message is small talk when it is made of nothing else: courtesies ("thank you so much",
多谢, 谢啦), the words that go with them ("a lot", "you're great", 你的帮助, 啦) and
punctuation, emoji or spaces between them, in any case and full- or half-width. One word
outside the list ("thanks, but where is my order?") makes it a message to answer or miss.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 120  # longer than any courtesy: a message this long says something

# Each kind's phrases, as regular expressions over the normalised text (casefolded, NFKC,
# apostrophes dropped, punctuation and symbols turned into spaces). Where phrases of one kind
# share a start, the longer comes first: the first alternative that matches is taken.
_KINDS: dict[str, tuple[str, ...]] = {
    "bye": (
        r"good ?bye",
        r"bye( bye)?",
        r"see (you|ya|u)( (later|soon|tomorrow|again))?",
        r"cya",
        r"good ?night",
        r"take care",
        r"talk (to you )?(later|soon)",
        r"ttyl",
        r"再见",
        r"拜拜",
        r"回头见",
        r"下次见",
        r"晚安",
    ),
    "thanks": (
        r"thank (you|u)( kindly)?",
        r"thankyou",
        r"thanks?",
        r"thanx",
        r"thnx",
        r"thx",
        r"tks",
        r"tysm",
        r"tyvm",
        r"ty",
        r"many thanks",
        r"cheers",
        r"much appreciated",
        r"(i )?appreciate (it|that|your help)",
        r"appreciated",
        r"多谢",
        r"谢谢(你们|你|您)?",
        r"谢(啦|了)",
        r"感谢(你们|你|您)?",
        r"感激",
    ),
    "greeting": (
        r"hi( there)?",
        r"hello( there)?",
        r"hey( there)?",
        r"hiya",
        r"howdy",
        r"good (morning|afternoon|evening|day)",
        r"你好",
        r"您好",
        r"大家好",
        r"嗨",
        r"哈喽",
        r"哈啰",
        r"在吗",
        r"在么",
        r"在不在",
        r"(早上|上午|中午|下午|晚上)好",
    ),
    "ack": (
        r"no thank(s| you| u)",
        r"ok(ay|ey|ie)?",
        r"kk?",
        r"sure",
        r"great",
        r"cool",
        r"nice",
        r"perfect",
        r"awesome",
        r"got it",
        r"fine",
        r"noted",
        r"alright",
        r"all right",
        r"understood",
        r"sounds good",
        r"will do",
        r"no problem",
        r"👍",
        r"🙏",
        r"👌",
        r"好的",
        r"好滴",
        r"好吧",
        r"好",
        r"嗯+",
        r"行",
        r"可以",
        r"收到",
        r"知道了",
        r"明白了?",
        r"了解",
        r"没问题",
        r"不用了",
    ),
    # Words that go with a courtesy but are none alone ("so much" is not small talk).
    "with": (
        r"(so|very) much",
        r"a (lot|ton|bunch|million)",
        r"again",
        r"anyway",
        r"for (all )?(your|the|that|this|everything|helping)( help| info| information"
        r"| answer| reply| time)?( me)?",
        r"(you|u) (re|are|r) (the best|great|awesome|amazing|a star|(so |very )?(kind|helpful))",
        r"youre (the best|great|awesome|amazing|a star|(so |very )?(kind|helpful))",
        r"(you|u) too",
        r"have a (nice|good|great) (day|one|evening|weekend)",
        r"(so|very|really|indeed|oh|ah|again)",
        r"(bot|guys|team|everyone|all|mate|man|sir|madam|friend|buddy|dear)",
        r"(你们|您|你)?的(帮助|帮忙|耐心|解答|回复)",
        r"非常|十分|万分|太|真是|真的|实在|辛苦(了|啦)?|帮大忙了",
        r"(你|您)(真好|真棒|太棒了)",
        r"啦|了|哈+|呀|啊|哦|喔|噢|呢|哒",
    ),
}
_TOKEN = re.compile(
    r"\s*(?:" + "|".join(f"(?P<{k}>{'|'.join(ps)})" for k, ps in _KINDS.items()) + r")(?![a-z0-9])"
)
# When one message holds several kinds, the reply goes to the strongest: "ok thanks" thanks,
# "thanks, bye" says goodbye.
_PRIORITY = ("bye", "thanks", "greeting", "ack")
_KEPT = frozenset("👍🙏👌")

REPLIES: dict[str, dict[str, str]] = {
    "thanks": {"en": "You're welcome!", "zh": "不客气！"},
    "greeting": {"en": "Hi! How can I help you?", "zh": "您好！请问有什么可以帮您？"},
    "bye": {"en": "Goodbye! Write to us any time.", "zh": "再见！有需要随时联系我们。"},
}


def _normalised(text: str) -> str:
    """Casefolded, full-width forms made plain (NFKC), apostrophes dropped ("you're" is
    "youre"), and every other punctuation mark, symbol or emoji a space (but 👍 🙏 👌,
    which are acknowledgements)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"['’‘`´]", "", text)
    return "".join(
        c if c in _KEPT or unicodedata.category(c)[0] not in "PSZCM" else " " for c in text
    ).strip()


def small_talk(text: str) -> str | None:
    """The kind of small talk `text` is (thanks, greeting, bye, ack), or None when it says
    anything else. A message of emoji alone is an acknowledgement."""
    if len(text) > MAX_LENGTH:
        return None
    plain = _normalised(text)
    if not plain:
        symbols = any(unicodedata.category(c) == "So" for c in text)
        return "ack" if symbols else None
    found: set[str] = set()
    at = 0
    while at < len(plain):
        token = _TOKEN.match(plain, at)
        if token is None or token.end() == at:
            return None
        found.add(str(token.lastgroup))
        at = token.end()
    return next((kind for kind in _PRIORITY if kind in found), None)
