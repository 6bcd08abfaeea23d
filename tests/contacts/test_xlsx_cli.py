"""`kith customers import FILE.xlsx`: a workbook named by its suffix imports its first sheet
through the same job as a CSV file, bad rows listed with the row numbers Excel shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from pymongo import MongoClient
from typer.testing import CliRunner

from kith.core.settings import Settings
from kith.web.cli import app
from tests.contacts.test_cli import fresh_settings

__all__ = ["fresh_settings"]
runner = CliRunner()


@pytest.mark.realdb
def test_the_command_imports_a_workbook(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (
        ["姓名", "邮箱", "手机", "城市"],
        ["王芳", "wf@example.cn", 13800138000, "上海"],
        ["坏人", "bad@", None, "北京"],
    ):
        sheet.append(row)
    book.create_sheet("ignored").append(["name", "email"])  # only the first sheet is read
    path = tmp_path / "联系人.XLSX"
    book.save(path)
    assert settings.mongo_uri is not None
    monkeypatch.setenv("KITH_MONGO_URI", settings.mongo_uri)
    monkeypatch.setenv("KITH_DB_NAME", settings.db_name)
    monkeypatch.setenv("KITH_SECRET_KEY", "kith-test-install-secret")
    args = ["customers", "import", str(path), "--map", "城市=attributes.city"]
    with MongoClient(settings.mongo_uri, tz_aware=True) as client:
        try:
            args += ["--map", "姓名=name", "--map", "邮箱=email", "--map", "手机=phone"]
            result = runner.invoke(app, args)
            assert result.exit_code == 0, result.output
            assert "done; created 1, failed 1" in result.output
            assert "row 3, column 邮箱" in result.output
            (wang,) = client[settings.db_name].customers.find({})
            assert wang["name"] == "王芳" and wang["phones"] == ["+8613800138000"]
            assert wang["attributes"] == {"city": "上海"}
            broken = tmp_path / "broken.xlsx"
            broken.write_bytes(b"name,email\nAda,ada@example.com\n")
            refused = runner.invoke(app, ["customers", "import", str(broken)])
            assert refused.exit_code == 2 and "file: not an Excel workbook" in refused.output
        finally:
            client.drop_database(settings.db_name)
