"""One search across conversations, tickets and customers (`GET /api/v1/search`, the page's
`/app/api/search` and `/app/search`): each group found as its own list finds it, scoped as
the reader sees that list, `q` only ever text, and refusals naming `q` or `limit`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Author, AuthorKind, InboundUser, OutboundContent
from kith.core.outbox import send
from kith.core.pipeline import ingest
from kith.core.search_snippets import around
from kith.tickets.actions import do_create_ticket
from kith.tickets.feature import feature
from kith.tickets.models import TicketIn
from tests.support.cast import inbound
from tests.support.consumers import indexed
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)


@pytest.fixture(autouse=True)
def with_tickets(core: Core) -> None:
    install(core, [feature(core)])


@pytest.fixture
async def token_api(core: Core, cast: Cast, app: Any) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    token = await create_api_token(core, cast.workspace_id, "test")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://kith.test/api/v1",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


async def ticket_for(core: Core, cast: Cast, conversation: str, subject: str) -> str:  # noqa: F811
    body = TicketIn(subject=subject, conversation_id=cast.conversations[conversation])
    return (await do_create_ticket(core, cast.workspace_id, body)).id


def ids(answer: httpx.Response) -> dict[str, list[str]]:
    assert answer.status_code == 200, answer.text
    found = answer.json()
    return {group: [hit["id"] for hit in found[group]] for group in GROUPS}


def counts(answer: httpx.Response) -> dict[str, int]:
    return {group: len(found) for group, found in ids(answer).items()}


GROUPS = ("conversations", "tickets", "customers")


async def test_one_search_finds_each_group_as_its_list_does(
    core: Core,
    cast: Cast,  # noqa: F811
    token_api: httpx.AsyncClient,
) -> None:
    """ "lovelace" finds Ada's conversation (her name), her ticket (its customer's name) and
    her profile; Grace's stay out. Every row carries what a result line shows and its link."""
    late = await ticket_for(core, cast, "shop", "Order late")
    crash = await ticket_for(core, cast, "help", "App crash")
    answer = await token_api.get("/search", params={"q": "lovelace"})
    ada = answer.json()["customers"][0]["id"] if answer.status_code == 200 else None
    assert ids(answer) == {
        "conversations": [cast.conversations["shop"]],
        "tickets": [late],
        "customers": [ada],
    }
    found = answer.json()
    conversation, ticket, customer = (found[g][0] for g in GROUPS)
    assert conversation["title"] == "Ada Lovelace"
    assert conversation["snippet"] == "Where is my order?"
    assert conversation["status"] == "open"
    assert conversation["link"] == f"/app?conversation={cast.conversations['shop']}"
    assert (ticket["number"], ticket["title"], ticket["status"]) == (1, "Order late", "new")
    assert ticket["link"] == f"/app/tickets/{late}"
    assert (customer["name"], customer["snippet"]) == ("Ada Lovelace", "ada@example.com")
    assert customer["link"] == f"/app/contacts/{ada}"
    assert found["q"] == "lovelace"
    assert found["more"] == {"conversations": False, "tickets": False, "customers": False}
    # words of a ticket's subject find the ticket (and no conversation or customer)
    assert ids(await token_api.get("/search", params={"q": "crash"})) == {
        "conversations": [],
        "tickets": [crash],
        "customers": [],
    }


async def test_limit_caps_each_group_and_more_says_where_there_is_more(
    core: Core,
    cast: Cast,  # noqa: F811
    token_api: httpx.AsyncClient,
) -> None:
    for n in range(3):
        user = InboundUser(id=f"u-kettle-{n}", name=f"Kettle Fan {n}")
        await ingest(core, cast.shop, inbound(cast.shop, user=user, text="my kettle leaks"))
    await indexed(core)
    answer = await token_api.get("/search", params={"q": "kettle", "limit": 2})
    found = ids(answer)
    assert (len(found["conversations"]), len(found["customers"]), found["tickets"]) == (2, 2, [])
    assert answer.json()["more"] == {"conversations": True, "tickets": False, "customers": True}


