"""The satisfaction report: average, distribution and response rate over the tickets solved
in a period, per agent and per team (each survey counts for whoever held the ticket when it
was solved), within what the asker may see."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from kith.core.context import Core
from kith.core.permissions import Scope
from kith.tickets.csat_store import State, surveys
from kith.tickets.store import tickets, visible


class Figures(BaseModel):
    """`surveys`: resolutions in the period; `asked`: questions that went out; `answered`:
    those scored; `response_rate`: answered / asked; `average`: of the scores."""

    surveys: int = 0
    asked: int = 0
    answered: int = 0
    response_rate: float | None = None
    average: float | None = None
    distribution: dict[str, int] = {}
    skipped: dict[str, int] = {}


class Row(Figures):
    id: str | None
    name: str | None = None


class Report(BaseModel):
    start: datetime
    end: datetime
    total: Figures
    agents: list[Row]
    teams: list[Row]


class _Tally:
    def __init__(self) -> None:
        self.surveys = self.asked = self.answered = self.points = 0
        self.distribution: dict[str, int] = {str(n): 0 for n in range(1, 6)}
        self.skipped: dict[str, int] = defaultdict(int)

    def add(self, group: dict[str, Any], n: int) -> None:
        self.surveys += n
        if group.get("status") == State.asked:
            self.asked += n
        if group.get("skipped"):
            self.skipped[str(group["skipped"])] += n
        score = group.get("score")
        if score is not None:
            self.answered += n
            self.points += int(score) * n
            self.distribution[str(score)] += n

    def figures(self) -> dict[str, Any]:
        return {
            "surveys": self.surveys,
            "asked": self.asked,
            "answered": self.answered,
            "response_rate": round(self.answered / self.asked, 4) if self.asked else None,
            "average": round(self.points / self.answered, 2) if self.answered else None,
            "distribution": self.distribution,
            "skipped": dict(self.skipped),
        }


async def csat_report(
    core: Core, workspace_id: str, scope: Scope | None, start: datetime, end: datetime
) -> Report:
    """One grouped read of the period's surveys; the tallies are summed here."""
    match: dict[str, Any] = {"workspace_id": workspace_id, "solved_at": {"$gte": start, "$lt": end}}
    if scope is not None and scope.channel_ids is not None:
        match["ticket_id"] = {"$in": await _seen_tickets(core, scope, match)}
    pipeline = [
        {"$match": match},
        {
            "$group": {
                "_id": {
                    "agent": "$assignee_id",
                    "team": "$team_id",
                    "score": "$score",
                    "skipped": "$skipped",
                    "status": "$status",
                },
                "n": {"$sum": 1},
            }
        },
    ]
    total = _Tally()
    agents: dict[str | None, _Tally] = defaultdict(_Tally)
    teams: dict[str | None, _Tally] = defaultdict(_Tally)
    async for row in await surveys(core).aggregate(pipeline):
        group, n = row["_id"], int(row["n"])
        total.add(group, n)
        agents[group.get("agent")].add(group, n)
        teams[group.get("team")].add(group, n)
    names = await names_of(core, workspace_id, set(agents), set(teams))
    return Report(
        start=start,
        end=end,
        total=Figures(**total.figures()),
        agents=_rows(agents, names),
        teams=_rows(teams, names),
    )


async def _seen_tickets(core: Core, scope: Scope, match: dict[str, Any]) -> list[str]:
    """Which of the period's surveyed tickets `scope` sees, by the tickets' own rule
    (`kith.tickets.store.visible`: a ticket of no team counts on its channels). A survey
    keeps its ticket's team and assignee, not its channels: the rule read on the surveys
    themselves missed the tickets of no team an agent sees."""
    surveyed = sorted(await surveys(core).distinct("ticket_id", match))
    if not surveyed:
        return []
    query = {"$and": [visible(scope), {"_id": {"$in": surveyed}}]}
    return sorted(await tickets(core).distinct("_id", query))


def _rows(tallies: dict[str | None, _Tally], names: dict[str, str]) -> list[Row]:
    rows = [
        Row(id=key, name=names.get(key) if key else None, **tally.figures())
        for key, tally in tallies.items()
    ]
    return sorted(rows, key=lambda r: (r.id is None, r.name or "", r.id or ""))


async def names_of(
    core: Core, workspace_id: str, user_ids: set[str | None], team_ids: set[str | None]
) -> dict[str, str]:
    """The names of these users and teams, by id (the reports show rows by name)."""
    names: dict[str, str] = {}
    for collection, ids in ((core.store.users, user_ids), (core.store.teams, team_ids)):
        wanted = sorted(i for i in ids if i)
        if wanted:
            query = {"_id": {"$in": wanted}, "workspace_id": workspace_id}
            async for doc in collection.find(query, {"name": 1}):
                names[doc["_id"]] = doc.get("name") or ""
    return names
