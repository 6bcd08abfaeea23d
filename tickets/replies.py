"""Replying from a ticket, as a service desk's ticket page does: the reply goes to one of the
ticket's linked conversations through the inbox's own send (`kith.core.outbox.send`), so the
customer reads it on their channel and the inbox shows it with the rest of the conversation.

This module only chooses the conversation and checks the writer may answer it (the inbox's
`ensure_can_write`); everything after is the one send path: the outbox, the channel's sender
and its rules (WeChat's 48-hour window fails the delivery with its reason, which the inbox
and the ticket page both show), the SLA's first reply, the typing and waiting state."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kith.core.context import Core
from kith.core.conversations import do_assign_replier, get_conversation
from kith.core.errors import InvalidInput
from kith.core.models import Author, Message, OutboundContent
from kith.core.outbox import send
from kith.core.permissions import Scope, ensure_can_write
from kith.tickets.merge import ensure_not_merged
from kith.tickets.models import Ticket


class ReplyIn(BaseModel):
    """A reply (or, `private`, a note in the conversation, as the inbox's toggle makes one);
    `conversation_id`: one of the ticket's, its latest linked when left out."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=100_000)  # blank is refused by `do_reply`, with its reason
    private: bool = False
    conversation_id: str | None = Field(default=None, max_length=64)


def reply_conversation_id(ticket: Ticket, wanted: str | None) -> str:
    """The conversation a reply goes to: the one named, if the ticket's, else its latest."""
    if not ticket.conversation_ids:
        raise InvalidInput("this ticket has no conversation to reply in", field="conversation_id")
    if wanted is None:
        return ticket.conversation_ids[-1]
    if wanted not in ticket.conversation_ids:
        raise InvalidInput("not a conversation of this ticket", field="conversation_id")
    return wanted


async def do_reply(
    core: Core, ticket: Ticket, body: ReplyIn, author: Author, scope: Scope | None
) -> Message:
    """Send `body` in the ticket's conversation as the inbox's reply does (`scope` None: an
    API token, which answers any conversation of the workspace, as on `/api/v1`). A blank
    reply is refused with the reason `reply_empty`, which the page words in its language; a
    merged duplicate's with 409 `ticket_merged` (its conversations are the target's now).
    An agent answering a conversation nobody has takes it, as in the inbox
    (`do_assign_replier`)."""
    ensure_not_merged(ticket)
    if not body.text.strip():
        raise InvalidInput("a reply needs text", field="text", reason="reply_empty")
    conversation_id = reply_conversation_id(ticket, body.conversation_id)
    conversation = await get_conversation(core, ticket.workspace_id, conversation_id)
    if scope is not None:
        ensure_can_write(scope, conversation)
    content = OutboundContent(text=body.text, private=body.private)
    sent = await send(core, conversation, content, author)
    await do_assign_replier(core, conversation, sent)
    return sent
