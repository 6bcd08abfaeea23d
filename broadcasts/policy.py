"""The courtesy policy broadcasts obey (`kith.courtesy.policy`), in one import."""

from __future__ import annotations

try:
    from kith.courtesy.policy import (  # type: ignore[import-not-found,unused-ignore]
        Go,
        Hold,
        Route,
        Skip,
        decide,
        take_daily_slot,
    )
except ImportError:  # until the consent engineer's policy is merged
    from kith.broadcasts.interim_policy import Go, Hold, Route, Skip, decide, take_daily_slot

__all__ = ["Go", "Hold", "Route", "Skip", "decide", "take_daily_slot"]
