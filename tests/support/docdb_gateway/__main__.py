"""Command line: ``python -m docdb_gateway --host 127.0.0.1 --port 27117 --pg CONNINFO``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from .server import serve


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="docdb_gateway", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=27117)
    parser.add_argument(
        "--pg",
        default="host=127.0.0.1 port=54339 user=postgres dbname=postgres",
        help="libpq connection string of the DocumentDB PostgreSQL",
    )
    parser.add_argument("--pool-size", type=int, default=32, help="PostgreSQL connections")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    # psycopg reports DocumentDB's NOTICEs ("creating collection") at INFO: too chatty.
    logging.getLogger("psycopg").setLevel(logging.WARNING)

    async def run() -> None:
        task = asyncio.create_task(serve(args.host, args.port, args.pg, args.pool_size))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())


if __name__ == "__main__":
    main()
