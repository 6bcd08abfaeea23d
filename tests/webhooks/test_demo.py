"""The demo's receiver: subscribed to every event, it verifies what Kith sends with the
standardwebhooks library and lists it; a forged delivery is refused and shown as such."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from kith.core.consumers import ConsumerWorker
from kith.core.context import Core
from kith.core.models import Channel
from kith.core.pipeline import ingest
from kith.web.demo import DemoLogins, banner
from kith.webhooks.actions import do_rotate_secret
from kith.webhooks.demo import PATH, DemoReceiver
from kith.webhooks.store import deliveries
from kith.webhooks.worker import DeliveryWorker
from tests.support.cast import inbound


async def test_the_demo_receiver_verifies_what_kith_sends(
    hooked: Core, workspace_id: str, channel: Channel
) -> None:
    receiver = DemoReceiver()
    await receiver.subscribe(hooked, workspace_id, f"http://127.0.0.1:8000{PATH}")
    app = FastAPI()
    app.include_router(receiver.router())
    await hooked.http.aclose()  # the demo app serves the receiver itself: reach it in process
    hooked.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    await ingest(hooked, channel, inbound(channel, "ada", "hello <b>"))
    await ConsumerWorker(hooked).drain()
    await DeliveryWorker(hooked).drain()
    kinds = sorted(a.type for a in receiver.arrivals)
    assert kinds == ["customer.created", "message.created"]
    assert all(a.verified for a in receiver.arrivals)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://d") as c:
        forged = await c.post(
            PATH,
            content=b'{"type": "<script>"}',
            headers={"webhook-id": "<x>", "webhook-timestamp": "1", "webhook-signature": "v1,AA=="},
        )
        assert forged.status_code == 400
        page = (await c.get(PATH)).text
    assert "message.created" in page and "&lt;x&gt;" in page and "<x>" not in page
    assert "bad signature" in page and "verified" in page
    assert PATH in banner("http://127.0.0.1:8000", DemoLogins("t", "c", "ct", "pw", None))


async def test_the_demo_receiver_keeps_verifying_after_its_secret_is_rotated(
    hooked: Core, workspace_id: str, channel: Channel
) -> None:
    """Regression (QA sequences #6): it kept the secret it subscribed with, so once the
    previous secret's day of grace ended (here: two rotations), every delivery failed."""
    receiver = DemoReceiver()
    await receiver.subscribe(hooked, workspace_id, f"http://127.0.0.1:8000{PATH}")
    assert receiver.endpoint_id is not None
    for _ in range(2):
        await do_rotate_secret(hooked, workspace_id, receiver.endpoint_id)
    app = FastAPI()
    app.include_router(receiver.router())
    await hooked.http.aclose()
    hooked.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    await ingest(hooked, channel, inbound(channel, "ada", "after the rotation"))
    await ConsumerWorker(hooked).drain()
    await DeliveryWorker(hooked).drain()
    assert len(receiver.arrivals) == 2 and all(a.verified for a in receiver.arrivals)
    failed = await deliveries(hooked).count_documents({"status": {"$ne": "succeeded"}})
    assert failed == 0
