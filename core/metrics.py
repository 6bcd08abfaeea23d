"""Prometheus counters, defined once per process (served at `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_INGESTED = Counter(
    "kith_messages_ingested_total", "Inbound messages stored", ["channel_type"]
)
MESSAGES_DUPLICATE = Counter(
    "kith_messages_duplicate_total", "Redelivered inbound messages answered from the store"
)
HOOK_ERRORS = Counter("kith_hook_errors_total", "Message hooks that raised", ["hook"])
OUTBOX_SENT = Counter("kith_outbox_sent_total", "Outbound messages delivered", ["channel_type"])
OUTBOX_RETRIED = Counter("kith_outbox_retried_total", "Delivery attempts that will be retried")
OUTBOX_FAILED = Counter("kith_outbox_failed_total", "Outbound messages given up on")
OUTBOX_DEPTH = Gauge("kith_outbox_depth", "Outbound messages waiting for delivery")
REQUEST_LATENCY = Histogram(
    "kith_http_request_seconds", "HTTP request latency", ["method", "route", "status"]
)
