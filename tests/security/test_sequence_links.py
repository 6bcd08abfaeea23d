"""Tracked links (`/l/{token}`) cannot be forged, altered, turned into an open redirect,
stand in for an unsubscribe token, count a click on another workspace's run, or be used
after the workspace's link key was rotated. A refused link answers 404 with no Location and
counts nothing."""

from __future__ import annotations

import base64

from kith.consent.links import LinkTarget, make_token, rotate_link_key, seal
from kith.core.workspaces import create_workspace
from kith.sequences.links import PURPOSE, link_url, track
from kith.sequences.store import enrolments, runs
from tests.sequences.conftest import (  # noqa: F401 (fixtures, found by name)
    channel,
    make_sequence,
    people,
    score,
)
from tests.sequences.test_links import (  # noqa: F401 (fixtures, found by name)
    LINK,
    Tracked,
    path_of,
    sent_run,
    tracked,
    web,
)
from tests.support.tokens import damaged


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def refused(tracked: Tracked, path: str) -> None:  # noqa: F811 (a plain argument)
    answer = await tracked.web.get(path)
    assert answer.status_code == 404, path
    assert "location" not in answer.headers, path


async def nothing_counted(tracked: Tracked) -> None:  # noqa: F811 (a plain argument)
    assert await runs(tracked.core).count_documents({"clicked_at": {"$ne": None}}) == 0
    assert await enrolments(tracked.core).count_documents({"clicked_at": {"$ne": None}}) == 0


async def test_forged_and_altered_links_are_refused(tracked: Tracked) -> None:  # noqa: F811
    core, workspace_id = tracked.core, tracked.workspace_id
    run = await sent_run(core, tracked.enrolment, "welcome")
    [link] = LINK.findall(await track(core, "https://shop.test/", run.id, workspace_id))
    body, _, mac = path_of(link).removeprefix("/l/").partition(".")
    evil = b64(f'["{workspace_id}","{run.id}","https://evil.test/"]')
    unsubscribe = await make_token(core, LinkTarget(workspace_id, run.id, "email"))
    for bad in [
        f"{evil}.{mac}",  # another destination under this signature
        f"{body}.{damaged(mac)}",
        body,
        f"{body}.",
        "not-a-token",
        "x" * 5000,
        unsubscribe,  # an unsubscribe token is signed for another purpose
        "..%2F..%2Fapi%2Fv1%2Fchannels",
    ]:
        await refused(tracked, f"/l/{bad}")
    await nothing_counted(tracked)


async def test_no_token_redirects_off_the_web(tracked: Tracked) -> None:  # noqa: F811
    """Even a validly signed token never sends a browser to a script or a bare host."""
    core, workspace_id = tracked.core, tracked.workspace_id
    for url in ("javascript:alert(1)", "//evil.test/", "data:text/html,hi", "https:evil.test"):
        token = await seal(core, [workspace_id, "run-x", url], PURPOSE)
        await refused(tracked, f"/l/{token}")
    text = "javascript:alert(1) //evil.test/x"
    assert await track(core, text, "run-x", workspace_id) == text  # nothing signed


async def test_a_link_cannot_count_a_click_in_another_workspace(
    tracked: Tracked,  # noqa: F811
) -> None:
    core, workspace_id = tracked.core, tracked.workspace_id
    theirs = await create_workspace(core, "Rival")
    rival = {"id": "rival-enrolment", "workspace_id": theirs.id}
    their_run = await sent_run(core, tracked.enrolment.model_copy(update=rival), "welcome")
    # Our workspace's key over their run: redirects (we signed that URL) but counts nothing.
    ours = await link_url(core, workspace_id, their_run.id, "https://shop.test/")
    answer = await tracked.web.get(path_of(ours))
    assert answer.status_code == 302 and answer.headers["location"] == "https://shop.test/"
    # Their workspace named in a payload under our signature: refused.
    mac = path_of(ours).rpartition(".")[2]
    swapped = b64(f'["{theirs.id}","{their_run.id}","https://shop.test/"]')
    await refused(tracked, f"/l/{swapped}.{mac}")
    await nothing_counted(tracked)


async def test_rotating_the_link_key_voids_tracked_links(tracked: Tracked) -> None:  # noqa: F811
    core, workspace_id = tracked.core, tracked.workspace_id
    run = await sent_run(core, tracked.enrolment, "welcome")
    [link] = LINK.findall(await track(core, "https://shop.test/", run.id, workspace_id))
    await rotate_link_key(core, workspace_id)
    await refused(tracked, path_of(link))
    await nothing_counted(tracked)