async def test_an_agent_finds_only_what_their_lists_show(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    """Alice (Sales: the shop) never sees Grace, who talks to Support's help desk: not her
    conversation, not her ticket, not her profile; Bob (Support) and the admin do, and a
    marketer reads them all, as their lists show them."""
    await ticket_for(core, cast, "help", "App crash")
    everything = {"conversations": 1, "tickets": 1, "customers": 1}
    nothing = {"conversations": 0, "tickets": 0, "customers": 0}
    for name, wanted in (("alice", nothing), ("bob", everything), ("admin", everything)):
        session = await browser(name)
        answer = await session.api("GET", "/search", params={"q": "grace hopper"})
        assert counts(answer) == wanted, name
    mary = await browser("mary")
    assert counts(await mary.api("GET", "/search", params={"q": "grace"})) == everything
    alice = await browser("alice")  # and her own customer, of course
    mine = ids(await alice.api("GET", "/search", params={"q": "ada"}))
    assert mine["conversations"] == [cast.conversations["shop"]]
    assert len(mine["customers"]) == 1


async def test_a_ticket_number_puts_that_ticket_first_even_typed_full_width(
    core: Core,
    cast: Cast,  # noqa: F811
    token_api: httpx.AsyncClient,
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    """ "#1" also finds the newer ticket whose words hold "1", but ticket #1 comes first, also
    when the limit would have left it out; a Chinese keyboard's full-width "＃２" (NFKC) is
    "#2". The numbered ticket is shown only to who may see it: Alice never sees Grace's."""
    first = await ticket_for(core, cast, "shop", "Order late")
    crash = await ticket_for(core, cast, "help", "App crash")
    newer = await ticket_for(core, cast, "shop", "Order 1 of 2 broken")
    assert ids(await token_api.get("/search", params={"q": "#1"}))["tickets"] == [first, newer]
    one = await token_api.get("/search", params={"q": "1", "limit": 1})
    assert ids(one)["tickets"] == [first] and one.json()["more"]["tickets"] is True
    full_width = await token_api.get("/search", params={"q": "＃２"})
    assert ids(full_width)["tickets"] == [crash, newer]
    assert full_width.json()["q"] == "#2"
    assert ids(await token_api.get("/search", params={"q": "ＣＲＡＳＨ"}))["tickets"] == [crash]
    alice = await browser("alice")
    assert ids(await alice.api("GET", "/search", params={"q": "#2"}))["tickets"] == [newer]
    bob = await browser("bob")
    assert ids(await bob.api("GET", "/search", params={"q": "＃２"}))["tickets"] == [crash]


@pytest.mark.parametrize(
    "q", ['{"$ne": null}', '{"$gt": ""}', ".*", "^", "a|b", "$expr", "[", "\\"]
)
async def test_q_is_only_ever_text(
    core: Core,
    cast: Cast,  # noqa: F811
    token_api: httpx.AsyncClient,
    q: str,
) -> None:
    """An operator or pattern finds nothing in a workspace that holds those words nowhere,
    instead of everything (or an error)."""
    await ticket_for(core, cast, "shop", "Order late")
    assert ids(await token_api.get("/search", params={"q": q})) == {g: [] for g in GROUPS}


async def test_operator_shaped_words_in_a_message_are_found_as_words(
    core: Core,
    cast: Cast,  # noqa: F811
    token_api: httpx.AsyncClient,
) -> None:
    user = InboundUser(id="u-dev", name="Dev Null")
    said = '{"$ne": "quoted"} broke my form'
    received = await ingest(core, cast.shop, inbound(cast.shop, user=user, text=said))
    await indexed(core)
    found = ids(await token_api.get("/search", params={"q": '{"$ne": "quoted"}'}))
    assert found["conversations"] == [received.conversation.id]
    assert found["customers"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "㍿" * 60}, "q"),  # 60 characters, 240 once NFKC spells each out
        ({"q": "ada", "limit": 0}, "limit"),
        ({"q": "ada", "limit": 21}, "limit"),
        ({"q": "ada", "limit": "many"}, "limit"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    cast: Cast,  # noqa: F811
    token_api: httpx.AsyncClient,
    browser: Callable[..., Any],  # noqa: F811
    params: dict[str, Any],
    field: str,
) -> None:
    admin = await browser("admin")
    for answer in (
        await token_api.get("/search", params=params),
        await admin.api("GET", "/search", params=params),
    ):
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == field


async def test_the_api_needs_a_token_and_the_page_a_session(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    anonymous = await browser()
    assert (await anonymous.http.get("/api/v1/search", params={"q": "ada"})).status_code == 401
    assert (await anonymous.api("GET", "/search", params={"q": "ada"})).status_code == 401
    page = await anonymous.http.get("/app/search", params={"q": "ada"})
    assert (page.status_code, page.headers["location"]) == (303, "/app/login")


async def test_the_page_escapes_customer_text_and_links_each_list(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    user = InboundUser(id="u-x", name="<img src=x onerror=alert(1)> Mallory")
    await ingest(core, cast.shop, inbound(cast.shop, user=user, text="<script>alert(2)</script>"))
    await indexed(core)
    admin = await browser("admin")
    page = await admin.http.get("/app/search", params={"q": "mallory"})
    assert page.status_code == 200
    assert "<img src=x" not in page.text and "<script>alert" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt; Mallory" in page.text
    assert 'href="/app?q=mallory&amp;status=any"' in page.text
    assert 'href="/app/tickets?q=mallory"' in page.text
    assert 'href="/app/contacts?q=mallory"' in page.text
    mary = await browser("mary")  # no inbox or Tickets of her own: those lists not linked
    page = await mary.http.get("/app/search", params={"q": "mallory"})
    assert "/app?q=" not in page.text and "/app/tickets?q=" not in page.text
    assert 'href="/app/contacts?q=mallory"' in page.text
    too_long = await admin.http.get("/app/search", params={"q": "x" * 201})
    assert too_long.status_code == 200 and 'aria-invalid="true"' in too_long.text


async def test_a_hash_and_digits_names_a_ticket_and_searches_only_tickets(
    core: Core,
    cast: Cast,  # noqa: F811
    token_api: httpx.AsyncClient,
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    """ "#1" is ticket number 1: conversations and customers whose words hold "1" stay out
    (`ticket_number` says why), where "1" alone still finds them; the page says so, with no
    count or "see all" for the groups not searched, in English and in Chinese."""
    first = await ticket_for(core, cast, "shop", "Order late")
    user = InboundUser(id="u-one", name="Room 1")
    said = await ingest(core, cast.shop, inbound(cast.shop, user=user, text="room 1 is cold"))
    await indexed(core)
    numbered = await token_api.get("/search", params={"q": "#1"})
    assert ids(numbered) == {"conversations": [], "tickets": [first], "customers": []}
    assert numbered.json()["ticket_number"] == 1
    assert numbered.json()["more"] == {"conversations": False, "tickets": False, "customers": False}
    plain = await token_api.get("/search", params={"q": "1"})
    assert said.conversation.id in ids(plain)["conversations"]
    assert len(ids(plain)["customers"]) == 1 and plain.json()["ticket_number"] is None
    assert (await token_api.get("/search", params={"q": "＃１"})).json()["ticket_number"] == 1
    assert (await token_api.get("/search", params={"q": "#1 cold"})).json()["ticket_number"] is None

    admin = await browser("admin")
    page = await admin.http.get("/app/search", params={"q": "#1"})
    assert "“#1” is a ticket number: only tickets are searched." in page.text
    assert page.text.count('class="hint">Not searched for a ticket number.<') == 2
    assert 'href="/app/tickets?q=%231"' in page.text
    assert "/app?q=" not in page.text and "/app/contacts?q=" not in page.text
    missing = await admin.http.get("/app/search", params={"q": "#99"})
    assert "No ticket numbered “#99” that you may see." in missing.text
    zh = await admin.http.get(
        "/app/search", params={"q": "#1"}, headers={"Accept-Language": "zh-CN"}
    )
    assert "“#1”是工单编号，只查找工单。" in zh.text
    assert zh.text.count('class="hint">按工单编号查找时不查找此项。<') == 2


async def test_one_chinese_character_finds_conversations_everywhere_q_is_read(
    core: Core,
    cast: Cast,  # noqa: F811
    token_api: httpx.AsyncClient,
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    """ "退" finds the conversation that asked 我要退款 (its pair 退款 starts with it), here,
    in the inbox's list and in the REST list; its customer too by name (李 of 李雷), and the
    ticket about 退款 in Find and the Tickets list."""
    user = InboundUser(id="u-li", name="李雷")
    said = await ingest(core, cast.shop, inbound(cast.shop, user=user, text="我要退款，谢谢"))
    refund = await ticket_for(core, cast, "shop", "退款")
    await ticket_for(core, cast, "shop", "发票")
    await indexed(core)
    found = ids(await token_api.get("/search", params={"q": "退"}))
    assert found["conversations"] == [said.conversation.id]
    assert found["tickets"] == [refund]
    assert ids(await token_api.get("/search", params={"q": "李"}))["customers"] != []
    listed = await token_api.get("/conversations", params={"q": "退"})
    assert [c["id"] for c in listed.json()["items"]] == [said.conversation.id]
    alice = await browser("alice")
    inbox = await alice.api("GET", "/conversations", params={"q": "退", "status": "any"})
    assert [c["id"] for c in inbox.json()["items"]] == [said.conversation.id]
    assert ids(await alice.api("GET", "/search", params={"q": "换"})) == {g: [] for g in GROUPS}
    tickets = await alice.api("GET", "/tickets", params={"q": "退"})
    assert [t["id"] for t in tickets.json()["items"]] == [refund]


async def test_one_chinese_character_finds_it_where_it_ends_a_run(
    core: Core,
    cast: Cast,  # noqa: F811
    token_api: httpx.AsyncClient,
) -> None:
    """Regression (left in the twenty-fourth session): "退" did not find 我要退 or a ticket
    about 我想退: no pair starts with a run's last character. Text keeps it as a term now."""
    user = InboundUser(id="u-li", name="李雷")
    said = await ingest(core, cast.shop, inbound(cast.shop, user=user, text="这个我要退！"))
    wanted = await ticket_for(core, cast, "shop", "我想退")
    await ticket_for(core, cast, "shop", "发票")
    await indexed(core)
    found = ids(await token_api.get("/search", params={"q": "退"}))
    assert (found["conversations"], found["tickets"]) == ([said.conversation.id], [wanted])
    assert ids(await token_api.get("/search", params={"q": "我要退"}))["conversations"] == [
        said.conversation.id
    ]


async def test_a_conversation_shows_the_newest_message_holding_the_words(
    core: Core,
    cast: Cast,  # noqa: F811
    token_api: httpx.AsyncClient,
) -> None:
    """A conversation found by older words shows the message that holds them, from a little
    before them (not its last message, which says nothing of why it was found); a note never
    shows, and a conversation found by its customer's name shows its last message."""
    lamp = (
        "Hello there, I bought a lamp from you last week and it arrived broken in several "
        "pieces, so I would like a REFUND please, or a new one sent out as soon as you can."
    )
    said = await ingest(core, cast.shop, inbound(cast.shop, text=lamp))
    await ingest(core, cast.shop, inbound(cast.shop, text="我想退款，谢谢"))
    conversation = said.conversation
    agent = Author(kind=AuthorKind.agent, name="Alice")
    await send(core, conversation, OutboundContent(text="refund approved", private=True), agent)
    await send(core, conversation, OutboundContent(text="Anything else today?"), agent)
    await indexed(core)

    def snippet(answer: httpx.Response) -> str:
        assert ids(answer)["conversations"] == [conversation.id]
        return str(answer.json()["conversations"][0]["snippet"])

    refund = snippet(await token_api.get("/search", params={"q": "refund"}))
    assert refund.startswith("…broken in several pieces, so I would like a REFUND please")
    assert snippet(await token_api.get("/search", params={"q": "退"})) == "我想退款，谢谢"
    assert snippet(await token_api.get("/search", params={"q": "lamp week"})) == around(lamp, [])
    by_name = snippet(await token_api.get("/search", params={"q": "lovelace"}))
    assert by_name == "Anything else today?"
