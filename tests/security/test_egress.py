"""Outbound connections (SSRF): a destination a user configures reaches no private address.

Every spelling of a loopback, private, link-local, carrier-grade NAT, unique-local,
multicast or metadata address is refused after resolution, with one message that says
nothing of the target; a name is looked up once and the connection goes to the address that
was checked; `KITH_EGRESS_ALLOW` opens named CIDRs and hosts, and nothing else.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import pytest

from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.egress import (
    REFUSED,
    EgressPolicy,
    EgressRefused,
    Resolver,
    aiohttp_session,
    checked_url,
    http_client,
    open_socket,
)
from kith.core.errors import InvalidInput
from kith.core.models import Author, AuthorKind, InboundUser, OutboundContent
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from tests.support.cast import inbound
from tests.support.endpoints import Endpoint, serving

STRICT = EgressPolicy()  # KITH_EGRESS_ALLOW unset
AGENT = Author(kind=AuthorKind.agent, id="agent-1", name="Sam")

# Each one is where the callbacks and webhooks went, or where they could go next.
CORPUS = [
    # loopback, in every spelling getaddrinfo accepts
    "127.0.0.1",
    "127.1",
    "127.0.1",
    "127.255.255.254",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0x7f.0.0.1",
    "0177.0.0.1",  # octal
    "0177.1",
    "017700000001",
    "localhost",
    "LOCALHOST",
    "localhost.",
    "::1",
    "[::1]",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",  # IPv4-mapped IPv6
    "::ffff:7f00:1",
    "::127.0.0.1",  # IPv4-compatible IPv6
    "2002:7f00:1::1",  # 6to4 around loopback
    "64:ff9b::7f00:1",  # NAT64 around loopback
    # unspecified: reaches this host on most systems
    "0.0.0.0",  # noqa: S104  # a destination here, not an address to listen on
    "0",
    "::",
    # private networks
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "::ffff:10.0.0.1",
    # link-local and cloud metadata
    "169.254.169.254",
    "2852039166",  # the same, decimal
    "0xa9fea9fe",  # the same, hex
    "0251.0376.0251.0376",  # the same, octal
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "fe80::1",
    "fd00:ec2::254",  # AWS metadata over IPv6 (unique-local)
    # carrier-grade NAT (Alibaba Cloud's metadata is 100.100.100.200)
    "100.64.0.1",
    "100.100.100.200",
    # unique-local, site-local
    "fc00::1",
    "fd12:3456:789a::1",
    "fec0::1",
    # multicast, broadcast, reserved, special-purpose
    "224.0.0.1",
    "239.255.255.250",
    "ff02::1",
    "255.255.255.255",
    "240.0.0.1",
    "198.18.0.1",
    "192.0.0.8",
    "192.0.2.1",
    "2001:db8::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo (client 192.0.2.45)
]


@pytest.mark.parametrize("host", CORPUS)
async def test_every_spelling_of_a_private_destination_is_refused(host: str) -> None:
    with pytest.raises(EgressRefused) as refused:
        await STRICT.check(host, 80)
    assert str(refused.value) == REFUSED


def test_the_corpus_is_big_enough() -> None:
    assert len(set(CORPUS)) >= 30


def resolver(answers: dict[str, list[str]], calls: list[str] | None = None) -> Resolver:
    """A DNS at the network boundary: each name answers the given addresses."""

    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise OSError("no such name")
        return answers[host]

    return resolve


DNS = {
    "internal.shop.test": ["10.1.2.3"],
    "metadata.shop.test": ["169.254.169.254"],
    "mixed.shop.test": ["93.184.216.34", "127.0.0.1"],
    "mapped.shop.test": ["::ffff:192.168.0.1"],
    "public.shop.test": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "erp.internal": ["10.0.0.5"],
}


@pytest.mark.parametrize(
    "host",
    ["internal.shop.test", "metadata.shop.test", "mixed.shop.test", "mapped.shop.test", "nx.test"],
)
async def test_names_are_judged_by_every_address_they_resolve_to(host: str) -> None:
    policy = EgressPolicy(resolve=resolver(DNS))
    with pytest.raises(EgressRefused, match=f"^{REFUSED}$"):
        await policy.check(host, 443)


async def test_public_names_and_addresses_pass() -> None:
    policy = EgressPolicy(resolve=resolver(DNS))
    assert await policy.check("public.shop.test", 443) == DNS["public.shop.test"]
    assert await STRICT.check("93.184.216.34", 443) == ["93.184.216.34"]
    assert await STRICT.check("2606:4700:4700::1111", 443) == ["2606:4700:4700::1111"]


async def test_the_allow_list_opens_named_networks_and_hosts_only() -> None:
    policy = EgressPolicy.parse("127.0.0.0/8, ::1, erp.internal", resolve=resolver(DNS))
    assert await policy.check("erp.internal", 443) == ["10.0.0.5"]
    assert await policy.check("ERP.internal.", 443) == ["10.0.0.5"]
    for host in ("internal.shop.test", "metadata.shop.test"):  # 10.x, but not by this name
        with pytest.raises(EgressRefused):
            await policy.check(host, 443)
    loopback = EgressPolicy.parse("127.0.0.0/8,::1")
    assert await loopback.check("2130706433", 80) == ["127.0.0.1"]
    assert await loopback.check("::ffff:127.0.0.1", 80) == ["::ffff:7f00:1"]
    for host in ("10.0.0.1", "169.254.169.254", "fc00::1"):
        with pytest.raises(EgressRefused):
            await loopback.check(host, 80)


def test_unset_means_nothing_private_and_the_variable_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KITH_EGRESS_ALLOW", raising=False)
    assert EgressPolicy.from_settings(Settings(_env_file=None)) == STRICT  # type: ignore[call-arg]
    monkeypatch.setenv("KITH_EGRESS_ALLOW", "10.20.0.0/16,erp.local")
    policy = EgressPolicy.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert [str(n) for n in policy.networks] == ["10.20.0.0/16"]
    assert policy.names == {"erp.local"}


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    async with serving(Endpoint("ok")) as served:
        yield served


async def test_an_open_and_a_closed_port_fail_alike(endpoint: Endpoint) -> None:
    """No status, no timing: the refusal comes before a packet is sent."""
    port = int(endpoint.url.split(":")[2].split("/")[0])
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    closed = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    async with http_client(STRICT) as http:
        errors = []
        for target in (port, closed):
            for host in ("127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]"):
                with pytest.raises(EgressRefused) as refused:
                    await http.post(f"http://{host}:{target}/kith", json={"probe": 1})
                errors.append(str(refused.value))
    assert set(errors) == {REFUSED}
    assert endpoint.received == []


async def test_a_name_is_resolved_once_and_the_connection_goes_to_that_address(
    endpoint: Endpoint,
) -> None:
    """DNS rebinding needs a second lookup at connect time; there is none."""
    port = endpoint.url.split(":")[2]
    calls: list[str] = []
    answers = {"svc.shop.test": ["127.0.0.1"]}
    policy = EgressPolicy.parse("127.0.0.0/8", resolve=resolver(answers, calls))
    async with http_client(policy) as http:
        answer = await http.post(f"http://svc.shop.test:{port}", json={"n": 1})
        assert answer.status_code == 200
        answers["svc.shop.test"] = ["10.0.0.1"]  # the name rebinds: new connections see it
        answer = await http.post(f"http://svc.shop.test:{port}", json={"n": 2})  # pooled
    assert calls == ["svc.shop.test"]
    assert endpoint.received == [{"n": 1}, {"n": 2}]
    async with http_client(policy) as http:
        with pytest.raises(EgressRefused):
            await http.post(f"http://svc.shop.test:{port}", json={"n": 3})
    assert len(endpoint.received) == 2


async def test_answers_are_capped(endpoint: Endpoint) -> None:
    endpoint.mode = "big_undeclared"
    policy = dataclasses.replace(EgressPolicy.parse("127.0.0.0/8"), max_response_bytes=10_000)
    async with http_client(policy) as http:
        with pytest.raises(Exception, match="larger than 10000 bytes"):
            await http.post(endpoint.url, json={})


async def test_aiohttp_and_raw_sockets_are_guarded_too(endpoint: Endpoint) -> None:
    """Slack's client (aiohttp) and the mail clients (IMAP, SMTP) share the same check."""
    port = int(endpoint.url.split(":")[2].split("/")[0])
    for host in ("127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]"):
        async with aiohttp_session(STRICT) as session:
            with pytest.raises(aiohttp.ClientConnectorError) as failed:
                await session.post(f"http://{host}:{port}/kith", json={})
        assert isinstance(failed.value.os_error, EgressRefused)
        with pytest.raises(EgressRefused):
            await open_socket(STRICT, host.strip("[]"), port)
    assert endpoint.received == []
    allowed = EgressPolicy.parse("127.0.0.0/8")
    async with aiohttp_session(allowed) as session:
        async with session.post(f"http://localhost:{port}/kith", json={"ok": 1}) as answer:
            assert answer.status == 200
    sock = await open_socket(allowed, "127.0.0.1", port)
    sock.close()
    assert endpoint.received == [{"ok": 1}]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433"])
