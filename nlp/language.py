"""Offline language detection for every incoming message.

Script decides first, because it is exact and almost free: Han without kana is Chinese, kana is
Japanese, Hangul is Korean, Thai/Greek/Hebrew/... each have one main language. Only
Latin, Cyrillic and Arabic text, where one script serves many languages, goes to `lingua`
(a statistical detector that works on short texts) restricted to the languages Kith cares
about, which keeps it both faster and less error-prone than a detector over all 75 languages.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

UNDETERMINED = "und"
_MAX_CHARS = 2000  # a long message is not more informative past this, only slower

LATIN_LANGUAGES = (
    "en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "id", "vi", "sv", "da", "nb", "fi",
    "ro", "cs", "hu", "ca", "ms", "tl",
)  # fmt: skip
CYRILLIC_LANGUAGES = ("ru", "uk", "bg", "sr", "mk", "be", "kk")
ARABIC_LANGUAGES = ("ar", "fa", "ur")

# Very common English words (incl. chat forms): a message made mostly of them is English, which
# spares the statistical detector the bulk of Kith's traffic and fixes "ok"/"lol" edge cases.
_EN_WORDS = frozenset(
    """a about after again all also am an and any are as at be because been but by can cant
    could did didnt do does dont for from get got had has have he her him his how i im if in is
    isnt it its just know like lol me my no not now of ok okay on one or our out please pls so
    still thank thanks that the their them then there they this to too u up us very was we were
    what when where which who why will with wont would yes you your yeah omg wow great good bad
    love hate hi hello hey""".split()
)
_WORD = re.compile(r"[a-z']+")
_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\S+|@[\w.]+")
_lock = threading.Lock()


def _script(ch: str) -> str | None:
    """Coarse script of one letter (None for digits, punctuation, emoji, marks)."""
    cp = ord(ch)
    if cp < 0x80:
        return "latin" if ch.isalpha() else None
    if 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9F:
        return "kana"
    if 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FA1F:
        return "han"
    if 0xF900 <= cp <= 0xFAFF:
        return "han"
    if 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F:
        return "hangul"
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    for script in (
        "LATIN", "CYRILLIC", "ARABIC", "GREEK", "HEBREW", "THAI", "DEVANAGARI", "ARMENIAN",
        "GEORGIAN", "BENGALI", "TAMIL", "HANGUL", "HIRAGANA", "KATAKANA", "CJK",
    ):  # fmt: skip
        if name.startswith(script):
            return {"HIRAGANA": "kana", "KATAKANA": "kana", "CJK": "han"}.get(
                script, script.lower()
            )
    return "other"


_SINGLE_SCRIPT = {
    "greek": "el",
    "hebrew": "he",
    "thai": "th",
    "devanagari": "hi",
    "armenian": "hy",
    "georgian": "ka",
    "bengali": "bn",
    "tamil": "ta",
    "hangul": "ko",
}


@lru_cache(maxsize=4)
def _detector(codes: tuple[str, ...]) -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    isos = [getattr(IsoCode639_1, c.upper()) for c in codes]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*isos).build()


def _lingua(text: str, codes: tuple[str, ...]) -> str:
    with _lock:  # building the detector once must not race; detection itself is cheap
        detector = _detector(codes)
    lang = detector.detect_language_of(text)
    if lang is None:
        return UNDETERMINED
    return str(lang.iso_code_639_1.name).lower()


def script_counts(text: str) -> dict[str, int]:
    """Count letters per coarse script, ignoring URLs, @mentions and e-mail addresses."""
    counts: dict[str, int] = {}
    for ch in _NOISE.sub(" ", text[:_MAX_CHARS]):
        s = _script(ch)
        if s is not None:
            counts[s] = counts.get(s, 0) + 1
    return counts


def detect_language(text: str) -> str:
    """ISO 639-1 code of the main language of `text`, or "und" when there is nothing to judge.

    Never raises: non-strings, empty or emoji-only text and binary garbage give "und".
    """
    if not isinstance(text, str) or not text:
        return UNDETERMINED
    text = text[:_MAX_CHARS]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: not text lingua (or anyone) can read
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    junk = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs"))
    if junk * 4 > len(text):  # binary garbage rather than words
        return UNDETERMINED
    counts = script_counts(text)
    if not counts:
        return UNDETERMINED
    han, kana = counts.get("han", 0), counts.get("kana", 0)
    # A CJK character carries roughly a word; an alphabetic word is ~5 letters.
    cjk_weight = han + kana + counts.get("hangul", 0)
    alpha = {k: v / 5 for k, v in counts.items() if k not in ("han", "kana", "hangul")}
    best_alpha = max(alpha, key=lambda k: alpha[k]) if alpha else None
    if cjk_weight and (best_alpha is None or cjk_weight >= alpha[best_alpha]):
        if kana and kana * 10 >= han:
            return "ja"
        if counts.get("hangul", 0) > han:
            return "ko"
        return "zh" if han else "ja"
    if best_alpha is None:
        return UNDETERMINED
    if best_alpha in _SINGLE_SCRIPT:
        return _SINGLE_SCRIPT[best_alpha]
    cleaned = _NOISE.sub(" ", text)
    if best_alpha == "latin":
        if cleaned.isascii():
            words = [w.replace("'", "") for w in _WORD.findall(cleaned.lower())]
            hits = sum(w in _EN_WORDS for w in words)
            if words and hits * 3 >= len(words):
                return "en"
        return _lingua(cleaned, LATIN_LANGUAGES)
    if best_alpha == "cyrillic":
        return _lingua(cleaned, CYRILLIC_LANGUAGES)
    if best_alpha == "arabic":
        return _lingua(cleaned, ARABIC_LANGUAGES)
    return UNDETERMINED
