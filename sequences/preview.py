"""Trying a step before customers see it: its text rendered for one customer, and a test
send of it to a marketer's own customer record.

A test goes out now, as a service message marked `[TEST]`, to a *test recipient*: a customer
tagged `tester` (a workspace's own phones and inboxes) or the signed-in user's own record
(same email). Anyone else is refused: a test skips consent and quiet hours, so it must never
reach a real customer. It writes no enrolment and no step run, so no figure counts it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from kith.broadcasts import templates
from kith.broadcasts.models import MessageIn
from kith.broadcasts.routes import conversation_for
from kith.core.context import Core
from kith.core.customers import get_customer
from kith.core.errors import InvalidInput
from kith.core.languages import customer_languages, pick_text
from kith.core.models import Author, Customer, OutboundContent, Purpose
from kith.core.outbox import send
from kith.courtesy.policy import Route
from kith.sequences.models import SendStep, Sequence

TESTER_TAG = "tester"
TEST_MARK = "[TEST] "


class Rendered(BaseModel):
    customer_id: str
    step_id: str
    language: str
    text: str | None
    error: str | None = None
    error_reason: str | None = None  # why it failed for this customer, for a page to word
    error_limits: dict[str, Any] = {}
    field: str | None = None  # the template that failed: steps.N.message.text.<language>


class TestSent(BaseModel):
    message_id: str
    conversation_id: str
    channel_type: str
    text: str


async def text_for(core: Core, message: MessageIn, customer: Customer) -> tuple[str, str]:
    """(language, template) in the customer's language (`kith.core.languages`), else the
    first given: what the sequence would send them."""
    languages = await customer_languages(core, {customer.id: customer.locale})
    return pick_text(message.text, languages[customer.id])


def send_step(sequence: Sequence, step_id: str) -> tuple[int, SendStep]:
    """The send step `step_id` of the sequence as edited now, with its position."""
    for n, step in enumerate(sequence.steps):
        if step.id == step_id:
            if not isinstance(step, SendStep):
                raise InvalidInput(f"step {step_id!r} sends no message", field="step_id")
            return n, step
    raise InvalidInput(f"no step {step_id!r} in this sequence", field="step_id")


async def render(core: Core, sequence: Sequence, step_id: str, customer_id: str) -> Rendered:
    customer = await get_customer(core, sequence.workspace_id, customer_id)
    return await render_for(core, sequence, step_id, customer)


async def render_for(core: Core, sequence: Sequence, step_id: str, customer: Customer) -> Rendered:
    """`render` for a customer already read (a dry run renders every send step)."""
    n, step = send_step(sequence, step_id)
    language, source = await text_for(core, step.message, customer)
    field = f"steps.{n}.message.text.{language}"
    out = Rendered(customer_id=customer.id, step_id=step.id, language=language, text=None)
    try:
        out.text = await templates.render_async(source, customer, field)
    except templates.TemplateError as exc:
        out.error, out.field = exc.message, field
        out.error_reason, out.error_limits = exc.reason, exc.limits
    return out


async def send_test(
    core: Core, sequence: Sequence, step_id: str, customer_id: str, actor: Author
) -> TestSent:
    n, step = send_step(sequence, step_id)
    customer = await get_customer(core, sequence.workspace_id, customer_id)
    if not await _is_test_recipient(core, customer, actor):
        raise InvalidInput(
            f"not a test recipient: tag your own customer record {TESTER_TAG!r}, "
            "or sign in with the email it has",
            field="customer_id",
        )
    language, source = await text_for(core, step.message, customer)
    text = TEST_MARK + await templates.render_async(
        source, customer, f"steps.{n}.message.text.{language}"
    )
    route = await _route(core, customer, step.channels or sequence.channels)
    conversation = await conversation_for(core, customer.id, route)
    content = OutboundContent(text=text, buttons=step.message.buttons, purpose=Purpose.service)
    message = await send(core, conversation, content, actor)
    return TestSent(
        message_id=message.id,
        conversation_id=conversation.id,
        channel_type=route.channel_type,
        text=text,
    )


async def _is_test_recipient(core: Core, customer: Customer, actor: Author) -> bool:
    if TESTER_TAG in customer.tags:
        return True
    if actor.id is None:
        return False
    user = await core.store.users.find_one(
        {"_id": actor.id, "workspace_id": customer.workspace_id}, {"email": 1}
    )
    email = str((user or {}).get("email") or "").lower()
    return bool(email) and email in {e.lower() for e in customer.emails}


async def _route(core: Core, customer: Customer, channel_types: list[str]) -> Route:
    """The customer's latest identity on an enabled channel, in preference order."""
    for channel_type in channel_types:
        found = core.store.identities.find(
            {"customer_id": customer.id, "channel_type": channel_type}
        ).sort("last_seen", -1)
        async for identity in found:
            mine = {"_id": identity["channel_id"], "workspace_id": customer.workspace_id}
            channel = await core.store.channels.find_one({**mine, "enabled": True}, {"_id": 1})
            if channel is not None:
                return Route(identity["channel_id"], channel_type, identity["external_id"])
    raise InvalidInput(
        "this customer has no identity on the sequence's channels", field="customer_id"
    )
