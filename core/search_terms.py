"""Search terms: what a message or a customer is found by, the same way on every engine.

MongoDB's `$text` index splits on spaces (Chinese written without them is one "word") and the
embedded engine has none, so Kith computes its own terms and indexes them as an ordinary
multikey array (`terms`), queried with `$all`: NFKC-normalised and case-folded text cut into
words for scripts written with spaces (Latin and Greek without their accents), and into
overlapping character pairs (bigrams) for
runs of Chinese, Japanese and Korean characters, so that 退款 finds 我要退款谢谢. A query is
cut the same way; every one of its terms must be present.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import phonenumbers

_CJK = (
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0002ebef"  # CJK extensions B–F
)
# A run of CJK characters, or a word: letters and digits that are not CJK (`_` splits too).
_TOKEN = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")
MAX_WORD = 64  # longer "words" (a pasted hash) are cut: still found by their start
MAX_TERMS = 1000  # per document; a pasted essay is found by its first thousand terms


# Latin and Greek letters whose accents a search ignores (café is found by cafe, Ἀθῆναι by
# αθηναι); other scripts keep their marks, which change the letter (が, 한, й).
# (casefold may itself split a letter from its accent: ῆ becomes η and a combining mark).
_ACCENTED = re.compile(
    "[\u00c0-\u024f\u1e00-\u1eff\u0370-\u03ff\u1f00-\u1fff][\u0300-\u036f]*|[a-z][\u0300-\u036f]+"
)


def _unaccented(letter: re.Match[str]) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFD", letter.group()) if not unicodedata.combining(c)
    )


def _normal(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return folded if folded.isascii() else _ACCENTED.sub(_unaccented, folded)


def _terms(text: str, *, unigrams: bool, run_ends: bool = False) -> list[str]:
    """Words and CJK bigrams of `text`, first occurrence first; a lone CJK character is its
    own term, with `unigrams` every CJK character is (names: 李 finds 李雷), and with
    `run_ends` the last character of each run is (no pair starts with it)."""
    found: dict[str, None] = {}
    for run, word in _TOKEN.findall(_normal(text)):
        if word:
            found[word[:MAX_WORD]] = None
            continue
        if len(run) == 1 or unigrams:
            found.update(dict.fromkeys(run))
        found.update(dict.fromkeys(run[i : i + 2] for i in range(len(run) - 1)))
        if run_ends:
            found[run[-1]] = None
    return list(found)[:MAX_TERMS]


def text_terms(text: str) -> list[str]:
    """The terms a message's text is found by: with each run's last character, so that a
    search for one character (`lone_character`) finds 退 where it ends 我要退. A query never
    asks for it (`query_terms`): text indexed before it was kept is found as before."""
    return _terms(text, unigrams=False, run_ends=True)


def _phone_forms(phone: str) -> list[str]:
    """A phone number's digits, and its national number when it has a country code, so
    +86 138 0013 8000 is found by 13800138000 too."""
    digits = re.sub(r"\D", "", phone)
    forms = [digits] if digits else []
    try:
        parsed = phonenumbers.parse(phone, None)
        forms.append(str(parsed.national_number))
    except phonenumbers.NumberParseException:
        pass
    return forms


def customer_terms(
    name: str | None, emails: Iterable[str] = (), phones: Iterable[str] = ()
) -> list[str]:
    """The terms a customer is found by: their name (with single CJK characters), their
    email addresses (whole and by word) and phone numbers (whole and as typed)."""
    found: dict[str, None] = dict.fromkeys(_terms(name or "", unigrams=True))
    for email in emails:
        found[_normal(email).strip()] = None
        found.update(dict.fromkeys(_terms(email, unigrams=False)))
    for phone in phones:
        found.update(dict.fromkeys(_phone_forms(phone)))
        found.update(dict.fromkeys(_terms(phone, unigrams=False)))
    found.pop("", None)
    return list(found)[:MAX_TERMS]


def customer_doc_terms(doc: dict[str, object]) -> list[str]:
    """`customer_terms` of a stored customer document."""
    emails = doc.get("emails")
    phones = doc.get("phones")
    name = doc.get("name")
    return customer_terms(
        name if isinstance(name, str) else None,
        [e for e in emails if isinstance(e, str)] if isinstance(emails, list) else [],
        [p for p in phones if isinstance(p, str)] if isinstance(phones, list) else [],
    )


_PHONE_QUERY = re.compile(r"^\+[\d\s\-().]{6,}$")
_ONE_CJK = re.compile(f"[{_CJK}]")


def query_terms(q: str) -> list[str]:
    """The terms a search for `q` needs, all of them (empty: `q` holds nothing to find).
    A query that is an international phone number (+…) is that number's digits."""
    q = q.strip()
    if _PHONE_QUERY.match(q):
        digits = re.sub(r"\D", "", q)
        return [digits] if digits else []
    return _terms(q, unigrams=False)[:32]


def lone_character(q: str) -> str | None:
    """The CJK character `q` is, when it is one and nothing else to find ("退", "退？"). A
    text holds it as a term only alone or ending a run (elsewhere its pairs hold it), so a
    search reads the terms that start with it (`starting_with`): every pair it begins, and
    it alone. Text indexed before run ends were kept needs `kith search reindex` for those."""
    terms = query_terms(q)
    if len(terms) == 1 and _ONE_CJK.fullmatch(terms[0]):
        return terms[0]
    return None


def starting_with(character: str) -> dict[str, str]:
    """The range of the terms that start with `character`, for a term field held as one
    string: an index range (no pattern; strings compare by code point on both engines)."""
    return {"$gte": character, "$lt": chr(ord(character) + 1)}
