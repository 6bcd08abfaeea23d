"""Mail threading: which conversation a message belongs to, and how to reply into it.

Every message Kith sees or sends is remembered by Message-ID (`email_threads`) with its
thread key (the root Message-ID), its References chain and its subject. A new message joins
the thread of the first known id in In-Reply-To / References; failing that, the thread
last used by the same sender under the same normalized subject (`email_subjects`), which
catches clients that drop the headers; failing that, it starts a thread of its own.
"""

from __future__ import annotations

from typing import Any

from kith.connectors.email.parse import ParsedMail
from kith.core.context import Core
from kith.core.ids import derived_id

MAX_REFERENCES = 30


def _thread_doc_id(channel_id: str, message_id: str) -> str:
    return derived_id("email-thread", channel_id, message_id)


def _subject_doc_id(channel_id: str, sender: str, normalized_subject: str) -> str:
    return derived_id("email-subject", channel_id, sender, normalized_subject)


async def known(core: Core, channel_id: str, message_id: str) -> dict[str, Any] | None:
    """The thread record of one message (inbound or our own), if Kith has seen it."""
    doc: dict[str, Any] | None = await core.store.collection("email_threads").find_one(
        {"_id": _thread_doc_id(channel_id, message_id)}
    )
    return doc


async def resolve_thread(core: Core, channel_id: str, mail: ParsedMail) -> str:
    """The thread key (root Message-ID) for an inbound message."""
    mine = await known(core, channel_id, mail.message_id)
    if mine is not None:  # seen before (a rescan): keep the answer it had
        return str(mine["thread_key"])
    parents = ([mail.in_reply_to] if mail.in_reply_to else []) + list(reversed(mail.references))
    for parent in parents:
        doc = await known(core, channel_id, parent)
        if doc is not None:
            return str(doc["thread_key"])
    if mail.normalized_subject:
        doc = await core.store.collection("email_subjects").find_one(
            {"_id": _subject_doc_id(channel_id, mail.sender, mail.normalized_subject)}
        )
        if doc is not None:
            return str(doc["thread_key"])
    return mail.references[0] if mail.references else mail.message_id


async def remember(
    core: Core,
    channel_id: str,
    *,
    message_id: str,
    thread_key: str,
    references: list[str],
    subject: str,
    correspondent: str,
    normalized_subject: str,
    customer_id: str,
) -> None:
    """Record a message (inbound or sent) so later replies find its thread; the records
    name the customer, so they are erased and merged with them."""
    refs = references[-MAX_REFERENCES:]
    if references and references[0] not in refs:  # keep the root, as RFC 5322 suggests
        refs = [references[0], *refs[1:]]
    await core.store.collection("email_threads").update_one(
        {"_id": _thread_doc_id(channel_id, message_id)},
        {
            "$setOnInsert": {
                "channel_id": channel_id,
                "message_id": message_id,
                "thread_key": thread_key,
                "references": refs,
                "subject": subject,
            },
            "$set": {"customer_id": customer_id},
        },
        upsert=True,
    )
    if normalized_subject:
        await core.store.collection("email_subjects").update_one(
            {"_id": _subject_doc_id(channel_id, correspondent, normalized_subject)},
            {
                "$set": {
                    "thread_key": thread_key,
                    "channel_id": channel_id,
                    "customer_id": customer_id,
                }
            },
            upsert=True,
        )
