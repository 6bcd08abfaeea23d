"""`kith demo` seeds tickets for the pages: Ada's open one (the survey's), one pending (its
clocks paused) and one urgent and open, each linked to the customer's conversation, and the
banner says where they are."""

from __future__ import annotations

from kith.core.settings import Settings
from kith.web.app import build_core
from kith.web.demo import banner, seed


async def test_the_demo_seeds_a_pending_and_an_urgent_open_ticket(settings: Settings) -> None:
    settings = settings.model_copy(
        update={
            "demo_token": "demo-token-for-tests",
            "demo_password": "pw-for-tests-1",
            "nlp_enabled": False,
        }
    )
    core = build_core(settings)
    await core.start()
    try:
        logins = await seed(core, settings)
        docs = await core.store.collection("tickets").find({}).sort("number", 1).to_list(None)
        assert [(d["number"], d["status"], d["priority"]) for d in docs] == [
            (1, "open", "normal"),  # Ada's, for the satisfaction survey (`csat_demo`)
            (2, "pending", "low"),
            (3, "open", "urgent"),
        ]
        for doc in docs:
            conversation = await core.store.conversations.find_one(
                {"_id": doc["conversation_ids"][0]}
            )
            assert conversation is not None
            assert conversation["customer_id"] == doc["customer_id"]
            assert doc["description"].startswith("> ")  # the customer's words, quoted
        assert "/app/tickets" in banner("http://127.0.0.1:8000", logins)
    finally:
        await core.store.client.drop_database(settings.db_name)
        await core.close()
