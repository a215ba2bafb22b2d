"""`phaser run --parallel N` keeps N phases running: a slot freed by a phase that is done starts the
next ready phase at once, while the others still run; run on the real anthropic SDK against the
fake Messages API, real git worktrees and a real pytest gate."""

from __future__ import annotations

import pytest

from parallel_helpers import (
    SLUG,
    PhaseScript,
    bash,
    create,
    git,
    make_project,
    module_calls,
    phase_of,
    phase_turns,
    plan_text,
)
from phaser.cli import main

PLAN = f"specs/{SLUG}/plan.md"
pytestmark = pytest.mark.timeout(900)
POLLS = 60
"""How many times a held phase waits (up to 5 s each) for its marker before it gives up: a bound
for a broken run, not a pace; a marker that comes releases it at once."""


def read(root, rel):
    return (root / rel).read_text(encoding="utf-8")


class Hold:
    """A fake-API script in front of a `PhaseScript`: phase ``held``, in its code step, waits (a
    confined bash command polling for a marker file) until phase ``until`` has made its first
    request (it has started); then it goes on. ``in_time`` says whether the marker came before
    the held phase gave up."""

    def __init__(self, script: PhaseScript, held: str, until: str, marker) -> None:
        self.script, self.held, self.until, self.marker = script, held, until, marker
        self.polls = 0
        self.released = False
        self.in_time: bool | None = None
        self.seen: list[str] = []

    def __call__(self, body: dict) -> dict:
        phase = phase_of(body) or "?"
        if phase not in self.seen:
            self.seen.append(phase)
            if phase == self.until:
                self.marker.write_text("go\n", encoding="utf-8")
        if phase == self.held and self.script.pos.get(phase) == 1 and not self.released:
            if self.marker.exists() or self.polls >= POLLS:
                self.released, self.in_time = True, self.marker.exists()
            else:
                self.polls += 1
                wait = f"for i in $(seq 50); do [ -e {self.marker} ] && break; sleep 0.1; done"
                return {"tool_calls": [bash(wait)]}
        return self.script(body)


def test_a_freed_slot_starts_the_next_ready_phase_while_a_slow_one_still_runs(tmp_path, api, capsys):
    plan = plan_text(
        [("Module a", "Add `a.py`"), ("Module b", "Add `b.py`"), ("Module c", "Add `c.py`")],
        depends={3: "2"},
    )
    root = make_project(tmp_path / "p", plan)
    script = PhaseScript(
        {n: phase_turns(n, module_calls(n, name)) for n, name in ((1, "a"), (2, "b"), (3, "c"))}
    )
    hold = Hold(script, "1", until="3", marker=root / ".phaser" / "go")
    api.set_script(hold)
    assert main(["run", "-C", str(root), "--parallel", "2"]) == 0
    # phase 1 was still in its code step when phase 3 started: 2 was merged, and 3 took its slot
    assert hold.in_time is True
    out = capsys.readouterr().out
    assert "phase 1, 2: at once, each in its own git worktree" in out
    assert "phase 3: in its own git worktree from" in out and "beside 1" in out
    # every line of a phase's events, interleaved as they came, starts with that phase's label
    lines = out.splitlines()
    for number, name in ((1, "a"), (2, "b"), (3, "c")):
        mine = [line for line in lines if f"{name}.py" in line and "create" in line]
        assert len(mine) == 2 and all(line.startswith(f"[phase {number}]   ✓ create") for line in mine), out
        for step in ("--- explore", "--- code", "--- gates", f"=== phase {number}: passed"):
            assert any(line.startswith(f"[phase {number}] {step}") for line in lines), (step, out)
    plan = read(root, PLAN)
    assert plan.count("- [x]") == 3 and plan.count("verified") == 3
    # phase 2 merged as soon as it was done (phase 3 waited for it), ahead of phase 1; phase 3,
    # nothing waiting for it, merged after the earlier phase 1
    log = git(root, "log", "--first-parent", "--format=%s").splitlines()
    assert log[:3] == ["phase 3: Module c", "phase 1: Module a", "phase 2: Module b"]
    assert (root / "c.py").is_file() and (root / "b.py").is_file() and (root / "a.py").is_file()
    assert git(root, "status", "--porcelain").strip() == ""
    assert len(git(root, "worktree", "list").splitlines()) == 1 and "phaser/" not in git(root, "branch")


