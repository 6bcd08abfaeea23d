"""The email channel: a support mailbox read over IMAP and answered over SMTP.

Inbound mail is polled (`EmailPoller`, one process per channel under a lease), parsed in
any charset, threaded by Message-ID / In-Reply-To / References and stripped of quotes;
auto-replies and bounces are skipped (RFC 3834). Replies go out by SMTP with threading
headers. See docs/channels/email.md.
"""

from kith.connectors.email.channel import channel_type
from kith.core.features import CustomerData, Feature

feature = Feature(
    name="email",
    channel_types=(channel_type,),
    # Sources of the mails, and the thread records that name their subjects and senders.
    customer_data=(
        CustomerData("raw_mail"),
        CustomerData("email_threads"),
        CustomerData("email_subjects"),
    ),
)

__all__ = ["channel_type", "feature"]
