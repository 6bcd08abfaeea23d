"""The outbox's sends in flight in one process, and who may take the next free slot.

A conversation has at most one send in flight (its messages go out in order), and stays busy
until that send's outcome is stored; the slot itself is free again as soon as the send ends, so
outcome writes (grouped, `kith.core.outbox_outcomes`) do not keep endpoints idle. A channel and
a workspace each have a hard cap, and the worker first fills slots with those below their
fair share (the slots divided among everyone sending, plus a newcomer), so a workspace or a
channel with a long backlog, or a slow endpoint holding its sends, leaves room for the others.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from kith.core.models import Message


@dataclass(frozen=True)
class Flight:
    """What a send in flight occupies."""

    message_id: str
    conversation_id: str
    channel_id: str
    workspace_id: str

    @classmethod
    def of(cls, message: Message) -> Flight:
        return cls(message.id, message.conversation_id, message.channel_id, message.workspace_id)

    @classmethod
    def of_doc(cls, doc: dict[str, Any]) -> Flight:
        return cls(doc["_id"], doc["conversation_id"], doc["channel_id"], doc["workspace_id"])


class Slots:
    def __init__(self, total: int, per_channel: int, per_workspace: int) -> None:
        self.total = total
        self.per_channel = per_channel
        self.per_workspace = per_workspace
        self._flights: dict[str, Flight] = {}
        self._recording: dict[str, Flight] = {}  # sends over, outcomes not yet stored
        self._channels: Counter[str] = Counter()
        self._workspaces: Counter[str] = Counter()

    @property
    def free(self) -> int:
        return self.total - len(self._flights)

    def take(self, flight: Flight) -> None:
        self._flights[flight.message_id] = flight
        self._channels[flight.channel_id] += 1
        self._workspaces[flight.workspace_id] += 1

    def sent(self, flight: Flight) -> None:
        """The send is over: its slot is free; its conversation waits for the outcome."""
        if self._release(flight):
            self._recording[flight.message_id] = flight

    def give_back(self, flight: Flight) -> None:
        """The message is done with (its outcome stored, or never sent)."""
        if self._recording.pop(flight.message_id, None) is None:
            self._release(flight)

    def _release(self, flight: Flight) -> bool:
        if self._flights.pop(flight.message_id, None) is None:
            return False
        self._channels -= Counter({flight.channel_id: 1})
        self._workspaces -= Counter({flight.workspace_id: 1})
        return True

    def busy_conversations(self) -> list[str]:
        return [f.conversation_id for f in (*self._flights.values(), *self._recording.values())]

    def full(self, fair: bool) -> tuple[list[str], list[str]]:
        """Channels and workspaces that may take no more slots now (at their fair share when
        `fair`, else at their cap)."""
        channel_limit, workspace_limit = self._limits(fair)
        return (
            [c for c, n in self._channels.items() if n >= channel_limit],
            [w for w, n in self._workspaces.items() if n >= workspace_limit],
        )

    def fits(self, flight: Flight, fair: bool) -> bool:
        channel_limit, workspace_limit = self._limits(fair)
        return (
            self.free > 0
            and flight.conversation_id not in self.busy_conversations()
            and self._channels[flight.channel_id] < channel_limit
            and self._workspaces[flight.workspace_id] < workspace_limit
        )

    def _limits(self, fair: bool) -> tuple[int, int]:
        if not fair:
            return self.per_channel, self.per_workspace
        channel_share = max(1, self.total // (len(self._channels) + 1))
        workspace_share = max(1, self.total // (len(self._workspaces) + 1))
        return min(channel_share, self.per_channel), min(workspace_share, self.per_workspace)
