"""Circuit breakers per destination host, so that a failing endpoint stops costing sends.

After `failures` failed sends in a row to one host its circuit opens: for `cooldown` seconds
the outbox defers that host's messages without spending their attempts. Then one probe is let
through (half-open): its success closes the circuit, its failure opens it again. The state is
per process (each process learns on its own) and runs on the injected clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from kith.core.clock import Clock
from kith.core.models import Channel

URL_KEYS = ("callback_url", "api_base")  # channels that talk to a URL of their own
HOST_KEYS = ("smtp_host",)


def destination(channel: Channel) -> str:
    """The host a channel's sends go to: its configured URL's host (with port) or mail
    server, else the platform's own API (one host per channel type)."""
    for key in URL_KEYS:
        netloc = urlsplit(str(channel.config.get(key) or "")).netloc
        if netloc:
            return netloc.lower()
    for key in HOST_KEYS:
        host = channel.config.get(key)
        if host:
            return str(host).lower()
    return channel.type


class State(StrEnum):
    closed = "closed"
    open = "open"
    half_open = "half_open"


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: datetime | None = None
    probing: bool = False


class Breakers:
    """The circuits of one process, keyed by destination host."""

    def __init__(
        self, clock: Clock, *, failures: int, cooldown: float, probe_wait: float = 1.0
    ) -> None:
        self.clock = clock
        self.threshold = failures
        self.cooldown = cooldown
        self.probe_wait = probe_wait  # how long others wait while the probe is out
        self._circuits: dict[str, _Circuit] = {}

    def state(self, key: str) -> State:
        circuit = self._circuits.get(key)
        if circuit is None or circuit.opened_at is None:
            return State.closed
        return State.half_open if self._cooled(circuit) else State.open

    def admit(self, key: str) -> float:
        """0 if a send to `key` may go now (closed, or the half-open probe), else how many
        seconds to put it off."""
        circuit = self._circuits.get(key)
        if circuit is None or circuit.opened_at is None:
            return 0.0
        if not self._cooled(circuit):
            elapsed = (self.clock.now() - circuit.opened_at).total_seconds()
            return self.cooldown - elapsed
        if circuit.probing:
            return self.probe_wait
        circuit.probing = True
        return 0.0

    def succeeded(self, key: str) -> None:
        """The host answered: whatever it said, it is reachable."""
        self._circuits.pop(key, None)

    def failed(self, key: str) -> None:
        circuit = self._circuits.setdefault(key, _Circuit())
        if circuit.probing:  # the probe failed: open for another cool-down
            circuit.probing = False
            circuit.opened_at = self.clock.now()
            return
        if circuit.opened_at is not None:
            return  # a send admitted before the circuit opened: it already counts as open
        circuit.failures += 1
        if circuit.failures >= self.threshold:
            circuit.opened_at = self.clock.now()

    def released(self, key: str) -> None:
        """A send that never reached the host (deferred by a rate limit): no verdict."""
        circuit = self._circuits.get(key)
        if circuit is not None:
            circuit.probing = False

    def _cooled(self, circuit: _Circuit) -> bool:
        assert circuit.opened_at is not None
        return (self.clock.now() - circuit.opened_at).total_seconds() >= self.cooldown
