"""Plan parsing/editing speed and CLI start-up time. Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/plan_bench.py
Targets: `phaser status` on a 100x10 plan < 0.25 s wall; a toggle + atomic write on a 1,000x20
plan < 50 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from phaser.plan import SetTask, edit_plan, parse_plan, read_plan, split_lines
from phaser.plan.parse import _CACHE


def make_plan(phases: int, tasks: int) -> str:
    out = ["---", f"title: Bench {phases}x{tasks}", "spec: spec.md", "format: 1", "---", "", "# Bench", ""]
    for p in range(1, phases + 1):
        out += [f"## Phase {p}: Step number {p}", "", "difficulty: medium"]
        out += [f"depends: {p - 1}", ""] if p > 1 else [""]
        out += [f"Why phase {p} exists, in a sentence or two of prose.", ""]
        out += [
            f"- [{'x' if (p + t) % 3 == 0 else ' '}] Task {t} of phase {p}: do a thing"
            for t in range(1, tasks + 1)
        ]
        out += ["", "### Notes", "", f"- a note for phase {p}", ""]
    return "\n".join(out) + "\n"


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def wall(cmd: list[str], repeat: int = 5) -> float | None:
    """Median wall seconds of a command, or None when it fails."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1, 3):  # status may report a stopped/waiting line; 2 = broken
            return None
    return statistics.median(times)


def fmt(seconds: float | None, base: float | None = None) -> str:
    if seconds is None:
        return "n/a"
    ratio = f"  ({seconds / base:.1f}x python -c pass)" if base else ""
    return f"{seconds * 1000:7.1f} ms{ratio}"


def bench_plan(root: Path, phases: int, tasks: int) -> Path:
    folder = root / "specs" / f"bench-{phases}x{tasks}"
    folder.mkdir(parents=True)
    (folder / "spec.md").write_text(f"---\ntitle: Bench {phases}x{tasks}\n---\n# Bench\n")
    text = make_plan(phases, tasks)
    path = folder / "plan.md"
    path.write_text(text)
    repeat = 15 if phases <= 100 else 5
    print(f"\n{phases} phases x {tasks} tasks: {len(text) / 1024:.0f} KiB, {len(split_lines(text))} lines")

    def parse_cold() -> None:
        _CACHE.clear()
        parse_plan(text, path)

    print(f"  parse                        {median_ms(parse_cold, repeat):8.2f} ms")
    print(
        f"  render (text round trip)     {median_ms(lambda: ''.join(split_lines(text)) == text, repeat):8.2f} ms"
    )

    plan = read_plan(path)
    refs = [t.ref for p in plan.phases[:: max(1, phases // 7)] for t in p.tasks[:1]]
    state = {r: plan.phase(int(r.split(".")[0])).task(1).checked for r in refs}

    def toggle(parse_result: bool) -> Callable[[], object]:
        it = iter(refs * 10)

        def run() -> object:
            ref = next(it)
            state[ref] = not state[ref]
            return edit_plan(path, SetTask(ref, state[ref]), parse_result=parse_result)

        return run

    print(f"  toggle+atomic write          {median_ms(toggle(True), repeat):8.2f} ms  (returns the new Plan)")
    print(f"  toggle+atomic write, no Plan {median_ms(toggle(False), repeat):8.2f} ms")

    def toggle_cold() -> None:
        _CACHE.clear()
        toggle(False)()

    print(
        f"  toggle, nothing cached       {median_ms(toggle_cold, 3):8.2f} ms  (first edit of an unread file)"
    )
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small = bench_plan(root, 100, 10)
        bench_plan(root, 1000, 20)
        py = [sys.executable]
        base = wall([*py, "-c", "pass"])
        print("\nCLI wall time (median of 5, includes interpreter start)")
        print(f"  python -c pass               {fmt(base)}")
        print(f"  import phaser.plan.store     {fmt(wall([*py, '-c', 'import phaser.plan.store']), base)}")
        print(f"  phaser --help                {fmt(wall([*py, '-m', 'phaser', '--help']), base)}")
        print(
            f"  phaser status plan.md 100x10 {fmt(wall([*py, '-m', 'phaser', 'status', str(small)]), base)}"
        )
        project = small.parent.parent.parent
        print(
            f"  phaser status (both plans)   {fmt(wall([*py, '-m', 'phaser', '-C', str(project), 'status']), base)}"
        )


if __name__ == "__main__":
    main()
