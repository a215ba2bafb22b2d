"""Plan parsing/editing speed and `phaser status` against a peer. Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/plan_bench.py [--no-peer]
Targets (issue 12), as ratios measured in this one run:
- `phaser status` on 100 phases x 10 tasks at most 1/5 of Backlog.md's `backlog task list --plain`
  on the equivalent data (100 tasks x 10 acceptance criteria, each depending on the one before);
  Backlog.md is installed with npm into a temporary prefix when npm is there (else: said so).
- `phaser status` on 1,000 phases at most 10x its time on 100 phases.
Both with a cold parse cache (every run parses) and a warm one (`.phaser/cache/`, no markdown-it);
the ratio to `python -c pass` is printed beside each figure.
A toggle + atomic write on a 1,000x20 plan < 50 ms.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from phaser.plan import SetTask, edit_plan, parse_plan, read_plan, split_lines
from phaser.plan.parse import _CACHE

BACKLOG_VERSION = "1.52.0"


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
        "  render (text round trip)     "
        f"{median_ms(lambda: ''.join(split_lines(text)) == text, repeat):8.2f} ms"
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


def status_project(root: Path, phases: int, tasks: int) -> Path:
    """A project with one plan of ``phases`` x ``tasks``, each phase depending on the one before."""
    project = root / f"status-{phases}"
    folder = project / "specs" / "bench"
    folder.mkdir(parents=True)
    (project / ".phaser").mkdir()
    (project / "phaser.toml").write_text("")
    (folder / "spec.md").write_text("---\ntitle: Bench\n---\n# Bench\n")
    (folder / "plan.md").write_text(make_plan(phases, tasks))
    return project


def backlog_project(root: Path, tasks: int, criteria: int) -> Path:
    """Backlog.md's data for the same work: one task file per phase, its tasks as acceptance criteria,
    in the format `backlog task create` writes (checked the same way as the plan's boxes)."""
    project = root / f"backlog-{tasks}"
    folder = project / "backlog" / "tasks"
    folder.mkdir(parents=True)
    (project / "backlog" / "config.yml").write_text(
        'project_name: "bench"\ndefault_status: "To Do"\nstatuses: ["To Do", "In Progress", "Done"]\n'
        "labels: []\ndate_format: yyyy-mm-dd\nremote_operations: false\nauto_commit: false\n"
        "check_active_branches: false\n"
    )
    for n in range(1, tasks + 1):
        deps = f"[TASK-{n - 1}]" if n > 1 else "[]"
        ac = [
            f"- [{'x' if (n + t) % 3 == 0 else ' '}] #{t} Task {t} of phase {n}: do a thing"
            for t in range(1, criteria + 1)
        ]
        (folder / f"task-{n} - Step-number-{n}.md").write_text(
            f"---\nid: TASK-{n}\ntitle: Step number {n}\nstatus: To Do\nassignee: []\n"
            f"created_date: '2026-01-01 10:00'\nlabels: []\ndependencies: {deps}\nordinal: "
            f"{n * 1000}\n---\n\n"
            f"## Description\n\nWhy phase {n} exists, in a sentence or two of prose.\n\n"
            "## Acceptance Criteria\n<!-- AC:BEGIN -->\n" + "\n".join(ac) + "\n<!-- AC:END -->\n"
        )
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    return project


def install_backlog(root: Path) -> str | None:
    """Path of the `backlog` CLI: on PATH, else npm-installed into a temp prefix; None (and why)."""
    found = shutil.which("backlog")
    if found:
        return found
    npm = shutil.which("npm")
    if npm is None:
        print("  Backlog.md: npm is not installed here, so the peer is not measured")
        return None
    prefix = root / "npm"
    proc = subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", f"backlog.md@{BACKLOG_VERSION}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    cli = prefix / "node_modules" / ".bin" / "backlog"
    if proc.returncode != 0 or not cli.exists():
        print(
            f"  Backlog.md: npm install failed ({proc.stderr.strip().splitlines()[-1:] or proc.returncode})"
        )
        return None
    return str(cli)


def status_wall(project: Path, warm: bool, repeat: int) -> float | None:
    cmd = [sys.executable, "-m", "phaser", "-C", str(project), "status"]
    cache = project / ".phaser" / "cache"
    times = []
    if warm:
        subprocess.run(cmd, capture_output=True)
    for _ in range(repeat):
        if not warm:
            shutil.rmtree(cache, ignore_errors=True)
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1, 3):
            print(f"  phaser status failed: {proc.stderr.decode(errors='replace').strip()[-300:]}")
            return None
    return statistics.median(times)


def main() -> None:
    peer = "--no-peer" not in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_plan(root, 100, 10)
        bench_plan(root, 1000, 20)
        py = [sys.executable]
        base = wall([*py, "-c", "pass"], repeat=9)
        print("\nCLI wall time (median; includes interpreter start)")
        print(f"  python -c pass                       {fmt(base)}")
        print(f"  phaser --help                        {fmt(wall([*py, '-m', 'phaser', '--help']), base)}")
        small, big = status_project(root, 100, 10), status_project(root, 1000, 10)
        figures: dict[str, float | None] = {}
        for label, project, repeat in (("100", small, 9), ("1000", big, 5)):
            for warm in (False, True):
                name = f"{label} {'warm' if warm else 'cold'}"
                figures[name] = status_wall(project, warm, repeat)
                what = f"phaser status, {label} phases x 10, {'warm' if warm else 'cold'} cache"
                print(f"  {what:<44} {fmt(figures[name], base)}")
        peer_s = None
        if peer:
            cli = install_backlog(root)
            if cli is not None:
                data = backlog_project(root, 100, 10)
                cmd = [cli, "task", "list", "--plain"]
                check = subprocess.run(cmd, capture_output=True, text=True, cwd=data)
                if check.returncode != 0 or "TASK-100" not in check.stdout.upper():
                    print(f"  Backlog.md did not list the tasks: {check.stderr.strip()[-200:]}")
                else:
                    times = []
                    for _ in range(5):
                        start = time.perf_counter()
                        subprocess.run(cmd, capture_output=True, cwd=data)
                        times.append(time.perf_counter() - start)
                    peer_s = statistics.median(times)
                    print(f"  {'backlog task list --plain, 100 x 10 AC':<44} {fmt(peer_s, base)}")
        print("\nTargets")
        for kind in ("cold", "warm"):
            s100, s1000 = figures[f"100 {kind}"], figures[f"1000 {kind}"]
            if peer_s and s100:
                ratio = s100 / peer_s
                print(
                    f"  status 100 / Backlog.md ({kind}): {ratio:.2f}  (target <= 0.20) {_ok(ratio <= 0.2)}"
                )
            if s100 and s1000:
                ratio = s1000 / s100
                print(
                    f"  status 1,000 / 100 phases ({kind}): {ratio:.1f}x  (target <= 10x) {_ok(ratio <= 10)}"
                )


def _ok(good: bool) -> str:
    return "ok" if good else "MISSED"


if __name__ == "__main__":
    main()
