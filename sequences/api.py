"""`/api/v1/sequences` (API tokens) and `/app/api/sequences` (the builder page's session):
one set of routes, two ways of saying who asks. Routes parse, call an action and answer.

On the session side admins and marketers do everything; agents nothing, as the pages refuse
them (`may_manage`, the one rule for both).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from kith.broadcasts.api import Asker, token_asker
from kith.core.context import Core
from kith.core.errors import Forbidden, NotFound
from kith.core.models import Author, AuthorKind, User
from kith.core.permissions import MANAGERS
from kith.sequences import actions, bulk, preview, stops, validate
from kith.sequences.dryrun import DryRun, dry_run
from kith.sequences.models import EnrolmentState, Status
from kith.sequences.queries import customer_names, list_enrolments, list_sequences
from kith.sequences.schemas import (
    CustomerIn,
    EnrolAnswer,
    EnrolIn,
    EnrolmentOut,
    SequenceOut,
    TestIn,
)
from kith.sequences.stats import SequenceStatsOut, sequence_stats
from kith.sequences.store import get_enrolment, get_sequence
from kith.sequences.validate import SentSequence
from kith.sequences.webhook_keys import WebhookSecretOut, new_webhook_secret
from kith.web.api.deps import CoreDep
from kith.web.api.jobs import JobOut, job_out
from kith.web.api.schemas import Page
from kith.web.inbox.deps import AgentDep


def may_manage(user: User) -> bool:
    """Who the sequences pages and their API serve: admins and marketers (`MANAGERS`)."""
    return user.role in MANAGERS


async def session_asker(agent: AgentDep) -> Asker:
    """The signed-in user (CSRF checked on writes), if `may_manage`: an agent, whom the pages
    refuse, reads no sequence through their API either."""
    if not may_manage(agent.user):
        raise Forbidden("only admins and marketers manage sequences")
    author = Author(kind=AuthorKind.agent, id=agent.user.id, name=agent.user.name)
    return Asker(workspace_id=agent.user.workspace_id, author=author)


MOVES = {"activate": Status.active, "pause": Status.paused, "archive": Status.archived}
Cursor = Annotated[str | None, Query(max_length=1024)]
Limit = Annotated[int, Query(ge=1, le=100)]


def build(prefix: str, who: Callable[..., Awaitable[Asker]], schema: bool) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["sequences"], include_in_schema=schema)
    # A closure's annotations are strings under `from __future__ import annotations`, which
    # FastAPI resolves in the module: the dependency goes in the default instead.
    asked = Depends(who)

    @router.get("", response_model=Page[SequenceOut])
    async def list_(
        core: CoreDep, asker: Asker = asked, cursor: Cursor = None, limit: Limit = 25
    ) -> Page[SequenceOut]:
        items, next_cursor = await list_sequences(
            core, asker.workspace_id, cursor=cursor, limit=limit
        )
        return Page(items=[SequenceOut.of(s) for s in items], next_cursor=next_cursor)

    @router.post("", status_code=201, response_model=SequenceOut)
    async def create(body: SentSequence, core: CoreDep, asker: Asker = asked) -> SequenceOut:
        """A draft, checked on save (templates, branches, waits, webhooks, goal, triggers),
        with its webhook signing key, as a bot is created with one. A refusal names every
        bad field at once (`fields`)."""
        definition = await validate.read(body)
        made = await actions.do_create_sequence(core, asker.workspace_id, definition, asker.author)
        secret = await new_webhook_secret(core, asker.workspace_id, made.id)
        return SequenceOut.of(made).model_copy(update={"webhook_secret": secret})

    @router.get("/{sequence_id}", response_model=SequenceOut)
    async def get(sequence_id: str, core: CoreDep, asker: Asker = asked) -> SequenceOut:
        return SequenceOut.of(await get_sequence(core, asker.workspace_id, sequence_id))

    @router.put("/{sequence_id}", response_model=SequenceOut)
    async def edit(
        sequence_id: str, body: SentSequence, core: CoreDep, asker: Asker = asked
    ) -> SequenceOut:
        """Replace the sequence; once it has run, this is a new version (enrolled customers
        finish on theirs)."""
        definition = await validate.read(body)
        changed = await actions.do_update_sequence(
            core, asker.workspace_id, sequence_id, definition, asker.author
        )
        return SequenceOut.of(changed)

    for name, to in MOVES.items():
        router.add_api_route(
            f"/{{sequence_id}}/{name}",
            _mover(to, asked),
            methods=["POST"],
            response_model=SequenceOut,
            name=f"{name}_sequence{prefix.replace('/', '_')}",
            summary=f"{name.capitalize()} a sequence (409 with the allowed moves if refused)",
        )

    @router.post("/{sequence_id}/enrolments", response_model=EnrolAnswer | JobOut)
    async def enrol(
        sequence_id: str, body: EnrolIn, core: CoreDep, asker: Asker = asked
    ) -> EnrolAnswer | JSONResponse:
        """`customer_ids`: enrolled now, answered one by one. `segment_id`: a job (202);
        follow it at `GET /api/v1/jobs/{id}`."""
        ws = asker.workspace_id
        if body.customer_ids is not None:
            results = await bulk.enrol_each(core, ws, sequence_id, body.customer_ids, "api")
            return EnrolAnswer(results=results)
        assert body.segment_id is not None
        job = await bulk.start_segment(core, ws, sequence_id, body.segment_id, asker.author)
        return JSONResponse(job_out(job).model_dump(mode="json"), status_code=202)

    @router.get("/{sequence_id}/enrolments", response_model=Page[EnrolmentOut])
    async def enrolments(
        sequence_id: str,
        core: CoreDep,
        asker: Asker = asked,
        state: EnrolmentState | None = None,
        cursor: Cursor = None,
        limit: Limit = 25,
    ) -> Page[EnrolmentOut]:
        """Latest enrolled first; `state` narrows (active, completed, stopped, skipped)."""
        await get_sequence(core, asker.workspace_id, sequence_id)
        items, next_cursor = await list_enrolments(
            core, asker.workspace_id, sequence_id, state=state, cursor=cursor, limit=limit
        )
        names = await customer_names(core, items)
        out = [EnrolmentOut.of(e, names.get(e.customer_id)) for e in items]
        return Page(items=out, next_cursor=next_cursor)

    @router.delete("/{sequence_id}/enrolments/{enrolment_id}", response_model=EnrolmentOut)
    async def remove(
        sequence_id: str, enrolment_id: str, core: CoreDep, asker: Asker = asked
    ) -> EnrolmentOut:
        """Take the customer out: they get no further step (409 if it had already ended)."""
        await _enrolment_of(core, asker.workspace_id, sequence_id, enrolment_id)
        removed = await stops.remove(core, asker.workspace_id, enrolment_id, asker.author)
        return EnrolmentOut.of(removed)

    @router.get("/{sequence_id}/stats", response_model=SequenceStatsOut)
    async def stats(sequence_id: str, core: CoreDep, asker: Asker = asked) -> SequenceStatsOut:
        sequence = await get_sequence(core, asker.workspace_id, sequence_id)
        return await sequence_stats(core, sequence.id)

    @router.post("/{sequence_id}/webhook-secret", response_model=WebhookSecretOut)
    async def rotate_webhook_secret(
        sequence_id: str, core: CoreDep, asker: Asker = asked
    ) -> WebhookSecretOut:
        """A new key for the sequence's webhook steps, replacing the one before at once;
        answered this once. Until a sequence has one, its webhook steps go out unsigned."""
        secret = await new_webhook_secret(core, asker.workspace_id, sequence_id)
        return WebhookSecretOut(webhook_secret=secret)

    @router.post("/{sequence_id}/steps/{step_id}/render", response_model=preview.Rendered)
    async def render(
        sequence_id: str, step_id: str, body: CustomerIn, core: CoreDep, asker: Asker = asked
    ) -> preview.Rendered:
        """The step's text for that customer, in their language; a template that fails for
        them is answered with `error` and the template's `field`."""
        sequence = await get_sequence(core, asker.workspace_id, sequence_id)
        return await preview.render(core, sequence, step_id, body.customer_id)

    @router.post("/{sequence_id}/test", response_model=preview.TestSent)
    async def test(
        sequence_id: str, body: TestIn, core: CoreDep, asker: Asker = asked
    ) -> preview.TestSent:
        """Send one step's message now, marked [TEST], to a test recipient (a customer tagged
        `tester`, or your own record); not counted anywhere."""
        sequence = await get_sequence(core, asker.workspace_id, sequence_id)
        return await preview.send_test(core, sequence, body.step_id, body.customer_id, asker.author)

    @router.post("/{sequence_id}/dry-run", response_model=DryRun)
    async def dry_run_(
        sequence_id: str, body: CustomerIn, core: CoreDep, asker: Asker = asked
    ) -> DryRun:
        """When each step would run for that customer from now (quiet hours, the daily cap;
        `since` branches assume no reply)."""
        sequence = await get_sequence(core, asker.workspace_id, sequence_id)
        return await dry_run(core, sequence, body.customer_id)

    return router


async def _enrolment_of(core: Core, workspace_id: str, sequence_id: str, enrolment_id: str) -> None:
    """404 unless the enrolment belongs to that sequence (in this workspace)."""
    enrolment = await get_enrolment(core, workspace_id, enrolment_id)
    if enrolment.sequence_id != sequence_id:
        raise NotFound("no such enrolment", field="enrolment_id")


def _mover(to: Status, asked: Any) -> Callable[..., Awaitable[SequenceOut]]:
    async def route(sequence_id: str, core: CoreDep, asker: Asker = asked) -> SequenceOut:
        moved = await actions.move(core, asker.workspace_id, sequence_id, to, asker.author)
        return SequenceOut.of(moved)

    return route


api_router = build("/api/v1/sequences", token_asker, schema=True)
app_router = build("/app/api/sequences", session_asker, schema=False)
