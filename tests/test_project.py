"""Guards on the project's own wiring: packaging, documented settings, the CLI."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from kith.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TOP: dict[str, str] = {
    folder: name
    for name, folder in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"
    ].items()
}


def test_every_package_folder_is_listed_in_pyproject() -> None:
    """A folder missing from `packages` would be left out of `pip install .` (data folders
    too: setuptools warns about importable folders that are not listed, and drops them)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    for folder, name in TOP.items():
        for path in [ROOT / folder, *(ROOT / folder).rglob("*")]:
            relative = path.relative_to(ROOT / folder)
            if not path.is_dir() or {"fixtures", "__pycache__"} & set(relative.parts):
                continue
            dotted = ".".join([name, *relative.parts])
            assert dotted in listed, f"{dotted} is not in pyproject's packages"


def test_mypy_sees_every_package_folder() -> None:
    """mypy reads `kith` through .typing/kith/ (it cannot run the editable install's finder):
    a top-level folder without its link there would go unchecked."""
    for folder in TOP:
        link = ROOT / ".typing" / "kith" / folder
        assert link.is_symlink(), f"{link} is missing"
        assert link.resolve() == ROOT / folder


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"`KITH_{name.upper()}`" in readme, f"KITH_{name.upper()} missing from README"


def test_ci_runs_the_readme_test_command() -> None:
    ci = [
        line
        for line in (ROOT / ".ci/run").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci[-1] in (ROOT / "README.md").read_text()


def test_cli_refuses_persistent_commands_without_a_database() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kith.web.cli", "token", "create"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "KITH_MONGO_URI" in result.stderr
