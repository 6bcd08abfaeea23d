"""Teams: groups of agents and the channels they answer (Chatwoot's teams and inboxes).

An agent sees the conversations of their teams' channels, and those handed to one of their
teams. Membership lives on the user (`User.team_ids`), so reading a user's scope is one read.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput, NotFound
from kith.core.events import build_event, record
from kith.core.ids import new_id
from kith.core.models import Author, Conversation
from kith.core.storage import existing_ids


class Team(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(validation_alias=AliasChoices("_id", "id"))
    workspace_id: str
    name: str
    channel_ids: list[str] = []


async def create_team(
    core: Core,
    workspace_id: str,
    name: str,
    channel_ids: list[str] | None = None,
    member_ids: Sequence[str] = (),
) -> Team:
    """A team with its channels and members, all checked before it is written. A name
    another team of the workspace has (in any case or width) is a 409 on `name`."""
    name = _team_name(name)
    await _refuse_taken_name(core, workspace_id, name)
    channel_ids = await _existing_channels(core, workspace_id, channel_ids or [])
    members = await existing_ids(
        core.store.users, workspace_id, list(member_ids), "member_ids", "user"
    )
    doc = {
        "_id": new_id(),
        "workspace_id": workspace_id,
        "name": name,
        "name_key": name_key(name),
        "channel_ids": channel_ids,
        "created_at": core.clock.now(),
    }
    try:
        await core.store.teams.insert_one(doc)
    except DuplicateKeyError:  # another admin took the name a moment ago
        raise _name_taken() from None
    if members:
        await core.store.users.update_many(
            {"_id": {"$in": members}, "workspace_id": workspace_id},
            {"$addToSet": {"team_ids": doc["_id"]}},
        )
    return Team.model_validate(doc)


async def _existing_channels(core: Core, workspace_id: str, channel_ids: list[str]) -> list[str]:
    wanted = list(dict.fromkeys(channel_ids))
    found = await core.store.channels.distinct(
        "_id", {"_id": {"$in": wanted}, "workspace_id": workspace_id}
    )
    missing = [c for c in wanted if c not in set(found)]
    if missing:
        raise InvalidInput("no such channel in this workspace", field="channel_ids")
    return wanted


async def get_team(core: Core, workspace_id: str, team_id: str) -> Team:
    doc = await core.store.teams.find_one({"_id": team_id, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such team", field="team_id")
    return Team.model_validate(doc)


async def list_teams(core: Core, workspace_id: str) -> list[Team]:
    docs = await core.store.teams.find({"workspace_id": workspace_id}).sort("name", 1).to_list(None)
    return [Team.model_validate(d) for d in docs]


def name_key(name: str) -> str:
    """A team's name folded for comparison: "Website support", "WEBSITE SUPPORT" and its
    full-width spelling are one name (NFKC folds width, casefold folds case and ß)."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _name_taken() -> Conflict:
    return Conflict(
        "another team has this name", field="name", code="name_taken", reason="name_taken"
    )


async def _refuse_taken_name(
    core: Core, workspace_id: str, name: str, team_id: str | None = None
) -> None:
    """The friendly check before writing; the unique index on (`workspace_id`, `name_key`)
    settles a race between two admins. Names are compared folded here too, so a team
    stored before `name_key` existed still counts."""
    docs = await core.store.teams.find({"workspace_id": workspace_id}, {"name": 1}).to_list(None)
    wanted = name_key(name)
    if any(d["_id"] != team_id and name_key(str(d.get("name", ""))) == wanted for d in docs):
        raise _name_taken()


def _team_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 128:
        raise InvalidInput("a team needs a name of 1 to 128 characters", field="name")
    return name


async def do_change_team(
    core: Core,
    workspace_id: str,
    team_id: str,
    *,
    name: str | None = None,
    add_member_ids: Sequence[str] = (),
    remove_member_ids: Sequence[str] = (),
    channel_ids: list[str] | None = None,
) -> Team:
    """Rename, change members and channels in one go: everything is checked before anything
    is written, so a bad id in the middle leaves the team as it was."""
    await get_team(core, workspace_id, team_id)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _team_name(name)
        changes["name_key"] = name_key(changes["name"])
        await _refuse_taken_name(core, workspace_id, changes["name"], team_id)
    if channel_ids is not None:
        changes["channel_ids"] = await _existing_channels(core, workspace_id, channel_ids)
    adding = await existing_ids(
        core.store.users, workspace_id, list(add_member_ids), "add_member_ids", "user"
    )
    removing = await existing_ids(
        core.store.users, workspace_id, list(remove_member_ids), "remove_member_ids", "user"
    )
    if changes:
        try:
            await core.store.teams.update_one({"_id": team_id}, {"$set": changes})
        except DuplicateKeyError:
            raise _name_taken() from None
    if adding:
        await core.store.users.update_many(
            {"_id": {"$in": adding}, "workspace_id": workspace_id},
            {"$addToSet": {"team_ids": team_id}},
        )
    if removing:
        await core.store.users.update_many(
            {"_id": {"$in": removing}, "workspace_id": workspace_id},
            {"$pull": {"team_ids": team_id}},
        )
    return await get_team(core, workspace_id, team_id)


async def add_member(core: Core, workspace_id: str, team_id: str, user_id: str) -> None:
    await get_team(core, workspace_id, team_id)
    result = await core.store.users.update_one(
        {"_id": user_id, "workspace_id": workspace_id}, {"$addToSet": {"team_ids": team_id}}
    )
    if not result.matched_count:
        raise NotFound("no such user", field="user_id")


async def channels_of_teams(core: Core, workspace_id: str, team_ids: list[str]) -> set[str]:
    if not team_ids:
        return set()
    docs = await core.store.teams.find(
        {"_id": {"$in": team_ids}, "workspace_id": workspace_id}, {"channel_ids": 1}
    ).to_list(None)
    return {c for d in docs for c in d.get("channel_ids", [])}


async def ensure_team(core: Core, workspace_id: str, team_id: str) -> None:
    """A team named in a request body: one not in the workspace is a 422 on `team_id` (the
    thing changed exists; the body named what does not)."""
    try:
        await get_team(core, workspace_id, team_id)
    except NotFound:
        raise InvalidInput(
            "no such team in this workspace", field="team_id", reason="no_team"
        ) from None


async def do_hand_to_team(
    core: Core, conversation: Conversation, team_id: str | None, actor: Author
) -> Conversation:
    """Hand a conversation to a team (or take it back): its agents now see and answer it.
    An unknown team is a 422 on `team_id`, as an unknown assignee is."""
    if team_id is not None:
        await ensure_team(core, conversation.workspace_id, team_id)
    if team_id == conversation.team_id:
        return conversation
    await core.store.conversations.update_one(
        {"_id": conversation.id}, {"$set": {"team_id": team_id}}
    )
    data: dict[str, Any] = {"team_id": team_id}
    await record(
        core,
        build_event(
            core,
            conversation.workspace_id,
            "conversation.team_changed",
            actor=actor,
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            data=data,
        ),
    )
    return conversation.model_copy(update={"team_id": team_id})
