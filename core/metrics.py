"""Prometheus counters, defined once per process (served at `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_INGESTED = Counter(
    "kith_messages_ingested_total", "Inbound messages stored", ["channel_type"]
)
MESSAGES_DUPLICATE = Counter(
    "kith_messages_duplicate_total", "Redelivered inbound messages answered from the store"
)
CONSUMER_HANDLED = Counter("kith_consumer_handled_total", "Events a consumer handled", ["consumer"])
CONSUMER_FAILED = Counter(
    "kith_consumer_failed_total", "Consumer runs that raised (retried, then parked)", ["consumer"]
)
CONSUMER_LAG = Gauge(
    "kith_consumer_lag_events", "Events a consumer has yet to handle", ["consumer"]
)
CONSUMER_OLDEST_SECONDS = Gauge(
    "kith_consumer_oldest_pending_seconds",
    "Age of a consumer's oldest unhandled event",
    ["consumer"],
)
CONSUMER_PARKED = Gauge(
    "kith_consumer_parked_events", "Events a consumer gave up on (retry on demand)", ["consumer"]
)
OUTBOX_SENT = Counter("kith_outbox_sent_total", "Outbound messages delivered", ["channel_type"])
OUTBOX_RETRIED = Counter("kith_outbox_retried_total", "Delivery attempts that will be retried")
OUTBOX_FAILED = Counter("kith_outbox_failed_total", "Outbound messages given up on")
OUTBOX_DEPTH = Gauge("kith_outbox_depth", "Outbound messages waiting for delivery")
REQUEST_LATENCY = Histogram(
    "kith_http_request_seconds", "HTTP request latency", ["method", "route", "status"]
)
