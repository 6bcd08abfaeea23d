"""`kith demo`: Kith on the embedded engine, seeded with sample data, ready to click through."""

from __future__ import annotations

import asyncio
import gc
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn

from kith.bots import examples
from kith.bots.flows import BotDefinition
from kith.bots.knowledge import ArticleIn
from kith.bots.store import save_article, save_bot
from kith.broadcasts.demo import seed_demo_broadcast, seed_demo_community_broadcast
from kith.communities.demo import (
    DemoBotApi,
    newcomer_arrives,
    seed_demo_activity,
    seed_demo_community,
    use_demo_bot_api,
)
from kith.communities.demo_join_requests import seed_demo_join_request
from kith.communities.demo_referrals import complete_demo_links
from kith.communities.models import Community
from kith.connectors.webchat.demo import seed_demo_answered_chats
from kith.contacts.demo_merges import seed_merge_suggestion
from kith.core.auth import create_api_token, create_user
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.conversations import do_update_conversation
from kith.core.customers import do_update_customer, get_customer
from kith.core.features import prepare
from kith.core.logs import setup_logging
from kith.core.models import (
    Author,
    AuthorKind,
    Channel,
    ConversationStatus,
    InboundMessage,
    InboundUser,
    OutboundContent,
    Priority,
    Role,
)
from kith.core.outbox import send
from kith.core.pipeline import ingest
from kith.core.settings import Settings, get_settings
from kith.core.teams import create_team
from kith.core.workspaces import ensure_default_workspace
from kith.courtesy.settings import CourtesySettings
from kith.courtesy.settings import save_settings as save_courtesy
from kith.orders.demo import seed_demo_orders
from kith.segments.reconcile import fill
from kith.segments.records import do_create_segment
from kith.sequences.demo import seed_demo_sequence
from kith.tickets.csat_demo import csat_lines, seed_demo_csat
from kith.tickets.demo import seed_demo_ticket_settings, seed_demo_tickets
from kith.tickets.sla_demo import seed_demo_sla
from kith.web.app import build_core, create_app
from kith.webhooks.demo import PATH as RECEIVER_PATH
from kith.webhooks.demo import DemoReceiver

DEMO_EMAIL = "agent@demo.kith"
MARKETER_EMAIL = "marketer@demo.kith"  # lands on Contacts, with a merge suggestion waiting
SUPPORT_EMAIL = "support@demo.kith"  # an agent of one team: the website's channels only
# Customers to import (Contacts → Import, the API or `kith customers import`): ~50 rows in
# Chinese and English, some VIPs in 上海, a few bad rows to show per-row errors.
# An hour of Kith's time per second, so a sequence's days pass while one watches
# (KITH_DEMO_CLOCK_SPEED overrides; shown in the pages' header).
DEMO_CLOCK_SPEED = 3600.0
NEWCOMER_AFTER_SECONDS = 30.0  # real seconds: the demo raid is over by then
SAMPLE_CONTACTS = Path(__file__).parent / "demo_data" / "contacts.csv"

SAMPLES: list[tuple[InboundUser, list[str], str | None, ConversationStatus]] = [
    (
        InboundUser(id="ada", name="Ada Lovelace", email="ada@example.com", locale="en"),
        ["Hi! My order #1042 hasn't arrived yet.", "It was due on Monday."],
        "So sorry about that, Ada. I'm checking with the courier now.",
        ConversationStatus.open,
    ),
    (
        InboundUser(id="lilei", name="李雷", phone="+8613800000000", locale="zh-CN"),
        ["你好，我想退货，衣服尺码不合适。"],
        None,
        ConversationStatus.open,
    ),
    (
        InboundUser(id="grace", name="Grace Hopper", email="grace@example.com", locale="en"),
        ["Do you ship to Berlin?"],
        "We do: 3 to 5 working days.",
        ConversationStatus.resolved,
    ),
    (
        InboundUser(id="tom", name="Tom <script>alert(1)</script>", locale="en"),
        ["This is the third time I ask. Terrible service <img src=x onerror=alert(1)>"],
        None,
        ConversationStatus.open,
    ),
]


@dataclass
class DemoLogins:
    api_token: str
    channel_id: str
    channel_token: str
    password: str
    webchat_id: str | None
    csat_ticket_id: str | None = None  # Ada's ticket, to solve and see the survey


