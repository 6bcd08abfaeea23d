"""The widget's HTTP API as browsers use it: sessions, isolation, identity, CORS, content."""

from __future__ import annotations

import json
import re

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.outbox import OutboxWorker
from tests.connectors.webchat.conftest import IDENTITY_SECRET, SHOP, Webchat, user_hash
from tests.support.tokens import damaged


async def test_channel_is_created_with_its_secret_write_only(verified_chat: Webchat) -> None:
    listed = await verified_chat.admin.get("/api/v1/channels", headers=verified_chat.auth)
    [channel] = [c for c in listed.json()["items"] if c["type"] == "webchat"]
    assert channel["config"]["allowed_origins"] == [SHOP]
    assert "identity_secret" not in json.dumps(channel)


async def test_config_refuses_origins_with_paths_and_colours_that_are_not_hex(
    webchat: Webchat,
) -> None:
    for config, field in (
        ({"allowed_origins": ["https://shop.example/checkout"]}, "config.allowed_origins"),
        ({"allowed_origins": ["javascript:alert(1)"]}, "config.allowed_origins"),
        ({"color": "red;background:url(x)"}, "config.color"),
        ({"identity_secret": "short"}, "config.identity_secret"),
    ):
        answer = await webchat.admin.post(
            "/api/v1/channels",
            json={"type": "webchat", "name": "Bad", "config": config},
            headers=webchat.auth,
        )
        assert answer.status_code == 422, config
        assert answer.json()["error"]["field"].startswith(field)


async def test_origins_are_normalized_as_browsers_send_them(webchat: Webchat) -> None:
    answer = await webchat.admin.post(
        "/api/v1/channels",
        json={
            "type": "webchat",
            "name": "Shop",
            "config": {"allowed_origins": ["HTTPS://Shop.Example:443/", "http://localhost:8080"]},
        },
        headers=webchat.auth,
    )
    assert answer.json()["config"]["allowed_origins"] == [
        "https://shop.example",
        "http://localhost:8080",
    ]


async def test_a_visitor_message_lands_in_their_own_conversation(
    webchat: Webchat, core: Core
) -> None:
    ada = webchat.visitor()
    session = await ada.start()
    assert session.status_code == 200, session.text
    cookie = session.headers["set-cookie"].lower()
    for part in ("kith_visitor=", "httponly", "samesite=none", "secure"):
        assert part in cookie
    assert f"path=/widget/{webchat.channel_id}/" in cookie

    posted = await ada.say("Do you ship to Lyon?")
    assert posted.status_code == 200, posted.text
    assert posted.json()["duplicate"] is False
    conversation = await webchat.conversation_of(posted)
    assert conversation["channel_id"] == webchat.channel_id
    assert conversation["channel_type"] == "webchat"
    assert conversation["external_user_id"].startswith("v:")
    assert await ada.texts() == ["Do you ship to Lyon?"]


async def test_the_signed_cookie_alone_identifies_the_visitor(webchat: Webchat) -> None:
    ada = webchat.visitor()
    await ada.start()
    ada.use_header = False
    await ada.say("cookie only")
    assert await ada.texts() == ["cookie only"]


async def test_the_header_token_works_where_third_party_cookies_are_blocked(
    webchat: Webchat,
) -> None:
    ada = webchat.visitor()
    await ada.start()
    ada.http.cookies.clear()
    assert (await ada.say("header only")).status_code == 200
    assert await ada.texts() == ["header only"]


async def test_missing_forged_and_other_channels_tokens_are_refused(
    webchat: Webchat, verified_chat: Webchat
) -> None:
    ada = webchat.visitor()
    assert (await ada.say("no session")).status_code == 401
    await ada.start()
    assert ada.token is not None
    ada.http.cookies.clear()
    body, _, mac = ada.token.partition(".")
    for token in (f"{damaged(body)}.{mac}", f"{body}.{damaged(mac)}", "garbage"):
        ada.token = token
        assert (await ada.say("hi")).status_code == 401
    elsewhere = verified_chat.visitor()
    await elsewhere.start()
    ada.token = elsewhere.token  # valid, but signed for another channel
    assert (await ada.say("hi")).status_code == 401


async def test_visitors_signed_before_a_key_rotation_keep_their_conversation(
    webchat: Webchat, core: Core
) -> None:
    ada = webchat.visitor()
    await ada.start()
    ada.http.cookies.clear()  # the header token alone
    assert (await ada.say("before")).status_code == 200
    former = core.settings.secret_key
    assert former

    core.settings.secret_key = "a-rotated-secret-key-0123456789"
    assert (await ada.say("no longer signed by the key")).status_code == 401
    core.settings.old_secret_keys = f"something-else, {former}"
    assert (await ada.say("after the rotation")).status_code == 200
    texts = await ada.texts()
    assert "before" in texts and "after the rotation" in texts
    assert "no longer signed by the key" not in texts


async def test_a_retried_post_is_stored_once(webchat: Webchat, core: Core) -> None:
    ada = webchat.visitor()
    await ada.start()
    first = await ada.say("Where is my order?", client_id="retry-me-0001")
    again = await ada.say("Where is my order?", client_id="retry-me-0001")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["message"]["id"] == first.json()["message"]["id"]
    assert await core.store.messages.count_documents({}) == 1


