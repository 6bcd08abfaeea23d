"""`GET /api/v1/conversations?q=`: the same search as the inbox's, within the token's
workspace."""

from __future__ import annotations

from kith.core.context import Core
from tests.api.conftest import ApiSetup
from tests.support.consumers import indexed


async def test_search_by_words_chinese_and_names_within_the_workspace(
    api: ApiSetup, other_api: ApiSetup, core: Core
) -> None:
    assert (await api.say("u-wang", "我要退款谢谢", message_id="m1")).status_code < 300
    assert (await api.say("u-ada", "Where is my parcel?", message_id="m2")).status_code < 300
    assert (await other_api.say("u-x", "退款", message_id="m3")).status_code < 300
    await indexed(core)  # the search consumer, a moment after ingest in `kith serve`

    async def search(q: str, **params: object) -> list[str]:
        answer = await api.http.get(
            "/api/v1/conversations", params={"q": q, **params}, headers=api.auth
        )
        assert answer.status_code == 200, answer.text
        return [c["external_user_id"] for c in answer.json()["items"]]

    assert await search("退款") == ["u-wang"]  # not the other workspace's
    assert await search("PARCEL") == ["u-ada"]
    assert await search("parcel", status="resolved") == []  # with the other filters
    assert await search('{"$gt": ""}') == []
    assert await search(".*") == []
    too_long = await api.http.get(
        "/api/v1/conversations", params={"q": "x" * 201}, headers=api.auth
    )
    assert too_long.status_code == 422
