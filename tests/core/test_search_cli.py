"""`kith search reindex`: terms for documents stored without them, from a terminal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from typer.testing import CliRunner

from kith.core.settings import Settings, get_settings
from kith.web.cli import app

runner = CliRunner()


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_without_a_database_the_command_refuses(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.delenv("KITH_MONGO_URI", raising=False)
    result = runner.invoke(app, ["search", "reindex"])
    assert result.exit_code == 2 and "KITH_MONGO_URI" in result.output


@pytest.mark.realdb
def test_the_command_indexes_old_messages_and_customers(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    assert settings.mongo_uri is not None
    monkeypatch.setenv("KITH_MONGO_URI", settings.mongo_uri)
    monkeypatch.setenv("KITH_DB_NAME", settings.db_name)
    monkeypatch.setenv("KITH_SECRET_KEY", "kith-test-install-secret")
    with MongoClient(settings.mongo_uri, tz_aware=True) as client:
        db = client[settings.db_name]
        try:
            db.messages.insert_one({"_id": "m-old", "workspace_id": "w", "text": "我要退款"})
            db.customers.insert_one({"_id": "c-old", "workspace_id": "w", "name": "韩梅梅"})
            db.messages.update_one({"_id": "m-old"}, {"$set": {"conversation_id": "v-old"}})
            db.conversations.insert_one(
                {"_id": "v-old", "workspace_id": "w", "customer_id": "c-old"}
            )
            held = {"_id": "v-held", "workspace_id": "w", "terms": ["kettle", "lid"]}
            db.conversations.insert_one(held)  # terms kept in the conversation, as once
            result = runner.invoke(app, ["search", "reindex"])
            assert result.exit_code == 0, result.output
            assert "indexed 1 messages, 1 customers, 2 conversations" in result.output
            assert "退款" in db.messages.find_one({"_id": "m-old"})["terms"]
            assert "梅梅" in db.customers.find_one({"_id": "c-old"})["terms"]
            terms = db.conversation_terms
            found = terms.distinct("term", {"conversation_id": "v-old", "workspace_id": "w"})
            assert {"退款", "梅梅"} <= set(found)  # its message's and its customer's
            assert set(terms.distinct("term", {"conversation_id": "v-held"})) == {"kettle", "lid"}
            assert "terms" not in db.conversations.find_one({"_id": "v-held"})
            db.messages.update_one({"_id": "m-old"}, {"$set": {"terms": ["我要"]}})
            again = runner.invoke(app, ["search", "reindex", "--all"])
            assert again.exit_code == 0, again.output
            assert "indexed 1 messages, 1 customers, 1 conversations" in again.output
            assert "退款" in db.messages.find_one({"_id": "m-old"})["terms"]
        finally:
            client.drop_database(settings.db_name)
