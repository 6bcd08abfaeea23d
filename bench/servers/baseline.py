"""The HTTP baseline: a bare FastAPI endpoint that parses the same body and does one
`insert_one` on the same store. Prints a fake "<channel id> <token>" line like Kith's."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

from fastapi import FastAPI
from pydantic import BaseModel

from bench.common import serve_app
from kith.core.settings import get_settings
from kith.core.storage import Store


class Body(BaseModel):
    message_id: str
    user: dict[str, str]
    text: str


async def main(port: int) -> None:
    settings = get_settings()
    store = Store.from_settings(settings)
    app = FastAPI()
    coll = store.db["bench_baseline"]

    @app.post("/webhooks/api/{channel_id}")
    async def receive(channel_id: str, body: Body) -> dict[str, str]:
        doc = {"_id": uuid.uuid4().hex[:24], "channel_id": channel_id, **body.model_dump()}
        doc["created_at"] = time.time()
        await coll.insert_one(doc)
        return {"message_id": doc["_id"]}

    print("bench", "token", flush=True)
    try:
        await serve_app(app, port)
    finally:
        await store.client.drop_database(settings.db_name)
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
