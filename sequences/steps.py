"""One small executor per step type: what running step S for enrolment E does.

An executor acts and answers `Ran` (the run to record and where the enrolment goes next) or
`Later` (it did not run now: held until quiet hours end, or handed back because the sequence
was paused, the enrolment stopped or the outbox window is full). The runner
(`kith.sequences.runner`) records the run and advances the enrolment; it never calls an
executor twice for one run, except after a crash between acting and recording, so every
effect here is safe to repeat: sends and notes carry ids derived from the run, tags and
attributes are set (not toggled), a webhook carries the run id as its `Idempotency-Key`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kith.broadcasts import templates
from kith.broadcasts.routes import conversation_for
from kith.core.context import Core
from kith.core.customers import do_update_customer
from kith.core.errors import InvalidInput, KithError
from kith.core.httpcap import post_capped
from kith.core.ids import derived_id
from kith.core.languages import customer_languages, pick_text
from kith.core.models import (
    Attachment,
    Author,
    AuthorKind,
    Button,
    Conversation,
    Customer,
    OutboundContent,
    Purpose,
)
from kith.core.outbox import send
from kith.core.signatures import SIGNATURE_HEADER, sign_now
from kith.core.teams import do_hand_to_team
from kith.courtesy.facts import Facts
from kith.courtesy.policy import Go, Hold, Route, Skip, SkipReason, decide, take_daily_slot
from kith.courtesy.settings import CourtesySettings, load_settings
from kith.courtesy.window import Window
from kith.courtesy.zones import zone_of
from kith.segments.filters import matches
from kith.segments.records import parse_filter
from kith.sequences import links
from kith.sequences.models import (
    BranchStep,
    EndStep,
    Enrolment,
    EnrolmentState,
    GoalStep,
    NotifyTeamStep,
    RunOutcome,
    SendStep,
    SequenceVersion,
    SetAttributeStep,
    Since,
    Status,
    Step,
    TagStep,
    UntagStep,
    WaitStep,
    WebhookStep,
)
from kith.sequences.store import ENROLMENTS, SEQUENCES, enrolments, message_id
from kith.sequences.waits import wait_end
from kith.sequences.webhook_keys import webhook_secret

log = logging.getLogger(__name__)
AUTHOR = Author(kind=AuthorKind.system, name="sequence")


@dataclass(frozen=True)
class Ran:
    """The step ran: its outcome, and the step (None: the end) and time it leads to."""

    outcome: RunOutcome
    next_step_id: str | None
    next_due_at: datetime
    reason: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class Later:
    """The step did not run now: due again at `until`, or at once when None (handed back)."""

    until: datetime | None
    reason: str


@dataclass
class Run:
    """One run of one step for one claimed enrolment."""

    core: Core
    enrolment: Enrolment
    version: SequenceVersion
    claim: str
    visit: int
    run_id: str
    now: datetime
    window: Window
    # The batch's reads (`kith.courtesy.facts`); None: each step reads for itself.
    facts: Facts | None = None
    # Another worker held this claim before and may have acted: look for its send first.
    retried: bool = True
    # The batch's customers' languages (`kith.core.languages`); None: read for this one.
    languages: Mapping[str, str | None] | None = None

    def next(self, step: Step, outcome: RunOutcome = RunOutcome.done, **kw: Any) -> Ran:
        """Run on to the step after `step`, now."""
        return Ran(outcome, self.version.after(step.id), self.now, **kw)

    async def customer_doc(self) -> dict[str, Any] | None:
        if self.facts is not None:
            return await self.facts.customer(self.enrolment.customer_id)
        return await self.core.store.customers.find_one({"_id": self.enrolment.customer_id})

    async def language(self, customer: Customer) -> str | None:
        """The customer's language: the profile's locale, else their latest message's."""
        if self.languages is not None and customer.id in self.languages:
            return self.languages[customer.id]
        found = await customer_languages(self.core, {customer.id: customer.locale})
        return found[customer.id]

    async def customer(self) -> Customer | None:
        doc = await self.customer_doc()
        return Customer.from_doc(doc) if doc and doc.get("merged_into") is None else None

    async def settings(self) -> CourtesySettings:
        if self.facts is not None:
            return await self.facts.settings_of(self.enrolment.workspace_id)
        return await load_settings(self.core, self.enrolment.workspace_id)

    async def still_on(self) -> bool:
        """Whether this enrolment is still ours and active and its sequence still active:
        read right before a send, so a stop or a pause by another process wins. Lookups
        grouped with the batch's other sends (`kith.core.group_commit`): one query each."""
        store = self.core.store
        # By id alone, as the runner's other enrolment lookups: one `$in` for them all.
        mine, sequence = await asyncio.gather(
            store.grouped(ENROLMENTS).find_one({"_id": self.enrolment.id}),
            store.grouped(SEQUENCES).find_one({"_id": self.enrolment.sequence_id}),
        )
        if mine is None or mine.get("claim") != self.claim:
            return False
        if mine.get("state") != EnrolmentState.active.value:
            return False
        return sequence is not None and sequence.get("status") == Status.active.value


