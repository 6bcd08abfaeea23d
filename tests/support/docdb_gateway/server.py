"""The gateway proper: MongoDB commands in, DocumentDB SQL calls out.

Design notes (why it looks the way it does):
- Handshake and session bookkeeping (hello, ping, buildInfo, endSessions, transactions) are
  answered here; everything that touches data is one call into ``documentdb_api``.
- Replies from DocumentDB are passed on as the raw BSON it produced; only write-error codes are
  rewritten, because DocumentDB reports them as packed SQLSTATEs, not MongoDB codes.
- Cursors live in a table shared by every client socket, because drivers may send getMore on
  another pooled connection than the one that opened the cursor.
- A transaction owns one PostgreSQL connection (REPEATABLE READ, i.e. snapshot isolation as in
  MongoDB) from startTransaction to commit or abort.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import bson
import psycopg
from bson.int64 import Int64
from psycopg.pq import TransactionStatus

from . import errors, rawbson, wire
from .pg import Pool, fetchone

log = logging.getLogger("docdb_gateway")

MAX_WIRE_VERSION = 21  # MongoDB 7.0
SERVER_VERSION = "7.0.0"
MAX_BSON = 16 * 1024 * 1024
CURSOR_IDLE_SECONDS = 600  # MongoDB's cursorTimeoutMillis default
TXN_LIFETIME_SECONDS = 60  # MongoDB's transactionLifetimeLimitSeconds default

# Fields that belong to the driver's envelope (session, routing, API version), not to the
# command DocumentDB executes.
ENVELOPE = frozenset(
    {
        "$db",
        "lsid",
        "txnNumber",
        "autocommit",
        "startTransaction",
        "$clusterTime",
        "$readPreference",
        "readConcern",
        "apiVersion",
        "apiStrict",
        "apiDeprecationErrors",
    }
)

TRANSIENT_LABEL = "TransientTransactionError"
WRITE_CONFLICT_RETRIES = 5

# One statement per DocumentDB entry point; names come from these fixed tuples, never from input.
_WRITE_SQL = {
    name: "SELECT documentdb_core.bson_to_bytea(p_result), p_success FROM documentdb_api."  # noqa: S608
    + name
    + "(%s, documentdb_core.bson_from_bytea(%b), documentdb_core.bsonsequence_from_bytea(%b),"
    " NULL)"
    for name in ("insert", "update", "delete")
}
_FIRST_PAGE_SQL = {
    name: "SELECT documentdb_core.bson_to_bytea(cursorpage),"  # noqa: S608
    " documentdb_core.bson_to_bytea(continuation), persistconnection, cursorid"
    " FROM documentdb_api." + name + "(%s, documentdb_core.bson_from_bytea(%b), %s::bigint)"
    for name in (
        "find_cursor_first_page",
        "aggregate_cursor_first_page",
        "list_indexes_cursor_first_page",
        "list_collections_cursor_first_page",
    )
}
_DOCUMENT_SQL = {
    name: "SELECT documentdb_core.bson_to_bytea(document) FROM documentdb_api."  # noqa: S608
    + name
    + "(%s, documentdb_core.bson_from_bytea(%b))"
    for name in ("count_query", "distinct_query", "validate")
}


class CommandError(Exception):
    """An error reply in MongoDB's shape."""

    def __init__(self, code: int, code_name: str, errmsg: str, labels: tuple[str, ...] = ()):
        super().__init__(errmsg)
        self.code = code
        self.code_name = code_name
        self.errmsg = errmsg
        self.labels = labels

    def reply(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "ok": 0.0,
            "errmsg": self.errmsg,
            "code": self.code,
            "codeName": self.code_name,
        }
        if self.labels:
            doc["errorLabels"] = list(self.labels)
        return doc


def no_such_transaction(txn_number: int | None) -> CommandError:
    return CommandError(
        251,
        "NoSuchTransaction",
        f"Transaction with {{ txnNumber: {txn_number} }} has been aborted.",
        (TRANSIENT_LABEL,),
    )


