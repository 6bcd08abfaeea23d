"""Text helpers for mail: RFC 2047 headers, HTML → text, quotes and signatures.

Nothing here raises on bad input; charsets (declared, lying or absent) are
`kith.connectors.email.charsets`'s business.
"""

from __future__ import annotations

import re
from email.header import decode_header
from html.parser import HTMLParser

from kith.connectors.email.charsets import decode_bytes, unescape_raw_header


def decode_header_value(value: str | None) -> str:
    """An RFC 2047 header (any charset, several encoded words) as one clean string."""
    if not value:
        return ""
    value = unescape_raw_header(str(value))
    try:
        parts = decode_header(value)
    except Exception:  # a malformed encoded word: keep the header as it was written
        return " ".join(value.split())
    out = []
    for chunk, charset in parts:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(out).split())


_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|回复|回覆|答复|转发|轉寄|转寄)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)


def strip_subject_prefixes(subject: str) -> str:
    """The subject without reply/forward prefixes (Re:, Fwd:, 回复:, 转发: …)."""
    return " ".join(_SUBJECT_PREFIX.sub("", subject).split())


def normalize_subject(subject: str) -> str:
    """The subject as threads are matched on: no prefixes, case-folded."""
    return strip_subject_prefixes(subject).casefold()


class _HtmlText(HTMLParser):
    """Visible text of an HTML mail: scripts, styles and quoted blocks are dropped."""

    SKIP = frozenset({"script", "style", "head", "title", "template", "blockquote"})
    BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        if tag in self.SKIP or (self.skipping and tag == "div") or "gmail_quote" in classes:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self.skipping:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and (tag in self.SKIP or tag == "div"):
            self.skipping -= 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text from HTML, no markup left (nothing from it is ever rendered as HTML)."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; this guards the odd assertion on junk
        return re.sub(r"<[^>]*>", " ", html)
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# A line where the quoted original starts; everything from it on is dropped.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On\b.{0,400}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*在.{0,400}(?:写道|寫道)\s*[:：]\s*$", re.DOTALL),
    re.compile(r"^\s*-{2,}\s*(?:Original Message|原始邮件|原始郵件)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),
    re.compile(r"^\s*(?:From|发件人|寄件者)\s*[:：].*$", re.IGNORECASE),
]
_OUTLOOK_NEXT = re.compile(r"^\s*(?:Sent|Date|To|发送时间|日期|收件人)\s*[:：]", re.IGNORECASE)
SIGNATURE_DELIMITERS = frozenset({"-- ", "--"})


def _quote_starts(lines: list[str], i: int) -> bool:
    line = lines[i]
    pair = line + " " + lines[i + 1] if i + 1 < len(lines) else line
    for pattern in _QUOTE_HEADERS[:2]:  # "On … wrote:" is often wrapped over two lines
        if pattern.match(line) or pattern.match(pair):
            return True
    if _QUOTE_HEADERS[2].match(line) or _QUOTE_HEADERS[3].match(line):
        return True
    # Outlook's "From: … / Sent: …" block, without the dashed line.
    return bool(_QUOTE_HEADERS[4].match(line) and i + 1 < len(lines))


def strip_reply(text: str) -> str:
    """The new part of a reply: quoted originals ("> ", "On … wrote:", Outlook's "Original
    Message", Chinese "在…写道：") and the signature after "-- " are cut. Returns the full
    text when cutting would leave nothing (a mail that is only a quote)."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if line in SIGNATURE_DELIMITERS:
            break
        if _quote_starts(lines, i):
            if _QUOTE_HEADERS[4].match(line) and not (
                i + 1 < len(lines) and _OUTLOOK_NEXT.match(lines[i + 1])
            ):
                kept.append(line)
                continue
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    stripped = "\n".join(kept).strip()
    return stripped or text.strip()
