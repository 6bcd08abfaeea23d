"""Configuration: every knob is a `KITH_*` environment variable (listed in the README)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Kith's settings; tests build their own instead of touching the environment."""

    model_config = SettingsConfigDict(env_prefix="KITH_", extra="ignore")

    mongo_uri: str | None = Field(
        default=None, description="MongoDB URI; unset means the embedded in-memory engine."
    )
    db_name: str = Field(default="kith", description="Database name on the MongoDB server.")
    host: str = Field(default="127.0.0.1", description="Address `kith serve` listens on.")
    port: int = Field(default=8000, description="Port `kith serve` listens on.")
    public_url: str | None = Field(
        default=None, description="URL customers and platforms reach Kith at (webhooks, widget)."
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs visitors, seals channel secrets at rest; set and keep it in production.",
    )
    old_secret_keys: str | None = Field(
        default=None,
        description="Former secret keys, comma-separated: secrets sealed with them still open.",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    log_json: bool | None = Field(
        default=None, description="JSON log lines; default: JSON unless stderr is a terminal."
    )
    max_body_bytes: int = Field(default=1_000_000, description="Largest request body accepted.")
    outbox_max_attempts: int = Field(default=8, description="Delivery attempts before giving up.")
    outbox_backoff_base: float = Field(default=2.0, description="First retry delay, seconds.")
    outbox_backoff_max: float = Field(default=600.0, description="Longest retry delay, seconds.")
    outbox_lease_seconds: float = Field(
        default=60.0, description="How long a worker owns an outbound message it is sending."
    )
    outbox_poll_seconds: float = Field(
        default=1.0, description="How often an idle outbox worker looks for due messages."
    )
    realtime_poll_min_seconds: float = Field(
        default=0.05,
        gt=0,
        description="Live inbox: how often a process reads others' events while they come.",
    )
    realtime_poll_max_seconds: float = Field(
        default=0.1,
        gt=0,
        description="Live inbox: the longest wait between those reads (no change streams).",
    )
    outbox_concurrency: int = Field(
        default=64, ge=1, description="Sends one process keeps in flight at once."
    )
    outbox_channel_concurrency: int = Field(
        default=16, ge=1, description="Sends in flight per channel, so no channel takes them all."
    )
    outbox_workspace_concurrency: int = Field(
        default=32, ge=1, description="Sends in flight per workspace, for the same reason."
    )
    outbox_send_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Deadline of one send (connect, write and read); keep it under the lease.",
    )
    outbox_response_max_bytes: int = Field(
        default=65_536, ge=1, description="Largest answer read from an HTTP callback."
    )
    outbox_breaker_failures: int = Field(
        default=5, ge=1, description="Failed sends in a row to one host that open its circuit."
    )
    outbox_breaker_cooldown_seconds: float = Field(
        default=30.0, gt=0, description="How long an open circuit defers its host's messages."
    )
    nlp_enabled: bool = Field(
        default=True, description="Analyse sentiment and language of inbound messages."
    )
    escalate_negative_streak: int = Field(
        default=2, description="Negative messages in a row that escalate a conversation."
    )
    escalate_score_below: float = Field(
        default=-0.8, description="A single message scoring below this escalates (-1 … 1)."
    )
    demo_token: str | None = Field(
        default=None, description="`kith demo`: fixed API token instead of a random one."
    )
    demo_password: str | None = Field(
        default=None, description="`kith demo`: fixed agent password instead of a random one."
    )
    metrics_token: str | None = Field(
        default=None,
        description="Bearer token `/metrics` asks for; unset: `/metrics` answers 404.",
    )
    trusted_proxies: str | None = Field(
        default=None,
        description=(
            "Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For "
            "names the client; unset: the peer's own address is the client's."
        ),
    )
    stream_recheck_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Live streams re-check their session this often (disabled, logged out).",
    )
    password_checks_in_flight: int = Field(
        default=4, ge=1, description="Password hashes verified at once, off the event loop."
    )
    dead_letter_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days an authentic platform payload Kith could not use is kept for replay.",
    )

    egress_allow: str | None = Field(
        default=None,
        description="CIDRs and host names Kith may connect to although private (comma-separated).",
    )
    egress_max_response_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1, description="Largest answer read from any HTTP request."
    )
    segments_reconcile_cron: str = Field(
        default="*/10 * * * *",
        description="When segments are checked against a full query (crontab, UTC).",
    )
    segments_preview_limit: int = Field(
        default=100_000, ge=1, description="A segment preview counts at most this many customers."
    )
    segments_preview_seconds: float = Field(
        default=2.0, gt=0, description="A segment preview's count gives up after this long."
    )
    phone_region: str = Field(
        default="CN",
        pattern=r"^[A-Z]{2}$",
        description="Country of phone numbers written without +country code (ISO 3166, e.g. CN).",
    )
    import_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1, description="Largest CSV file a customer import takes."
    )
    broadcast_outbox_window: int = Field(
        default=100,
        ge=1,
        description="Marketing messages a broadcast keeps pending per channel in the outbox "
        "(service replies wait behind at most this many).",
    )
    broadcast_batch: int = Field(default=200, ge=1, description="Recipients claimed per pass.")
    broadcast_lease_seconds: float = Field(
        default=60.0, gt=0, description="A claimed recipient returns after this if its worker died."
    )
    broadcast_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often an idle broadcast worker looks for work."
    )
    sequence_batch: int = Field(
        default=200, ge=1, description="Due sequence enrolments claimed per pass."
    )
    sequence_lease_seconds: float = Field(
        default=60.0, gt=0, description="A claimed enrolment returns after this if its worker died."
    )
    sequence_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often an idle sequence worker looks for due steps."
    )
    sequence_outbox_window: int = Field(
        default=100,
        ge=1,
        description="Marketing messages sequences keep pending per channel in the outbox "
        "(overdue steps after downtime drain at the channel's pace, never as a burst).",
    )
    webhook_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A claimed webhook delivery returns after this if its worker died (longer "
        "than webhook_timeout_seconds, so one delivery is never sent twice at once).",
    )
    webhook_timeout_seconds: float = Field(
        default=15.0, gt=0, description="Total time one webhook delivery attempt may take."
    )
    webhook_disable_after_days: float = Field(
        default=5.0, gt=0, description="An endpoint failing this long is disabled, with a reason."
    )
    demo_clock_speed: float | None = Field(
        default=None,
        gt=0,
        description="Kith's clock runs this many times faster than the wall clock (a demo "
        "setting: `kith demo` uses 3600, an hour per second). Unset: real time.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str | None) -> str | None:
        from kith.core.client_address import trusted_networks

        trusted_networks(value)
        return value

    @model_validator(mode="after")
    def _poll_range(self) -> Settings:
        if self.realtime_poll_min_seconds > self.realtime_poll_max_seconds:
            raise ValueError("realtime_poll_min_seconds must not exceed realtime_poll_max_seconds")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
