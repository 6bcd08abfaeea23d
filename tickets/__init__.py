"""Tickets: problems owned until solved, with SLA clocks that pause."""
