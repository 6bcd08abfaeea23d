"""One raw RFC 5322 message → `ParsedMail`: the fields Kith needs, decoded and cleaned.

Parsing is lenient (mail is messy) except where Kith cannot go on: no sender address, or a
multipart body whose parts cannot be found. Those raise `MailParseError`, and the poller
quarantines the raw source instead of guessing.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import errors as email_errors
from email import message_from_bytes
from email.message import Message as MimePart
from email.policy import Compat32
from email.utils import parseaddr, parsedate_to_datetime

from pydantic import BaseModel

from kith.connectors.email.charsets import decode_bytes, unescape_raw_header
from kith.connectors.email.text import (
    decode_header_value,
    html_to_text,
    normalize_subject,
    strip_reply,
)
from kith.core.models import Attachment

MAX_ID = 500  # InboundMessage.channel_message_id allows 512
MAX_TEXT = 100_000
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_BULK = frozenset({"bulk", "junk", "list", "auto_reply"})
# Vendors' own auto-reply markers, beside RFC 3834's Auto-Submitted: header → values that
# mark it (None: any value). iCloud's vacation reply carries only X-Apple-Action (Sisimai's
# RFC 3834 detector keys on it too); Exchange and Outlook mark out-of-office replies with
# X-Auto-Response-Suppress; older responders use the X-Auto* headers.
_VENDOR_MARKERS: dict[str, frozenset[str] | None] = {
    "X-Apple-Action": frozenset({"vacation"}),
    "X-Auto-Response-Suppress": None,
    "X-Autoreply": None,
    "X-Autorespond": None,
    "X-Auto-Reply": None,
    "X-Autoreply-From": None,
}
# Subjects auto-responders write when no header says so (Sisimai's list, and the Chinese
# clients' 自动回复), matched at the start only.
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto response|auto-reply|autoreply|out of (?:the )?office"
    r"|自动回复|自動回覆)\s*[:：]",
    re.IGNORECASE,
)
# A header line the parser accepts (`name:`), an obsolete `name :` (RFC 5322 § 4.5.3),
# or any other `text:` whose name has characters a field name may not.
_FIELD = re.compile(rb"^[\x21-\x39\x3b-\x7e]*:")
_OBS_FIELD = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]+:")
_ODD_FIELD = re.compile(rb"^([^:\r\n]+):")
_BAD_NAME_CHARS = re.compile(rb"[^\x21-\x39\x3b-\x7e]+")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_DAEMONS = frozenset({"mailer-daemon", "postmaster"})
_UNREADABLE = (
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
)


class _RawHeaders(Compat32):
    """compat32, except that a header with raw 8-bit bytes is returned as written
    (surrogate-escaped) for `unescape_raw_header`, instead of as a `Header` that turns those
    bytes into U+FFFD."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


RAW_HEADERS = _RawHeaders()


def _repair_line(line: bytes) -> bytes | None:
    if line[:1] in (b" ", b"\t") or line.startswith(b"From ") or _FIELD.match(line):
        return line
    obsolete = _OBS_FIELD.match(line)
    if obsolete:
        return obsolete.group(1) + line[obsolete.end() - 1 :]
    odd = _ODD_FIELD.match(line)
    if odd:
        name = _BAD_NAME_CHARS.sub(b"-", odd.group(1).strip()).strip(b"-") or b"X-Unnamed"
        return name + line[odd.end() - 1 :]
    return None  # not a header at all: dropped rather than taken as the body's start


def repair_header_block(raw: bytes) -> bytes:
    """The header block with lines Python's parser would take for the start of the body
    (a field name with spaces, `Name :`, a line without a colon) mended or dropped, so the
    headers after them and the body stay where they are. Well-formed mail is unchanged."""
    end = _HEADER_END.search(raw)
    head, rest = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"")
    lines = head.splitlines(keepends=True)
    mended = [_repair_line(line) for line in lines]
    if mended == lines:
        return raw
    return b"".join(line for line in mended if line is not None) + rest


class MailParseError(ValueError):
    """The message cannot be turned into a Kith message; its raw source is quarantined."""


class ParsedMail(BaseModel):
    message_id: str
    in_reply_to: str | None = None
    references: list[str] = []
    subject: str = ""
    normalized_subject: str = ""
    sender: str
    sender_name: str | None = None
    sent_at: datetime | None = None
    text: str = ""
    full_text: str = ""
    attachments: list[Attachment] = []
    automatic: str | None = None  # why this is an auto-reply or bounce, if it is one