async def seed(core: Core, settings: Settings) -> DemoLogins:
    """Sample customers and conversations on an API channel, plus the logins to use them."""
    workspace = await ensure_default_workspace(core, "Demo Shop")
    ws = workspace.id
    await seed_demo_ticket_settings(core, ws)  # before the samples: 李雷's 退货 opens a ticket
    await seed_demo_sla(core, ws)  # and it is under the demo's SLA policy
    api_token = await create_api_token(core, ws, "demo", token=settings.demo_token)
    password = settings.demo_password or secrets.token_urlsafe(9)
    await create_user(core, ws, DEMO_EMAIL, password, name="Demo Agent", role=Role.admin)
    await create_user(core, ws, MARKETER_EMAIL, password, name="Demo Marketer", role=Role.marketer)
    channel, channel_token = await create_channel(core, ws, "api", "Website API", {})
    webchat_id = None
    second_channel = channel
    if core.channels.get("webchat") is not None:
        look = {
            "title": "Demo Shop",
            "greeting": "Hi! Ask us anything.",
            "greeting_zh": "您好！有问题随时问我们。",
        }
        webchat, _ = await create_channel(core, ws, "webchat", "Shop website", look)
        webchat_id, second_channel = webchat.id, webchat
        await seed_demo_answered_chats(core, webchat)  # the widget's wait line has a figure
    agent = Author(kind=AuthorKind.agent, name="Demo Agent")
    clock = ManualClock(core.clock.now() - timedelta(hours=3))
    real_clock, core.clock = core.clock, clock
    try:
        for n, (user, texts, reply, status) in enumerate(SAMPLES):
            for i, text in enumerate(texts):
                clock.advance(600)
                received = await ingest(
                    core,
                    channel,
                    InboundMessage(
                        workspace_id=ws,
                        channel_id=channel.id,
                        channel_type="api",
                        channel_message_id=f"demo-{n}-{i}",
                        user=user,
                        text=text,
                    ),
                )
            if reply:
                clock.advance(120)
                await send(core, received.conversation, OutboundContent(text=reply), agent)
            if status != ConversationStatus.open or n == 3:
                await do_update_conversation(
                    core,
                    received.conversation,
                    status=status,
                    priority=Priority.high if n == 3 else None,
                )
        clock.advance(600)
        await seed_merge_suggestion(core, second_channel)
    finally:
        core.clock = real_clock
    website = [channel.id, *([webchat_id] if webchat_id else [])]
    await _install_bot(core, ws, website)
    await _seed_team(core, ws, website, password)
    await _seed_courtesy(core, ws, channel)
    await _seed_segments(core, ws, channel.id)
    await seed_demo_broadcast(core, ws)
    await seed_demo_sequence(core, ws)
    csat_ticket_id = await seed_demo_csat(core, ws, channel)
    await seed_demo_orders(core, ws, channel.id)
    await seed_demo_tickets(core, ws, channel.id)
    community = await seed_demo_community(core, ws)
    await seed_demo_activity(core, ws, community)
    await seed_demo_join_request(core, ws, community.id)
    await seed_demo_community_broadcast(core, ws, community)
    return DemoLogins(api_token, channel.id, channel_token, password, webchat_id, csat_ticket_id)


async def _seed_segments(core: Core, workspace_id: str, channel_id: str) -> None:
    """The segment "VIP in 上海": 李雷 is a VIP there; Ada lives there too, so tagging her
    `vip` in the inbox moves the segment's size."""
    cities = {"lilei": ("上海", ["vip"]), "ada": ("上海", [])}
    for external_id, (home, tags) in cities.items():
        identity = await core.store.identities.find_one(
            {"workspace_id": workspace_id, "channel_id": channel_id, "external_id": external_id}
        )
        if identity is None:
            continue
        customer = await get_customer(core, workspace_id, identity["customer_id"])
        await do_update_customer(core, customer, fields={"tags": tags}, attributes={"city": home})
    vip = {"field": "tags", "op": "contains", "value": "vip"}
    city = {"field": "attributes.city", "op": "eq", "value": "上海"}
    segment = await do_create_segment(core, workspace_id, "VIP in 上海", {"all": [vip, city]})
    await fill(core, segment)


async def _install_bot(core: Core, workspace_id: str, channel_ids: list[str]) -> None:
    """The shipped shop assistant on the demo's channels (installed after the sample
    conversations, which show agents at work), with its FAQ."""
    definition = {**examples.load("shop_assistant"), "channel_ids": channel_ids}
    await save_bot(core, workspace_id, BotDefinition.model_validate(definition))
    for article in examples.load("faq"):
        await save_article(core, workspace_id, ArticleIn.model_validate(article))


async def _seed_courtesy(core: Core, workspace_id: str, channel: Channel) -> None:
    """Marketing courtesy in the demo: the shop keeps Shanghai time, and Grace has answered
    STOP (the consent consumer revokes her consent and confirms once the workers run)."""
    await save_courtesy(core, workspace_id, CourtesySettings(timezone="Asia/Shanghai"))
    grace = SAMPLES[2][0]
    stop = InboundMessage.on(channel, channel_message_id="demo-stop", user=grace, text="STOP")
    await ingest(core, channel, stop)


