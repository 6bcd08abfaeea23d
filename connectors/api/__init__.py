"""The API channel: any system posts its users' messages over HTTP; replies go back to it.

Like Chatwoot's API inbox. Inbound: `POST /webhooks/api/{channel_id}` with the channel's
bearer token. Outbound: a signed POST to the channel's `callback_url` (through the outbox,
so it is retried), and always readable through `GET /webhooks/api/{channel_id}/messages`.
"""

from kith.connectors.api.channel import channel_type
from kith.core.features import Feature

feature = Feature(name="api", channel_types=(channel_type,))

__all__ = ["channel_type", "feature"]
