"""The courtesy policy broadcasts obey (`kith.courtesy.policy`), in one import."""

from __future__ import annotations

from kith.courtesy.policy import Go, Hold, Route, Skip, decide, take_daily_slot

__all__ = ["Go", "Hold", "Route", "Skip", "decide", "take_daily_slot"]
