"""IMAP IDLE: new mail is fetched as soon as the server announces it, not a poll later."""

from __future__ import annotations

import asyncio

from kith.connectors.email.imap import ImapSession, ImapSettings
from kith.connectors.email.poller import EmailPoller
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.models import Channel
from tests.connectors.email.conftest import Mailbox, stored_texts


class Watch:
    """Real sessions that tell the test when they start idling and what IDLE answered."""

    def __init__(self) -> None:
        self.idling = asyncio.Event()
        self.answers: list[bool] = []

    def session(self, settings: ImapSettings) -> ImapSession:
        watch = self

        class Watched(ImapSession):
            async def idle_until_news(self, seconds: float) -> bool:
                watch.idling.set()
                news = await super().idle_until_news(seconds)
                watch.answers.append(news)
                return news

        return Watched(settings)


async def test_idle_wakes_the_poller_when_mail_arrives(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await core.store.channels.update_one(
        {"_id": email_channel.id}, {"$set": {"config.idle": True, "config.poll_seconds": 20}}
    )
    channel = await get_channel(core, None, email_channel.id)
    watch = Watch()
    poller = EmailPoller(session_factory=watch.session)

    first = asyncio.create_task(poller.poll_once(core, channel))
    await asyncio.wait_for(watch.idling.wait(), 10)
    await mailbox.deliver_fixture("plain_first_contact.eml")
    assert await asyncio.wait_for(first, 15) == 0.0  # poll again at once
    assert watch.answers == [True]  # woken by the server, not by the 20 s window

    watch.idling = asyncio.Event()
    second = asyncio.create_task(poller.poll_once(core, channel))
    await asyncio.wait_for(watch.idling.wait(), 10)
    assert len(await stored_texts(core)) == 1
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