class Command:
    """A client command: its raw top-level elements, decoded lazily."""

    def __init__(self, body: bytes, sequences: dict[str, list[bytes]], default_db: str = ""):
        self.elements = list(rawbson.iter_elements(body))
        if not self.elements:
            raise CommandError(9, "FailedToParse", "empty command")
        self.name = self.elements[0][0]
        self._raw = dict(self.elements)
        self.sequences = sequences
        self.db = self.get("$db", default_db)
        self.conn_id = 0  # the client socket's number, for hello

    def get(self, name: str, default: Any = None) -> Any:
        raw = self._raw.get(name)
        return default if raw is None else rawbson.decode_element(raw)

    def __contains__(self, name: str) -> bool:
        return name in self._raw

    @property
    def target(self) -> Any:
        """The value of the command's first field (usually the collection name)."""
        return self.get(self.name)

    def spec(self) -> bytes:
        """The command without the driver's envelope, as DocumentDB expects it."""
        return rawbson.make_doc([raw for name, raw in self.elements if name not in ENVELOPE])

    def sequence_bytes(self, name: str) -> bytes | None:
        docs = self.sequences.get(name)
        return b"".join(docs) if docs is not None else None

    @property
    def lsid_key(self) -> bytes | None:
        lsid = self.get("lsid")
        if not isinstance(lsid, dict) or "id" not in lsid:
            return None
        return bytes(lsid["id"])

    @property
    def in_transaction(self) -> bool:
        return self.get("autocommit") is False


@dataclass
class Txn:
    """A MongoDB transaction pinned to one PostgreSQL connection."""

    number: int
    conn: psycopg.AsyncConnection[Any] | None
    state: str = "active"  # active | committed | aborted
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_used: float = field(default_factory=time.monotonic)


@dataclass
class Cursor:
    """An open cursor: DocumentDB's continuation state, and a connection if it needs one."""

    db: str
    continuation: bytes
    pinned: psycopg.AsyncConnection[Any] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_used: float = field(default_factory=time.monotonic)


