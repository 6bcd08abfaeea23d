"""The web chat channel: a widget a business embeds on its site with one script tag.

The widget (plain JS + CSS served by Kith) talks to `/widget/{channel_id}/…`: a visitor
session (a signed cookie, or the same token in a header), posting messages, reading the
thread and a Server-Sent Events stream of new replies. Agent replies go through the outbox
like any channel's; the sender only marks them sent, and the widget pulls or streams them.
"""

from kith.connectors.webchat.channel import channel_type
from kith.core.features import Feature

feature = Feature(name="webchat", channel_types=(channel_type,))

__all__ = ["channel_type", "feature"]
