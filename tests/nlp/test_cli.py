"""`kith nlp` sub-app: evaluate (text and --json), prepare."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kith.nlp.cli import app

runner = CliRunner()


def _csv(tmp_path: Path) -> Path:
    f = tmp_path / "mini.csv"
    f.write_text(
        "text,label\n"
        "I love it,positive\n"
        "This is terrible,negative\n"
        "The flight leaves at 5pm,neutral\n",
        encoding="utf-8",
    )
    return f


def test_evaluate_json(model_dir: Path, tmp_path: Path) -> None:
    f = _csv(tmp_path)
    out = runner.invoke(app, ["evaluate", str(f), str(f), "--json"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.output.strip().splitlines()]
    assert len(rows) == 2
    assert set(rows[0]) == {"file", "accuracy", "macro_f1", "n"}
    assert rows[0]["n"] == 3 and rows[0]["file"] == str(f)
    assert 0.0 <= rows[0]["accuracy"] <= 1.0


def test_evaluate_text_and_bad_file(model_dir: Path, tmp_path: Path) -> None:
    f = _csv(tmp_path)
    out = runner.invoke(app, ["evaluate", str(f)])
    assert out.exit_code == 0, out.output
    assert "macro_f1=" in out.output and "n=3" in out.output
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    out = runner.invoke(app, ["evaluate", str(bad)])
    assert out.exit_code == 1


def test_prepare(model_dir: Path) -> None:
    out = runner.invoke(app, ["prepare", "--quiet"])
    assert out.exit_code == 0, out.output
    assert out.output.strip() == str(model_dir)


def test_evaluate_refuses_a_file_with_shifted_columns(model_dir: Path, tmp_path: Path) -> None:
    # An unquoted comma in the text makes the rest of the text the "label".
    f = tmp_path / "unquoted.csv"
    f.write_text("text,label\nGreat,neutral\nHi, I have a question,neutral\n", encoding="utf-8")
    out = runner.invoke(app, ["evaluate", str(f), "--json"])
    assert out.exit_code == 1
    assert "line 3" in out.output and "'i have a question'" in out.output
