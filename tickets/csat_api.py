"""The survey's routes under the tickets' prefixes: the report (`GET …/tickets/csat`) and
the workspace's survey settings. Added to the tickets router before `/{ticket_id}`, which
would otherwise read `csat` as a ticket id."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Query

from kith.core.clock import aware
from kith.core.errors import Forbidden, InvalidInput
from kith.core.permissions import Scope
from kith.tickets.csat_models import CsatSettings
from kith.tickets.csat_report import Report, csat_report
from kith.tickets.csat_store import load_settings, save_settings
from kith.web.api.deps import CoreDep

DEFAULT_PERIOD = timedelta(days=30)


class Asking(Protocol):
    """Who asks (`kith.tickets.api.Asker`): a workspace, and the scope (None: a token)."""

    workspace_id: str
    scope: Scope | None


def add_routes(router: APIRouter, asked: Any) -> None:
    @router.get("/csat", response_model=Report)
    async def report(
        core: CoreDep,
        asker: Asking = asked,
        start: Annotated[datetime | None, Query(alias="from")] = None,
        end: Annotated[datetime | None, Query(alias="to")] = None,
    ) -> Report:
        """Satisfaction over the tickets solved from `from` (included) to `to` (excluded);
        by default the last 30 days."""
        until = aware(end) if end else core.clock.now()
        since = aware(start) if start else until - DEFAULT_PERIOD
        if since >= until:
            raise InvalidInput("`from` must come before `to`", field="from")
        return await csat_report(core, asker.workspace_id, asker.scope, since, until)

    @router.get("/csat/settings", response_model=CsatSettings)
    async def read_settings(core: CoreDep, asker: Asking = asked) -> CsatSettings:
        return await load_settings(core, asker.workspace_id)

    @router.put("/csat/settings", response_model=CsatSettings)
    async def replace_settings(
        body: CsatSettings, core: CoreDep, asker: Asking = asked
    ) -> CsatSettings:
        """Replace the survey settings (admins and API tokens); fields left out take their
        defaults."""
        if asker.scope is not None and not asker.scope.is_admin:
            raise Forbidden("only admins change the survey settings")
        await save_settings(core, asker.workspace_id, body)
        return body
