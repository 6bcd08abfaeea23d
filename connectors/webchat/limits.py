"""How fast the widget lets anyone create visitors, post and hold streams open.

The widget is public: anybody can call it, and every new visitor who writes becomes a
customer, a conversation and a bot greeting. So besides each visitor's own limit, new
visitors and posts are metered per client address and per channel (token buckets shared by
all processes), and live streams are capped per visitor and per address (in each process,
where the sockets are).

The address and channel limits guard against abuse, hence buckets (`kith.core.token_bucket`
says why they differ from `kith.core.ratelimit`'s fixed windows); a visitor's own posting
limit (`routes.VISITOR_LIMIT`) is a fixed window, checked first, so that a visitor over it
spends nothing from its address's or channel's bucket.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from kith.core.context import Core
from kith.core.errors import KithError
from kith.core.token_bucket import Bucket

# (burst, refill per second). A browser keeps its visitor for a year, so new visitors from
# one address are rare unless someone is minting them; an office NAT gets a generous burst.
NEW_VISITORS_PER_ADDRESS = (20.0, 1 / 10)
NEW_VISITORS_PER_CHANNEL = (300.0, 5.0)
POSTS_PER_ADDRESS = (60.0, 1.0)
POSTS_PER_CHANNEL = (600.0, 20.0)
STREAMS_PER_VISITOR = 4  # a few tabs
STREAMS_PER_ADDRESS = 32


class RateLimited(KithError):
    """A caller going faster than people do; retry after `retry_after` seconds."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: float, message: str = "too many messages; wait a moment"):
        super().__init__(message)
        self.retry_after = retry_after


def _bucket(key: str, limit: tuple[float, float]) -> Bucket:
    return Bucket(key, capacity=limit[0], per_second=limit[1])


def new_visitor_buckets(channel_id: str, address: str | None) -> list[Bucket]:
    return [
        _bucket(f"webchat:visitors:{channel_id}:{address}", NEW_VISITORS_PER_ADDRESS),
        _bucket(f"webchat:visitors:{channel_id}", NEW_VISITORS_PER_CHANNEL),
    ]


def post_buckets(channel_id: str, address: str | None) -> list[Bucket]:
    return [
        _bucket(f"webchat:posts:{channel_id}:{address}", POSTS_PER_ADDRESS),
        _bucket(f"webchat:posts:{channel_id}", POSTS_PER_CHANNEL),
    ]


@dataclass
class StreamSlots:
    """Open widget streams in this process, by visitor and by address."""

    by_visitor: Counter[str] = field(default_factory=Counter)
    by_address: Counter[str] = field(default_factory=Counter)

    def check(self, visitor: str, address: str | None) -> None:
        """`RateLimited` when the visitor or the address holds all the streams it may."""
        where = address or "unknown"
        if (
            self.by_visitor[visitor] >= STREAMS_PER_VISITOR
            or self.by_address[where] >= STREAMS_PER_ADDRESS
        ):
            raise RateLimited(5.0, "too many open chat streams")

    @contextlib.contextmanager
    def hold(self, visitor: str, address: str | None) -> Iterator[None]:
        """One slot for the stream's life (`check` first: this raises when full too)."""
        self.check(visitor, address)
        where = address or "unknown"
        self.by_visitor[visitor] += 1
        self.by_address[where] += 1
        try:
            yield
        finally:
            self.by_visitor[visitor] -= 1
            self.by_address[where] -= 1
            self.by_visitor += Counter()  # drop the zeros
            self.by_address += Counter()


def stream_slots(core: Core) -> StreamSlots:
    """The process's stream slots: one per Core (as `realtime.feed_for` keeps its feed)."""
    slots = core.__dict__.get("_webchat_stream_slots")
    if slots is None:
        slots = core.__dict__["_webchat_stream_slots"] = StreamSlots()
    assert isinstance(slots, StreamSlots)
    return slots
