"""`kith customers import FILE.csv`: the import job run from a terminal against the
configured database, with a progress bar, and the bad rows and ignored columns listed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient
from typer.testing import CliRunner

from kith.core.settings import Settings, get_settings
from kith.web.cli import app

runner = CliRunner()


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def contacts_file(tmp_path: Path) -> Path:
    path = tmp_path / "联系人.csv"
    text = (
        "姓名,邮箱,城市,备注\n"
        "王芳,wf@example.cn,上海,\n坏人,bad@,北京,\n李娜,ln@example.cn,上海,x\n"
    )
    path.write_bytes(text.encode("gbk"))
    return path


def test_without_a_database_the_command_refuses(
    contacts_file: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.delenv("KITH_MONGO_URI", raising=False)
    result = runner.invoke(app, ["customers", "import", str(contacts_file)])
    assert result.exit_code == 2
    assert "KITH_MONGO_URI" in result.output


@pytest.mark.realdb
def test_the_command_imports_with_progress_and_lists_bad_rows(
    settings: Settings,
    contacts_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_settings: None,
) -> None:
    assert settings.mongo_uri is not None
    monkeypatch.setenv("KITH_MONGO_URI", settings.mongo_uri)
    monkeypatch.setenv("KITH_DB_NAME", settings.db_name)
    monkeypatch.setenv("KITH_SECRET_KEY", "kith-test-install-secret")
    args = ["customers", "import", str(contacts_file), "--map", "姓名=name"]
    args += ["--map", "邮箱=email", "--map", "城市=attributes.city"]
    with MongoClient(settings.mongo_uri, tz_aware=True) as client:
        try:
            result = runner.invoke(app, args)
            assert result.exit_code == 0, result.output
            assert "importing" in result.output  # the progress bar's label
            assert "done; created 2, failed 1" in result.output
            assert "row 3, column 邮箱" in result.output
            assert "column 备注 ignored: not in the mapping" in result.output
            db = client[settings.db_name]
            names = sorted(c["name"] for c in db.customers.find({"attributes.city": "上海"}))
            assert names == ["李娜", "王芳"]
            bad = runner.invoke(app, [*args[:3], "--map", "邮箱=mail"])
            assert bad.exit_code == 2 and "mapping.邮箱" in bad.output
        finally:
            client.drop_database(settings.db_name)
