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
from email.utils import parseaddr, parsedate_to_datetime

from pydantic import BaseModel

from kith.connectors.email.text import (
    decode_bytes,
    decode_header_value,
    html_to_text,
    normalize_subject,
    strip_reply,
    unescape_raw_header,
)
from kith.core.models import Attachment

MAX_ID = 500  # InboundMessage.channel_message_id allows 512
MAX_TEXT = 100_000
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_BULK = frozenset({"bulk", "junk", "list"})
_DAEMONS = frozenset({"mailer-daemon", "postmaster"})
_UNREADABLE = (
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
)


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
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if msg.get(header) is not None:
            return header
    if sender.split("@")[0] in _DAEMONS:
        return f"sender {sender}"
    if content_type == "multipart/report":
        return "multipart/report (delivery status notification)"
    if str(msg.get("Return-Path") or "").strip() == "<>":
        return "null return path (bounce)"
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
    msg = message_from_bytes(raw)
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
