"""Who writes on a thread: the customer behind a sender, kept in process between messages.

A known sender's every message read their identity (one of ingest's round trips), though
the answer almost never changes: only a merge, an undone merge or an erasure moves or removes
an identity. Ingest keeps the answer here, per (conversation, sender), and uses it only where
the thread's conversation, which ingest reads anyway, still names the same customer: a merge,
an undo or an erasure in any process moves or deletes the conversation along with the
identity, so a stale entry shows itself and the identity is read again. This process's own
merges and erasures also clear the cache at once (they are events it records), and an entry
lives `TTL` at most, for what the conversation cannot tell (an undo leaves a conversation
opened since the merge with the survivor, while the identity goes back).

Entries are kept only for a sender's own thread (the conversation names them); in a group
thread the conversation names someone else and the identity is read as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kith.core.models import Event

TTL = timedelta(minutes=1)
MAX_ENTRIES = 100_000
# Events after which an identity may name another customer, or none.
MOVES_IDENTITIES = frozenset({"customer.merged", "customer.unmerged", "customer.erased"})


@dataclass(frozen=True)
class Known:
    """A sender's customer as last resolved, and when their `last_seen` was last written
    (None: not yet, so their profile may still be missing)."""

    customer_id: str
    touched: datetime | None
    read_at: datetime


class IdentityCache:
    """(conversation id, sender's external id) → `Known`, bounded by `MAX_ENTRIES` (oldest
    first out) and by `TTL`."""

    def __init__(self, ttl: timedelta = TTL, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], Known] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        """Changes whenever the cache is cleared: an answer read before that is not kept."""
        return self._generation

    def get(self, key: tuple[str, str], now: datetime) -> Known | None:
        found = self._entries.get(key)
        if found is not None and now - found.read_at >= self.ttl:
            del self._entries[key]
            return None
        return found

    def put(self, key: tuple[str, str], known: Known, generation: int) -> None:
        """Keep `known`, unless the cache was cleared since `generation` was taken (a merge or
        erasure may have overtaken the read)."""
        if generation != self._generation:
            return
        self._entries.pop(key, None)
        self._entries[key] = known
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]

    def forget(self, key: tuple[str, str]) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
        self._generation += 1

    def on_event(self, event: Event) -> None:
        """An event listener (`Core.event_listeners`): merges and erasures clear the cache
        (rare, and the erasure's event names nobody)."""
        if event.type in MOVES_IDENTITIES:
            self.clear()

    def __len__(self) -> int:
        return len(self._entries)
