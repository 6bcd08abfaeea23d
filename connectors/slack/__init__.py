"""The Slack channel: a Slack app's Events API and interactivity, replies via chat.postMessage.

Inbound: `POST /webhooks/slack/{channel_id}` (Event Subscriptions and Interactivity both
may point here; `/webhooks/slack/{channel_id}/interactive` also works), every request
signature-checked. Outbound: `chat.postMessage` in the conversation's channel and thread.
"""

from kith.connectors.slack.channel import channel_type
from kith.core.features import Feature

feature = Feature(name="slack", channel_types=(channel_type,))

__all__ = ["channel_type", "feature"]
