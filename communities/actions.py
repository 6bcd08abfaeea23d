"""Managers' changes to a community, recorded as `community.updated`.

A section given in part changes only the fields given, in nested rules too (the patch's
promise, "absent keeps the current"), and a per-language text only the languages given (one
given `null` or `""` is removed): each is set (or unset) by its own path, so two managers
changing different fields of one section at once both keep their change. The section,
merged, is validated whole before anything is written, and a text changed may hold only the
placeholders its use fills in (`settings.PLACEHOLDERS`); every refusal comes in one answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from kith.communities.models import LANGUAGE_KEY, Community, CommunityPatch
from kith.communities.settings import PLACEHOLDERS, unknown_placeholders
from kith.communities.store import communities, get_community
from kith.core.context import Core
from kith.core.errors import InvalidInput, KithError, raise_all, validated
from kith.core.events import build_event, record
from kith.core.models import Author


async def update(
    core: Core, workspace_id: str, community_id: str, patch: CommunityPatch, actor: Author
) -> Community:
    community = await get_community(core, workspace_id, community_id)
    changes = _paths(community, patch, "", patch.removed)
    removed = {p: "" for p in patch.removed if p.rpartition(".")[0] not in changes}
    _check(community, changes, set(removed))
    if changes or removed:
        changes["updated_at"] = core.clock.now()
        write: dict[str, Any] = {"$set": changes}
        if removed:
            write["$unset"] = removed
        await communities(core).update_one(
            {"_id": community_id, "workspace_id": workspace_id}, write
        )
        fields = sorted(patch.model_fields_set)
        await record(
            core,
            build_event(
                core,
                workspace_id,
                "community.updated",
                actor=actor,
                data={"community_id": community_id, "fields": fields},
            ),
        )
    return await get_community(core, workspace_id, community_id)


def _paths(
    current: BaseModel, given: BaseModel, prefix: str, removed: frozenset[str]
) -> dict[str, Any]:
    """`{"moderation.words.patterns": […]}`: the fields given, a sub-model given as its own
    fields given, a per-language text as its languages given (another dict or a list is set
    whole; so is a text whose language cannot be a path, merged here)."""
    out: dict[str, Any] = {}
    for name in sorted(given.model_fields_set):
        value, before = getattr(given, name), getattr(current, name, None)
        path = prefix + name
        if isinstance(value, BaseModel) and isinstance(before, BaseModel):
            out |= _paths(before, value, f"{path}.", removed)
        elif path in PLACEHOLDERS and isinstance(before, dict):
            if all(map(LANGUAGE_KEY.match, value)):
                out |= {f"{path}.{language}": text for language, text in value.items()}
            else:
                merged = {**before, **value}
                out[path] = {k: v for k, v in merged.items() if f"{path}.{k}" not in removed}
        else:
            out[path] = given.model_dump(mode="json", include={name})[name]
    return out


def _check(community: Community, changes: dict[str, Any], removed: set[str]) -> None:
    """The community with the changes made must still be valid as a whole (a rule's own
    checks may read a field given together with one kept), and a text changed may name only
    its placeholders: every refusal of either kind in one answer."""
    doc = community.model_dump(mode="json")
    for path in [*changes, *removed]:
        *parents, leaf = path.split(".")
        node = doc
        for part in parents:
            node = node[part]
        if path in removed:
            node.pop(leaf, None)
        else:
            node[leaf] = changes[path]
    found = validated(Community, doc)[1]
    for path, allowed in PLACEHOLDERS.items():
        section, name = path.split(".")
        for language, text in doc[section][name].items():
            field = f"{path}.{language}"
            if not (field in changes or path in changes) or not isinstance(text, str):
                continue
            if not text.strip():
                found.append(InvalidInput("may not be blank", field=field, reason="blank"))
            elif unknown := unknown_placeholders(text, allowed):
                found.append(_unknown(field, unknown, allowed))
    had = {f"welcome.texts.{language}" for language in community.welcome.texts}
    found += _welcome_emptied(doc["welcome"], removed & had)
    raise_all(found)


def _welcome_emptied(welcome: dict[str, Any], removed: set[str]) -> list[KithError]:
    """An enabled welcome whose last text this change removes would greet in Kith's words,
    not the managers' (qa11 m3): refused at the texts removed, so they write one or turn the
    welcome off. Enabling a welcome never given a text keeps Kith's own welcome."""
    gone = sorted(p for p in removed if p.startswith("welcome.texts."))
    if not (welcome.get("enabled") and gone) or any(welcome.get("texts", {}).values()):
        return []
    message = "an enabled welcome needs a text: write one, or turn the welcome off"
    return [InvalidInput(message, field=field, reason="welcome_without_text") for field in gone]


def _unknown(field: str, unknown: list[str], allowed: tuple[str, ...]) -> InvalidInput:
    named = ", ".join(unknown)
    known = ", ".join("{" + a + "}" for a in allowed) or "none"
    return InvalidInput(
        f"unknown placeholder {named}: this text fills in only {known}",
        field=field,
        reason="unknown_placeholder",
        limits={"placeholders": named, "allowed": known if allowed else ""},
    )
