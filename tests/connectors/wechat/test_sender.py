"""Replies through the customer-service API: rendering, tokens, the 48-hour window, errcodes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from kith.connectors.wechat.api import token_lease_name
from kith.connectors.wechat.config import WeChatConfig
from kith.core import leases
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.outbox import OutboxWorker
from kith.core.workspaces import create_workspace
from tests.connectors.wechat.conftest import (
    APP_ID,
    APP_SECRET,
    OPENID,
    TOKEN,
    WeChatSetup,
    fixture,
    make_setup,
)
from tests.connectors.wechat.fake_wechat import FakeWeChatApi

HOUR = 3600.0
REFRESH_LEASE = token_lease_name(WeChatConfig(app_id=APP_ID, app_secret=APP_SECRET, token=TOKEN))


async def customer_writes(wechat: WeChatSetup, msg_id: str = "24400000000000001") -> str:
    """The customer sends a text; returns the conversation id."""
    xml = fixture("text").replace("24400000000000001", msg_id)
    assert (await wechat.pusher.push(xml, "plain")).status_code == 200
    return str((await wechat.conversation())["id"])


async def deliver(core: Core, wechat: WeChatSetup, conversation_id: str) -> dict[str, Any]:
    """Run the outbox once and return the latest outbound message's delivery state."""
    await OutboxWorker(core).run_once()
    messages = await wechat.messages(conversation_id)
    return dict(next(m for m in reversed(messages) if m["direction"] == "out")["delivery"])


async def test_reply_is_sent_as_text_with_buttons_as_a_numbered_menu(
    wechat: WeChatSetup, core: Core, wechat_api: FakeWeChatApi
) -> None:
    conversation_id = await customer_writes(wechat)
    await wechat.reply(
        conversation_id,
        text="您的订单已发货。",
        buttons=[
            {"label": "Track order", "payload": "TRACK"},
            {"label": "Help centre", "url": "https://help.example.com/faq?q=ship&lang=zh"},
        ],
    )
    assert (await deliver(core, wechat, conversation_id))["status"] == "sent"
    assert wechat_api.sent == [
        {
            "touser": OPENID,
            "msgtype": "text",
            "text": {
                "content": "您的订单已发货。\n\n1. Track order\n"
                '2. <a href="https://help.example.com/faq?q=ship&lang=zh">Help centre</a>'
            },
        }
    ]
    [send] = [c for c in wechat_api.calls if c.path.endswith("/custom/send")]
    assert "您的订单已发货" in send.raw.decode()  # UTF-8 on the wire, not \\u escapes


async def test_images_are_sent_as_links_and_markup_cannot_be_injected(
    wechat: WeChatSetup, core: Core, wechat_api: FakeWeChatApi
) -> None:
    conversation_id = await customer_writes(wechat)
    await wechat.reply(
        conversation_id,
        text="Here it is",
        attachments=[
            {"kind": "image", "name": "receipt.png", "url": "https://cdn.example.com/r.png"},
            {"kind": "file", "name": "invoice.pdf"},
        ],
        buttons=[
            {"label": "<b>Pay</b>", "url": 'https://pay.example.com/"onclick="x'},
            {"label": "Script", "url": "https://pay.example.com/script"},
        ],
    )
    # The API refuses such a link now; a message stored before it did still goes out.
    await core.store.messages.update_one(
        {"buttons.label": "Script"}, {"$set": {"buttons.1.url": "javascript:alert(1)"}}
    )
    assert (await deliver(core, wechat, conversation_id))["status"] == "sent"
    assert wechat_api.sent[0]["text"]["content"] == (
        "Here it is\n\n"
        '<a href="https://cdn.example.com/r.png">receipt.png</a>\n\n'
        "[invoice.pdf]\n\n"
        '1. <a href="https://pay.example.com/%22onclick=%22x">＜b＞Pay＜/b＞</a>\n'
        "2. Script"
    )


async def test_the_access_token_is_fetched_once_and_shared_by_workers(
    wechat: WeChatSetup, core: Core, wechat_api: FakeWeChatApi
) -> None:
    conversation_id = await customer_writes(wechat)
    for worker in ("worker-a", "worker-b"):
        await wechat.reply(conversation_id, text=f"from {worker}")
        await OutboxWorker(core, owner=worker).run_once()
    assert len(wechat_api.sent) == 2
    [token_call] = wechat_api.token_calls
    assert token_call.body == {
        "grant_type": "client_credential",
        "appid": APP_ID,
        "secret": APP_SECRET,
        "force_refresh": False,
    }
    assert APP_SECRET not in token_call.path + str(token_call.query)  # never in a URL