async def test_one_visitor_never_sees_another_visitors_conversation(
    webchat: Webchat, core: Core
) -> None:
    ada, bob = webchat.visitor(), webchat.visitor()
    await ada.start()
    await bob.start()
    a = await ada.say("my address is 1 Rue X", client_id="same-client-id")
    b = await bob.say("hello", client_id="same-client-id")  # a colliding id is not a duplicate
    assert b.json()["duplicate"] is False
    assert (await webchat.conversation_of(a))["_id"] != (await webchat.conversation_of(b))["_id"]
    await webchat.reply((await webchat.conversation_of(a))["_id"], text="Thanks Ada")
    await OutboxWorker(core).run_once()
    assert await ada.texts() == ["my address is 1 Rue X", "Thanks Ada"]
    assert await bob.texts() == ["hello"]
    bob.token = None  # a browser with nothing at all
    bob.http.cookies.clear()
    assert (await bob.http.get(bob.url("/messages"), headers=bob.headers)).status_code == 401


async def test_replies_show_once_delivered_and_private_notes_never(
    webchat: Webchat, core: Core
) -> None:
    ada = webchat.visitor()
    await ada.start()
    conv_id = (await webchat.conversation_of(await ada.say("Is Dragon Well in stock?")))["_id"]
    await webchat.reply(conv_id, text="internal: supplier late", private=True)
    await webchat.reply(conv_id, text="Yes, restocked today.")
    assert await ada.texts() == ["Is Dragon Well in stock?"]  # still pending in the outbox
    assert await OutboxWorker(core).run_once() == 1
    thread = await ada.thread()
    assert [m["text"] for m in thread] == ["Is Dragon Well in stock?", "Yes, restocked today."]
    assert thread[1]["direction"] == "out"
    assert thread[1]["author"]["kind"] == "agent"
    assert "internal" not in json.dumps(thread)


async def test_quick_replies_and_attachments_keep_only_safe_links(
    webchat: Webchat, core: Core
) -> None:
    ada = webchat.visitor()
    await ada.start()
    conv_id = (await webchat.conversation_of(await ada.say("Which tea for mornings?")))["_id"]
    await webchat.reply(
        conv_id,
        text="Pick one:",
        buttons=[
            {"label": "Assam", "payload": "tea:assam"},
            {"label": "Track order", "url": "https://shop.example/track"},
            {"label": "Evil", "url": "https://shop.example/evil"},
        ],
        attachments=[
            {"kind": "image", "name": "assam.jpg", "url": "https://cdn.shop.example/assam.jpg"},
            {"kind": "file", "name": "x.html", "url": "https://shop.example/x.html"},
        ],
    )
    # The API refuses such links now; a message stored before it did still goes out.
    evil = {"buttons.2.url": "javascript:alert(1)", "attachments.1.url": "javascript:alert(2)"}
    await core.store.messages.update_one({"buttons.label": "Evil"}, {"$set": evil})
    await OutboxWorker(core).run_once()
    reply = (await ada.thread())[-1]
    assert reply["buttons"] == [
        {"label": "Assam", "payload": "tea:assam", "url": None},
        {"label": "Track order", "payload": None, "url": "https://shop.example/track"},
    ]
    assert reply["attachments"] == [
        {"kind": "image", "name": "assam.jpg", "url": "https://cdn.shop.example/assam.jpg"}
    ]

    pressed = await ada.say("Assam", payload="tea:assam")
    stored = await core.store.messages.find_one({"_id": pressed.json()["message"]["id"]})
    assert stored is not None and stored["payload"] == "tea:assam"


async def test_identity_verification_refuses_a_wrong_or_missing_hash(
    verified_chat: Webchat,
) -> None:
    eve = verified_chat.visitor()
    wrong = await eve.start(user_id="42", user_hash=user_hash("42", "not-the-secret-at-all"))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["field"] == "user_hash"
    assert (await eve.start(user_id="42")).status_code == 401
    assert (await eve.start(user_id="42", user_hash=user_hash("43"))).status_code == 401


async def test_the_documented_hash_example_verifies(verified_chat: Webchat) -> None:
    """docs/channels/webchat.md gives this pair for businesses to check their own code."""
    documented = "ada9d99b1482d9ae2be2b3492d86765267924579556d90e18352e2841e4c8bf9"
    assert IDENTITY_SECRET == "shop-identity-secret-0123456789"
    answer = await verified_chat.visitor().start(user_id="42", user_hash=documented.upper())
    assert answer.status_code == 200 and answer.json()["verified"] is True


async def test_a_verified_user_gets_the_same_conversation_in_every_browser(
    verified_chat: Webchat,
) -> None:
    laptop, phone = verified_chat.visitor(), verified_chat.visitor()
    answer = await laptop.start(user_id="42", user_hash=user_hash("42"))
    assert answer.json()["verified"] is True
    posted = await laptop.say("from my laptop")
    assert (await verified_chat.conversation_of(posted))["external_user_id"] == "u:42"
    await phone.start(user_id="42", user_hash=user_hash("42"))
    await phone.say("and from my phone")
    assert await phone.texts() == ["from my laptop", "and from my phone"]

    await laptop.start()  # the shop's page no longer names a user: logged out
    assert await laptop.texts() == []


