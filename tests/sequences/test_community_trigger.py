"""The "joined a community" trigger names a community of the workspace (both lanes): one that
is not there, or another workspace's, is refused at save naming the trigger's value, as a
segment trigger's segment is; one that is there is saved, and a join into it enrols."""

from __future__ import annotations

import copy

import httpx

from kith.communities.models import Community
from kith.communities.store import communities
from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.workspaces import create_workspace
from tests.sequences.conftest import WELCOME, MakeSequence, People
from tests.sequences.test_triggers import enrolled
from tests.support.cast import api_token
from tests.support.consumers import drain

SEQUENCES = "/api/v1/sequences"


async def community(core: Core, workspace_id: str, title: str, chat: str) -> Community:
    """A group the workspace's Telegram bot is in, as the roster stores it."""
    now = core.clock.now()
    made = Community(
        id=f"community-{chat}",
        workspace_id=workspace_id,
        channel_id="telegram-channel",
        channel_type="telegram",
        platform_chat_id=chat,
        title=title,
        kind="supergroup",
        conversation_id=f"conversation-{chat}",
        member_count=3,
        created_at=now,
        updated_at=now,
    )
    await communities(core).insert_one(made.to_doc())
    return made


def joined(value: str) -> dict[str, object]:
    return {**copy.deepcopy(WELCOME), "triggers": [{"kind": "community_joined", "value": value}]}


async def test_a_community_trigger_names_a_community_of_the_workspace(
    score: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    auth = {"authorization": f"Bearer {await api_token(score, workspace_id)}"}
    club = await community(score, workspace_id, "Kettle Owners Club · 水壶俱乐部", "-1001")
    other = await create_workspace(score, "Elsewhere")
    theirs = await community(score, other.id, "Their group", "-2002")
    for value in ("nope", theirs.id):
        answer = await client.post(SEQUENCES, json=joined(value), headers=auth)
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert (error["field"], error["reason"]) == ("triggers.0.value", "no_community"), value
        assert error["message"] == "no such community in this workspace"
    made = await client.post(SEQUENCES, json=joined(club.id), headers=auth)
    assert made.status_code == 201, made.text
    assert made.json()["triggers"] == [{"kind": "community_joined", "value": club.id}]
    # Editing keeps the check: a community gone since is refused at the next save.
    await communities(score).delete_one({"_id": club.id})
    base = f"{SEQUENCES}/{made.json()['id']}"
    again = await client.put(base, json=joined(club.id), headers=auth)
    assert again.status_code == 422, again.text
    assert again.json()["error"]["field"] == "triggers.0.value"


async def test_joining_the_community_enrols(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    club = await community(score, workspace_id, "Kettle Owners Club", "-1001")
    sequence = await make_sequence(triggers=[{"kind": "community_joined", "value": club.id}])
    (ada,) = await people(1)
    data = {"community_id": club.id}
    event = build_event(
        score, workspace_id, "community.member_joined", customer_id=ada.id, data=data
    )
    await record(score, event)
    await drain(score)
    [enrolment] = await enrolled(score, sequence.id)
    assert (enrolment.customer_id, enrolment.source) == (ada.id, f"community_joined:{club.id}")