async def test_the_token_is_refreshed_before_it_expires(
    wechat: WeChatSetup, core: Core, wechat_api: FakeWeChatApi, clock: ManualClock
) -> None:
    conversation_id = await customer_writes(wechat)
    await wechat.reply(conversation_id, text="one")
    assert (await deliver(core, wechat, conversation_id))["status"] == "sent"

    clock.advance(2 * HOUR - 200)  # inside the last 5 minutes: refreshed, same token back
    await customer_writes(wechat, "24400000000000002")
    await wechat.reply(conversation_id, text="two")
    assert (await deliver(core, wechat, conversation_id))["status"] == "sent"
    assert len(wechat_api.token_calls) == 2

    clock.advance(300)  # WeChat's token has expired by now; ours was due again before it
    await customer_writes(wechat, "24400000000000003")
    await wechat.reply(conversation_id, text="three")
    assert (await deliver(core, wechat, conversation_id))["status"] == "sent"
    sends = [c for c in wechat_api.calls if c.path.endswith("/custom/send")]
    assert [c.query["access_token"] for c in sends] == [
        "ACCESS_TOKEN_1",
        "ACCESS_TOKEN_1",
        "ACCESS_TOKEN_2",
    ]
    assert all(c.answer["errcode"] == 0 for c in sends)


async def test_a_rejected_token_is_refreshed_and_the_send_retried_once(
    wechat: WeChatSetup, core: Core, wechat_api: FakeWeChatApi
) -> None:
    conversation_id = await customer_writes(wechat)
    await wechat.reply(conversation_id, text="one")
    await deliver(core, wechat, conversation_id)
    wechat_api.rotate()  # force-refreshed by another tool: errcode 40001 on the next send

    await wechat.reply(conversation_id, text="two")
    assert (await deliver(core, wechat, conversation_id))["status"] == "sent"
    sends = [c for c in wechat_api.calls if c.path.endswith("/custom/send")]
    assert [c.answer["errcode"] for c in sends] == [0, 40001, 0]
    assert [m["text"]["content"] for m in wechat_api.sent] == ["one", "two"]


async def test_a_token_rejected_twice_is_retried_later_not_in_a_loop(
    wechat: WeChatSetup, core: Core, wechat_api: FakeWeChatApi
) -> None:
    conversation_id = await customer_writes(wechat)
    wechat_api.send_errors += [40001, 40001]
    await wechat.reply(conversation_id, text="hello")
    delivery = await deliver(core, wechat, conversation_id)
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 1
    assert "40001" in delivery["error"]
    assert len([c for c in wechat_api.calls if c.path.endswith("/custom/send")]) == 2


async def test_outside_the_48_hour_window_the_send_fails_with_a_reason(
    wechat: WeChatSetup, core: Core, wechat_api: FakeWeChatApi, clock: ManualClock
) -> None:
    conversation_id = await customer_writes(wechat)
    clock.advance(48 * HOUR + 1)
    await wechat.reply(conversation_id, text="Sorry for the wait!")
    delivery = await deliver(core, wechat, conversation_id)
    assert delivery["status"] == "failed"
    assert "48-hour" in delivery["error"]
    assert wechat_api.calls == []  # WeChat was not even asked


async def test_just_inside_the_window_the_send_goes_out(
    wechat: WeChatSetup, core: Core, wechat_api: FakeWeChatApi, clock: ManualClock
) -> None:
    conversation_id = await customer_writes(wechat)
    clock.advance(48 * HOUR - 60)
    await wechat.reply(conversation_id, text="Still here")
    assert (await deliver(core, wechat, conversation_id))["status"] == "sent"


async def test_a_menu_click_reopens_the_window(
    wechat: WeChatSetup, core: Core, wechat_api: FakeWeChatApi, clock: ManualClock
) -> None:
    conversation_id = await customer_writes(wechat)
    clock.advance(47 * HOUR)
    assert (await wechat.pusher.push(fixture("click"), "safe")).status_code == 200
    clock.advance(2 * HOUR)
    await wechat.reply(conversation_id, text="Your order is on its way")
    assert (await deliver(core, wechat, conversation_id))["status"] == "sent"


@pytest.mark.parametrize(
    ("errcode", "status", "reason"),
    [
        (45015, "failed", "48-hour"),
        (43004, "failed", "no longer follows"),
        (45047, "failed", "limit"),
        (-1, "pending", "busy"),
        (45009, "pending", "busy"),
    ],
)
async def test_api_errcodes_decide_between_retry_and_give_up(
    wechat: WeChatSetup,
    core: Core,
    wechat_api: FakeWeChatApi,
    clock: ManualClock,
    errcode: int,
    status: str,
    reason: str,
) -> None:
    conversation_id = await customer_writes(wechat)
    wechat_api.send_errors.append(errcode)
    await wechat.reply(conversation_id, text="hello")
    delivery = await deliver(core, wechat, conversation_id)
    assert delivery["status"] == status
    assert reason in delivery["error"] and str(errcode) in delivery["error"]
    assert delivery["attempts"] == 1
    if errcode == 45009:  # quota: wait a minute rather than the short backoff
        due = datetime.fromisoformat(delivery["next_attempt_at"].replace("Z", "+00:00"))
        assert due - clock.now() == timedelta(seconds=60)