async def run_wait(run: Run, step: WaitStep) -> Ran | Later:
    """A wait is data: the enrolment's next due time, in the customer's zone."""
    customer = await run.customer()
    settings = await run.settings()
    zone = zone_of(customer.timezone if customer else None, None, settings.timezone)
    return Ran(RunOutcome.done, run.version.after(step.id), wait_end(step, run.now, zone))


async def final_text(run: Run, text: str) -> str:
    """The text as it goes out, once rendered for the customer: its web links go through
    Kith (`kith.sequences.links`), so a click is counted once for this run."""
    return await links.track(run.core, text, run.run_id, run.enrolment.workspace_id)


async def final_buttons(run: Run, buttons: list[Button]) -> list[Button]:
    """The buttons as they go out: their links tracked as the text's are."""
    return await links.track_buttons(run.core, buttons, run.run_id, run.enrolment.workspace_id)


async def run_send(run: Run, step: SendStep) -> Ran | Later:
    """Courtesy first (consent, channel, quiet hours, deadline), then the outbox window, the
    template, the daily cap, and one outbox message whose id is derived from the run."""
    core = run.core
    mid = message_id(run.enrolment.id, step.id, run.visit)
    # A killed worker's send (its id is derived, so a send without this look would still
    # store nothing twice: this only spares the courtesy work).
    if run.retried and await core.store.messages.find_one({"_id": mid}, {"_id": 1}) is not None:
        return run.next(step, RunOutcome.sent, message_id=mid)
    customer = await run.customer()
    if customer is None:
        return run.next(step, RunOutcome.skipped, reason=SkipReason.erased.value)
    channels = step.channels or run.version.channels
    deadline = (run.enrolment.step_due_at or run.enrolment.due_at or run.now) + step.send_by
    decision = await decide(core, customer, channels, run.now, deadline, run.facts)
    if isinstance(decision, Hold):
        return Later(decision.until, decision.reason)
    if isinstance(decision, Skip):
        return run.next(step, RunOutcome.skipped, reason=str(decision.reason))
    assert isinstance(decision, Go)
    if not await run.window.take(decision.route.channel_id):
        return Later(None, "outbox_window")
    language, source = pick_text(step.message.text, await run.language(customer))
    try:
        text = await templates.render_async(source, customer, f"message.text.{language}")
    except templates.TemplateError:
        return run.next(step, RunOutcome.skipped, reason="template_error")
    content = OutboundContent(
        text=await final_text(run, text),
        buttons=await final_buttons(run, step.message.buttons),
        attachments=[Attachment.model_validate(step.message.image.model_dump())]
        if step.message.image
        else [],
        purpose=Purpose.marketing,
    )
    if not await run.still_on():
        return Later(None, "stopped_or_paused")
    if not await take_daily_slot(core, customer, run.now, run.run_id, await run.settings()):
        return run.next(step, RunOutcome.skipped, reason=SkipReason.frequency_cap.value)
    conversation = await _conversation(run, customer.id, decision.route)
    try:
        message = await send(core, conversation, content, AUTHOR, message_id=mid)
    except KithError as exc:
        return run.next(step, RunOutcome.failed, reason=exc.code)
    return run.next(step, RunOutcome.sent, message_id=message.id)


async def _conversation(run: Run, customer_id: str, route: Route) -> Conversation:
    """As `conversation_for`, from the batch's conversations when it saw one."""
    if run.facts is not None:
        seen = run.facts.conversation(
            customer_id, channel_id=route.channel_id, external_user_id=route.external_id
        )
        if seen is not None:
            return Conversation.from_doc(seen)
    return await conversation_for(run.core, customer_id, route)


async def run_branch(run: Run, step: BranchStep) -> Ran | Later:
    if step.since is not None:
        fresh = await enrolments(run.core).find_one({"_id": run.enrolment.id})
        enrolment = Enrolment.from_doc(fresh) if fresh else run.enrolment
        moments = {
            Since.replied: enrolment.replied_at,
            Since.clicked: enrolment.clicked_at,
            Since.converted: enrolment.converted_at,
        }
        holds = moments[step.since] is not None
    else:
        doc = await run.customer_doc()
        holds = doc is not None and matches(parse_filter(run.core, step.filter), doc, run.now)
    target = step.then if holds else (step.otherwise or run.version.after(step.id))
    return Ran(RunOutcome.done, target, run.now, reason="then" if holds else "else")


