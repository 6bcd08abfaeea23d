"""The demo's SLA: the shop's office hours in Shanghai (with the 2026 public holidays) and a
default policy, so every ticket opened in the demo shows its clocks; at the demo clock's hour
a second a first reply owed for four office hours falls due within a minute or so, and the
breach raises the ticket's priority."""

from __future__ import annotations

from datetime import date

from kith.core.context import Core
from kith.tickets.sla_models import CalendarIn, PolicyIn, Targets
from kith.tickets.sla_store import save_calendar, save_policy

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# China's 2026 public holidays, by name (the days off as the State Council set them).
NAMED = {
    "New Year · 元旦": [date(2026, 1, 1)],
    "Spring Festival · 春节": [date(2026, 2, d) for d in range(16, 24)],
    "Qingming · 清明节": [date(2026, 4, 6)],
    "Labour Day · 劳动节": [date(2026, 5, d) for d in range(1, 6)],
    "Dragon Boat · 端午节": [date(2026, 6, 19)],
    "National Day · 国庆节": [date(2026, 10, d) for d in range(1, 8)],
}
HOLIDAYS = [day for days in NAMED.values() for day in days]


async def seed_demo_sla(core: Core, workspace_id: str) -> None:
    office = CalendarIn.model_validate(
        {
            "name": "Shanghai office · 上海办公时间",
            "zone": "Asia/Shanghai",
            "hours": {day: [("09:00", "12:00"), ("13:00", "18:00")] for day in WEEKDAYS},
            "holidays": HOLIDAYS,
            "holiday_names": {d.isoformat(): name for name, days in NAMED.items() for d in days},
        }
    )
    calendar = await save_calendar(core, workspace_id, office)
    policy = PolicyIn.model_validate(
        {
            "name": "Standard",
            "default": True,
            "calendar_id": calendar.id,
            "warn_before_minutes": 60,
            "targets": {
                "low": Targets(first_reply=8 * 60, resolution=5 * 8 * 60),
                "normal": Targets(first_reply=4 * 60, next_reply=8 * 60, resolution=3 * 8 * 60),
                "high": Targets(first_reply=60, next_reply=4 * 60, resolution=8 * 60),
                "urgent": Targets(first_reply=30, next_reply=60, resolution=4 * 60),
            },
            "breach_actions": [{"type": "raise_priority"}],
        }
    )
    await save_policy(core, workspace_id, policy)