class _Lease:
    """The PostgreSQL connection a command runs on, and whether it may be kept by a cursor."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], txn: Txn | None, pool: Pool) -> None:
        self.conn = conn
        self.txn = txn
        self.pool = pool
        self.detached = False

    async def detach(self) -> psycopg.AsyncConnection[Any]:
        self.detached = True
        await self.pool.detach(self.conn)
        return self.conn


def _cursor_id(page: bytes) -> int:
    """cursor.id of a cursor page, read without decoding the batch."""
    for name, raw in rawbson.iter_elements(page):
        if name == "cursor":
            sub = raw[raw.index(b"\x00", 1) + 1 :]
            for inner, value in rawbson.iter_elements(sub):
                if inner == "id":
                    return int(rawbson.decode_element(value))
    return 0


class Gateway:
    """Command dispatch, cursor table and session table."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.cursors: dict[int, Cursor] = {}
        self.txns: dict[bytes, Txn] = {}
        self._conn_ids = itertools.count(1)
        self._request_ids = itertools.count(1)
        self._handlers: dict[str, Callable[[Command], Awaitable[bytes | dict[str, Any]]]] = {
            "hello": self.hello,
            "isMaster": self.hello,
            "ismaster": self.hello,
            "ping": self.ping,
            "buildInfo": self.build_info,
            "buildinfo": self.build_info,
            "getParameter": self.get_parameter,
            "connectionStatus": self.connection_status,
            "whatsmyuri": self.whatsmyuri,
            "endSessions": self.end_sessions,
            "killSessions": self.end_sessions,
            "commitTransaction": self.commit_transaction,
            "abortTransaction": self.abort_transaction,
            "listDatabases": self.list_databases,
            "insert": self.insert,
            "update": self.update,
            "delete": self.delete,
            "find": self.find,
            "aggregate": self.aggregate,
            "getMore": self.get_more,
            "killCursors": self.kill_cursors,
            "count": self.count,
            "distinct": self.distinct,
            "findAndModify": self.find_and_modify,
            "findandmodify": self.find_and_modify,
            "createIndexes": self.create_indexes,
            "listIndexes": self.list_indexes,
            "dropIndexes": self.drop_indexes,
            "deleteIndexes": self.drop_indexes,
            "listCollections": self.list_collections,
            "create": self.create,
            "drop": self.drop,
            "dropDatabase": self.drop_database,
            "renameCollection": self.rename_collection,
            "collMod": self.coll_mod,
            "collStats": self.coll_stats,
            "dbStats": self.db_stats,
            "validate": self.validate,
        }

    # ------------------------------------------------------------------ connection handling

    async def handle_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve one client socket: requests are answered in order, as mongod does."""
        conn_id = next(self._conn_ids)
        try:
            while True:
                req = await wire.read_request(reader)
                if req is None:
                    break
                reply = await self.execute(req, conn_id)
                if req.more_to_come:
                    continue
                rid = next(self._request_ids)
                if req.opcode == wire.OP_QUERY:
                    writer.write(wire.encode_reply(req.request_id, rid, reply))
                else:
                    writer.write(wire.encode_msg(req.request_id, rid, reply))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except wire.ProtocolError as exc:
            log.warning("connection %d: protocol error: %s", conn_id, exc)
        finally:
            writer.close()

    async def execute(self, req: wire.Request, conn_id: int) -> bytes:
        """Run one request and return the encoded reply document."""
        cmd: Command | None = None
        try:
            body, default_db = req.body, ""
            if req.opcode == wire.OP_QUERY:
                default_db = req.legacy_collection.split(".", 1)[0]
                query = bson.decode(body)
                if "$query" in query:
                    body = bson.encode(query["$query"])
            cmd = Command(body, req.sequences, default_db)
            cmd.conn_id = conn_id
            handler = self._handlers.get(cmd.name)
            if handler is None:
                raise CommandError(59, "CommandNotFound", f"no such command: '{cmd.name}'")
            result = await handler(cmd)
        except CommandError as exc:
            result = exc.reply()
        except psycopg.Error as exc:
            result = self._pg_error(exc, cmd)
        except Exception as exc:
            log.exception("internal error")
            result = CommandError(1, "InternalError", f"gateway: {exc!r}").reply()
        return result if isinstance(result, bytes) else bson.encode(result)

    def _pg_error(self, exc: psycopg.Error, cmd: Command | None) -> dict[str, Any]:
        state = exc.sqlstate or ""
        diag_msg = exc.diag.message_primary if exc.sqlstate else None
        code, name, msg = errors.describe(state, diag_msg or str(exc).strip())
        in_txn = cmd is not None and cmd.in_transaction
        labels = (TRANSIENT_LABEL,) if in_txn and state in errors.TRANSIENT else ()
        log.info("command %s failed: %s %s", cmd.name if cmd else "?", state, msg)
        return CommandError(code, name, msg, labels).reply()

    # ------------------------------------------------------------------ sessions

    @asynccontextmanager
    async def lease(self, cmd: Command) -> AsyncIterator[_Lease]:
        """The connection ``cmd`` must run on: its transaction's, or one from the pool."""
        if not cmd.in_transaction:
            conn = await self.pool.acquire()
            lease = _Lease(conn, None, self.pool)
            try:
                yield lease
            finally:
                if not lease.detached:
                    await self.pool.release(conn)
            return
        txn = await self._transaction_for(cmd)
        async with txn.lock:
            if txn.state != "active" or txn.conn is None:
                raise no_such_transaction(txn.number)
            txn.last_used = time.monotonic()
            try:
                yield _Lease(txn.conn, txn, self.pool)
            except psycopg.Error:
                # MongoDB aborts a transaction on any error inside it.
                await self._finish(txn, "ROLLBACK", "aborted")
                raise

    async def _transaction_for(self, cmd: Command) -> Txn:
        key = cmd.lsid_key
        number = cmd.get("txnNumber")
        if key is None or number is None:
            raise CommandError(
                72, "InvalidOptions", "'autocommit' requires an lsid and a txnNumber"
            )
        txn = self.txns.get(key)
        if cmd.get("startTransaction"):
            if txn is not None and txn.number >= number and txn.state != "aborted":
                raise CommandError(
                    225,
                    "TransactionTooOld",
                    f"txnNumber {number} is not newer than {txn.number}",
                )
            if txn is not None and txn.state == "active":
                async with txn.lock:
                    await self._finish(txn, "ROLLBACK", "aborted")
            conn = await self.pool.acquire()
            await self.pool.detach(conn)
            try:
                await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                # As DocumentDB's own gateway: a conflicting write fails fast (WriteConflict)
                # instead of waiting for the other transaction, like MongoDB.
                await conn.execute("SET LOCAL lock_timeout = '20ms'")
            except BaseException:
                await self.pool.adopt(conn)
                raise
            txn = Txn(number, conn)
            self.txns[key] = txn
            return txn
        if txn is None or txn.number != number:
            raise no_such_transaction(number)
        return txn

    async def _finish(self, txn: Txn, sql: str, state: str) -> None:
        """COMMIT or ROLLBACK a transaction and give its connection back (lock held)."""
        conn, txn.conn = txn.conn, None
        txn.state = state
        if conn is None:
            return
        try:
            if not conn.closed:
                await conn.execute(sql)
        finally:
            if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
                with contextlib.suppress(psycopg.Error):
                    await conn.execute("ROLLBACK")
            await self.pool.adopt(conn)

    async def commit_transaction(self, cmd: Command) -> dict[str, Any]:
        txn = self.txns.get(cmd.lsid_key or b"")
        number = cmd.get("txnNumber")
        if txn is None or txn.number != number:
            raise no_such_transaction(number)
        async with txn.lock:
            if txn.state == "committed":
                return {"ok": 1.0}  # a retried commit
            if txn.state != "active":
                raise no_such_transaction(number)
            try:
                await self._finish(txn, "COMMIT", "committed")
            except psycopg.Error as exc:
                txn.state = "aborted"
                reply = self._pg_error(exc, cmd)
                reply.setdefault("errorLabels", [TRANSIENT_LABEL])
                return reply
        return {"ok": 1.0}

    async def abort_transaction(self, cmd: Command) -> dict[str, Any]:
        txn = self.txns.get(cmd.lsid_key or b"")
        number = cmd.get("txnNumber")
        if txn is None or txn.number != number:
            raise no_such_transaction(number)
        async with txn.lock:
            if txn.state == "committed":
                raise CommandError(
                    256, "TransactionCommitted", "Cannot abort a committed transaction"
                )
            if txn.state != "active":
                raise no_such_transaction(number)
            await self._finish(txn, "ROLLBACK", "aborted")
        return {"ok": 1.0}

    async def end_sessions(self, cmd: Command) -> dict[str, Any]:
        lsids = cmd.target if isinstance(cmd.target, list) else []
        for lsid in lsids:
            key = bytes(lsid.get("id", b"")) if isinstance(lsid, dict) else b""
            txn = self.txns.pop(key, None)
            if txn is not None and txn.state == "active":
                async with txn.lock:
                    await self._finish(txn, "ROLLBACK", "aborted")
        return {"ok": 1.0}

    async def reap(self) -> None:
        """Expire idle cursors and over-long transactions, as mongod does, so nothing leaks."""
        while True:
            await asyncio.sleep(5)
            now = time.monotonic()
            for cid, cur in list(self.cursors.items()):
                if now - cur.last_used > CURSOR_IDLE_SECONDS and not cur.lock.locked():
                    await self._close_cursor(cid)
            for key, txn in list(self.txns.items()):
                if txn.state != "active":
                    if now - txn.last_used > CURSOR_IDLE_SECONDS:
                        self.txns.pop(key, None)
                elif now - txn.last_used > TXN_LIFETIME_SECONDS and not txn.lock.locked():
                    async with txn.lock:
                        log.info("aborting transaction %d: lifetime exceeded", txn.number)
                        await self._finish(txn, "ROLLBACK", "aborted")

    # ------------------------------------------------------------------ local commands

    async def hello(self, cmd: Command) -> dict[str, Any]:
        # No setName (a standalone: no change streams) and no topologyVersion (so drivers
        # poll instead of holding awaitable hello requests open).
        reply: dict[str, Any] = {
            "isWritablePrimary": True,
            "maxBsonObjectSize": MAX_BSON,
            "maxMessageSizeBytes": wire.MAX_MESSAGE,
            "maxWriteBatchSize": 100000,
            "localTime": datetime.datetime.now(datetime.UTC),
            "logicalSessionTimeoutMinutes": 30,
            "connectionId": cmd.conn_id,
            "minWireVersion": 0,
            "maxWireVersion": MAX_WIRE_VERSION,
            "readOnly": False,
            "ok": 1.0,
        }
        if cmd.name != "hello":
            reply["ismaster"] = True
        if cmd.get("helloOk"):
            reply["helloOk"] = True
        return reply

    async def ping(self, cmd: Command) -> dict[str, Any]:
        return {"ok": 1.0}

    async def build_info(self, cmd: Command) -> dict[str, Any]:
        return {
            "version": SERVER_VERSION,
            "versionArray": [7, 0, 0, 0],
            "gitVersion": "documentdb-gateway",
            "bits": 64,
            "maxBsonObjectSize": MAX_BSON,
            "storageEngines": ["documentdb"],
            "documentdb": True,
            "ok": 1.0,
        }

    async def get_parameter(self, cmd: Command) -> dict[str, Any]:
        reply: dict[str, Any] = {"ok": 1.0}
        if cmd.get("featureCompatibilityVersion") is not None or cmd.target == "*":
            reply["featureCompatibilityVersion"] = {"version": "7.0"}
        if len(reply) == 1:
            raise CommandError(72, "InvalidOptions", "no option found to get")
        return reply

    async def connection_status(self, cmd: Command) -> dict[str, Any]:
        return {"authInfo": {"authenticatedUsers": [], "authenticatedUserRoles": []}, "ok": 1.0}

    async def whatsmyuri(self, cmd: Command) -> dict[str, Any]:
        return {"you": "127.0.0.1:0", "ok": 1.0}

    # ------------------------------------------------------------------ writes

    async def _write(self, cmd: Command, func: str, seq_name: str) -> bytes:
        seq = cmd.sequence_bytes(seq_name)
        async with self.lease(cmd) as lease:
            for attempt in range(WRITE_CONFLICT_RETRIES + 1):
                args = (cmd.db, cmd.spec(), seq)
                result, _ok = await fetchone(lease.conn, _WRITE_SQL[func], args)
                fixed, codes = _fix_write_errors(result)
                if not _unwritten_conflict(lease.txn, codes, fixed):
                    break
                log.info("write conflict outside a transaction; retrying (%d)", attempt + 1)
            if codes and lease.txn is not None:
                # MongoDB aborts the transaction when a write in it fails, and reports a write
                # conflict as a command error labelled transient (drivers retry on the label);
                # DocumentDB reports the lock timeout as a per-document write error.
                await self._finish(lease.txn, "ROLLBACK", "aborted")
                if 112 in codes:
                    raise CommandError(
                        112,
                        "WriteConflict",
                        "Write conflict during plan execution and yielding is disabled.",
                        (TRANSIENT_LABEL,),
                    )
            return fixed

    async def insert(self, cmd: Command) -> bytes:
        return await self._write(cmd, "insert", "documents")

    async def update(self, cmd: Command) -> bytes:
        return await self._write(cmd, "update", "updates")

    async def delete(self, cmd: Command) -> bytes:
        return await self._write(cmd, "delete", "deletes")

    async def find_and_modify(self, cmd: Command) -> bytes:
        async with self.lease(cmd) as lease:
            result, _ok = await fetchone(
                lease.conn,
                "SELECT documentdb_core.bson_to_bytea(p_result), p_success"
                " FROM documentdb_api.find_and_modify(%s, documentdb_core.bson_from_bytea(%b),"
                " NULL)",
                (cmd.db, cmd.spec()),
            )
            return result

    # ------------------------------------------------------------------ cursors

    async def _first_page(self, cmd: Command, func: str) -> bytes:
        cursor_id = secrets.randbits(62) + 1
        async with self.lease(cmd) as lease:
            page, continuation, persist, _ = await fetchone(
                lease.conn, _FIRST_PAGE_SQL[func], (cmd.db, cmd.spec(), cursor_id)
            )
            cid = _cursor_id(page)
            if cid:
                # DocumentDB keeps this cursor's state in the PostgreSQL session: every getMore
                # must run on the same connection.
                pinned = await lease.detach() if persist and lease.txn is None else None
                self.cursors[cid] = Cursor(cmd.db, continuation or b"", pinned)
        return page

    async def find(self, cmd: Command) -> bytes:
        return await self._first_page(cmd, "find_cursor_first_page")

    async def aggregate(self, cmd: Command) -> bytes:
        return await self._first_page(cmd, "aggregate_cursor_first_page")

    async def list_indexes(self, cmd: Command) -> bytes:
        return await self._first_page(cmd, "list_indexes_cursor_first_page")

    async def list_collections(self, cmd: Command) -> bytes:
        return await self._first_page(cmd, "list_collections_cursor_first_page")

    async def get_more(self, cmd: Command) -> bytes:
        cid = int(cmd.target)
        cur = self.cursors.get(cid)
        if cur is None:
            raise CommandError(43, "CursorNotFound", f"cursor id {cid} not found")
        async with cur.lock:
            if self.cursors.get(cid) is not cur:
                raise CommandError(43, "CursorNotFound", f"cursor id {cid} not found")
            cur.last_used = time.monotonic()
            sql = (
                "SELECT documentdb_core.bson_to_bytea(cursorpage),"
                " documentdb_core.bson_to_bytea(continuation)"
                " FROM documentdb_api.cursor_get_more(%s, documentdb_core.bson_from_bytea(%b),"
                " documentdb_core.bson_from_bytea(%b))"
            )
            params = (cur.db, cmd.spec(), cur.continuation)
            try:
                if cur.pinned is not None:
                    page, continuation = await fetchone(cur.pinned, sql, params)
                else:
                    async with self.lease(cmd) as lease:
                        page, continuation = await fetchone(lease.conn, sql, params)
            except psycopg.Error:
                await self._close_cursor(cid)
                raise
            cur.continuation = continuation or b""
            if _cursor_id(page) == 0:
                await self._close_cursor(cid)
        return page

    async def _close_cursor(self, cid: int) -> bool:
        """Forget a cursor; a pinned connection drops the session's open portals and goes back."""
        cur = self.cursors.pop(cid, None)
        if cur is None:
            return False
        if cur.pinned is not None:
            conn, cur.pinned = cur.pinned, None
            if not conn.closed:
                with contextlib.suppress(psycopg.Error):
                    await conn.execute("CLOSE ALL")
            await self.pool.adopt(conn)
        return True

    async def kill_cursors(self, cmd: Command) -> dict[str, Any]:
        killed, missing = [], []
        for cid in cmd.get("cursors") or []:
            cur = self.cursors.get(int(cid))
            if cur is None:
                missing.append(Int64(cid))
                continue
            async with cur.lock:
                await self._close_cursor(int(cid))
            killed.append(Int64(cid))
        return {
            "cursorsKilled": killed,
            "cursorsNotFound": missing,
            "cursorsAlive": [],
            "cursorsUnknown": [],
            "ok": 1.0,
        }

    # ------------------------------------------------------------------ single-result reads

    async def _document(self, cmd: Command, func: str) -> bytes:
        async with self.lease(cmd) as lease:
            (doc,) = await fetchone(lease.conn, _DOCUMENT_SQL[func], (cmd.db, cmd.spec()))
            return doc

    async def count(self, cmd: Command) -> bytes:
        return await self._document(cmd, "count_query")

    async def distinct(self, cmd: Command) -> bytes:
        return await self._document(cmd, "distinct_query")

    async def validate(self, cmd: Command) -> bytes:
        return await self._document(cmd, "validate")

    async def list_databases(self, cmd: Command) -> bytes:
        async with self.lease(cmd) as lease:
            (doc,) = await fetchone(
                lease.conn,
                "SELECT documentdb_core.bson_to_bytea(documentdb_api.list_databases("
                "documentdb_core.bson_from_bytea(%b)))",
                (cmd.spec(),),
            )
            return doc

    async def coll_stats(self, cmd: Command) -> bytes:
        async with self.lease(cmd) as lease:
            (doc,) = await fetchone(
                lease.conn,
                "SELECT documentdb_core.bson_to_bytea(documentdb_api.coll_stats(%s, %s, %s))",
                (cmd.db, cmd.target, float(cmd.get("scale", 1))),
            )
            return doc

    async def db_stats(self, cmd: Command) -> bytes:
        async with self.lease(cmd) as lease:
            (doc,) = await fetchone(
                lease.conn,
                "SELECT documentdb_core.bson_to_bytea(documentdb_api.db_stats(%s, %s, %s))",
                (cmd.db, float(cmd.get("scale", 1)), bool(cmd.get("freeStorage", False))),
            )
            return doc

    # ------------------------------------------------------------------ DDL

    async def create_indexes(self, cmd: Command) -> dict[str, Any] | bytes:
        # Synchronous build: create_indexes_background only queues the work, and a unique
        # index would not be enforced until the background job ran.
        async with self.lease(cmd) as lease:
            (raw,) = await fetchone(
                lease.conn,
                "SELECT documentdb_core.bson_to_bytea("
                "documentdb_api_internal.create_indexes_non_concurrently("
                "%s, documentdb_core.bson_from_bytea(%b), true))",
                (cmd.db, cmd.spec()),
            )
        result = bson.decode(raw, rawbson.CODEC)
        shard = (result.get("raw") or {}).get("defaultShard")
        if isinstance(shard, dict):
            result = {**shard, "ok": result.get("ok", shard.get("ok", 1))}
        if not result.get("ok") and isinstance(result.get("code"), int):
            code = result["code"]
            if code >= 1 << 24:
                mapped = errors.mongo_code(errors.unpack_sqlstate(code))
                if mapped:
                    result["code"], result["codeName"] = mapped
        result["ok"] = float(result.get("ok", 0))
        return result

    async def drop_indexes(self, cmd: Command) -> bytes:
        async with self.lease(cmd) as lease:
            (retval,) = await fetchone(
                lease.conn,
                "CALL documentdb_api.drop_indexes(%s, documentdb_core.bson_from_bytea(%b), NULL)",
                (cmd.db, cmd.spec()),
            )
        return _to_bytes(retval)

    async def create(self, cmd: Command) -> bytes:
        async with self.lease(cmd) as lease:
            (doc,) = await fetchone(
                lease.conn,
                "SELECT documentdb_core.bson_to_bytea(documentdb_api.create_collection_view("
                "%s, documentdb_core.bson_from_bytea(%b)))",
                (cmd.db, cmd.spec()),
            )
            return doc

    async def drop(self, cmd: Command) -> dict[str, Any]:
        async with self.lease(cmd) as lease:
            await fetchone(
                lease.conn, "SELECT documentdb_api.drop_collection(%s, %s)", (cmd.db, cmd.target)
            )
        return {"ns": f"{cmd.db}.{cmd.target}", "ok": 1.0}

    async def drop_database(self, cmd: Command) -> dict[str, Any]:
        async with self.lease(cmd) as lease:
            await fetchone(lease.conn, "SELECT documentdb_api.drop_database(%s)", (cmd.db,))
        return {"dropped": cmd.db, "ok": 1.0}

    async def rename_collection(self, cmd: Command) -> bytes:
        async with self.lease(cmd) as lease:
            (doc,) = await fetchone(
                lease.conn,
                "SELECT documentdb_core.bson_to_bytea(documentdb_api.rename_collection("
                "documentdb_core.bson_from_bytea(%b)))",
                (cmd.spec(),),
            )
            return doc

    async def coll_mod(self, cmd: Command) -> bytes:
        async with self.lease(cmd) as lease:
            (doc,) = await fetchone(
                lease.conn,
                "SELECT documentdb_core.bson_to_bytea(documentdb_api.coll_mod(%s, %s,"
                " documentdb_core.bson_from_bytea(%b)))",
                (cmd.db, cmd.target, cmd.spec()),
            )
            return doc


