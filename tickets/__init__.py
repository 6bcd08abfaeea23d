"""Tickets: problems owned until solved, with SLA clocks and a customer satisfaction survey."""
