"""A small pool of psycopg async connections to the DocumentDB PostgreSQL.

psycopg_pool would add a dependency for a few dozen lines; the gateway's needs are simple:
hand out an autocommit connection, take it back, drop it if it is broken or left mid-transaction.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

# DocumentDB's own gateway runs with this search path; some internal SQL relies on it.
_OPTIONS = "-c search_path=documentdb_api_catalog,documentdb_api,public"


class Pool:
    """At most ``size`` connections, created lazily, shared by all client sockets."""

    def __init__(self, conninfo: str, size: int) -> None:
        self._conninfo = conninfo
        self._size = size
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._count = 0
        self._cond = asyncio.Condition()

    async def acquire(self) -> psycopg.AsyncConnection[Any]:
        """A connection in autocommit mode; wait if all are busy."""
        async with self._cond:
            while not self._idle and self._count >= self._size:
                await self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            return await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, options=_OPTIONS
            )
        except BaseException:
            async with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    async def release(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Return a connection; a broken or mid-transaction one is closed instead."""
        healthy = not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
        if not healthy:
            await conn.close()
        async with self._cond:
            if healthy:
                self._idle.append(conn)
            else:
                self._count -= 1
            self._cond.notify()

    async def detach(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Take a connection out of the pool for good (a transaction's or a cursor's).

        Its slot is freed at once, so sessions holding connections cannot starve the pool.
        """
        async with self._cond:
            self._count -= 1
            self._cond.notify()

    async def adopt(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Give back a detached connection: kept if healthy and there is room, else closed."""
        healthy = not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
        async with self._cond:
            if healthy and self._count < self._size:
                self._count += 1
                self._idle.append(conn)
                self._cond.notify()
                return
        await conn.close()

    async def close(self) -> None:
        """Close the idle connections (busy ones close when released after shutdown)."""
        async with self._cond:
            idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()


async def fetchone(
    conn: psycopg.AsyncConnection[Any], sql: str, params: tuple[Any, ...] = ()
) -> tuple[Any, ...]:
    """Run one statement and return its single row; bytea columns come back as bytes."""
    cur = conn.cursor(binary=True)
    await cur.execute(sql, params)
    row = await cur.fetchone()
    if row is None:
        raise RuntimeError(f"no row from: {sql}")
    return row
