"""The project's checks, run by phaser itself after the coding step; never taken on the model's word.

A gate that proves nothing is red: pytest collecting no test (exit 5), more tests skipped than
before the phase, fewer passing than before, test files deleted or emptied by the phase, or any
test that passed before the phase no longer running or passing afterwards (unless it lives under
the phase's ``unprotect:`` paths).

Test identities come from pytest itself: a gate whose command mentions pytest runs with
``--junitxml=<temp file>`` added to ``PYTEST_ADDOPTS`` (the command string is left as it is), and
the report gives each test's node id (``tests/test_x.py::test_y``) and result. When a command runs
pytest more than once, the last run's report is the one kept. Without a report (pytest did not
run, or the option was overridden), only the counts are compared.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from phaser.agent.confine.policy import Policy
from phaser.agent.policy import matches_any
from phaser.agent.sandbox import run_command
from phaser.errors import ConfigError, RunStopped

_GATE_OUTPUT_CAP = 200_000  # head and tail kept; pytest's closing line is in the tail

_NAMES_SHOWN = 5  # test ids named in a summary; the rest are counted

_PYTEST = re.compile(r"(?:^|[\s/;&|(])(?:pytest|py\.test)(?=$|[\s;&|)])")


def runs_pytest(command: str) -> bool:
    """Whether the command runs pytest (``pytest``, ``.venv/bin/pytest``, ``python -m pytest``),
    not merely names a path holding the word (``/tmp/pytest-of-me/...``)."""
    return _PYTEST.search(command) is not None


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
    tests: dict[str, str] | None = None
    """Per pytest node id (``tests/test_x.py::test_y``): passed, failed or skipped, from pytest's JUnit
    report; None when there was no report. Left out of ``as_dict`` (it can hold thousands of ids)."""

    @property
    def is_pytest(self) -> bool:
        return runs_pytest(self.command)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("tests")
        return data


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


_RESULT_TAGS = {"failure": "failed", "error": "failed", "skipped": "skipped"}
_RANK = {"passed": 0, "skipped": 1, "failed": 2}


def node_id(classname: str, name: str, root: Path | None = None) -> str:
    """The pytest node id (``tests/test_basic.py::TestX::test_y``, what pytest takes on its command
    line) of a JUnit ``classname`` and ``name``. The dotted classname is the file's path and then
    any classes: the longest prefix that is a file under ``root`` is the file; without one, the
    parts that start with a capital letter (pytest's ``Test*`` classes) are taken as classes."""
    parts = [p for p in classname.split(".") if p]
    split = None
    if root is not None:
        split = next(
            (i for i in range(len(parts), 0, -1) if (root / ("/".join(parts[:i]) + ".py")).is_file()), None
        )
    if split is None:
        split = len(parts)
        while split > 1 and parts[split - 1][:1].isupper():
            split -= 1
    if not parts:  # a module that failed to collect: pytest names it by its dotted path alone
        dotted = name.split(".")
        return "/".join(dotted) + ".py" if name and all(p.isidentifier() for p in dotted) else name
    return "::".join(["/".join(parts[:split]) + ".py", *parts[split:], name])


def junit_results(path: Path, root: Path | None = None) -> dict[str, str] | None:
    """Each test's result (passed, failed or skipped) by pytest node id from a pytest JUnit XML
    report; None when the report is missing or unreadable. A test reported twice keeps its
    worst result."""
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        return None
    tests: dict[str, str] = {}
    for case in tree.getroot().iter("testcase"):
        test_id = node_id(case.get("classname", ""), case.get("name", ""), root)
        result = next((_RESULT_TAGS[c.tag] for c in case if c.tag in _RESULT_TAGS), "passed")
        if _RANK[result] >= _RANK.get(tests.get(test_id, "passed"), 0):
            tests[test_id] = result
    return tests


def run_gate(
    command: str,
    root: Path,
    timeout_s: float,
    env: dict[str, str] | None = None,
    cancel: threading.Event | None = None,
    policy: Policy | None = None,
) -> GateResult:
    """Run one gate through the harness's command runner (process group, timeout, no secrets),
    confined by ``policy``: a gate is phaser's check, but what it executes is the agent's work
    (its new tests, a conftest). None runs it unconfined (only for callers outside a phase). A
    pytest gate also writes a JUnit report to a temporary directory outside the project, read
    for per-test results; the policy lets it write there."""
    started = time.monotonic()
    report_dir = Path(tempfile.mkdtemp(prefix="phaser-gate-")) if runs_pytest(command) else None
    run_env = dict(env or {})
    if report_dir is not None:
        report = report_dir / "junit.xml"
        addopts = run_env.get("PYTEST_ADDOPTS", "").strip()
        run_env["PYTEST_ADDOPTS"] = f"{addopts} --junitxml={shlex.quote(str(report))}".strip()
    try:
        run = run_command(
            command,
            cwd=root,
            timeout_s=timeout_s,
            output_cap=_GATE_OUTPUT_CAP,
            read_only=False,
            env=run_env,
            sandbox="none",
            cancel=cancel,
            policy=_with_report(policy, report_dir),
        )
        tests = junit_results(report, root) if report_dir is not None else None
    finally:
        if report_dir is not None:
            shutil.rmtree(report_dir, ignore_errors=True)
    if run.cancelled:
        raise RunStopped(f"stopped while the gate `{command}` ran (it was killed)")
    output = run.output
    if report_dir is not None:  # pytest's "generated xml file: /tmp/..." line is phaser's, not the project's
        output = "\n".join(ln for ln in output.splitlines() if str(report_dir) not in ln)
    result = GateResult(
        command,
        run.exit_code == 0,
        run.exit_code,
        "",
        _tail(output),
        duration_s=time.monotonic() - started,
    )
    result.timed_out = run.timed_out
    if result.is_pytest:
        result.counts = pytest_counts(output)
        result.tests = tests
    result.summary = _summary(result)
    if run.timed_out:
        result.ok = False
        result.summary = f"timed out after {timeout_s:g}s"
    elif result.is_pytest and run.exit_code == 5:
        result.ok = False
        result.summary = "collected no tests: a gate that runs nothing proves nothing"
    return result


def _with_report(policy: Policy | None, report_dir: Path | None) -> Policy | None:
    if policy is None or report_dir is None:
        return policy
    return dataclasses.replace(policy, extra_writable=(*policy.extra_writable, report_dir))


def _summary(result: GateResult) -> str:
    if result.counts:
        order = ["passed", "failed", "errors", "skipped", "xfailed", "xpassed"]
        parts = [f"{result.counts[k]} {k}" for k in order if result.counts.get(k)]
        return ", ".join(parts) + ("" if result.ok else f" (exit {result.exit_code})")
    return "ok" if result.ok else f"exit {result.exit_code}"


def run_gates(
    commands: list[str],
    root: Path,
    timeout_s: float,
    env: dict[str, str] | None = None,
    cancel: threading.Event | None = None,
    policy: Policy | None = None,
) -> list[GateResult]:
    """Each gate in turn; a set ``cancel`` kills the running one and raises RunStopped."""
    return [run_gate(cmd, root, timeout_s, env, cancel, policy) for cmd in commands]


_NO_MODULE = re.compile(r"No module named '?([\w.]+)'?")


def cannot_judge(result: GateResult) -> str | None:
    """Why a baseline gate can judge nothing at all (its fix is the person's, not the model's), or
    None. A gate that runs and is red is not this: the phase is there to make it green."""
    if result.timed_out:
        return None
    cmd = f"gate `{result.command}`"
    where = "fix it under [gates] commands in phaser.toml"
    if result.exit_code == 127:
        return f"{cmd} was not found (exit 127): install the tool or {where}"
    if result.exit_code == 126:
        return f"{cmd} cannot be executed (exit 126): make it executable or {where}"
    missing = _NO_MODULE.search(result.output_tail) if result.exit_code != 0 else None
    if missing and len(result.output_tail.strip().splitlines()) <= 3:  # the runner never started
        return (
            f"{cmd} cannot start: No module named {missing.group(1)}: install it in the interpreter the gate "
            f"names (`<python> -m pip install {missing.group(1).split('.')[0]}`) or {where}"
        )
    if result.is_pytest and result.exit_code == 5:
        return (
            f"{cmd} collects no tests (pytest exit 5), so it cannot judge the phase: add tests or point "
            f"the command at them, or {where}"
        )
    return None


def baseline_gates(results: list[GateResult]) -> list[GateResult]:
    """``results``, the gates' run before a phase. Raises ConfigError (exit 2) when one of them can
    judge nothing, so no model is paid for a phase whose checks could never pass or fail."""
    problems = [p for p in map(cannot_judge, results) if p]
    if problems:
        raise ConfigError("; ".join(problems) + " (nothing ran: no model was called)")
    return results


def _under(test_id: str, globs: list[str]) -> bool:
    """Whether a test's file matches one of the globs: a node id names it (``tests/test_x.py::``);
    a dotted JUnit classname holds the file's path and then any classes, so every dotted prefix
    is tried."""
    head = test_id.split("::", 1)[0]
    if head.endswith(".py"):
        return matches_any(head, globs) is not None
    parts = head.split(".")
    return any(matches_any("/".join(parts[:i]) + ".py", globs) for i in range(len(parts), 0, -1))


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:_NAMES_SHOWN])
    return shown + (f" (and {len(ids) - _NAMES_SHOWN} more)" if len(ids) > _NAMES_SHOWN else "")