RED = "def test_red():\n    assert False, 'phase 2 cannot make this pass'\n"


def test_a_blocked_lane_frees_its_slot_but_never_starts_the_phase_that_depends_on_it(tmp_path, api):
    plan = plan_text(
        [
            ("Module a", "Add `a.py`"),
            ("Red", "Add `b.py`"),
            ("After red", "Add `c.py`"),
            ("Module d", "Add `d.py`"),
        ],
        depends={3: "2"},
    )
    root = make_project(tmp_path / "p", plan)  # fix_attempts 0: a red gate blocks at once
    script = PhaseScript(
        {
            1: phase_turns(1, module_calls(1, "a")),
            2: phase_turns(2, [*module_calls(2, "b"), create("tests/test_red.py", RED)]),
            3: phase_turns(3, module_calls(3, "c")),
            4: phase_turns(4, module_calls(4, "d")),
        }
    )
    hold = Hold(script, "1", until="4", marker=root / ".phaser" / "go")
    api.set_script(hold)
    assert main(["run", "-C", str(root), "-q", "--parallel", "2"]) == 1  # phase 2 blocked
    # phase 2 blocked in its worktree; its slot went to phase 4 while phase 1 still ran; phase 3,
    # which depends on the blocked phase, never started
    assert hold.in_time is True
    assert "3" not in hold.seen
    plan = read(root, PLAN)
    phase2 = plan[plan.index("## Phase 2") : plan.index("## Phase 3")]
    assert "status: blocked" in phase2
    assert "- [x] Add `a.py`" in plan and "- [x] Add `d.py`" in plan
    assert "- [ ] Add `b.py`" in plan and "- [ ] Add `c.py`" in plan
    assert (root / "a.py").is_file() and (root / "d.py").is_file() and not (root / "c.py").exists()
    assert len(git(root, "worktree", "list").splitlines()) == 1