def _changes(customer: Customer, step: Step) -> dict[str, Any]:
    if isinstance(step, TagStep):
        return {"fields": {"tags": [*customer.tags, step.tag]}}
    if isinstance(step, UntagStep):
        return {"fields": {"tags": [t for t in customer.tags if t != step.tag]}}
    assert isinstance(step, SetAttributeStep)
    return {"attributes": {step.key: step.value}}


async def run_customer_step(run: Run, step: TagStep | UntagStep | SetAttributeStep) -> Ran | Later:
    """Through core's customer action, so `customer.updated` is emitted (segments and goals
    react); setting what is already so changes nothing and emits nothing."""
    customer = await run.customer()
    if customer is None:
        return run.next(step, RunOutcome.skipped, reason=SkipReason.erased.value)
    await do_update_customer(run.core, customer, actor=AUTHOR, **_changes(customer, step))
    if run.facts is not None:
        run.facts.forget(customer.id)  # the next step reads what this one changed
    return run.next(step)


async def run_webhook(run: Run, step: WebhookStep) -> Ran | Later:
    """One signed POST with the run id as `Idempotency-Key`. A failure is recorded as a
    failed run and the enrolment goes on: a journey does not stall on someone's endpoint, and
    a retry after a crash carries the same key, so the receiver can drop the repeat."""
    customer = await run.customer()
    body = {
        "sequence_id": run.enrolment.sequence_id,
        "version": run.version.version,
        "enrolment_id": run.enrolment.id,
        "step_id": step.id,
        "run_id": run.run_id,
        "customer": {
            "id": run.enrolment.customer_id,
            "name": customer.name if customer else None,
            "tags": list(customer.tags) if customer else [],
            "attributes": templates.context(customer)["customer"]["attributes"] if customer else {},
        },
    }
    content = json.dumps(body).encode()
    headers = {"content-type": "application/json", "Idempotency-Key": run.run_id}
    try:
        secret = await webhook_secret(run.core, run.enrolment.sequence_id)
        if secret:
            headers[SIGNATURE_HEADER] = sign_now(run.core.clock, secret, content)
        # core.http is the egress-guarded client: private destinations are refused.
        answer = await post_capped(
            run.core.http,
            step.url,
            max_bytes=run.core.settings.outbox_response_max_bytes,
            content=content,
            headers=headers,
            timeout=step.timeout_seconds,
        )
    except Exception as exc:
        log.warning("sequence webhook failed: %s", exc, extra={"run_id": run.run_id})
        return run.next(step, RunOutcome.failed, reason="unreachable")
    if not 200 <= answer.status_code < 300:
        return run.next(step, RunOutcome.failed, reason=f"http_{answer.status_code}")
    return run.next(step)


async def run_notify_team(run: Run, step: NotifyTeamStep) -> Ran | Later:
    """A private note on the customer's latest conversation (id derived from the run); with
    a team, the conversation is handed to that team first, so its agents see the note."""
    doc = await run.core.store.conversations.find_one(
        {"customer_id": run.enrolment.customer_id}, sort=[("last_message_at", -1)]
    )
    if doc is None:
        return run.next(step, RunOutcome.skipped, reason="no_conversation")
    conversation = Conversation.from_doc(doc)
    if step.team_id is not None:
        try:
            await do_hand_to_team(run.core, conversation, step.team_id, AUTHOR)
        except InvalidInput:  # the team is gone since the sequence was saved
            return run.next(step, RunOutcome.skipped, reason="unknown_team")
    await send(
        run.core,
        conversation,
        OutboundContent(text=step.text, private=True),
        AUTHOR,
        message_id=derived_id("sequence-note", run.run_id),
    )
    return run.next(step)


async def run_goal(run: Run, step: GoalStep) -> Ran | Later:
    """Counted as converted on this run; the runner then stops the enrolment (reason goal)."""
    return Ran(RunOutcome.done, None, run.now, reason="goal")


async def run_end(run: Run, step: EndStep) -> Ran | Later:
    return Ran(RunOutcome.done, None, run.now)


Executor = Callable[[Run, Any], Awaitable[Ran | Later]]
EXECUTORS: dict[type[Any], Executor] = {
    WaitStep: run_wait,
    SendStep: run_send,
    BranchStep: run_branch,
    TagStep: run_customer_step,
    UntagStep: run_customer_step,
    SetAttributeStep: run_customer_step,
    WebhookStep: run_webhook,
    NotifyTeamStep: run_notify_team,
    GoalStep: run_goal,
    EndStep: run_end,
}


async def execute(run: Run, step: Step) -> Ran | Later:
    return await EXECUTORS[type(step)](run, step)
