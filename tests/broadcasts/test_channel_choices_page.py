"""The compose form's channels (QA probe of the demo, bug 5): checkboxes of the channel types
the workspace has enabled, all ticked, in the order a customer is tried on them (none it
lacks, such as WeChat or email in the demo), named in the page's language; the API is
unchanged (a draft still gives `channels` as a list of types)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from kith.broadcasts.feature import feature as broadcasts_feature
from kith.broadcasts.page import channel_types
from kith.core.context import Core
from kith.core.features import install
from kith.core.ids import new_id
from kith.core.models import Channel
from kith.web.inbox.i18n import messages
from tests.web.conftest import Cast, app, browser, cast

__all__ = ["app", "browser", "cast"]


@pytest.fixture(autouse=True)
def with_feature(core: Core) -> None:
    """Installed before the app is built (autouse fixtures come first)."""
    install(core, [broadcasts_feature(core)])


async def add_channel(core: Core, workspace_id: str, kind: str, enabled: bool = True) -> None:
    made = Channel(
        id=new_id(), workspace_id=workspace_id, type=kind, name=kind, enabled=enabled,
        created_at=core.clock.now(),
    )  # fmt: skip
    await core.store.channels.insert_one(made.to_doc())


async def test_the_types_are_the_workspaces_enabled_ones_in_order(core: Core, cast: Cast) -> None:
    await add_channel(core, cast.workspace_id, "webchat")
    await add_channel(core, cast.workspace_id, "telegram")
    await add_channel(core, cast.workspace_id, "email", enabled=False)  # switched off
    await add_channel(core, "another-workspace", "wechat")
    await add_channel(core, cast.workspace_id, "fax")  # no such type registered
    assert await channel_types(core, cast.workspace_id) == ["telegram", "webchat", "api"]
    assert await channel_types(core, "nobody") == []


@pytest.mark.parametrize("locale", ["en", "zh"])
async def test_the_form_offers_them_ticked(
    core: Core, cast: Cast, browser: Callable[..., Any], locale: str
) -> None:
    t = messages(locale)
    await add_channel(core, cast.workspace_id, "webchat")
    mary = await browser("mary")
    page = await mary.http.get("/app/broadcasts", headers={"Accept-Language": locale})
    assert page.status_code == 200
    boxes = re.findall(r'<input type="checkbox" name="channel" value="(\w+)" checked', page.text)
    assert boxes == ["webchat", "api"]  # the two API channels offered once
    assert t["channel_type_webchat"] in page.text
    assert 'name="channels"' not in page.text and "telegram, wechat" not in page.text
    assert t["broadcasts_channels_none"] not in page.text


async def test_a_workspace_with_no_channel_says_so(
    core: Core, cast: Cast, browser: Callable[..., Any]
) -> None:
    await core.store.channels.update_many({}, {"$set": {"enabled": False}})
    mary = await browser("mary")
    page = await mary.http.get("/app/broadcasts", headers={"Accept-Language": "en"})
    assert 'type="checkbox" name="channel"' not in page.text
    assert messages("en")["broadcasts_channels_none"] in page.text
