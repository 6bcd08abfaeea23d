"""The demo's ticket settings: an angry customer escalates into a ticket (negative sentiment,
or a keyword such as 退款 / 退货 / refund; 李雷's sample asks to return a shirt), and the
waiting rule is off, since at the demo clock's hour a second every sample conversation would
have waited "too long" at once."""

from __future__ import annotations

from kith.core.context import Core
from kith.tickets.settings import TicketSettings, save_settings

DEMO_SETTINGS = TicketSettings(
    negative_sentiment=True, keywords_enabled=True, waiting_enabled=False
)


async def seed_demo_ticket_settings(core: Core, workspace_id: str) -> None:
    await save_settings(core, workspace_id, DEMO_SETTINGS)
