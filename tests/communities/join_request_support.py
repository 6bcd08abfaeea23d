"""Join requests for the page tests, as the join-requests consumer stores them (customer text
in the name and the link's name), and a recording `GroupAdmin` that decides them (the network
boundary), refusing the users it is told to as Telegram would."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from kith.communities.join_requests import JoinRequest, RequestStatus, requests
from kith.communities.models import Community
from kith.core.channels import ChannelRegistry
from kith.core.context import Core
from kith.core.errors import DeliveryError
from kith.core.models import Channel
from tests.communities.audit_support import HOSTILE, MIA
from tests.communities.moderation_kit import RecordingAdmin

EVE = f"Eve {HOSTILE}"
POSTER = "Poster <i>window</i>"


@dataclass
class JoinAdmin(RecordingAdmin):
    """Records approvals and declines; a user in `refuse_users` is refused for good."""

    refuse_users: set[str] = field(default_factory=set)

    def _decide(self, verdict: str, chat: str, user: str) -> None:
        self.calls.append((f"{verdict}_join_request", chat, user))
        if user in self.refuse_users:
            raise DeliveryError("Bad Request: USER_CHANNELS_TOO_MUCH", retryable=False)

    async def approve_join_request(
        self, core: Core, channel: Channel, chat: str, user: str
    ) -> None:
        self._decide("approve", chat, user)

    async def decline_join_request(
        self, core: Core, channel: Channel, chat: str, user: str
    ) -> None:
        self._decide("decline", chat, user)

    async def title(self, core: Core, channel: Channel, chat: str) -> str | None:
        return None


def install_join_admin(core: Core) -> JoinAdmin:
    admin = JoinAdmin()
    types = [replace(t, group_admin=admin) if t.name == "telegram" else t for t in core.channels]
    core.channels = ChannelRegistry(types)
    return admin


def request(community: Community, n: int, user: str, **fields: Any) -> JoinRequest:
    values: dict[str, Any] = {
        "id": f"jr-{community.id}-{n}",
        "workspace_id": community.workspace_id,
        "community_id": community.id,
        "customer_id": None,
        "platform_user_id": user,
        "requested_at": community.created_at + timedelta(minutes=n),
        **fields,
    }
    return JoinRequest.model_validate(values)


async def seed_requests(core: Core, community: Community) -> dict[str, JoinRequest]:
    """Eve (a customer, hostile name and link) and 424242777 (no name, no link) pending; Ada
    approved by Mia; Bob declined by the bot."""
    decided = community.created_at + timedelta(hours=1)
    made = {
        "eve": request(community, 4, "424242005", name=EVE, customer_id="cust-eve", via=POSTER),
        "nameless": request(community, 3, "424242777"),
        "ada": request(
            community,
            2,
            "424242001",
            name="Ada Approved",
            status=RequestStatus.approved,
            decided_at=decided,
            decided_by=MIA.model_dump(mode="json", exclude_none=True),
        ),
        "bob": request(
            community,
            1,
            "424242002",
            name="Bob Declined",
            status=RequestStatus.declined,
            decided_at=decided,
            decided_by={"kind": "system", "name": "join requests"},
        ),
    }
    await requests(core).insert_many([r.to_doc() for r in made.values()])
    return made