async def test_without_an_identity_secret_a_user_id_is_never_trusted(webchat: Webchat) -> None:
    ada, mallory = webchat.visitor(), webchat.visitor()
    assert (await ada.start(user_id="42")).json()["verified"] is False
    await ada.say("private to ada")
    await mallory.start(user_id="42")
    assert await mallory.texts() == []


async def test_cors_allows_only_the_channels_origins(webchat: Webchat, core: Core) -> None:
    preflight_headers = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-kith-visitor",
    }
    ok = await webchat.admin.options(
        f"/widget/{webchat.channel_id}/messages", headers={"Origin": SHOP, **preflight_headers}
    )
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == SHOP
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert "x-kith-visitor" in ok.headers["access-control-allow-headers"]

    evil = "https://evil.example"
    refused = await webchat.admin.options(
        f"/widget/{webchat.channel_id}/messages", headers={"Origin": evil, **preflight_headers}
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers

    ada = webchat.visitor()
    started = await ada.start()
    assert started.headers["access-control-allow-origin"] == SHOP
    unauthorized = await webchat.visitor().say("no session yet")
    assert unauthorized.status_code == 401  # an error an allowed page can still read
    assert unauthorized.headers["access-control-allow-origin"] == SHOP

    ada.origin = evil  # a page elsewhere replaying the visitor's cookie
    answer = await ada.say("sent from evil")
    assert answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers
    assert await core.store.messages.count_documents({}) == 0


async def test_a_visitor_writing_faster_than_a_person_is_slowed_down(
    webchat: Webchat, clock: ManualClock
) -> None:
    ada = webchat.visitor()
    await ada.start()
    clock.advance(60 - clock.now().timestamp() % 60)  # the start of a rate window
    for n in range(20):
        assert (await ada.say(f"message {n}")).status_code == 200
    slowed = await ada.say("one too many")
    assert slowed.status_code == 429
    assert int(slowed.headers["retry-after"]) >= 1
    clock.advance(61)
    assert (await ada.say("later")).status_code == 200


async def test_the_script_embeds_the_channels_settings_safely(webchat: Webchat) -> None:
    await webchat.admin.patch(
        f"/api/v1/channels/{webchat.channel_id}",
        json={"config": {"title": "Tea </script><img src=x onerror=alert(1)>", "color": "#aa3300"}},
        headers=webchat.auth,
    )
    script = await webchat.admin.get(f"/widget/{webchat.channel_id}.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "<" not in script.text.split("var BOOT = ", 1)[1].split(";\n", 1)[0]
    boot = json.loads(re.search(r"var BOOT = (\{.*?\});\n", script.text).group(1))  # type: ignore[union-attr]
    assert boot["title"] == "Tea </script><img src=x onerror=alert(1)>"
    assert boot["color"] == "#aa3300"
    assert boot["channel"] == webchat.channel_id
    assert ".kith-launcher" in boot["css"]
    for html_sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert html_sink not in script.text


async def test_the_demo_page_embeds_the_widget(webchat: Webchat) -> None:
    page = await webchat.admin.get(f"/demo/widget/{webchat.channel_id}")
    assert page.status_code == 200
    # No KITH_PUBLIC_URL here: linked relatively, never from the request's Host.
    assert f'src="/widget/{webchat.channel_id}.js" async' in page.text
    assert "Northwind Tea" in page.text


async def test_other_channel_types_and_unknown_ids_have_no_widget(webchat: Webchat) -> None:
    api = await webchat.admin.post(
        "/api/v1/channels", json={"type": "api", "name": "API", "config": {}}, headers=webchat.auth
    )
    for channel_id in (api.json()["id"], "0" * 24):
        assert (await webchat.admin.get(f"/widget/{channel_id}.js")).status_code == 404
        assert (await webchat.admin.get(f"/demo/widget/{channel_id}")).status_code == 404
        answer = await webchat.admin.post(
            f"/widget/{channel_id}/session", json={}, headers={"Origin": SHOP}
        )
        assert answer.status_code == 404


async def test_a_new_visitor_takes_the_browsers_language_and_a_bad_tag_is_refused(
    webchat: Webchat, core: Core
) -> None:
    mei = webchat.visitor()
    await mei.start()
    refused = await mei.say("你好", locale="zh_CN;<b>")
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "locale"
    assert await mei.texts() == []  # nothing stored
    posted = await mei.say("你好", locale="zh-CN")
    conversation = await webchat.conversation_of(posted)
    customer = await core.store.customers.find_one({"_id": conversation["customer_id"]})
    assert customer is not None and customer["locale"] == "zh-CN"
    later = await mei.say("再问一下", locale="en-US")  # a known customer's locale stays theirs
    assert later.status_code == 200
    customer = await core.store.customers.find_one({"_id": conversation["customer_id"]})
    assert customer is not None and customer["locale"] == "zh-CN"