def test_the_run_caps_hold_across_every_phase_started_into_a_freed_slot(tmp_path, api, capsys):
    import json

    names = ("a", "b", "c", "d")
    plan = plan_text([(f"Module {name}", f"Add `{name}.py`") for name in names])
    # [budget] run_turns: every phase takes 3 turns, so only two of the four fit in 8
    root = make_project(tmp_path / "p", plan, extra_toml="run_turns = 8\n")
    api.set_script(PhaseScript({n: phase_turns(n, module_calls(n, name)) for n, name in enumerate(names, 1)}))
    code = main(["run", "-C", str(root), "-q", "--parallel", "2", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["reason"] == "budget" and code == 3
    # whatever phase started into whichever slot, the run as a whole stayed within its cap
    assert 0 < result["turns"] <= 8
    assert sum(p["turns"] for p in result["phases"]) == result["turns"]
    assert len(api.requests) <= 8
    plan = read(root, PLAN)
    assert plan.count("- [x]") == 2
    assert len(git(root, "worktree", "list").splitlines()) == 1


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGKILL"])
def test_stop_or_kill_with_a_finished_lane_waiting_behind_a_running_one_keeps_it_for_a_plain_run(
    tmp_path, api, sig
):
    import json
    import os
    import signal

    from parallel_helpers import run_in_background, wait_for

    root = make_project(tmp_path / "p", plan_text([("Module a", "Add `a.py`"), ("Module b", "Add `b.py`")]))
    script = PhaseScript({1: phase_turns(1, module_calls(1, "a")), 2: phase_turns(2, module_calls(2, "b"))})
    hold = Hold(script, "1", until="none", marker=root / ".phaser" / "never")  # phase 1 keeps waiting
    api.set_script(hold)
    record = root / ".phaser" / "worktrees" / SLUG / "wave.json"

    def lanes() -> dict[int, str]:
        try:
            return {lane["number"]: lane["state"] for lane in json.loads(record.read_text())["lanes"]}
        except (OSError, ValueError, KeyError):
            return {}

    proc = run_in_background(root, api.base_url, "--parallel", "2")
    try:
        # phase 2 is done and waits to merge after phase 1, which still runs: then Stop
        wait_for(lambda: lanes() == {1: "running", 2: "ready"} and hold.polls > 0, "phase 2 waiting")
        if sig == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=300) == 1
        else:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    if sig == "SIGTERM":
        assert "phase 2 finished and merges on the next run" in (tmp_path / "run.log").read_text()
        assert lanes() == {2: "ready"}
    else:  # killed where it stood: phase 1 mid-phase, phase 2 done and on record as such
        assert lanes() == {1: "running", 2: "ready"}
    assert "- [x]" not in read(root, PLAN)
    # a plain run (not --parallel): phase 1 again, then phase 2's finished lane merges, not rerun
    api.set_script(PhaseScript({1: phase_turns(1, module_calls(1, "a"))}))
    assert main(["run", "-C", str(root), "-q"]) == 0
    assert read(root, PLAN).count("- [x]") == 2
    log = git(root, "log", "--first-parent", "--format=%s %P").splitlines()
    assert log[0].startswith("phase 2: Module b") and len(log[0].split(" ", 4)[-1].split()) == 2
    assert log[1].startswith("phase 1: Module a")
    assert len(git(root, "worktree", "list").splitlines()) == 1 and "phaser/" not in git(root, "branch")


def test_phases_start_only_as_many_as_what_is_left_of_the_caps_goes_round(tmp_path, api, capsys):
    """One turn left and two free slots: one phase starts, with that turn, not two with none each
    (each would still take a turn, and the run would spend more than its cap)."""
    import json

    plan = plan_text([("Module a", "Add `a.py`"), ("Module b", "Add `b.py`")])
    root = make_project(tmp_path / "p", plan, extra_toml="run_turns = 1\n")
    api.set_script(
        PhaseScript({1: phase_turns(1, module_calls(1, "a")), 2: phase_turns(2, module_calls(2, "b"))})
    )
    code = main(["run", "-C", str(root), "-q", "--parallel", "2", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 3 and result["reason"] == "budget"
    assert result["turns"] == 1 and len(api.requests) == 1
    assert [p["phase"] for p in result["phases"]] == [1]


def test_a_lane_waiting_to_merge_counts_against_the_caps_of_the_phase_started_beside_it(
    tmp_path, api, capsys
):
    """Phase 2 is green and waits to merge behind phase 1, which still runs; phase 3 takes 2's
    slot. What 2 spent is part of the run's spend: phase 3 gets what is left after 1's share and
    2's turns, and a phase 3 that wants more stops at that cap (it got 2's turns as well before)."""
    import json

    plan = plan_text([("Module a", "Add `a.py`"), ("Module b", "Add `b.py`"), ("Module c", "Add `c.py`")])
    root = make_project(tmp_path / "p", plan, extra_toml="run_turns = 40\n")
    long_3 = [{"tool_calls": [bash("true")]} for _ in range(16)] + phase_turns(3, module_calls(3, "c"))
    script = PhaseScript(
        {1: phase_turns(1, module_calls(1, "a")), 2: phase_turns(2, module_calls(2, "b")), 3: long_3}
    )
    hold = Hold(script, "1", until="3", marker=root / ".phaser" / "go")
    api.set_script(hold)
    main(["run", "-C", str(root), "-q", "--parallel", "2", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert hold.in_time is True  # 3 started while 1 still ran and 2 waited to merge
    phases = {p["phase"]: p for p in result["phases"]}
    # 1 started with 20 of the 40 turns, 2 spent 3: 3 got the 17 left, not 20, and needed 19
    assert phases[2]["turns"] == 3 and phases[3]["outcome"] == "budget" and phases[3]["turns"] == 17
    assert result["turns"] <= 40
