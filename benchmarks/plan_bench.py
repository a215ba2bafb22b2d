"""Plan parsing/editing speed and `phaser status` against a peer. Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/plan_bench.py [--no-peer]
Targets (issue 12), as ratios measured in this one run:
- `phaser status` on 100 phases x 10 tasks at most 1/5 of Backlog.md's `backlog task list --plain`
  on the equivalent data (100 tasks x 10 acceptance criteria, each depending on the one before);
  Backlog.md is installed with npm into a temporary prefix when npm is there (else: said so).
- `phaser status` on 1,000 phases at most 10x its time on 100 phases.
Both with a cold parse cache (every run parses) and a warm one (`.phaser/cache/`, no markdown-it);
the ratio to `python -c pass` is printed beside each figure. phaser runs as users run it: the
console script, from its bytecode cache. The commands are timed in interleaved rounds (one run of
each per round, `--rounds=N`, default 15) and medians are reported, so a load that comes and goes
on a shared machine falls on phaser and the peer alike; CPU time (user + sys) is printed beside.
A toggle + atomic write on a 1,000x20 plan < 50 ms. Also printed: the 100-phase status with its first
half done and committed in git (each done phase shows its commit), warm.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from phaser.config import DEFAULT_TOML
from phaser.plan import SetTask, edit_plan, parse_plan, read_plan, sections, split_lines
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
        sections.forget()
        parse_plan(text, path)

    def parse_sections_known() -> None:
        _CACHE.clear()
        parse_plan(text, path)

    print(f"  parse                        {median_ms(parse_cold, repeat):8.2f} ms  (nothing remembered)")
    print(
        f"  parse, sections remembered   {median_ms(parse_sections_known, repeat):8.2f} ms"
        "  (a re-parse after an edit: unchanged sections are not tokenized again)"
    )
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
        sections.forget()
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
    (project / "phaser.toml").write_text(DEFAULT_TOML)  # what `phaser init` writes
    (folder / "spec.md").write_text("---\ntitle: Bench\n---\n# Bench\n")
    (folder / "plan.md").write_text(make_plan(phases, tasks))
    return project


def half_done_project(root: Path, phases: int, tasks: int) -> Path:
    """The 100-phase project in git with its first half done, each done phase committed as phaser
    commits it (a `Phaser-Phase:` trailer): status shows each one's commit."""
    project = status_project(root / "half", phases, tasks)
    plan = project / "specs" / "bench" / "plan.md"
    lines = plan.read_text().splitlines(keepends=True)
    phase = 0
    for i, line in enumerate(lines):
        if line.startswith("## Phase "):
            phase = int(line.split()[2].rstrip(":"))
        elif line.startswith("- [ ] ") and phase <= phases // 2:
            lines[i] = "- [x] " + line[6:]
    plan.write_text("".join(lines))
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "-C", str(project)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "start"], check=True)
    for n in range(1, phases // 2 + 1):
        message = f"phase {n}: Step number {n}\n\nPhaser-Phase: bench/{n}"
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], check=True)
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


def phaser_command() -> list[str]:
    """The console script a user runs (``<venv>/bin/phaser``), else ``python -m phaser``."""
    script = Path(sys.executable).with_name("phaser")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "phaser"]