def raw_id(raw: bytes) -> str:
    """The dedup key of a message without a Message-ID."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def message_ids(value: str | None) -> list[str]:
    """Message-IDs in a header (`<a@b> <c@d>`), without the angle brackets."""
    return [found for found in _MSG_ID.findall(str(value or "")) if len(found) <= MAX_ID]


def _message_id(msg: MimePart, raw: bytes) -> str:
    value = str(msg.get("Message-ID") or "").strip()
    ids = message_ids(value)
    found = ids[0] if ids else value.strip("<> ")
    if not found or len(found) > MAX_ID or any(c.isspace() for c in found):
        return raw_id(raw)
    return found


def automatic_reason(msg: MimePart, sender: str, content_type: str) -> str | None:
    """Why the message was sent by a machine (RFC 3834), or None for a person's mail."""
    auto = str(msg.get("Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(msg.get("Precedence") or "").strip().lower()
    if precedence in _BULK:
        return f"Precedence: {precedence}"
    for header, values in _VENDOR_MARKERS.items():
        value = msg.get(header)
        if value is not None and (values is None or str(value).strip().lower() in values):
            return f"{header}: {str(value).strip()[:64]}"
    if sender.split("@")[0] in _DAEMONS:
        return f"sender {sender}"
    if content_type == "multipart/report":
        return "multipart/report (delivery status notification)"
    if str(msg.get("Return-Path") or "").strip() == "<>":
        return "null return path (bounce)"
    subject = decode_header_value(msg.get("Subject"))
    if _AUTO_SUBJECT.match(subject):
        return f"subject {subject[:64]!r}"
    return None


def _attachment(part: MimePart) -> Attachment:
    ctype = part.get_content_type()
    main = ctype.split("/")[0]
    payload = part.get_payload(decode=True)
    name = part.get_filename() or part.get_param("name")
    if isinstance(name, tuple):  # an RFC 2231 value get_param leaves split
        name = decode_bytes(name[2].encode("latin-1", errors="replace"), name[0])
    if ctype == "message/rfc822":
        inner = part.get_payload()
        first = inner[0] if isinstance(inner, list) and inner else None
        size = len(first.as_bytes()) if isinstance(first, MimePart) else None
    else:
        size = len(payload) if isinstance(payload, bytes) else None
    return Attachment(
        kind=main if main in ("image", "audio", "video") else "file",
        name=decode_header_value(str(name))[:512] if name else None,
        size=size,
        mime=ctype[:255],
    )


def _walk(part: MimePart, plains: list[str], htmls: list[str], files: list[Attachment]) -> None:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":  # a forwarded mail: an attachment, not our text
        files.append(_attachment(part))
        return
    if part.is_multipart():
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, MimePart):
                _walk(sub, plains, htmls, files)
        return
    disposition = part.get_content_disposition()
    is_text = ctype in ("text/plain", "text/html")
    if disposition == "attachment" or not is_text or (part.get_filename() and disposition):
        files.append(_attachment(part))
        return
    payload = part.get_payload(decode=True)
    body = decode_bytes(payload if isinstance(payload, bytes) else b"", part.get_content_charset())
    (plains if ctype == "text/plain" else htmls).append(body)


def parse_mail(raw: bytes) -> ParsedMail:
    """Decode one message; raises `MailParseError` when Kith cannot use it."""
    msg = message_from_bytes(repair_header_block(raw), policy=RAW_HEADERS)
    if any(isinstance(d, _UNREADABLE) for d in msg.defects):
        raise MailParseError("multipart body without its boundary: parts cannot be found")
    name, address = parseaddr(unescape_raw_header(str(msg.get("From") or "")))
    name, address = decode_header_value(name), address.strip().lower()
    if "@" not in address or any(c.isspace() for c in address) or len(address) > 254:
        raise MailParseError(f"no usable sender address in From: {msg.get('From')!r}")

    plains: list[str] = []
    htmls: list[str] = []
    files: list[Attachment] = []
    _walk(msg, plains, htmls, files)
    full = "\n\n".join(p.strip() for p in plains) if plains else html_to_text("\n".join(htmls))
    full = full.replace("\r\n", "\n")

    sent_at = None
    try:
        sent_at = parsedate_to_datetime(str(msg.get("Date") or ""))
    except (TypeError, ValueError, IndexError):
        pass
    if sent_at is not None and sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    subject = decode_header_value(msg.get("Subject"))
    references = message_ids(msg.get("References"))
    in_reply_to = message_ids(msg.get("In-Reply-To"))
    return ParsedMail(
        message_id=_message_id(msg, raw),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=references,
        subject=subject[:998],
        normalized_subject=normalize_subject(subject)[:400],
        sender=address,
        sender_name=name.strip()[:256] or None,
        sent_at=sent_at,
        text=strip_reply(full)[:MAX_TEXT],
        full_text=full[:MAX_TEXT],
        attachments=files[:50],
        automatic=automatic_reason(msg, address, msg.get_content_type()),
    )