async def _seed_team(core: Core, workspace_id: str, channel_ids: list[str], password: str) -> None:
    """A team-bound agent: the website's conversations in the inbox, no community (the demo
    groups are on Telegram), where the admin sees everything."""
    agent = await create_user(
        core, workspace_id, SUPPORT_EMAIL, password, name="Demo Support", role=Role.agent
    )
    await create_team(core, workspace_id, "Website support", channel_ids, [agent.id])


def banner(url: str, logins: DemoLogins) -> str:
    lines = [
        "",
        "Kith demo is running (embedded engine: nothing is kept when it stops).",
        f"  Inbox:        {url}/app    login {DEMO_EMAIL} / {logins.password}",
        f"  Contacts:     {url}/app/contacts    marketer {MARKETER_EMAIL} / {logins.password}",
        f"  One team:     {url}/app    agent {SUPPORT_EMAIL} / {logins.password} (team",
        '                "Website support": the API and widget conversations only, and no',
        "                community: the demo groups are on Telegram, not their team's channel)",
        f'  Segments:     {url}/app/segments    ("VIP in 上海": tag Ada vip in the inbox)',
        f"  Broadcasts:   {url}/app/broadcasts    (a draft to that segment; a customer who",
        "                answers 退订 or STOP is skipped by the next one; and a draft to two",
        "                communities: schedule it and read each group's post under its stats)",
        f'  Sequences:    {url}/app/sequences    ("Welcome · 欢迎", a draft: activate it and',
        '                enrol "VIP in 上海"; with the demo clock at an hour a second the tip goes',
        "                out on the second morning, 09:00 their time (a day, then until 09:00:",
        "                within a minute) and the coupon two days after the tip,",
        "                unless they replied: answer as 李雷 (kith chat below) to stop it; the",
        "                messages show in the inbox, the funnel on the sequence's page)",
        "  Orders:       in the inbox, 李雷's customer panel: mark his paid order shipped with a",
        "                tracking number and he is told in Chinese, or refund it with a reason;",
        "                or create one from any conversation (API: /api/v1/orders)",
        f"  Bots:         {url}/app/admin/bots    (edit the shop assistant in a form; ask the",
        '                widget "how many days until my tea gets here?" or a near miss for',
        '                "did you mean"; say 人工 and watch the wait line, then type a reply)',
        f"  Webhooks:     {url}/app/webhooks    (a receiver in this demo, {RECEIVER_PATH},",
        "                is subscribed to every event and verifies each signature: chat, then",
        "                read the delivery log there (Details: body, headers, signature),",
        "                or the arrivals on the receiver's page)",
        f"  Tickets:      {url}/app/tickets    (Grace's, pending; Tom's complaint, urgent:",
        "                move them on the Board; open one from a conversation's inbox panel;",
        "                reply to the customer from a ticket's page; Merge a duplicate there)",
        f"  Reports:      {url}/app/tickets/reports    (% SLA met, and satisfaction once a",
        "                ticket is solved and rated: Ada's, below; by team and agent, over",
        "                the last 7, 30 or 90 days)",
        f"  Find:         {url}/app/search?q=Grace    (conversations, tickets and customers in",
        "                one search; the account menu's first item on every page)",
        f"  Hours:        {url}/app/admin/hours    (the office calendar the SLA clocks count in,",
        "                its named holidays, and the quiet hours marketing waits out)",
        f"  SLA policies: {url}/app/admin/sla    (the demo's policy Standard: targets per",
        "                priority in hours and minutes; saved, its open tickets are retargeted)",
        f"  Communities:  {url}/app/communities    (Kettle Owners Club · 水壶俱乐部, a Telegram",
        "                group fed four weeks of recorded updates: roster, growth chart, settings;",
        "                post into it from its page and read the delivery on Broadcasts)",
        "                Its page also holds a join request (Zhang Wei 张伟, through the link",
        '                "Shop window poster"): approve or decline it there',
    ]
    if logins.webchat_id:
        lines.append(f"  Chat as a customer (web widget): {url}/demo/widget/{logins.webchat_id}")
    lines += [
        f"  API docs:     {url}/docs    API token: {logins.api_token}",
        *contacts_lines(url, logins.api_token),
        *csat_lines(url, logins.api_token, logins.csat_ticket_id),
        f"  API channel:  id {logins.channel_id}  token {logins.channel_token}",
        "  Chat as a customer from a terminal (in this checkout; an email address or phone",
        "  number you write is saved on your profile: the inbox's customer panel shows it):",
        f"    ./kith chat --url {url} --channel-id {logins.channel_id} "
        f"--channel-token {logins.channel_token}",
        "",
    ]
    return "\n".join(lines)


