"""Join requests end to end: documented `chat_join_request` updates through the webhook,
approved by the bot or left to moderators (a note in the inbox, then the API), each decision
a Bot API call at the fake; the join that follows an approval credits the link's owner once."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kith.communities.store import community_id
from kith.connectors.slack.admin import SlackGroupAdmin
from kith.core.groups import Unsupported
from kith.core.models import Event
from kith.webhooks.catalogue import public_events
from tests.communities.referral_support import BotApiWithMe, customer_of, private
from tests.communities.wording_support import assert_worded
from tests.connectors.telegram.conftest import BOT_TOKEN, TelegramSetup, update
from tests.connectors.telegram.fake_bot_api import error
from tests.support.consumers import drain

GROUP = -1001234567890
HEDY = 424242007
ADA = 424242001


class JoinRequestBotApi(BotApiWithMe):
    """Telegram holding join requests: approving or declining one settles it; a second
    decision finds nothing pending (HIDE_REQUESTER_MISSING), as the Bot API answers."""

    pending: set[tuple[int, int]]

    def __post_init__(self) -> None:
        super().__post_init__()
        self.pending = set()

    def _settle(self, params: dict[str, Any]) -> tuple[int, Any]:
        key = (int(params["chat_id"]), int(params["user_id"]))
        if key not in self.pending:
            return error(400, "Bad Request: HIDE_REQUESTER_MISSING")
        self.pending.discard(key)
        return 200, True

    async def _approveChatJoinRequest(self, params: dict[str, Any]) -> tuple[int, Any]:
        return self._settle(params)

    async def _declineChatJoinRequest(self, params: dict[str, Any]) -> tuple[int, Any]:
        return self._settle(params)


@pytest.fixture
def callbacks() -> JoinRequestBotApi:
    return JoinRequestBotApi(token=BOT_TOKEN)


@pytest.fixture
async def link(telegram: TelegramSetup, callbacks: JoinRequestBotApi) -> str:
    """The bot administers the group; Ada's invite link (made through the API) is named."""
    assert (await telegram.deliver(update("my_chat_member_admin"))).status_code == 200
    await telegram.deliver(private(ADA, "Ada", "hello", 1))
    await drain(telegram.core)
    ada = await customer_of(telegram.core, telegram.channel_id, ADA)
    answer = await telegram.http.post(
        f"/api/v1/communities/{_id(telegram)}/invite-links",
        json={"customer_id": ada, "name": "Ada"},
        headers=telegram.auth,
    )
    assert answer.status_code == 201, answer.text
    [made] = callbacks.links
    return str(made["name"])


def _id(telegram: TelegramSetup) -> str:
    return community_id(telegram.channel_id, str(GROUP))


def join_request(via: str, **changes: Any) -> dict[str, Any]:
    body = update("chat_join_request")
    body["chat_join_request"]["invite_link"]["name"] = via
    body["chat_join_request"].update(changes)
    return body


def joined_through(via: str) -> dict[str, Any]:
    """The `chat_member` update Telegram sends once Hedy is let in, naming the link."""
    body = update("chat_member_joined", update_id=815000062)
    hedy = update("chat_join_request")["chat_join_request"]["from"]
    change = body["chat_member"]
    change["from"] = copy.deepcopy(hedy)
    change["new_chat_member"]["user"] = copy.deepcopy(hedy)
    change["old_chat_member"]["user"] = copy.deepcopy(hedy)
    change["date"] = 1767226400
    change["invite_link"].update(name=via, creates_join_request=True)
    return body


async def deliver(telegram: TelegramSetup, body: dict[str, Any]) -> None:
    assert (await telegram.deliver(body)).status_code == 200
    await drain(telegram.core)


async def notes(telegram: TelegramSetup) -> list[str]:
    return [m["text"] for m in await note_docs(telegram)]


async def note_docs(telegram: TelegramSetup) -> list[dict[str, Any]]:
    return [m for m in await telegram.messages() if m.get("private")]


def assert_notice_wording(
    note: dict[str, Any],
    key: str,
    request: dict[str, Any],
    values: dict[str, str],
    terms: dict[str, str],
) -> None:
    """Each agent's inbox words the notice (`said_<key>`); names and links as written."""
    named = {
        "name": "Hedy Lamarr",
        "user": str(HEDY),
        "community": request["community_id"],
        "request": request["id"],
    }
    assert note["wording"] == {"key": key, "values": {**named, **values}, "terms": terms}
    assert_worded(note["wording"])


