"""Many customers and enrolments written in bulk, for kill tests and benchmarks.

Ingesting thousands of first messages one by one takes minutes on the real engine; these
write the same documents (customer, identity, conversation on one channel; an enrolment at a
sequence's first step) with `insert_many`, as an import would.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from datetime import datetime

from kith.core.context import Core
from kith.core.ids import derived_id
from kith.core.models import Channel, Conversation, Customer, Identity, IdentityRef
from kith.sequences.models import Enrolment, Sequence
from kith.sequences.store import enrolment_id, enrolments

CHUNK = 1000


async def customers_on(core: Core, channel: Channel, n: int, prefix: str = "crowd") -> list[str]:
    """`n` customers who each have an identity and a conversation on `channel`; their ids."""
    now = core.clock.now()
    ids: list[str] = []
    for start in range(0, n, CHUNK):
        people, identities, threads = [], [], []
        for i in range(start, min(start + CHUNK, n)):
            external = f"{prefix}-{i:07d}"
            customer_id = derived_id("crowd", channel.id, external)
            ref = IdentityRef(channel_id=channel.id, external_id=external)
            people.append(
                Customer(
                    id=customer_id,
                    workspace_id=channel.workspace_id,
                    name=f"Person {i}",
                    identities=[ref],
                    channels=[channel.type],
                    first_seen=now,
                    last_seen=now,
                ).to_doc()
            )
            identities.append(
                Identity(
                    id=derived_id("crowd-identity", channel.id, external),
                    workspace_id=channel.workspace_id,
                    channel_id=channel.id,
                    channel_type=channel.type,
                    external_id=external,
                    customer_id=customer_id,
                    created_at=now,
                ).to_doc()
            )
            threads.append(
                Conversation(
                    id=derived_id("crowd-conversation", channel.id, external),
                    workspace_id=channel.workspace_id,
                    customer_id=customer_id,
                    channel_id=channel.id,
                    channel_type=channel.type,
                    thread_key=external,
                    external_user_id=external,
                    last_message_at=now,
                    created_at=now,
                ).to_doc()
            )
            ids.append(customer_id)
        await core.store.customers.insert_many(people)
        await core.store.identities.insert_many(identities)
        await core.store.conversations.insert_many(threads)
    return ids


async def enrol_all(
    core: Core, sequence: Sequence, customer_ids: Seq[str], due_at: datetime
) -> list[str]:
    """An active enrolment at the sequence's first step, due at `due_at`, per customer."""
    now = core.clock.now()
    ids: list[str] = []
    for start in range(0, len(customer_ids), CHUNK):
        docs = []
        for customer_id in customer_ids[start : start + CHUNK]:
            enrolment = Enrolment(
                id=enrolment_id(sequence.id, customer_id, 1),
                workspace_id=sequence.workspace_id,
                sequence_id=sequence.id,
                version=sequence.version,
                customer_id=customer_id,
                step_id=sequence.steps[0].id,
                due_at=due_at,
                source="bulk",
                enrolled_at=now,
            )
            docs.append(enrolment.to_doc())
            ids.append(enrolment.id)
        await enrolments(core).insert_many(docs)
    return ids