async def test_an_api_channel_callback_to_loopback_fails_without_reaching_it(
    core: Core, workspace_id: str, endpoint: Endpoint, host: str
) -> None:
    """The issue's report: `callback_url` reached 127.0.0.1, localhost and 2130706433."""
    unset = core.settings.model_copy(update={"egress_allow": None})
    strict = dataclasses.replace(core, settings=unset, http=None)  # type: ignore[arg-type]
    async with strict.http:
        url = endpoint.url.replace("127.0.0.1", host)
        channel, _ = await create_channel(strict, workspace_id, "api", "API", {"callback_url": url})
        user = InboundUser(id="ada")
        talk = (await ingest(strict, channel, inbound(channel, user=user))).conversation
        reply = await send(strict, talk, OutboundContent(text="hi"), AGENT)
        await OutboxWorker(strict).run_once()
    delivery = (await core.store.messages.find_one({"_id": reply.id}))["delivery"]
    assert delivery["status"] == "failed", delivery
    assert delivery["error"] == f"callback {REFUSED}"
    assert endpoint.received == []


async def test_a_url_given_to_call_is_checked_in_one_place_naming_its_field(core: Core) -> None:
    """`checked_url`: what webhook endpoints and sequences' webhook steps accept."""
    assert await checked_url(core, "  http://127.0.0.1:8080/hook ", "x") == (
        "http://127.0.0.1:8080/hook"
    )
    refused = {
        "ftp://example.com/x": "an http:// or https:// URL with a host",
        "not a url": "an http:// or https:// URL with a host",
        "http://[::1/x": "not a URL",
        "http://user:pw@127.0.0.1/x": "no user or password in the URL",
    }
    for url, why in refused.items():
        with pytest.raises(InvalidInput) as error:
            await checked_url(core, url, "steps.3.url")
        assert (error.value.field, error.value.message) == ("steps.3.url", why)
    with pytest.raises(InvalidInput) as private:
        await checked_url(core, "http://169.254.169.254/latest", "url")
    assert (private.value.field, private.value.code) == ("url", "egress_refused")
