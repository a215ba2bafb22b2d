"""The import contract in pyproject.toml ([tool.importlinter]): imports only go down (cli -> tui ->
workflow -> agent -> plan, config -> errors, events, outcomes), plan/ is pure, the core never
imports textual, only the provider adapter imports the anthropic SDK. import-linter reads every
import statement, lazy ones inside functions too, so no module list is kept by hand here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())",
]


def _lint(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(LINT, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_import_contract_holds() -> None:
    done = _lint(ROOT, ROOT / "src")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 kept, 0 broken" in done.stdout


def test_a_lazy_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "src" / "phaser", tmp_path / "src" / "phaser", ignore=shutil.ignore_patterns("__pycache__")
    )
    model = tmp_path / "src" / "phaser" / "plan" / "model.py"
    model.write_text(model.read_text() + "\n\ndef _sneaky():\n    import phaser.tui.app  # noqa: F401\n")
    done = _lint(tmp_path, tmp_path / "src")
    assert done.returncode != 0
    assert "phaser.plan.model -> phaser.tui.app" in done.stdout
