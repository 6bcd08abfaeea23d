"""Fixtures for the DocumentDB gateway tests: clients on KITH_TEST_MONGO_URI, one database each.

These tests check the test tooling itself (tests/support/docdb_gateway behind
tests/support/realmongo), so they only run when a real server's URI is given.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from pymongo import AsyncMongoClient, MongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.synchronous.database import Database

URI = os.environ.get("KITH_TEST_MONGO_URI") or None


@pytest.fixture
def gw_uri() -> str:
    if not URI:
        pytest.skip("KITH_TEST_MONGO_URI is unset (start one with: tests/support/realmongo up)")
    return URI


@pytest.fixture
def gw_client(gw_uri: str) -> Iterator[MongoClient]:
    client: MongoClient = MongoClient(gw_uri, serverSelectionTimeoutMS=5000)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def gw_db(gw_client: MongoClient) -> Iterator[Database]:
    """A fresh database, dropped after the test."""
    name = f"gw_{uuid.uuid4().hex[:12]}"
    try:
        yield gw_client[name]
    finally:
        gw_client.drop_database(name)


@pytest.fixture
async def gw_aclient(gw_uri: str) -> AsyncIterator[AsyncMongoClient]:
    client: AsyncMongoClient = AsyncMongoClient(gw_uri, serverSelectionTimeoutMS=5000)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def gw_adb(gw_aclient: AsyncMongoClient) -> AsyncIterator[AsyncDatabase]:
    """A fresh database for the async client, dropped after the test."""
    name = f"gw_{uuid.uuid4().hex[:12]}"
    try:
        yield gw_aclient[name]
    finally:
        await gw_aclient.drop_database(name)
