"""Request signing: every request from Slack is checked by slack_sdk's own verifier.

Slack signs `v0:{timestamp}:{raw body}` with the app's signing secret (HMAC-SHA256) and we
refuse timestamps more than five minutes from Kith's clock, so a captured request cannot be
replayed later. The route passes the wall clock (`kith.core.clock.wall`): real seconds even
under the demo's fast clock, and a test's `ManualClock` moved by hand.
"""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.signature import Clock, SignatureVerifier

from kith.connectors.slack.config import SlackChannelConfig
from kith.core.clock import Clock as KithClock
from kith.core.errors import Unauthorized
from kith.core.models import Channel

TIMESTAMP_HEADER = "x-slack-request-timestamp"
SIGNATURE_HEADER = "x-slack-signature"


class _KithClock(Clock):
    """slack_sdk's clock interface over Kith's clock."""

    def __init__(self, clock: KithClock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock.now().timestamp()


def verify_request(
    clock: KithClock, channel: Channel, body: bytes, headers: Mapping[str, str]
) -> None:
    """Raise `Unauthorized` unless Slack signed this exact body within the last 5 minutes."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not timestamp or not signature:
        raise Unauthorized("missing Slack signature", field="X-Slack-Signature")
    if not timestamp.isdigit():
        raise Unauthorized("bad Slack request timestamp", field="X-Slack-Request-Timestamp")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Unauthorized("body is not what Slack signs", field="X-Slack-Signature") from None
    secret = channel.settings_as(SlackChannelConfig).signing_secret
    verifier = SignatureVerifier(secret, clock=_KithClock(clock))
    if not verifier.is_valid(body=text, timestamp=timestamp, signature=signature):
        raise Unauthorized("invalid or expired Slack signature", field="X-Slack-Signature")
