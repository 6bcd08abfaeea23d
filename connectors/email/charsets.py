"""Bytes of mail → text, when the charset a mail declares cannot be trusted.

Mail clients mislabel: a body declared GB2312 that is really UTF-8, headers written as raw
8-bit bytes (UTF-8 under RFC 6532, or a legacy charset from an old client). Nothing here
raises: the worst case is replacement characters, never a lost mail.

Bodies: bytes that are valid UTF-8 (and not plain ASCII) are UTF-8 whatever the label says,
since text in a legacy charset is practically never valid UTF-8 by accident, while UTF-8
read as GB18030 or cp1252 is silent mojibake. Otherwise the declared charset (or its
superset) decodes strictly; only when that fails is the charset guessed (charset-normalizer).

Raw header bytes: UTF-8 first, then GB18030 when they read as Chinese, then Latin-1
(cp1252), which decodes anything.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from charset_normalizer import from_bytes

# Mail clients label GBK/GB18030 text "gb2312" and Big5-HKSCS text "big5": decode with the
# superset so characters outside the labelled set survive.
CHARSET_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}
GUESS_MAX_CHAOS = 0.2  # charset-normalizer's mess ratio above which a guess is not taken
GUESS_SAMPLE = 64 * 1024  # enough to guess from; mail bodies can be megabytes
_HIGH_RUN = re.compile(rb"[\x80-\xff]+")


def codec(charset: str | None) -> str | None:
    """The Python codec for a declared charset (its superset), or None when unknown."""
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = CHARSET_SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _strict(data: bytes, name: str) -> str | None:
    try:
        return data.decode(name)
    except UnicodeDecodeError:
        return None


def _guess(data: bytes) -> str | None:
    best = from_bytes(data[:GUESS_SAMPLE]).best()
    if best is None or best.chaos > GUESS_MAX_CHAOS:
        return None
    return data.decode(best.encoding, errors="replace")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode a body or an encoded word; see the module's doc for the order of trust."""
    declared = codec(charset)
    if data.isascii() or (declared or "").startswith(("utf-16", "utf-32")):
        return data.decode(declared or "ascii", errors="replace")  # ISO-2022-JP is 7-bit
    as_utf8 = _strict(data, "utf-8")
    if as_utf8 is not None:
        return as_utf8
    if declared is not None and declared != "utf-8":
        found = _strict(data, declared)
        if found is not None:
            return found
    if declared is not None:  # the label was wrong and the bytes are not UTF-8: guess
        guessed = _guess(data)
        if guessed is not None:
            return guessed
    return data.decode(declared or "utf-8", errors="replace")


def _reads_as_chinese(raw: bytes) -> str | None:
    """GB18030 text has its high bytes in pairs (or fours) and decodes to CJK; Latin-1
    text has lone high bytes between ASCII letters ("M\\xfcller")."""
    if any(len(run) % 2 for run in _HIGH_RUN.findall(raw)):
        return None
    text = _strict(raw, "gb18030")
    if text is None:
        return None
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if all(unicodedata.east_asian_width(ch) in ("W", "F") for ch in wide):
        return text
    return None


def unescape_raw_header(value: str) -> str:
    """A header written with raw 8-bit bytes comes back from the parser surrogate-escaped;
    decode those bytes: UTF-8 (RFC 6532), else GB18030 if they read as Chinese, else cp1252
    (Latin-1 with Windows' punctuation), else Latin-1 itself."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", errors="surrogateescape")
    return (
        _strict(raw, "utf-8")
        or _reads_as_chinese(raw)
        or _strict(raw, "cp1252")
        or raw.decode("latin-1")
    )
