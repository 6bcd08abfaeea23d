"""What a message is checked against: banned words through their common disguises, admin
regexes (RE2, linear time: `kith.bots.patterns`), links and a repeat fingerprint.

Variants covered, for the words and the fingerprint (the text and each word are folded the
same way, so a word written in any of these forms matches the others):
- NFKC: full-width letters and digits (ｆｒｅｅ, ＶＸ), ligatures, circled and styled letters;
- case (casefold), and zero-width and other invisible format characters (U+200B …, U+FEFF);
- accents dropped (café = cafe);
- simple homoglyphs and leetspeak: Cyrillic and Greek look-alikes (а е о р с х у і к м т н),
  0→o, 1 l→i, 3→e, 4→a, 5→s, 7→t, 8→b, and inside a word ! |→i, @→a, $→s;
- spacing and punctuation between letters: an English word matches whole words, also spelt
  across separators (`f.r.e.e`, `fr ee`, `free-money` for "free money"); a Chinese word
  matches anywhere with every separator removed (`加 微 信`, `加-微-信`).
Not covered: traditional/simplified Chinese conversion, pinyin, inflections (list `casinos`
as well, or write a pattern), words hidden in images.
Patterns run on the text as written and on its case-folded NFKC form without invisible
characters; either matching counts."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from kith.bots.patterns import search

MAX_TEXT = 4000  # characters checked per message (RE2 is linear; this bounds the word scan)

_HOMOGLYPHS = str.maketrans(
    {
        # Cyrillic and Greek letters that look Latin
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i",
        "к": "k", "м": "m", "т": "t", "н": "h", "в": "b", "ѕ": "s", "ј": "j",
        "α": "a", "ο": "o", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t",
        # leetspeak and look-alike ASCII
        "0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
    }
)  # fmt: skip
# Symbols standing for letters only inside a word (`fr!end`, `$pam`): `spam!` keeps its `!`.
_INSIDE = re.compile(r"(?<=\w)[!|](?=\w)|[@$](?=\w)")
_SYMBOLS = {"!": "i", "|": "i", "@": "a", "$": "s"}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_LINK = re.compile(
    r"(?:https?://|www\.|\b(?:t|telegram)\.me/|\btg://)"
    r"|\b[a-z0-9][a-z0-9-]{0,62}\.(?:com|net|org|io|me|ru|cn|xyz|top|info|biz|club|link|"
    r"site|online|shop|app|ly|gg|cc|co|vip|live|to)\b(?:/|\s|$)",
)


def fold(text: str) -> str:
    """NFKC, case-folded, invisible characters out: what patterns and links are read on."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT]).casefold()
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _skeleton(text: str) -> str:
    """Folded, accents dropped, look-alikes mapped to one letter each."""
    decomposed = unicodedata.normalize("NFKD", fold(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = _INSIDE.sub(lambda m: _SYMBOLS[m.group()], plain)
    return plain.translate(_HOMOGLYPHS)


def _is_letter(c: str) -> bool:
    return c.isalnum()


def _tokens(skeleton: str) -> list[str]:
    """Words of letters and digits; runs of one-letter words joined (`f r e e` → `free`)."""
    words = re.split(r"[^\w]+|_", skeleton)
    out: list[str] = []
    run = ""
    for word in words:
        if not word:
            continue
        if len(word) == 1:
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        out.append(word)
    if run:
        out.append(run)
    return out


def _squeezed(skeleton: str) -> str:
    return "".join(c for c in skeleton if _is_letter(c))


@dataclass(frozen=True)
class Folded:
    """A message's text, folded once for every word and pattern."""

    raw: str
    folded: str
    tokens: tuple[str, ...]
    squeezed: str

    @classmethod
    def of(cls, text: str) -> Folded:
        skeleton = _skeleton(text)
        return cls(text[:MAX_TEXT], fold(text), tuple(_tokens(skeleton)), _squeezed(skeleton))


def _word_in(word: str, text: Folded) -> bool:
    target = _squeezed(_skeleton(word))
    if not target:
        return False
    if _CJK.search(target):
        return target in text.squeezed
    tokens = text.tokens
    for start in range(len(tokens)):
        joined = ""
        for token in tokens[start:]:
            joined += token
            if joined == target:
                return True
            if len(joined) >= len(target) or not target.startswith(joined):
                break
    return False


def banned_word(text: Folded, words: Iterable[str]) -> str | None:
    """The first banned word the text contains (through its variants), if any."""
    return next((w for w in words if _word_in(w, text)), None)


def banned_pattern(text: Folded, patterns: Iterable[str]) -> str | None:
    """The first pattern matching the text as written or folded (RE2: linear time)."""
    return next((p for p in patterns if search(p, text.raw) or search(p, text.folded)), None)


def has_link(text: Folded) -> bool:
    return _LINK.search(text.folded) is not None


def fingerprint(text: str) -> str | None:
    """The same message, however spaced, cased or disguised (None: too short to tell)."""
    squeezed = _squeezed(_skeleton(text))
    if len(squeezed) < 4 and not (_CJK.search(squeezed) and len(squeezed) >= 2):
        return None  # "ok", "hi", 👍: many members say them
    return hashlib.sha256(squeezed.encode()).hexdigest()[:32]
