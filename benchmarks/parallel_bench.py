"""Wall time of `phaser run` on 6 phases as 3 independent pairs, `--parallel 2` against one phase at
a time, in one run of this script. Prints both times and their ratio; exits 0 either way.

Run: .venv/bin/python benchmarks/parallel_bench.py [--keep]   (--keep leaves the temporary projects)

Each pair's two phases are independent of each other and depend on both phases of the pair before
(so `--parallel 2` runs three waves of two). Every phase writes a module and its test; the gate is
a real pytest run (in the phase's worktree, and again on the merged tree when parallel). The agent
is the fake Messages API (src/phaser/testing/fake_api.py) driven through the real anthropic SDK,
answering each phase from its own scripted turns whatever the order of the requests
(tests/parallel_helpers.py). The same plan and turns run both ways, each in a fresh project.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from parallel_helpers import PhaseScript, git, make_project, module_calls, phase_turns, plan_text  # noqa: E402
from phaser.testing.fake_api import FakeMessagesAPI  # noqa: E402
from phaser.workflow.project import Project  # noqa: E402
from phaser.workflow.providers import RunOptions  # noqa: E402
from phaser.workflow.runner import run_all  # noqa: E402

PAIRS = 3


def workload() -> tuple[str, dict[int, list[dict]]]:
    phases, depends, turns = [], {}, {}
    for n in range(1, 2 * PAIRS + 1):
        name = f"m{n}"
        phases.append((f"Module {name}", f"Add `{name}.py`"))
        pair = (n + 1) // 2
        if pair > 1:
            depends[n] = f"{2 * pair - 3}, {2 * pair - 2}"
        turns[n] = phase_turns(n, module_calls(n, name))
    return plan_text(phases, depends), turns


def one_run(base: Path, width: int) -> float:
    plan, turns = workload()
    root = make_project(base / f"parallel-{width}", plan)
    with FakeMessagesAPI(PhaseScript(turns)) as api:
        os.environ["ANTHROPIC_BASE_URL"] = api.base_url
        os.environ["ANTHROPIC_API_KEY"] = "sk-bench-key-123456"
        start = time.perf_counter()
        result = run_all(Project.open(root), None, options=RunOptions(parallel=width))
        took = time.perf_counter() - start
    done = git(root, "log", "--first-parent", "--format=%s").count("phase ")
    print(f"  --parallel {width}: {took:6.1f} s  ({result.reason.value}, {done} phase commits)")
    if result.reason.value != "complete":
        print(f"    the run did not complete: {result.detail}")
    return took


def main() -> None:
    keep = "--keep" in sys.argv
    base = Path(tempfile.mkdtemp(prefix="phaser-parallel-bench-"))
    try:
        print(f"phaser run: {2 * PAIRS} phases as {PAIRS} independent pairs, fake Messages API, pytest gates")
        sequential = one_run(base, 1)
        parallel = one_run(base, 2)
        print(
            f"\n  ratio --parallel 2 / sequential: {parallel / sequential:.2f}  (below 1: parallel is faster)"
        )
        print(f"  machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    finally:
        if keep:
            print(f"projects kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
