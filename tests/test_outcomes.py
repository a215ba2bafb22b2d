"""One table of outcomes: every word has an exit code and a kind, and --json keeps plain words."""

from __future__ import annotations

import json

from phaser.outcomes import Action, Hint, Kind, Outcome, exit_code, kind
from phaser.workflow.phase import PhaseOutcome
from phaser.workflow.runner import RunResult


def test_every_outcome_has_an_exit_code_that_matches_its_kind():
    for outcome in Outcome:
        assert outcome.exit_code in (0, 1, 3)
        assert (outcome.exit_code == 0) == (outcome.kind is Kind.OK), outcome
        if outcome.kind is Kind.ERROR:
            assert outcome.exit_code == 1, outcome
        if outcome.exit_code == 3:
            assert outcome.kind is Kind.HUMAN, outcome


def test_the_documented_exit_codes():
    assert [Outcome(w).exit_code for w in ("passed", "nothing", "complete")] == [0, 0, 0]
    assert [Outcome(w).exit_code for w in ("stuck", "incomplete", "unverified", "approval", "budget")] == [
        3
    ] * 5
    assert [Outcome(w).exit_code for w in ("blocked", "stopped", "error")] == [1, 1, 1]
    assert exit_code("no-such-word") == 1 and kind("no-such-word") is Kind.ERROR


def test_outcomes_print_as_their_words():
    assert f"{Outcome.PASSED}" == "passed" == str(Outcome.PASSED) and f"{Kind.HUMAN}" == "human"
    out = PhaseOutcome("s", 2, "Title", Outcome.BLOCKED, hints=[Hint(Action.RUN_PHASE, 2, "s")])
    data = json.loads(json.dumps(out.as_dict()))
    assert data["outcome"] == "blocked" and type(out.as_dict()["outcome"]) is str
    assert data["hints"] == [{"action": "run_phase", "phase": 2, "slug": "s"}]
    assert data["exit_code"] == 1
    run = RunResult("s", Outcome.APPROVAL)
    assert (
        type(run.as_dict()["reason"]) is str and run.as_dict()["reason"] == "approval" and run.exit_code == 3
    )
