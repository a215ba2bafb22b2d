"""A person edits the plan while a phase runs: phaser refuses with one line instead of crashing."""

from __future__ import annotations

from phaser.cli import main
from workflow_helpers import phase_turns, project_with_plan, read

PLAN_REL = "specs/word-stats/plan.md"


def test_a_phase_renumbered_mid_run_is_refused_in_one_line(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    turns = phase_turns(1)
    script = iter(turns)
    plan_path = root / PLAN_REL

    def respond(request):
        turn = next(script)
        if turn is turns[5]:  # after the claims, before the harness ticks: a person renumbers phase 1
            plan_path.write_text(plan_path.read_text().replace("## Phase 1:", "## Phase 7:", 1))
        return turn

    api.set_script(respond)
    assert main(["next", "-C", str(root), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line, no traceback
    assert f"{PLAN_REL}: phase 1 is no longer in the plan" in err
    plan = read(root, PLAN_REL)
    assert "## Phase 7:" in plan and "- [x]" not in plan  # the person's edit stands; nothing ticked
