"""Per-command overhead of each confinement (bwrap, Landlock, none), side by side in one run.

Runs the same trivial command (``true``) and a short Python start-up under each backend that
works here, through phaser's own run_command, and prints the median wall time per command and
the ratio to no confinement. Usage: python benchmarks/confine_bench.py [runs]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from phaser.agent.confine.policy import Choice, build, probe_bwrap, probe_landlock
from phaser.agent.sandbox import run_command


def median_ms(root: Path, backend: str, command: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        policy = build(root, Choice(backend, "bench"), read_only=False, readonly=[root / ".git"])
        start = time.perf_counter()
        result = run_command(command, cwd=root, timeout_s=60, output_cap=1000, read_only=False, policy=policy)
        times.append(time.perf_counter() - start)
        if result.exit_code != 0:
            raise SystemExit(f"{backend}: `{command}` failed: {result.output}")
    return statistics.median(times) * 1000


def main(runs: int) -> None:
    backends = ["none"]
    backends += ["landlock"] if probe_landlock().works else []
    backends += ["bwrap"] if probe_bwrap().works else []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        (root / "src").mkdir()
        for command in ("true", f"{sys.executable} -c pass"):
            base = median_ms(root, "none", command, runs)
            cells = []
            for b in backends:
                ms = base if b == "none" else median_ms(root, b, command, runs)
                cells.append(f"{b} {ms:7.1f} ms (x{ms / base:4.2f})")
            print(f"{command.split()[0].rsplit('/', 1)[-1]:8} " + "   ".join(cells))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