async def test_while_another_worker_refreshes_the_token_sends_wait_without_failing(
    wechat: WeChatSetup, core: Core, wechat_api: FakeWeChatApi, clock: ManualClock
) -> None:
    conversation_id = await customer_writes(wechat)
    await wechat.reply(conversation_id, text="one")
    await deliver(core, wechat, conversation_id)
    clock.advance(2 * HOUR - 200)  # refresh due, token still valid
    assert await leases.acquire(core, REFRESH_LEASE, "other-worker", 30)

    await customer_writes(wechat, "24400000000000002")
    await wechat.reply(conversation_id, text="two")
    assert (await deliver(core, wechat, conversation_id))["status"] == "sent"  # the old token

    clock.advance(201)  # now expired, and the other worker still holds the lease
    assert await leases.acquire(core, REFRESH_LEASE, "other-worker", 30)
    await customer_writes(wechat, "24400000000000003")
    await wechat.reply(conversation_id, text="three")
    delivery = await deliver(core, wechat, conversation_id)
    assert (delivery["status"], delivery["attempts"]) == ("pending", 0)
    assert len(wechat_api.token_calls) == 1


async def test_bad_credentials_fail_with_a_readable_reason_and_no_secret(
    wechat: WeChatSetup,
    core: Core,
    wechat_api: FakeWeChatApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    conversation_id = await customer_writes(wechat)
    wechat_api.token_errors.append(40164)
    await wechat.reply(conversation_id, text="hello")
    delivery = await deliver(core, wechat, conversation_id)
    assert delivery["status"] == "failed"
    assert "IP whitelist" in delivery["error"]
    assert APP_SECRET not in caplog.text and APP_SECRET not in delivery["error"]


async def test_secrets_are_write_only_and_api_base_is_honoured(
    core: Core, client: httpx.AsyncClient, workspace_id: str, wechat_api: FakeWeChatApi
) -> None:
    setup = await make_setup(
        core, client, workspace_id, api_base="http://wechat-proxy.internal:8080"
    )
    shown = await client.get(f"/api/v1/channels/{setup.channel_id}", headers=setup.auth)
    assert shown.json()["config"] == {
        "app_id": APP_ID,
        "api_base": "http://wechat-proxy.internal:8080",
    }
    conversation_id = await customer_writes(setup)
    await setup.reply(conversation_id, text="hi")
    assert (await deliver(core, setup, conversation_id))["status"] == "sent"
    assert {c.host for c in wechat_api.calls} == {"wechat-proxy.internal:8080"}


async def test_answering_a_menu_number_is_a_button_press(
    wechat: WeChatSetup, core: Core, wechat_api: FakeWeChatApi
) -> None:
    conversation_id = await customer_writes(wechat)
    await wechat.reply(
        conversation_id,
        text="What can I do for you?",
        buttons=[
            {"label": "Track order", "payload": "TRACK"},
            {"label": "Help centre", "url": "https://help.example.com"},
        ],
    )
    await deliver(core, wechat, conversation_id)

    answers = {"１": "TRACK", "2": None, "3": None, "1 please": None}  # full-width "1" too
    for n, text in enumerate(answers, start=2):
        xml = fixture("text").replace("我的订单到哪了？", text)
        await wechat.pusher.push(xml.replace("24400000000000001", f"2440000000000010{n}"))
    await wechat.reply(conversation_id, text="No menu this time")
    last = fixture("text").replace("我的订单到哪了？", "1")
    await wechat.pusher.push(last.replace("24400000000000001", "24400000000000199"))

    inbound = [m for m in await wechat.messages(conversation_id) if m["direction"] == "in"]
    got = {m["text"]: m["payload"] for m in inbound[1:]}
    assert got == {**answers, "1": None}


async def test_a_channel_knowing_only_the_app_id_cannot_borrow_the_cached_token(
    wechat: WeChatSetup, core: Core, client: httpx.AsyncClient, wechat_api: FakeWeChatApi
) -> None:
    """AppIDs are public: another workspace pasting ours with a guessed secret gets nothing."""
    conversation_id = await customer_writes(wechat)
    await wechat.reply(conversation_id, text="token cached now")
    assert (await deliver(core, wechat, conversation_id))["status"] == "sent"

    other = await create_workspace(core, "Impostor Ltd")
    impostor = await make_setup(core, client, other.id, app_secret="f" * 32)
    impostor_conversation = await customer_writes(impostor)
    await impostor.reply(impostor_conversation, text="pretending to be them")
    delivery = await deliver(core, impostor, impostor_conversation)
    assert delivery["status"] == "failed"
    assert "app_secret is wrong" in delivery["error"]
    assert [m["text"]["content"] for m in wechat_api.sent] == ["token cached now"]
