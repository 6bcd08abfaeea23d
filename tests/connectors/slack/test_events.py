"""The Events API end to end: signed requests in, stored messages and events out."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from kith.core.clock import ScaledClock
from kith.core.context import Core
from kith.core.dead_letters import list_dead_letters
from tests.connectors.slack.conftest import SIGNING_SECRET, SlackSetup, fixture, sign
from tests.support.consumers import drain, recorder

# Slack's worked example in "Verifying requests from Slack" (a slash command request).
VECTOR_TIMESTAMP = 1531420618
VECTOR_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
    b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
    b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
    b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


async def _conversation(core: Core, thread_key: str) -> dict[str, Any]:
    doc = await core.store.conversations.find_one({"thread_key": thread_key})
    assert doc is not None, f"no conversation for {thread_key}"
    return dict(doc)


async def test_url_verification_answers_the_challenge(slack: SlackSetup) -> None:
    answer = await slack.event("url_verification")
    assert answer.status_code == 200, answer.text
    assert answer.json()["challenge"] == fixture("url_verification")["challenge"]


async def test_slacks_published_signature_example_is_accepted(slack: SlackSetup) -> None:
    assert sign(SIGNING_SECRET, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    slack.clock.advance(VECTOR_TIMESTAMP + 60 - slack.clock.now().timestamp())
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": str(VECTOR_TIMESTAMP),
        "x-slack-signature": VECTOR_SIGNATURE,
    }
    accepted = await slack.http.post(slack.path, content=VECTOR_BODY, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["outcome"] == "ignored"  # a slash command: Kith does not use them
    tampered = await slack.http.post(
        slack.path, content=VECTOR_BODY.replace(b"foobar", b"foobaz"), headers=headers
    )
    assert tampered.status_code == 401


async def test_forged_and_unsigned_requests_are_refused(slack: SlackSetup) -> None:
    forged = await slack.event("message_im", secret="not-the-signing-secret")
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "unauthorized"
    unsigned = await slack.http.post(slack.path, json=fixture("message_im"))
    assert unsigned.status_code == 401
    assert await slack.inbound() == []


async def test_a_replayed_request_is_refused_after_five_minutes(slack: SlackSetup) -> None:
    body = json.dumps(fixture("message_im")).encode()
    sent_at = int(slack.clock.now().timestamp())
    slack.clock.advance(299)
    assert (await slack.send_raw(body, timestamp=sent_at)).status_code == 200
    slack.clock.advance(2)
    replayed = await slack.send_raw(body, timestamp=sent_at)
    assert replayed.status_code == 401
    future = await slack.send_raw(body, timestamp=int(slack.clock.now().timestamp()) + 301)
    assert future.status_code == 401


async def test_the_demos_fast_clock_leaves_the_five_minutes_real(slack: SlackSetup) -> None:
    """Under `kith demo` an hour of Kith's time passes each second: Slack still stamps
    requests with real seconds, so freshness is measured on the wall clock."""
    ticks = [0.0]
    slack.core.clock = ScaledClock(3600, base=slack.clock, monotonic=lambda: ticks[0])
    ticks[0] = 10.0  # ten hours of demo time later, ten real seconds
    slack.clock.advance(10)
    assert (await slack.event("url_verification")).status_code == 200
    slack.clock.advance(301)
    stale = await slack.send_raw(b"{}", timestamp=int(slack.clock.now().timestamp()) - 301)
    assert stale.status_code == 401


async def test_a_direct_message_opens_a_conversation_with_the_sender(slack: SlackSetup) -> None:
    answer = await slack.event("message_im")
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "stored"
    [message] = await slack.inbound()
    assert message["text"] == "Hello hello can you hear me?"
    assert message["channel_message_id"] == "D024BE91L:1355517523.000005"
    conversation = await _conversation(slack.core, "D024BE91L")
    assert conversation["_id"] == message["conversation_id"]
    assert conversation["external_user_id"] == "U2147483697"
    assert conversation["channel_type"] == "slack"
    identity = await slack.core.store.identities.find_one({"external_id": "U2147483697"})
    assert identity is not None and identity["customer_id"] == message["customer_id"]


async def test_a_thread_reply_joins_the_threads_conversation(slack: SlackSetup) -> None:
    assert (await slack.event("message_channels_top")).status_code == 200
    assert (await slack.event("message_channels_thread")).status_code == 200
    top, reply = await slack.inbound()
    conversation = await _conversation(slack.core, "C0LAN2Q65:1700000000.000100")
    assert top["conversation_id"] == reply["conversation_id"] == conversation["_id"]
    assert reply["reply_to"] == "C0LAN2Q65:1700000000.000100"
    assert conversation["unread_count"] == 2


async def test_an_app_mention_is_stored_once_with_its_message_event(slack: SlackSetup) -> None:
    mention = fixture("app_mention")
    assert (await slack.event(mention)).json()["outcome"] == "stored"
    # Subscribed to message.channels too, Slack sends the same message as a second event.
    as_message = {
        **mention,
        "event_id": "Ev0PV52K41",
        "event": {**mention["event"], "type": "message", "channel_type": "channel"},
    }
    assert (await slack.event(as_message)).json()["outcome"] == "duplicate"
    [message] = await slack.inbound()
    assert message["text"].endswith("is it everything a river should be?")
    await _conversation(slack.core, "C123ABC456:1515449522.000016")


async def test_an_edit_replaces_the_text_and_keeps_the_old_one(slack: SlackSetup) -> None:
    await slack.event("message_im")
    answer = await slack.event("message_changed")
    assert answer.json()["outcome"] == "edited"
    [message] = await slack.inbound()
    assert message["text"] == "Hello hello, can you hear me now?"
    assert message["edits"][0]["text"] == "Hello hello can you hear me?"
    assert (await slack.event("message_changed")).json()["outcome"] == "ignored"  # a retry


async def test_an_older_edit_arriving_late_changes_nothing(slack: SlackSetup) -> None:
    await slack.event("message_im")
    newer = fixture("message_changed")
    older = copy.deepcopy(newer)
    older["event_id"] = "Ev0PV52K23"
    older["event"]["message"]["text"] = "an older draft"
    older["event"]["message"]["edited"]["ts"] = "1355517590.000000"
    assert (await slack.event(newer)).json()["outcome"] == "edited"
    assert (await slack.event(older)).json()["outcome"] == "ignored"
    [message] = await slack.inbound()
    assert message["text"] == "Hello hello, can you hear me now?"


async def test_a_deletion_marks_the_message(slack: SlackSetup) -> None:
    await slack.event("message_im")
    assert (await slack.event("message_deleted")).json()["outcome"] == "deleted"
    [message] = await slack.inbound()
    assert message["deleted"] is True


@pytest.mark.parametrize("name", ["message_own_bot", "message_other_bot"])
async def test_bot_messages_are_ignored(slack: SlackSetup, name: str) -> None:
    answer = await slack.event(name)
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "ignored"
    assert await slack.inbound() == []


async def test_a_retry_of_a_delivered_event_stores_nothing_new(slack: SlackSetup) -> None:
    ran = recorder(slack.core)
    assert (await slack.event("message_im")).status_code == 200
    retry = await slack.event(
        "message_im", headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    )
    assert retry.status_code == 200
    assert retry.json()["outcome"] == "duplicate"
    assert len(await slack.inbound()) == 1
    await drain(slack.core)
    assert len(ran) == 1


class DatabaseDownOnce:
    """The messages collection's writes (grouped: `bulk_write`) while the database drops the
    first one."""

    def __init__(self, collection: Any) -> None:
        self._bulk_write = collection.bulk_write
        self.failed = False

    async def __call__(self, requests: Any, *args: Any, **kw: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise AutoReconnect("connection reset by database")
        return await self._bulk_write(requests, *args, **kw)


async def test_a_retry_after_a_failed_delivery_is_stored_once(slack: SlackSetup) -> None:
    ran = recorder(slack.core)
    real = slack.core.store.messages
    real.bulk_write = DatabaseDownOnce(real)  # type: ignore[method-assign]
    try:
        first = await slack.event("message_im")
        assert first.status_code == 500  # Slack will retry
        assert await real.count_documents({}) == 0
        retry = await slack.event(
            "message_im", headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "http_error"}
        )
    finally:
        del real.bulk_write
    assert retry.status_code == 200
    assert retry.json()["outcome"] == "stored"
    assert len(await slack.inbound()) == 1
    await drain(slack.core)
    assert len(ran) == 1


async def test_membership_events_are_recorded_once(slack: SlackSetup) -> None:
    joined = await slack.event("member_joined_channel")
    assert joined.status_code == 200, joined.text
    assert joined.json()["outcome"] == "event"
    assert (await slack.event("member_left_channel")).json()["outcome"] == "event"
    retried = await slack.event("member_joined_channel", headers={"x-slack-retry-num": "1"})
    assert retried.json()["outcome"] == "duplicate"
    events = await slack.core.store.events.find({"type": {"$regex": "^channel\\."}}).to_list(None)
    assert sorted(e["type"] for e in events) == ["channel.member_joined", "channel.member_left"]
    assert {e["data"]["group_id"] for e in events} == {"C123ABC456"}
    assert {e["data"]["group_kind"] for e in events} == {"slack_channel"}
    identity = await slack.core.store.identities.find_one({"external_id": "W123ABC456"})
    assert identity is not None


async def test_our_own_bot_joining_and_leaving_is_bot_added_and_removed(
    slack: SlackSetup,
) -> None:
    """Told by whoever invited it, else by the channel: the bot never becomes a customer."""
    joined = fixture("member_joined_channel")
    joined["event"]["user"] = "U0LAN0Z89"  # the bot user named in `authorizations`
    left = fixture("member_left_channel")
    left["event"]["user"] = "U0LAN0Z89"
    assert (await slack.event(joined)).json()["outcome"] == "event"
    assert (await slack.event(left)).json()["outcome"] == "event"
    events = await slack.core.store.events.find({"type": {"$regex": "^channel\\."}}).to_list(None)
    added, removed = sorted(events, key=lambda e: e["type"])
    assert added["type"] == "channel.bot_added"
    assert removed["type"] == "channel.bot_removed"
    assert (added["data"]["user"]["id"], added["data"]["role"]) == ("U123456789", "member")
    assert removed["data"]["user"]["id"] == "C123ABC456"
    for event in (added, removed):
        assert (event["data"]["group_id"], event["data"]["group_kind"]) == (
            "C123ABC456",
            "slack_channel",
        )
    assert await slack.core.store.identities.count_documents({"external_id": "U0LAN0Z89"}) == 0


async def test_channel_messages_name_their_channel_and_dms_none(slack: SlackSetup) -> None:
    await slack.event("message_channels_top")
    await slack.event("app_mention")  # no channel_type: the C of its id says channel
    await slack.event("message_im")
    top, mention, direct = sorted(await slack.inbound(), key=lambda m: m["channel_message_id"])
    assert top["group"] == {
        "id": "C0LAN2Q65",
        "title": None,
        "kind": "slack_channel",
        "admin": False,
        "automatic": False,
        "forwarded": False,
        "addressed": False,
        "mentions": [],
        "sender": "U2147483697",
    }
    assert (mention["group"]["id"], mention["group"]["kind"]) == ("C123ABC456", "slack_channel")
    assert mention["group"]["addressed"]  # it names our bot user: a bot answers it
    assert "group" not in direct


async def _kept_fields(slack: SlackSetup) -> list[str | None]:
    return [d.field for d in await list_dead_letters(slack.core, slack.channel.workspace_id)]


async def test_signed_malformed_json_is_kept_as_a_dead_letter(slack: SlackSetup) -> None:
    answer = await slack.send_raw(b'{"type": "event_callback", ')
    assert answer.status_code == 200  # a 4xx makes Slack retry, then disable the app's events
    assert answer.json()["outcome"] == "dead_letter"
    assert await _kept_fields(slack) == ["body"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event": "not an object"}, "event"),
        ({"event": {"type": "message", "channel": "D024BE91L", "text": "no sender"}}, "event.user"),
        ({"event": {"type": "message", "channel": "../../x", "user": "U1"}}, "event.channel"),
    ],
)
async def test_signed_malformed_events_are_kept_as_dead_letters(
    slack: SlackSetup, change: dict[str, Any], field: str
) -> None:
    answer = await slack.event({**fixture("message_im"), **change})
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "dead_letter"
    assert await _kept_fields(slack) == [field]
    assert await slack.inbound() == []


async def test_events_kith_does_not_use_are_acknowledged(slack: SlackSetup) -> None:
    reaction = await slack.event("reaction_added")
    assert reaction.status_code == 200
    assert reaction.json()["outcome"] == "ignored"
    rate_limited = await slack.event(
        {
            "token": "x",
            "team_id": "T061EG9R6",
            "minute_rate_limited": 1518467820,
            "api_app_id": "A0PNCHHK2",
            "type": "app_rate_limited",
        }
    )
    assert rate_limited.status_code == 200
    joined = fixture("message_im")
    joined["event"] = {**joined["event"], "subtype": "channel_join"}
    assert (await slack.event(joined)).json()["outcome"] == "ignored"
    assert await slack.inbound() == []


async def test_unknown_or_foreign_channels_are_not_found(slack: SlackSetup) -> None:
    body = json.dumps(fixture("message_im")).encode()
    answer = await slack.http.post(
        "/webhooks/slack/no-such-channel",
        content=body,
        headers={"x-slack-request-timestamp": "1", "x-slack-signature": "v0=00"},
    )
    assert answer.status_code == 404
