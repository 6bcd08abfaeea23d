"""The WeChat Official Account channel (公众号), built on wechatpy.

Inbound: WeChat pushes to `/webhooks/wechat/{channel_id}` (plaintext, compatible or safe
mode); Kith verifies, decrypts, stores and answers `success`. Outbound: replies go through
the customer-service message API within WeChat's 48-hour window. See
docs/channels/wechat.md for connecting a real account.
"""

from kith.connectors.wechat.channel import channel_type
from kith.connectors.wechat.replay import INDEXES
from kith.core.features import Feature

feature = Feature(name="wechat", channel_types=(channel_type,), indexes=INDEXES)

__all__ = ["channel_type", "feature"]