def _to_bytes(value: Any) -> bytes:
    """A bson column fetched without bson_to_bytea (CALL results): psycopg gives raw bytes."""
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, bytes):
        return value
    raise TypeError(f"unexpected bson column value {type(value)!r}")


def _unwritten_conflict(txn: Any, codes: set[int], result: bytes) -> bool:
    """A write outside a transaction that PostgreSQL aborted on a deadlock or serialization
    failure before writing anything. MongoDB retries such conflicts inside the server and
    never reports them for a plain write, so the gateway runs the command again."""
    if txn is not None or codes != {112}:
        return False
    counts = dict(rawbson.iter_elements(result))
    return "n" in counts and rawbson.decode_element(counts["n"]) == 0


def _fix_write_errors(result: bytes) -> tuple[bytes, set[int]]:
    """Rewrite writeErrors[].code from DocumentDB's packed SQLSTATEs to MongoDB codes.

    Returns the new result and the set of MongoDB codes it carries (empty: no write errors).
    """
    elements = list(rawbson.iter_elements(result))
    if not any(name == "writeErrors" for name, _ in elements):
        return result, set()
    codes: set[int] = set()
    out = []
    for name, raw in elements:
        if name == "writeErrors":
            items = rawbson.decode_element(raw)
            for item in items:
                code = item.get("code")
                if isinstance(code, int):
                    state = errors.unpack_sqlstate(code)
                    item["code"], _name, item["errmsg"] = errors.describe(
                        state, item.get("errmsg", "")
                    )
                codes.add(item.get("code", 1))
            raw = rawbson.element("writeErrors", items)
        out.append(raw)
    return rawbson.make_doc(out), codes


async def serve(host: str, port: int, conninfo: str, pool_size: int) -> None:
    """Listen until cancelled."""
    pool = Pool(conninfo, pool_size)
    conn = await pool.acquire()  # fail fast if PostgreSQL is not there
    await pool.release(conn)
    gateway = Gateway(pool)
    reaper = asyncio.create_task(gateway.reap())
    server = await asyncio.start_server(gateway.handle_client, host, port, backlog=512)
    log.info("listening on %s:%d", host, port)
    try:
        async with server:
            await server.serve_forever()
    finally:
        reaper.cancel()
        await pool.close()