def contacts_lines(url: str, api_token: str) -> list[str]:
    """How to import the sample contacts: a file to pick on the Contacts page, or one call."""
    return [
        f"  Sample contacts to import: {SAMPLE_CONTACTS}",
        f"    curl --data-binary @{SAMPLE_CONTACTS} -H 'Content-Type: text/csv' "
        f"-H 'Authorization: Bearer {api_token}' {url}/api/v1/customers/import",
    ]


# Durations Kith measures on its clock that must still last real seconds when it runs fast:
# a lease shorter than a send would let a second claim send the message again, and a
# retry backoff would shrink into a burst.
REAL_SECONDS = (
    "outbox_lease_seconds",
    "broadcast_lease_seconds",
    "sequence_lease_seconds",
    "webhook_lease_seconds",
    "outbox_backoff_base",
    "outbox_backoff_max",
)


# Safety-net checks on a cron run as often in demo time as in real time: the segments'
# reconcile, every 10 minutes, read every customer five times a real second at an hour a
# second (a quarter of the demo's loop once 60,000 contacts were imported). Daily in the
# demo, unless set otherwise; membership itself follows each change at once.
DEMO_CRONS = {"segments_reconcile_cron": "0 3 * * *"}


def demo_settings(base: Settings, speed: float) -> Settings:
    """The demo's settings with its clock at `speed`, and the leases and retry delays read
    on that clock stretched by as much, so they keep their length in real seconds."""
    stretched = {name: getattr(base, name) * speed for name in REAL_SECONDS}
    defaults = Settings.model_fields
    crons = {k: v for k, v in DEMO_CRONS.items() if getattr(base, k) == defaults[k].default}
    return base.model_copy(update={"demo_clock_speed": speed, **stretched, **crons})


def demo_base(host: str, port: int) -> Settings:
    """The demo's settings before its clock: in memory, reached where it listens (its links,
    tracked and unsubscribe, use `host` and `port`), its loopback receiver allowed."""
    update = {"mongo_uri": None, "public_url": None, "host": host, "port": port}
    base = get_settings().model_copy(update=update)
    # The demo's own webhook receiver listens on loopback, which egress refuses by default.
    allow = ",".join(filter(None, (base.egress_allow, "127.0.0.1")))
    return base.model_copy(update={"egress_allow": allow})


async def run_demo(host: str, port: int) -> None:
    base = demo_base(host, port)
    settings = demo_settings(base, base.demo_clock_speed or DEMO_CLOCK_SPEED)
    setup_logging(settings.log_level, settings.log_json)
    core = build_core(settings)
    await core.start()
    models = asyncio.create_task(prepare(core))  # loads while the sample data is made
    logins = await seed(core, settings)
    receiver = DemoReceiver()
    workspace = await ensure_default_workspace(core)
    await receiver.subscribe(core, workspace.id, f"http://127.0.0.1:{port}{RECEIVER_PATH}")
    demo_bot = DemoBotApi()  # the demo group's bot talks to this instead of Telegram
    app = create_app(core=core, routers=(receiver.router(), demo_bot.router()))
    await use_demo_bot_api(core, workspace.id, f"http://127.0.0.1:{port}")
    config = uvicorn.Config(app, host=host, port=port, log_config=None)
    server = _Server(config)
    if not models.done():
        print("Loading the sentiment and language models…", flush=True)
    await models
    print(banner(f"http://{host}:{port}", logins), flush=True)
    newcomer = asyncio.create_task(_newcomer_after_the_raid(core, workspace.id))
    links = asyncio.create_task(_links_once_serving(core, workspace.id, server))
    try:
        await server.serve()
    finally:
        newcomer.cancel()
        links.cancel()
        await core.close()
        # The interpreter's collections at exit went through every object of the in-memory
        # store: ~10 s after a 60,000-contact import. Frozen objects are skipped; the embedded
        # engine keeps nothing on disk, so nothing is left unwritten.
        gc.freeze()


class _Server(uvicorn.Server):
    """uvicorn's server, saying when it listens (the demo's Bot API is on it)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.listening.set()


async def _links_once_serving(core: Core, workspace_id: str, server: _Server) -> None:
    """The seeded invite links get the demo Bot API's link as soon as the server answers."""
    await server.listening.wait()
    await complete_demo_links(core, workspace_id)


async def _newcomer_after_the_raid(core: Core, workspace_id: str) -> None:
    """A new member joins the demo group once its raid is over (demo hours pass in seconds)."""
    await asyncio.sleep(NEWCOMER_AFTER_SECONDS)
    doc = await core.store.collection("communities").find_one({"workspace_id": workspace_id})
    if doc is not None:
        await newcomer_arrives(core, Community.from_doc(doc))
