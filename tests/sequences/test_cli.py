"""`kith sequences enrol ID --segment S | --customers FILE` and `kith sequences list`: the
bulk enrolment job run from a terminal against the configured database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient
from typer.testing import CliRunner

from kith.core.settings import Settings, get_settings
from kith.core.workspaces import ensure_default_workspace
from kith.segments.reconcile import fill
from kith.segments.records import do_create_segment
from kith.sequences.actions import do_create_sequence, move
from kith.sequences.models import SequenceIn, Status
from kith.web.app import build_core
from kith.web.cli import app
from tests.segments.conftest import customer
from tests.sequences.conftest import WELCOME

runner = CliRunner()


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_without_a_database_or_a_source_the_command_refuses(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.delenv("KITH_MONGO_URI", raising=False)
    result = runner.invoke(app, ["sequences", "enrol", "s1", "--segment", "vip"])
    assert result.exit_code == 2 and "KITH_MONGO_URI" in result.output
    neither = runner.invoke(app, ["sequences", "enrol", "s1"])
    assert neither.exit_code == 2 and "--segment or --customers" in neither.output


async def _prepare(settings: Settings) -> tuple[str, str]:
    """An active sequence and a segment of three customers (no channel: skipped)."""
    core = build_core(settings)
    await core.start()
    try:
        workspace_id = (await ensure_default_workspace(core)).id
        for n in range(3):
            await customer(core, workspace_id, f"vip-{n}", tags=["vip"])
        raw = {"field": "tags", "op": "contains", "value": "vip"}
        vip = await do_create_segment(core, workspace_id, "VIP", raw)
        await fill(core, vip)
        made = await do_create_sequence(core, workspace_id, SequenceIn.model_validate(WELCOME))
        await move(core, workspace_id, made.id, Status.active)
        return made.id, vip.id
    finally:
        await core.close()


@pytest.mark.realdb
def test_the_command_enrols_a_segment_and_a_file_with_progress(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    assert settings.mongo_uri is not None
    monkeypatch.setenv("KITH_MONGO_URI", settings.mongo_uri)
    monkeypatch.setenv("KITH_DB_NAME", settings.db_name)
    monkeypatch.setenv("KITH_SECRET_KEY", "kith-test-install-secret")
    with MongoClient(settings.mongo_uri, tz_aware=True) as client:
        try:
            sequence_id, segment_id = asyncio.run(_prepare(settings))
            listed = runner.invoke(app, ["sequences", "list"])
            assert listed.exit_code == 0, listed.output
            assert f"{sequence_id}\tWelcome\tactive\t1" in listed.output
            result = runner.invoke(
                app, ["sequences", "enrol", sequence_id, "--segment", segment_id]
            )
            assert result.exit_code == 0, result.output
            assert "enrolling" in result.output  # the progress bar's label
            assert "done; skipped 3" in result.output
            ids = tmp_path / "ids.txt"
            ids.write_text("# customers\nvip-0\n\nnobody\n", encoding="utf-8")
            again = runner.invoke(app, ["sequences", "enrol", sequence_id, "--customers", str(ids)])
            assert again.exit_code == 0, again.output
            assert "done; not_found 1, skipped 1" in again.output
            db = client[settings.db_name]
            assert db.sequence_enrolments.count_documents({"sequence_id": sequence_id}) == 3
            assert db.sequence_enrol_rows.count_documents({}) == 0
            missing = runner.invoke(app, ["sequences", "enrol", sequence_id, "--segment", "nope"])
            assert missing.exit_code == 2 and "segment_id" in missing.output
        finally:
            client.drop_database(settings.db_name)


def test_listing_without_a_database_says_it_reads_rather_than_writes(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    """Regression (QA sequences #9): `kith sequences list` claimed it "writes to the database"."""
    monkeypatch.delenv("KITH_MONGO_URI", raising=False)
    result = runner.invoke(app, ["sequences", "list"])
    assert result.exit_code == 2 and "KITH_MONGO_URI" in result.output
    assert "reads the database" in result.output and "writes" not in result.output
