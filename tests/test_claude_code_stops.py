"""Claude Code ended from outside (issue 17): the real ``claude`` CLI against the fake Messages API,
its API request held open by the fake (a ``stall`` fault), then claude killed by SIGTERM (exit 143)
or the step's timeout reached. Either way the step ends with phaser's outcome for it, the journal
records the end, and no claude process is left behind. Skipped only where the CLI is not installed."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import test_claude_code
from phaser.agent.policy import Step
from phaser.errors import ProviderError, RunStopped
from test_claude_code import CLAUDE, kinds, session

cc_env = test_claude_code.cc_env  # its fixtures, used here by name
tree = test_claude_code.tree

pytestmark = pytest.mark.skipif(
    CLAUDE is None, reason="the claude CLI is not installed (.ci/run installs it)"
)
STALL = {"fault": {"stall": 600, "reply": {"text": "too late"}}}


def _ours(home: str) -> list[int]:
    """Live claude processes of this test: argv[0] is the CLI, and their HOME is this test's."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            env = (entry / "environ").read_bytes().split(b"\0")
            state = next(x for x in (entry / "status").read_text().splitlines() if x.startswith("State:"))
        except (OSError, StopIteration):
            continue
        mine = argv[0] == str(CLAUDE).encode() and f"HOME={home}".encode() in env
        if mine and "zombie" not in state:
            found.append(int(entry.name))
    return found


def _wait(condition: Any, what: str, timeout: float = 120.0) -> None:
    """Poll ``condition`` until it holds; fail after a generous ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def _in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn()
        except BaseException as exc:  # the outcome under test
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_claude_killed_by_sigterm_from_outside_is_a_stop(tmp_path: Path, tree: Path, cc_env: Any) -> None:
    cc_env.set_script(lambda body: STALL)
    s = session(tree, tmp_path / "run")
    home = os.environ["HOME"]
    thread, out = _in_thread(lambda: s.run_step(Step.EXPLORE, "look around"))
    _wait(lambda: any(r["path"] == "/v1/messages" for r in cc_env.requests), "claude's first API request")
    pids = _ours(home)
    assert pids, "claude is running, waiting on its API"
    for pid in pids:
        os.kill(pid, signal.SIGTERM)  # as a shutdown or the OOM killer's SIGTERM would
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert isinstance(out.get("error"), RunStopped), out
    assert "exit 143" in str(out["error"])
    ends = kinds(tmp_path / "run", "step_end")
    assert [e["step"] for e in ends] == ["explore"] and ends[0]["ended"].startswith("error:")
    _wait(lambda: not _ours(home), "no claude process left")


def test_the_step_timeout_ends_a_stalled_claude_and_its_group(
    tmp_path: Path, tree: Path, cc_env: Any
) -> None:
    cc_env.set_script(lambda body: STALL)
    s = session(tree, tmp_path / "run")
    # the API stalls for 600 s; claude's own start takes ~10 s on a busy 2-core box: ample margin
    s.options.step_timeout_s = 40.0
    home = os.environ["HOME"]
    with pytest.raises(ProviderError, match=r"explore step timed out after 40s"):
        s.run_step(Step.EXPLORE, "look around")
    assert any(r["path"] == "/v1/messages" for r in cc_env.requests)  # it was waiting on the API
    assert not _ours(home)  # the process group was ended before the error came out
    ends = kinds(tmp_path / "run", "step_end")
    assert [e["step"] for e in ends] == ["explore"] and ends[0]["ended"].startswith("error:")
