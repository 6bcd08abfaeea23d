"""Moderation log rows for the page tests, as the moderation consumer writes them: a mute
taken (the one row a moderator may still lift), a warning appealed (customer text in the
excerpt and the appeal), its deletion, a mute the platform refused, a ban already lifted by a
moderator, and older deletions to page through."""

from __future__ import annotations

from datetime import timedelta

from kith.communities.audit import Appeal, AuditRow, Outcome, audit, row_id
from kith.communities.models import Community
from kith.core.context import Core
from kith.core.models import Author, AuthorKind

HOSTILE = "<script>alert(1)</script>"
APPEAL = "I was <b>only</b> sharing a recipe"
RULES = Author(kind=AuthorKind.system, name="moderation")
MIA = Author(kind=AuthorKind.agent, id="u-mia", name="Mia Moderator")


def _row(community: Community, n: int, action: str, **fields: object) -> AuditRow:
    values: dict[str, object] = {
        "id": row_id("test", community.id, str(n), action),
        "workspace_id": community.workspace_id,
        "community_id": community.id,
        "customer_id": "cust-carl",
        "platform_user_id": "424242999",
        "member_name": "Crypto Carl",
        "rule": "words",
        "detail": "free money",
        "action": action,
        "message_id": f"m-{n}",
        "excerpt": f"FREE MONEY {HOSTILE}",
        "outcome": Outcome.taken,
        "by": RULES,
        "at": community.created_at + timedelta(minutes=n),
        **fields,
    }
    return AuditRow.model_validate(values)


def rows(community: Community, older: int = 0) -> dict[str, AuditRow]:
    made = {
        "muted": _row(community, 101, "mute", until=community.created_at + timedelta(hours=6)),
        "warn": _row(
            community,
            100,
            "warn",
            appealable=True,
            appeal=Appeal(at=community.created_at + timedelta(hours=3), text=APPEAL, via="command"),
        ),
        "delete": _row(community, 99, "delete"),
        "mute": _row(
            community,
            98,
            "mute",
            rule="flood",
            detail="7 messages",
            outcome=Outcome.refused,
            reason="not enough rights",
            until=community.created_at + timedelta(hours=5),
        ),
        "ban": _row(
            community,
            97,
            "ban",
            rule="repeat",
            customer_id=None,
            member_name=None,
            lifted_at=community.created_at + timedelta(hours=4),
            lifted_by=MIA,
        ),
    }
    for n in range(older):
        made[f"old{n}"] = _row(community, n, "delete", rule="links", detail=None)
    return made


async def seed_audit(core: Core, community: Community, older: int = 0) -> dict[str, AuditRow]:
    made = rows(community, older)
    await audit(core).insert_many([row.to_doc() for row in made.values()])
    return made