def run_env() -> dict[str, str]:
    """The environment of every measured command: PYTHONDONTWRITEBYTECODE dropped, so phaser runs
    from its bytecode cache as an installed copy does (pip compiles at install time; a shell with
    the variable set would otherwise time the compiler on every run)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


class Interleaved:
    """Commands timed in rounds, one run of each per round, so a load that comes and goes on a
    busy machine falls on all of them alike; medians of wall and CPU (user + sys) time."""

    def __init__(self) -> None:
        self.commands: dict[str, tuple[list[str], Path | None, Callable[[], None] | None]] = {}
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}
        self.failed: dict[str, str] = {}

    def add(
        self, name: str, cmd: list[str], cwd: Path | None = None, before: Callable[[], None] | None = None
    ) -> None:
        """``before`` runs untimed ahead of each run (the cold rows delete the cache there)."""
        self.commands[name] = (cmd, cwd, before)
        self.wall[name], self.cpu[name] = [], []

    def run(self, rounds: int, env: dict[str, str]) -> None:
        for _ in range(rounds):
            for name, (cmd, cwd, before) in self.commands.items():
                if name in self.failed:
                    continue
                if before is not None:
                    before()
                start = time.perf_counter()
                proc = subprocess.Popen(
                    cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
                err = proc.stderr.read() if proc.stderr else b""
                _, status, usage = os.wait4(proc.pid, 0)
                self.wall[name].append(time.perf_counter() - start)
                self.cpu[name].append(usage.ru_utime + usage.ru_stime)
                code = proc.returncode = os.waitstatus_to_exitcode(status)
                if code not in (0, 1, 3):  # status may report a stopped/waiting line; 2 = broken
                    self.failed[name] = f"exit {code}: {err.decode(errors='replace').strip()[-300:]}"

    def median(self, name: str) -> float | None:
        return statistics.median(self.wall[name]) if name not in self.failed and self.wall[name] else None

    def median_cpu(self, name: str) -> float | None:
        return statistics.median(self.cpu[name]) if name not in self.failed and self.cpu[name] else None


def main() -> None:
    peer = "--no-peer" not in sys.argv
    rounds = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--rounds=")), 15)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_plan(root, 100, 10)
        bench_plan(root, 1000, 20)
        phaser = phaser_command()
        env = run_env()
        small, big = status_project(root, 100, 10), status_project(root, 1000, 10)
        bench = Interleaved()
        bench.add("pass", [sys.executable, "-c", "pass"])
        bench.add("help", [*phaser, "--help"])
        for label, project in (("100", small), ("1000", big)):
            cmd = [*phaser, "-C", str(project), "status"]
            cache = project / ".phaser" / "cache"
            bench.add(f"{label} cold", cmd, before=lambda c=cache: shutil.rmtree(c, ignore_errors=True))
            bench.add(f"{label} warm", cmd)
        half = half_done_project(root, 100, 10)
        bench.add("half warm", [*phaser, "-C", str(half), "status"])
        cli = install_backlog(root) if peer else None
        if cli is not None:
            data = backlog_project(root, 100, 10)
            cmd = [cli, "task", "list", "--plain"]
            check = subprocess.run(cmd, capture_output=True, text=True, cwd=data)
            if check.returncode != 0 or "TASK-100" not in check.stdout.upper():
                print(f"  Backlog.md did not list the tasks: {check.stderr.strip()[-200:]}")
            else:
                bench.add("peer", cmd, cwd=data)
        for cmd, cwd, _ in bench.commands.values():  # untimed: bytecode written, caches filled, disk warm
            subprocess.run(cmd, capture_output=True, env=env, cwd=cwd)
        bench.run(rounds, env)
        base = bench.median("pass")
        print(f"\nCLI wall time, median of {rounds} interleaved rounds (cpu: user + sys), as {phaser[-1]}")
        rows = [("pass", "python -c pass"), ("help", "phaser --help")]
        rows += [
            (f"{n} {k}", f"phaser status, {n} phases x 10, {k} cache")
            for n in ("100", "1000")
            for k in ("cold", "warm")
        ]
        rows += [("half warm", "phaser status, 100 x 10, 50 done (git), warm")]
        rows += [("peer", "backlog task list --plain, 100 x 10 AC")] if "peer" in bench.commands else []
        for name, what in rows:
            cpu = bench.median_cpu(name)
            extra = f"  cpu {cpu * 1000:6.1f} ms" if cpu is not None else ""
            print(f"  {what:<44} {fmt(bench.median(name), None if name == 'pass' else base)}{extra}")
            if name in bench.failed:
                print(f"    failed: {bench.failed[name]}")
        peer_s = bench.median("peer") if "peer" in bench.commands else None
        print("\nTargets")
        for kind in ("warm", "cold"):
            s100, s1000 = bench.median(f"100 {kind}"), bench.median(f"1000 {kind}")
            if peer_s and s100:
                ratio = s100 / peer_s
                cpu100, cpu_peer = bench.median_cpu(f"100 {kind}"), bench.median_cpu("peer")
                cpu = f"  (CPU time: {cpu100 / cpu_peer:.2f})" if cpu100 and cpu_peer else ""
                ok = _ok(ratio <= 0.2)
                print(f"  status 100 / Backlog.md ({kind}): {ratio:.2f}  (target <= 0.20) {ok}{cpu}")
            if s100 and s1000:
                ratio = s1000 / s100
                print(
                    f"  status 1,000 / 100 phases ({kind}): {ratio:.1f}x  (target <= 10x) {_ok(ratio <= 10)}"
                )
        half_s = bench.median("half warm")
        if peer_s and half_s:
            print(f"  status 100, half done / Backlog.md (warm): {half_s / peer_s:.2f}  (printed, no target)")
        if not peer_s:
            print("  status 100 / Backlog.md: not measured (see above)")


def _ok(good: bool) -> str:
    return "ok" if good else "MISSED"


if __name__ == "__main__":
    main()