async def listed(telegram: TelegramSetup, status: str = "pending") -> list[dict[str, Any]]:
    answer = await telegram.http.get(
        f"/api/v1/communities/{_id(telegram)}/join-requests",
        params={"status": status},
        headers=telegram.auth,
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def verdict(telegram: TelegramSetup, request_id: str, what: str) -> Any:
    return await telegram.http.post(
        f"/api/v1/communities/{_id(telegram)}/join-requests/{request_id}/{what}",
        headers=telegram.auth,
    )


async def set_mode(telegram: TelegramSetup, mode: str) -> None:
    answer = await telegram.http.patch(
        f"/api/v1/communities/{_id(telegram)}",
        json={"join_requests": {"mode": mode}},
        headers=telegram.auth,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["join_requests"]["mode"] == mode


async def test_moderators_are_told_and_approve_and_the_join_credits_the_link_once(
    telegram: TelegramSetup, callbacks: JoinRequestBotApi, link: str
) -> None:
    callbacks.pending.add((GROUP, HEDY))
    request = join_request(link)
    await deliver(telegram, request)
    await deliver(telegram, request)  # Telegram retrying the webhook

    [note] = await notes(telegram)
    assert "Hedy Lamarr" in note and f"“{link}”" in note
    [pending] = await listed(telegram)
    assert pending["platform_user_id"] == str(HEDY) and pending["via"] == link
    [doc] = await note_docs(telegram)
    assert_notice_wording(doc, "community_join_request", pending, {"link": link}, {})
    assert len(await telegram.events("community.join_requested")) == 1
    assert callbacks.called("approveChatJoinRequest") == []
    assert await telegram.events("community.member_joined") == []  # a request is no join

    answer = await verdict(telegram, pending["id"], "approve")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "approved"
    assert answer.json()["decided_by"]["name"] == "api"
    [call] = callbacks.called("approveChatJoinRequest")
    assert (int(call["chat_id"]), int(call["user_id"])) == (GROUP, HEDY)
    again = await verdict(telegram, pending["id"], "decline")
    assert again.status_code == 409 and again.json()["error"]["field"] == "request_id"
    assert callbacks.called("declineChatJoinRequest") == []

    await deliver(telegram, joined_through(link))
    await deliver(telegram, joined_through(link))
    [joined] = await telegram.events("community.member_joined")
    assert joined["data"]["via"] == link
    ada = await customer_of(telegram.core, telegram.channel_id, ADA)
    [credit] = await telegram.events("community.referral_credited")
    assert credit["customer_id"] == ada and credit["data"]["count"] == 1
    assert len(await telegram.events("community.join_request_approved")) == 1
    assert await listed(telegram) == []


async def test_the_bot_approves_at_once_when_asked_to_and_a_retry_calls_nothing_twice(
    telegram: TelegramSetup, callbacks: JoinRequestBotApi, link: str
) -> None:
    await set_mode(telegram, "approve")
    callbacks.pending.add((GROUP, HEDY))
    request = join_request(link)
    await deliver(telegram, request)
    await deliver(telegram, request)

    [call] = callbacks.called("approveChatJoinRequest")
    assert (int(call["chat_id"]), int(call["user_id"])) == (GROUP, HEDY)
    assert await notes(telegram) == []
    [done] = await listed(telegram, "approved")
    assert done["decided_by"]["name"] == "join requests"
    await deliver(telegram, joined_through(link))
    assert len(await telegram.events("community.referral_credited")) == 1


async def test_a_refused_approval_falls_back_to_the_moderators(
    telegram: TelegramSetup, callbacks: JoinRequestBotApi, link: str
) -> None:
    await set_mode(telegram, "approve")
    callbacks.pending.add((GROUP, HEDY))
    callbacks.fail_next(
        "approveChatJoinRequest", error(400, "Bad Request: not enough rights to add members")
    )
    await deliver(telegram, join_request(link))

    [note] = await notes(telegram)
    assert "not enough rights" in note and "Hedy Lamarr" in note
    [pending] = await listed(telegram)
    assert "not enough rights" in pending["bot_error"]
    [doc] = await note_docs(telegram)
    said = {"link": link, "reason": pending["bot_error"]}  # the platform's words, as written
    assert_notice_wording(doc, "community_join_request_failed", pending, said, {})
    answer = await verdict(telegram, pending["id"], "decline")
    assert answer.status_code == 200, answer.text
    [call] = callbacks.called("declineChatJoinRequest")
    assert (int(call["chat_id"]), int(call["user_id"])) == (GROUP, HEDY)
    assert len(await telegram.events("community.join_request_declined")) == 1


async def test_a_request_settled_on_the_platform_is_no_longer_pending(
    telegram: TelegramSetup, callbacks: JoinRequestBotApi, link: str
) -> None:
    """An admin approved it in Telegram's own app: the join settles the request."""
    await deliver(telegram, join_request(link))
    [pending] = await listed(telegram)
    await deliver(telegram, joined_through(link))
    [done] = await listed(telegram, "approved")
    assert done["id"] == pending["id"] and done["decided_by"]["name"] == "platform"
    answer = await verdict(telegram, pending["id"], "approve")
    assert answer.status_code == 409
    assert callbacks.called("approveChatJoinRequest") == []


async def test_a_link_without_a_name_is_named_by_its_url_and_a_stale_decision_is_refused(
    telegram: TelegramSetup, callbacks: JoinRequestBotApi, link: str
) -> None:
    body = join_request(link)
    del body["chat_join_request"]["invite_link"]["name"]
    await deliver(telegram, body)
    [pending] = await listed(telegram)
    assert pending["via"] == "https://t.me/+QrStUvWxYz..."
    # Nothing pending at Telegram any more (declined in its own app): the API says so.
    answer = await verdict(telegram, pending["id"], "approve")
    assert answer.status_code == 409
    assert "HIDE_REQUESTER_MISSING" in answer.json()["error"]["message"]
    [still] = await listed(telegram)
    assert still["id"] == pending["id"]


async def test_a_request_through_no_link_is_noted_as_none_named_in_each_language(
    telegram: TelegramSetup, link: str
) -> None:
    body = join_request(link)
    del body["chat_join_request"]["invite_link"]  # through the group's public username
    await deliver(telegram, body)
    [pending] = await listed(telegram)
    assert pending["via"] is None
    [doc] = await note_docs(telegram)
    assert "“(none named)”" in doc["text"]
    assert_notice_wording(doc, "community_join_request", pending, {}, {"link": "said_no_link"})


async def test_unknown_requests_and_other_workspaces_answer_404(
    telegram: TelegramSetup, link: str
) -> None:
    answer = await verdict(telegram, "nope", "approve")
    assert answer.status_code == 404 and answer.json()["error"]["field"] == "request_id"
    bad = await telegram.http.post(
        f"/api/v1/communities/{_id(telegram)}/join-requests/nope/maybe", headers=telegram.auth
    )
    assert bad.status_code == 422


async def test_slack_has_no_join_requests() -> None:
    admin = SlackGroupAdmin()
    with pytest.raises(Unsupported):
        await admin.approve_join_request(None, None, "C1", "U1")  # type: ignore[arg-type]
    with pytest.raises(Unsupported):
        await admin.decline_join_request(None, None, "C1", "U1")  # type: ignore[arg-type]


async def test_join_request_events_reach_the_webhook_catalogue_as_ids(
    telegram: TelegramSetup, callbacks: JoinRequestBotApi, link: str
) -> None:
    callbacks.pending.add((GROUP, HEDY))
    await deliver(telegram, join_request(link))
    [pending] = await listed(telegram)
    assert (await verdict(telegram, pending["id"], "approve")).status_code == 200
    hedy = await customer_of(telegram.core, telegram.channel_id, HEDY)
    for kind in ("community.join_requested", "community.join_request_approved"):
        [doc] = await telegram.events(kind)
        [(public, data)] = await public_events(telegram.core, Event.model_validate(doc))
        assert public == kind
        assert data["community_id"] == _id(telegram) and data["customer_id"] == hedy
        assert data["request_id"] == pending["id"] and data["platform_user_id"] == str(HEDY)
        assert "Hedy" not in str(data)
        assert data.get("via", link) == link  # named on the request
