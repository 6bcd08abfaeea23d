"""What one customer would receive: the channel the policy picks and the rendered text."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from kith.broadcasts import templates
from kith.broadcasts.models import Broadcast
from kith.broadcasts.policy import Go, Hold, Skip, decide
from kith.core.context import Core
from kith.core.customers import get_customer
from kith.core.errors import InvalidInput
from kith.core.languages import customer_languages


class Preview(BaseModel):
    customer_id: str
    language: str
    text: str | None
    decision: str  # go / hold / skip
    channel_type: str | None = None
    channel_id: str | None = None
    reason: str | None = None
    error: str | None = None
    error_reason: str | None = None  # why it failed for this customer, for a page to word
    error_limits: dict[str, Any] = {}


async def preview(
    core: Core, broadcast: Broadcast, customer_id: str, channel: str | None
) -> Preview:
    """Rendered for `customer_id`; `channel` narrows the preference list to one type."""
    if channel is not None and channel not in broadcast.channels:
        raise InvalidInput("not one of the broadcast's channels", field="channel")
    customer = await get_customer(core, broadcast.workspace_id, customer_id)
    languages = await customer_languages(core, {customer.id: customer.locale})
    language, source = broadcast.text_for(languages[customer.id])
    out = Preview(customer_id=customer.id, language=language, text=None, decision="go")
    try:
        out.text = await templates.render_async(source, customer, f"message.text.{language}")
    except templates.TemplateError as exc:
        out.error, out.error_reason, out.error_limits = exc.message, exc.reason, exc.limits
    channels = [channel] if channel else broadcast.channels
    decision = await decide(core, customer, channels, core.clock.now(), broadcast.send_by)
    if isinstance(decision, Go):
        out.channel_type = decision.route.channel_type
        out.channel_id = decision.route.channel_id
    elif isinstance(decision, Hold):
        out.decision, out.reason = "hold", decision.reason
    elif isinstance(decision, Skip):
        out.decision, out.reason = "skip", str(decision.reason)
    return out
