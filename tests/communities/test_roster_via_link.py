"""A stay through a Kith invite link names that link and its owner on the roster (qa8 minor
3): Telegram gives back the link's name cut to 32 characters with its `ref_` code, which the
roster reads back to the invite (`spans[].link`), while `via` stays as the platform said it."""

from __future__ import annotations

import pytest

from kith.communities.demo_referrals import LABEL, seed_demo_referrals
from kith.communities.store import members
from tests.communities.referral_support import BotApiWithMe, customer_of, make_group
from tests.connectors.telegram.conftest import BOT_TOKEN, TelegramSetup
from tests.support.consumers import drain

ADA = 424242001


@pytest.fixture
def callbacks() -> BotApiWithMe:
    return BotApiWithMe(token=BOT_TOKEN)


async def test_the_roster_names_the_invite_link_and_its_owner(
    telegram: TelegramSetup, workspace_id: str, callbacks: BotApiWithMe
) -> None:
    group = await make_group(telegram)
    await group.join(ADA, "Ada")
    invite = await seed_demo_referrals(telegram.core, workspace_id, group.id)
    assert invite is not None
    await drain(telegram.core)
    ada = await customer_of(telegram.core, telegram.channel_id, ADA)

    answer = await telegram.http.get(
        f"/api/v1/communities/{group.id}/members", params={"q": "lin"}, headers=telegram.auth
    )
    assert answer.status_code == 200, answer.text
    (lin,) = answer.json()["items"]
    span = lin["spans"][-1]
    assert span["via"].endswith(f"ref_{invite.code}") and len(span["via"]) <= 32
    assert span["link"] == {
        "invite_id": invite.id,
        "name": LABEL,
        "customer_id": ada,
        "owner": "Ada",
    }
    stored = await members(telegram.core).find_one({"_id": lin["id"]})
    assert stored is not None and "link" not in stored["spans"][-1]  # read, never stored

    answer = await telegram.http.get(
        f"/api/v1/communities/{group.id}/members", params={"q": "Ada"}, headers=telegram.auth
    )
    (own,) = answer.json()["items"]
    assert all(s["link"] is None for s in own["spans"])  # joined without a link