def _tests(n: int) -> str:
    return f"{n} test that passed before the phase" if n == 1 else f"{n} tests that passed before the phase"


def lost_tests(result: GateResult, prior: GateResult | None, unprotect: Iterable[str] = ()) -> str:
    """What became of the tests that passed in ``prior`` but do not pass in ``result`` (those under
    ``unprotect`` globs aside); empty when none, or when either run left no JUnit report."""
    if prior is None or prior.tests is None or result.tests is None:
        return ""
    globs = [g for g in unprotect if g.strip()]
    gone: dict[str, list[str]] = {"missing": [], "failed": [], "skipped": []}
    for test_id, before in sorted(prior.tests.items()):
        now = result.tests.get(test_id, "missing")
        if before == "passed" and now != "passed" and not (globs and _under(test_id, globs)):
            gone[now].append(test_id)
    verbs = {"missing": "no longer run", "failed": "now fail", "skipped": "are now skipped"}
    verbs_one = {"missing": "no longer runs", "failed": "now fails", "skipped": "is now skipped"}
    return "; ".join(
        f"{_tests(len(ids))} {(verbs_one if len(ids) == 1 else verbs)[kind]}: {_names(ids)}"
        for kind, ids in gone.items()
        if ids
    )


def audit(
    results: list[GateResult],
    baseline: list[GateResult] | None,
    test_damage: list[str],
    unprotect: Iterable[str] = (),
) -> list[GateResult]:
    """Turn green gates red when they prove less than before the phase; a pytest gate also says
    which tests that passed before the phase (outside ``unprotect`` globs) no longer run or pass."""
    before = {r.command: r for r in baseline or []}
    unprotect = list(unprotect)
    for r in results:
        if not r.is_pytest:
            continue
        prior = before.get(r.command)
        lost = lost_tests(r, prior, unprotect)
        if not r.ok:
            if lost and not r.timed_out:
                r.summary = f"{r.summary}: {lost}"
            continue
        skipped, passed = r.counts.get("skipped", 0), r.counts.get("passed", 0)
        if prior is not None and prior.counts:
            if skipped > prior.counts.get("skipped", 0):
                r.ok = False
                was = prior.counts.get("skipped", 0)
                r.summary = f"{r.summary}: more tests skipped than before the phase ({was} -> {skipped})"
            elif passed + r.counts.get("failed", 0) < prior.counts.get("passed", 0) + prior.counts.get(
                "failed", 0
            ):
                r.ok = False
                before_n = prior.counts.get("passed", 0) + prior.counts.get("failed", 0)
                ran = passed + r.counts.get("failed", 0)
                r.summary = f"{r.summary}: fewer tests ran than before the phase ({before_n} -> {ran})"
        if r.ok and passed == 0:
            r.ok = False
            r.summary = f"{r.summary or 'no tests'}: no test passed"
        if r.ok and test_damage:
            r.ok = False
            r.summary = f"{r.summary}: test files deleted or emptied by the phase: {', '.join(test_damage)}"
        if lost:
            r.ok = False
            r.summary = f"{r.summary}: {lost}"
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
