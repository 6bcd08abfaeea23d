"""What a new Kith app costs before it answers: building it, then its first request.

FastAPI prepares an app's routes (each parameter's and answer's validator) when the app
first matches a request. Kith's routes are one app per process (`kith.web.surface`), which
every `create_app` wraps, so only a process's first app pays. Each of `--apps` rounds builds
an app on one started core (every feature installed, sentiment off) and times its first and
second `GET /healthz` (process CPU and wall): the first round alone, the others' medians.
Baseline, same run: a bare FastAPI app including a router of as many plain routes (one
optional query parameter each), built and asked alike, which pays on every app.

    python bench/app_start.py [--apps 5] [--mongo-uri URI]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import announce, emit, run_settings, running, store_name, store_option
from kith.web.app import bot_step_types, build_core, create_app
from kith.web.surface import routes_app


def plain_router(routes: int) -> APIRouter:
    """`routes` GET routes taking one query parameter each."""
    router = APIRouter()
    for n in range(routes):

        async def read(q: str | None = None) -> dict[str, str | None]:
            return {"q": q}

        router.get(f"/r{n}")(read)
    return router


def bare_app(router: APIRouter) -> FastAPI:
    """`router` included (as Kith's routers are) and `/healthz` after it."""
    app = FastAPI()
    app.include_router(router, prefix="/api")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def operations(routes: Sequence[BaseRoute]) -> int:
    """How many routes an app serves, those of included routers counted one by one."""
    return sum(
        operations(route.original_router.routes) if hasattr(route, "original_router") else 1
        for route in routes
    )


async def asked(make: Callable[[], FastAPI]) -> tuple[float, float, float, float]:
    """Milliseconds: the build's CPU, the first request's CPU and wall, the second's CPU."""
    cpu = time.process_time()
    app = make()
    built = time.process_time() - cpu
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        cpu, wall = time.process_time(), time.perf_counter()
        assert (await http.get("/healthz")).status_code == 200
        first, first_wall = time.process_time() - cpu, time.perf_counter() - wall
        cpu = time.process_time()
        assert (await http.get("/healthz")).status_code == 200
        second = time.process_time() - cpu
    return built * 1000, first * 1000, first_wall * 1000, second * 1000


def median(rows: list[tuple[float, ...]], column: int) -> float:
    return round(statistics.median(row[column] for row in rows), 1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=5, help="at least 2")
    store_option(parser)
    args = parser.parse_args()
    announce(args)
    settings = run_settings(args.mongo_uri, nlp_enabled=False)
    async with running(build_core(settings)) as core:
        routes = operations(routes_app(core, bot_step_types(core.features)).routes)
        router = plain_router(routes)
        kith = [await asked(lambda: create_app(core=core, run_workers=False))]
        bare = [await asked(lambda: bare_app(router))]
        for _ in range(args.apps - 1):  # alternating, so both see the machine alike
            kith.append(await asked(lambda: create_app(core=core, run_workers=False)))
            bare.append(await asked(lambda: bare_app(router)))
    first, later = kith[:1], kith[1:]
    for name, rows in (
        ("Kith, the process's first app", first),
        ("Kith, each later app", later),
        (f"bare app, {routes} routes, each app", bare),
    ):
        print(
            f"{name}: build {median(rows, 0)} ms CPU, first request {median(rows, 1)} ms CPU "
            f"({median(rows, 2)} ms wall), second {median(rows, 3)} ms CPU "
            f"(median of {len(rows)})"
        )
    emit(
        {
            "bench": "app_start",
            "store": store_name(args.mongo_uri),
            "apps": args.apps,
            "routes": routes,
            "first_app_first_request_cpu_ms": median(first, 1),
            "later_app_build_cpu_ms": median(later, 0),
            "later_app_first_request_cpu_ms": median(later, 1),
            "later_app_second_request_cpu_ms": median(later, 3),
            "baseline_build_cpu_ms": median(bare, 0),
            "baseline_first_request_cpu_ms": median(bare, 1),
            "baseline_second_request_cpu_ms": median(bare, 3),
        }
    )


if __name__ == "__main__":
    asyncio.run(main())
