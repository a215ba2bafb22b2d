"""The project's checks, run by phaser itself after the coding step; never taken on the model's word.

A gate that proves nothing is red: pytest collecting no test (exit 5), more tests skipped than
before the phase, fewer passing than before, or test files deleted or emptied by the phase.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from phaser.agent.sandbox import run_command

_GATE_OUTPUT_CAP = 200_000  # head and tail kept; pytest's closing line is in the tail

_COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?)")


@dataclass
class GateResult:
    command: str
    ok: bool
    exit_code: int
    summary: str
    output_tail: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    timed_out: bool = False

    @property
    def is_pytest(self) -> bool:
        return "pytest" in self.command

    def as_dict(self) -> dict:
        return asdict(self)


def pytest_counts(output: str) -> dict[str, int]:
    """Counts from pytest's closing line, e.g. ``3 passed, 1 skipped in 0.12s``."""
    counts: dict[str, int] = {}
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    for line in reversed(lines[-5:]):
        found = _COUNT.findall(line)
        if found and (" in " in line or "=" in line or line.strip()[0].isdigit()):
            for n, what in found:
                key = {"error": "errors", "warning": "warnings"}.get(what, what)
                counts[key] = counts.get(key, 0) + int(n)
            break
    return counts


def _tail(text: str, lines: int = 60, chars: int = 6000) -> str:
    tail = "\n".join(text.rstrip().splitlines()[-lines:])
    return tail[-chars:]


def run_gate(command: str, root: Path, timeout_s: float, env: dict[str, str] | None = None) -> GateResult:
    """Run one gate through the harness's command runner (process group, timeout, no secrets), unsandboxed:
    gates are the project's own checks, run by phaser, not by the model."""
    started = time.monotonic()
    run = run_command(
        command,
        cwd=root,
        timeout_s=timeout_s,
        output_cap=_GATE_OUTPUT_CAP,
        read_only=False,
        env=env,
        sandbox="none",
    )
    result = GateResult(
        command,
        run.exit_code == 0,
        run.exit_code,
        "",
        _tail(run.output),
        duration_s=time.monotonic() - started,
    )
    result.timed_out = run.timed_out
    if result.is_pytest:
        result.counts = pytest_counts(run.output)
    result.summary = _summary(result)
    if run.timed_out:
        result.ok = False
        result.summary = f"timed out after {timeout_s:g}s"
    elif result.is_pytest and run.exit_code == 5:
        result.ok = False
        result.summary = "collected no tests: a gate that runs nothing proves nothing"
    return result


def _summary(result: GateResult) -> str:
    if result.counts:
        order = ["passed", "failed", "errors", "skipped", "xfailed", "xpassed"]
        parts = [f"{result.counts[k]} {k}" for k in order if result.counts.get(k)]
        return ", ".join(parts) + ("" if result.ok else f" (exit {result.exit_code})")
    return "ok" if result.ok else f"exit {result.exit_code}"


def run_gates(
    commands: list[str], root: Path, timeout_s: float, env: dict[str, str] | None = None
) -> list[GateResult]:
    return [run_gate(cmd, root, timeout_s, env) for cmd in commands]


def audit(
    results: list[GateResult], baseline: list[GateResult] | None, test_damage: list[str]
) -> list[GateResult]:
    """Turn green gates red when they prove less than before the phase."""
    before = {r.command: r for r in baseline or []}
    for r in results:
        if not r.ok or not r.is_pytest:
            continue
        prior = before.get(r.command)
        skipped, passed = r.counts.get("skipped", 0), r.counts.get("passed", 0)
        if prior is not None and prior.counts:
            if skipped > prior.counts.get("skipped", 0):
                r.ok = False
                r.summary = f"{r.summary}: more tests skipped than before the phase ({prior.counts.get('skipped', 0)} -> {skipped})"
            elif passed + r.counts.get("failed", 0) < prior.counts.get("passed", 0) + prior.counts.get(
                "failed", 0
            ):
                r.ok = False
                before_n = prior.counts.get("passed", 0) + prior.counts.get("failed", 0)
                r.summary = f"{r.summary}: fewer tests ran than before the phase ({before_n} -> {passed + r.counts.get('failed', 0)})"
        if r.ok and passed == 0:
            r.ok = False
            r.summary = f"{r.summary or 'no tests'}: no test passed"
        if r.ok and test_damage:
            r.ok = False
            r.summary = f"{r.summary}: test files deleted or emptied by the phase: {', '.join(test_damage)}"
    return results


def describe(results: list[GateResult]) -> str:
    return "; ".join(f"{r.command}: {r.summary}" for r in results) or "no gates configured"


def is_test_path(path: str) -> bool:
    name = Path(path).name
    return (
        path.startswith("tests/")
        or "/tests/" in path
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def test_damage(root: Path, deleted: list[str], modified: list[str]) -> list[str]:
    """Test files the phase deleted, or left empty of content."""
    damage = [p for p in deleted if is_test_path(p)]
    for p in modified:
        if is_test_path(p):
            target = root / p
            try:
                if not target.read_text(encoding="utf-8", errors="replace").strip():
                    damage.append(p)
            except OSError:
                damage.append(p)
    return damage
