"""`phaser next` / `phaser run` end to end: the real anthropic SDK against the fake Messages API,
in temporary git repositories with a real pytest gate."""

from __future__ import annotations

import json
import sys
import tempfile

import pytest

from phaser.cli import main
from phaser.workflow import demo
from phaser.workflow.gates import GateResult, audit, run_gate
from workflow_helpers import (
    TRIVIAL_TESTS,
    claims,
    coding_turns,
    edit,
    finish,
    git,
    no_fix_attempts,
    phase_turns,
    project_with_plan,
    read,
    tree_bytes,
)


def models_used(api) -> list[str]:
    return [r["body"]["model"] for r in api.requests]


def test_full_run_to_completion(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    api.set_script(phase_turns(1) + phase_turns(2) + phase_turns(3))
    assert main(["run", "-C", str(root), "-q"]) == 0
    plan = read(root, "specs/word-stats/plan.md")
    assert plan.count("- [x]") == 6 and "- [ ]" not in plan
    assert "verified" in plan and "5 passed" in plan and "6 passed" in plan
    log = git(root, "log", "--format=%s")
    assert log.splitlines()[:3] == [
        "phase 3: Command line",
        "phase 2: Most frequent words",
        "phase 1: Count words",
    ]
    assert git(root, "status", "--porcelain").strip() == ""
    # model routing by difficulty: easy -> haiku, medium -> sonnet
    assert set(models_used(api)[:6]) == {"claude-haiku-5-5"}
    assert "claude-sonnet-5-5" in models_used(api)
    # the refused edit of a protected test left it untouched
    assert read(root, "tests/test_count.py") == demo.TEST_COUNT
    # every request carries the same tools and a cached system prompt
    tools = [json.dumps(r["body"]["tools"], sort_keys=True) for r in api.requests]
    assert len(set(tools)) == 1
    assert all(r["body"]["system"][-1].get("cache_control") for r in api.requests)
    # the spec is part of that stable head, byte-identical in every phase; the brief holds the plan
    systems = {json.dumps(r["body"]["system"], sort_keys=True) for r in api.requests}
    spec = read(root, "specs/word-stats/spec.md").strip()
    assert len(systems) == 1 and spec in api.requests[0]["body"]["system"][0]["text"]
    first = api.requests[0]["body"]["messages"][0]["content"]
    brief = first if isinstance(first, str) else first[0]["text"]
    assert spec not in brief and '<plan path="specs/word-stats/plan.md">' in brief
    # the second phase on the same model reads the head (tools + system) from the cache at once
    starts = [r for r in api.requests if len(r["body"]["messages"]) == 1]
    assert len(starts) == 3 and models_used(api).count("claude-haiku-5-5") > 0
    second = next(r for r in starts[1:] if r["body"]["model"] == starts[0]["body"]["model"])
    assert second["usage"]["cache_read_input_tokens"] > 0
    # the secret never reaches the model
    assert all("sk-test-secret" not in json.dumps(r["body"]) for r in api.requests)
    out = capsys.readouterr().out
    assert "phase 3: passed" in out
    # the evidence names the commit by subject and parent; status resolves each done phase's hash
    assert 'commit "phase 2: Most frequent words" on top of ' in plan
    hashes = git(root, "log", "--format=%H", "-3").split()[::-1]
    assert main(["status", "-C", str(root), "--json"]) == 0
    phases = json.loads(capsys.readouterr().out)["plans"][0]["phases"]
    assert [p["commit"] for p in phases] == hashes
    assert main(["status", "-C", str(root)]) == 0
    assert hashes[0][:10] in capsys.readouterr().out


def test_next_runs_one_phase_and_reports_json(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "--json", "-q"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["phase"] == 1 and outcome["outcome"] == "passed" and outcome["ticked"] == ["1.1", "1.2"]
    assert outcome["model"] == "claude-haiku-5-5" and outcome["commit"]
    assert outcome["usage"]["input_tokens"] + outcome["usage"]["cache_read_input_tokens"] > 0
    assert outcome["gates"][0]["ok"] and outcome["gates"][0]["counts"]["passed"] == 3


def test_gate_that_stays_red_stops_the_line(tmp_path, api):
    root = project_with_plan(tmp_path / "p")
    wrong = "def count_words(text):\n    return 0\n"
    api.set_script(
        [
            {"tool_calls": [finish("explored")]},
            {
                "tool_calls": [
                    edit("create", "wordstats/core.py", file_text=wrong),
                    edit(
                        "str_replace",
                        "wordstats/__init__.py",
                        old_str='"""Word statistics."""\n',
                        new_str='"""Word statistics."""\nfrom wordstats.core import count_words\n',
                    ),
                    *claims(1, 2),
                    finish("coded"),
                ]
            },
            {"tool_calls": [finish("tried")]},
            {"tool_calls": [finish("tried again")]},
        ]
    )
    before = tree_bytes(root)
    assert main(["run", "-C", str(root), "-q"]) == 1
    plan = read(root, "specs/word-stats/plan.md")
    assert "status: blocked" in plan and "gates still red" in plan
    assert "- [x]" not in plan  # claims made during a red phase are never ticked
    after = tree_bytes(root)
    after.pop("specs/word-stats/plan.md")
    before.pop("specs/word-stats/plan.md")
    assert after == before  # the failed attempt was undone ...
    patches = list((root / ".phaser" / "runs" / "word-stats" / "1").glob("*/discarded.patch"))
    assert patches and "return 0" in patches[0].read_text()  # ... and kept
    assert len(api.requests) == 4  # nothing further ran
    assert git(root, "log", "--format=%s").splitlines()[0] == "plan"


def test_gate_that_collects_no_tests_is_red(tmp_path, api):
    root = project_with_plan(tmp_path / "p")
    # the baseline is red (a collection error: the package lacks count_words); after the phase the
    # same command collects nothing, which proves nothing
    gate = f"commands = [{json.dumps(sys.executable + ' -m pytest -q -p no:cacheprovider -k no_such_test')}]"
    toml = read(root, "phaser.toml")
    toml = toml.replace(toml.split("\n")[2], gate)
    (root / "phaser.toml").write_text(
        toml + "fix_attempts = 0\n"
        if "fix_attempts" not in toml
        else toml.replace("fix_attempts = 2", "fix_attempts = 0")
    )
    git(root, "commit", "-qam", "gate")
    api.set_script(phase_turns(1)[:4])
    assert main(["next", "-C", str(root), "-q", "--json"]) == 1
    plan = read(root, "specs/word-stats/plan.md")
    assert "status: blocked" in plan and "collected no tests" in plan


def test_more_skipped_tests_than_before_is_red(tmp_path, api):
    root = project_with_plan(tmp_path / "p")
    (root / "phaser.toml").write_text(
        read(root, "phaser.toml").replace("fix_attempts = 2", "fix_attempts = 0")
    )
    git(root, "commit", "-qam", "no fixes")
    skipper = "import pytest\n\n\n@pytest.mark.skip(reason='later')\ndef test_later():\n    assert False\n"
    turns = phase_turns(1)[:4]
    turns[3] = {
        "tool_calls": [
            *turns[3]["tool_calls"][:-1],
            edit("create", "tests/test_later.py", file_text=skipper),
            finish("coded"),
        ]
    }
    api.set_script(turns)
    assert main(["next", "-C", str(root), "-q"]) == 1
    assert "more tests skipped than before" in read(root, "specs/word-stats/plan.md")


def test_escalation_retries_on_the_next_tier(tmp_path, api):
    root = project_with_plan(tmp_path / "p")
    api.set_script(_escalating(root))  # haiku's attempt stays red, then phase 1 as it should go
    assert main(["next", "-C", str(root), "-q"]) == 0
    assert models_used(api)[:2] == ["claude-haiku-5-5", "claude-haiku-5-5"]
    assert set(models_used(api)[2:]) == {"claude-sonnet-5-5"}
    plan = read(root, "specs/word-stats/plan.md")
    assert "model claude-sonnet-5-5" in plan and plan.count("- [x]") == 2
    assert "return -1" not in read(root, "wordstats/core.py")


def _escalating(root, extra_toml: str = "") -> list[dict]:
    """Turn escalation on with no fix attempts; a script whose first attempt (2 turns) stays red."""
    toml = (
        read(root, "phaser.toml")
        .replace("escalate = false", "escalate = true")
        .replace("fix_attempts = 2", "fix_attempts = 0")
    )
    (root / "phaser.toml").write_text(toml + extra_toml)
    git(root, "commit", "-qam", "escalate")
    bad = [
        {"tool_calls": [finish("explored")]},
        {
            "tool_calls": [
                edit("create", "wordstats/core.py", file_text="def count_words(t):\n    return -1\n"),
                finish(),
            ]
        },
    ]
    return bad + phase_turns(1)


def test_an_escalated_phase_reports_and_bills_both_attempts(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    api.set_script(_escalating(root))
    assert main(["next", "-C", str(root), "-q", "--json"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["attempts"] == 2 and outcome["turns"] == 2 + 6
    assert main(["cost", "-C", str(root), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["plans"][0]["runs"]
    assert [r["outcome"] for r in runs] == ["escalated", "passed"] and all(r["cost_usd"] > 0 for r in runs)
    assert outcome["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in runs))
    assert outcome["usage"]["output_tokens"] == sum(r["output_tokens"] for r in runs)
    plan = read(root, "specs/word-stats/plan.md")
    assert "model claude-sonnet-5-5 (escalated from claude-haiku-5-5)" in plan


def test_the_phase_budget_covers_every_attempt(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    api.set_script(_escalating(root, "\n[budget]\nphase_turns = 5\n"))
    assert main(["next", "-C", str(root), "-q", "--json"]) == 3
    outcome = json.loads(capsys.readouterr().out)
    # 2 turns on haiku, then only the 3 left for sonnet: never 2 + 5
    assert len(api.requests) == 5 and outcome["outcome"] == "budget" and outcome["turns"] == 5
    assert "the phase used 5 of 5 turns (the phase's cap)" in outcome["detail"]


def test_run_caps_on_turns_and_tokens(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p", toml_extra="\n[budget]\nrun_turns = 6\n")
    api.set_script(phase_turns(1) + phase_turns(2))
    # phase 1 takes its 6 turns and passes; phase 2 is never started
    assert main(["run", "-C", str(root), "-q", "--json"]) == 3
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["reason"] == "budget" and result["turns"] == 6 and len(result["phases"]) == 1
    assert "run budget reached: this run used 6 of 6 turns" in captured.err
    assert len(api.requests) == 6
    # a phase gets no more than what is left of the run: 2 turns here
    (root / "phaser.toml").write_text(read(root, "phaser.toml").replace("run_turns = 6", "run_turns = 2"))
    git(root, "commit", "-qam", "less")
    api.set_script(phase_turns(2))
    assert main(["run", "-C", str(root), "-q", "--json"]) == 3
    result = json.loads(capsys.readouterr().out)
    assert len(api.requests) == 8 and result["phases"][0]["outcome"] == "budget"
    assert "2 of 2 turns (what was left of the run's budget)" in result["phases"][0]["detail"]
    # tokens: a cap of one token lets one request through, then stops the phase
    (root / "phaser.toml").write_text(
        read(root, "phaser.toml").replace("run_turns = 2", "run_turns = 800\nrun_tokens = 1")
    )
    git(root, "commit", "-qam", "tokens")
    api.set_script(phase_turns(2))
    assert main(["run", "-C", str(root), "-q", "--json"]) == 3
    result = json.loads(capsys.readouterr().out)
    assert len(api.requests) == 9 and result["reason"] == "budget"
    assert "of 1 tokens (what was left of the run's budget)" in result["phases"][0]["detail"]


def test_budget_stop_leaves_the_phase_resumable(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p", toml_extra="\n[budget]\nphase_turns = 3\n")
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q"]) == 3
    assert "- [x]" not in read(root, "specs/word-stats/plan.md")
    assert (root / "wordstats" / "core.py").exists()  # left as it was when the budget hit
    journal = next((root / ".phaser" / "runs" / "word-stats" / "1").glob("*/journal.jsonl")).read_text()
    assert "budget_exceeded" in journal
    # raise the cap: the next run restores the pre-phase tree first, then completes
    (root / "phaser.toml").write_text(
        read(root, "phaser.toml").replace("phase_turns = 3", "phase_turns = 80")
    )
    git(root, "commit", "-qm", "more budget", "--", "phaser.toml")
    api.set_script(phase_turns(1))
    capsys.readouterr()
    assert main(["next", "-C", str(root), "-q"]) == 0
    assert "did not finish" in capsys.readouterr().out
    assert read(root, "specs/word-stats/plan.md").count("- [x]") == 2


def test_dirty_tree_is_refused(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    (root / "notes.txt").write_text("my own work\n")
    assert main(["next", "-C", str(root), "-q"]) == 3
    assert "uncommitted changes (notes.txt)" in capsys.readouterr().err
    assert api.requests == []


def test_human_edit_during_a_phase_survives(tmp_path, api):
    root = project_with_plan(tmp_path / "p")
    plan_path = root / "specs" / "word-stats" / "plan.md"
    turns = phase_turns(1)
    script = iter(turns)

    def respond(request):
        turn = next(script)
        if turn is turns[2]:  # while the agent codes, the human saves the plan in their editor
            text = plan_path.read_text()
            text = text.replace("## Overview\n", "## Overview\nHuman: keep the API tiny.\n")
            text = text.replace(
                "- [ ] Add `tests/test_cli.py` running it on a temporary file",
                "- [ ] Add `tests/test_cli.py` running it on a temporary file\n- [ ] Human-added: document "
                "the CLI",
            )
            plan_path.write_text(text)
        return turn

    api.set_script(respond)
    assert main(["next", "-C", str(root), "-q"]) == 0
    plan = plan_path.read_text()
    assert "Human: keep the API tiny." in plan and "Human-added: document the CLI" in plan
    assert plan.count("- [x]") == 2 and "Tokenizer is `words()`" in plan


def test_approval_each_and_backpressure_limit(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    api.set_script(phase_turns(1) + phase_turns(2) + phase_turns(3))
    assert main(["run", "-C", str(root), "-q", "--approve", "each"]) == 3
    assert "waiting for approval of phase 1" in capsys.readouterr().out
    assert read(root, "specs/word-stats/plan.md").count("- [x]") == 2
    assert main(["approve", "-C", str(root)]) == 0
    assert "approved: " in read(root, "specs/word-stats/plan.md")
    git(root, "commit", "-qam", "approve 1")
    # with a limit of 2 unapproved phases, phase 2 runs, then the loop waits (phase 3 is not started)
    assert main(["run", "-C", str(root), "-q", "--approve", "1"]) == 3
    plan = read(root, "specs/word-stats/plan.md")
    assert plan.count("- [x]") == 4
    assert (
        main(["approve", "-C", str(root), "--phase", "2", "--reject", "Ties need a test with three words"])
        == 0
    )
    plan = read(root, "specs/word-stats/plan.md")
    assert "- [ ] Address review feedback: Ties need a test with three words" in plan
    assert "rejected" in plan


def test_dry_run_estimates_the_first_call(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    assert main(["next", "-C", str(root), "--dry-run", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["phase"] == 1 and info["model"] == "claude-haiku-5-5" and info["difficulty"] == "easy"
    assert info["estimate"]["input_tokens"] > 500 and info["estimate"]["first_call_usd"] > 0
    assert api.requests[-1]["path"].startswith("/v1/messages/count_tokens")
    assert main(["next", "-C", str(root), "--dry-run", "--model", "claude-opus-5-5"]) == 0
    assert "claude-opus-5-5 (--model)" in capsys.readouterr().out


def test_missing_api_key_is_one_clear_line(tmp_path, monkeypatch, capsys):
    from phaser.workflow import providers

    root = project_with_plan(tmp_path / "p")
    monkeypatch.setattr(providers, "_saved_secrets", {})  # a fresh process: no key seen before
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    assert main(["next", "-C", str(root), "-q"]) == 1
    err = capsys.readouterr().err.strip()
    assert "ANTHROPIC_API_KEY" in err and len(err.splitlines()) == 1


def test_api_faults_are_survived_without_running_a_tool_twice(tmp_path, api):
    root = project_with_plan(tmp_path / "p")
    turns = phase_turns(1)
    faults = [
        {"fault": {"status": 429, "retry_after": 0}},
        {"fault": {"status": 529, "retry_after": 0}},
        {"fault": {"drop": True}},
        {"fault": {"stream_error": "overloaded_error"}},
    ]
    script = [faults[0], turns[0], faults[1], turns[1], faults[2], turns[2], faults[3], *turns[3:]]
    api.set_script(script)
    assert main(["next", "-C", str(root), "-q"]) == 0
    assert read(root, "specs/word-stats/plan.md").count("- [x]") == 2
    journal = next((root / ".phaser" / "runs" / "word-stats" / "1").glob("*/journal.jsonl")).read_text()
    entries = [json.loads(line) for line in journal.splitlines()]
    tools = [e for e in entries if e["kind"] == "tool"]
    calls = sum(len(t.get("tool_calls", [])) for t in turns)
    assert len(tools) == calls  # every tool ran exactly once despite four faults
    creates = [t for t in tools if t["input"].get("command") == "create"]
    assert len(creates) == 1 and creates[0]["ok"]
    retried = [e for e in entries if e["kind"] == "retry"]  # phaser's own retries are journaled
    assert len(retried) == 2 and all(e["attempt"] >= 1 for e in retried)


def test_tests_hidden_by_a_new_conftest_are_red(tmp_path, api, capsys):
    """A new conftest.py (new files are allowed) hides the existing tests, and a new file with as
    many trivial tests keeps the counts up: the tests that passed before must still run."""
    root = project_with_plan(tmp_path / "p")
    no_fix_attempts(root)
    hide = edit("create", "conftest.py", file_text='collect_ignore = ["tests/test_count.py"]\n')
    api.set_script(
        phase_turns(1)
        + coding_turns(2, 2, hide, edit("create", "tests/test_more.py", file_text=TRIVIAL_TESTS))
    )
    assert main(["next", "-C", str(root), "-q"]) == 0
    capsys.readouterr()
    assert main(["next", "-C", str(root), "-q", "--json"]) == 1
    outcome = json.loads(capsys.readouterr().out)
    gate = outcome["gates"][0]
    assert outcome["outcome"] == "blocked" and not gate["ok"] and "tests" not in gate
    assert gate["summary"].startswith("3 passed: ")  # the counts alone look fine
    why = (
        "3 tests that passed before the phase no longer run: "
        "tests/test_count.py::test_apostrophes_stay_inside_words, "
        "tests/test_count.py::test_counts_words, tests/test_count.py::test_empty_text_has_no_words"
    )
    assert why in gate["summary"]
    plan = read(root, "specs/word-stats/plan.md")
    assert "status: blocked" in plan and why in plan and "- [x] Add `top_words" not in plan
    assert git(root, "log", "--format=%s").splitlines()[0] == "phase 1: Count words"
    assert not (root / "conftest.py").exists() and not (root / "tests" / "test_more.py").exists()
    assert git(root, "status", "--porcelain", "--untracked-files=all").split() == [
        "M",
        "specs/word-stats/plan.md",
    ]


def test_a_phase_may_drop_tests_in_files_it_unprotects(tmp_path, api):
    plan = demo.PLAN.replace("depends: 1\n", "depends: 1\nunprotect: tests/test_count.py\n")
    root = project_with_plan(tmp_path / "p", plan)
    no_fix_attempts(root)
    rename = edit(
        "str_replace",
        "tests/test_count.py",
        old_str="def test_empty_text_has_no_words",
        new_str="def test_no_words_in_empty_text",
    )
    more = edit("create", "tests/test_more.py", file_text=TRIVIAL_TESTS)
    api.set_script(phase_turns(1) + coding_turns(2, 2, rename, more) + [{"tool_calls": [finish()]}])
    assert main(["next", "-C", str(root), "-q"]) == 0
    assert main(["next", "-C", str(root), "-q"]) == 0
    assert git(root, "log", "--format=%s").splitlines()[0] == "phase 2: Most frequent words"
    assert "test_no_words_in_empty_text" in read(root, "tests/test_count.py")


def _gate(tests: dict[str, str] | None, **counts: int) -> GateResult:
    counts = counts or {"passed": 1}
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    return GateResult("python -m pytest -q", True, 0, summary, counts=counts, tests=tests)


def test_audit_names_the_tests_that_stopped_passing():
    before = {f"tests.test_a::test_{i}": "passed" for i in range(8)}
    before |= {"tests.test_b.TestB::test_x": "passed", "tests.test_b::test_flaky": "failed"}
    after = {"tests.test_a::test_0": "failed", "tests.test_a::test_1": "skipped"}
    after |= {"tests.test_a::test_7": "passed", "tests.test_b::test_new": "passed"}
    [red] = audit([_gate(after, passed=20)], [_gate(before, passed=9)], [])
    assert not red.ok
    assert red.summary == (
        "20 passed: 6 tests that passed before the phase no longer run: tests.test_a::test_2, "
        "tests.test_a::test_3, tests.test_a::test_4, tests.test_a::test_5, tests.test_a::test_6 "
        "(and 1 more); 1 test that passed before the phase now fails: tests.test_a::test_0; "
        "1 test that passed before the phase is now skipped: tests.test_a::test_1"
    )
    # tests in files under the phase's unprotect globs may go; classes map back to their file
    [green] = audit(
        [_gate(after, passed=20)], [_gate(before, passed=9)], [], ["tests/test_a.py", "tests/*_b.py"]
    )
    assert green.ok and green.summary == "20 passed"
    # no report on either side: the counts alone decide, as before
    assert audit([_gate(None, passed=9)], [_gate(before, passed=9)], [])[0].ok
    assert audit([_gate(after, passed=9)], [_gate(None, passed=9)], [])[0].ok
    # a gate already red by its exit code says which of its tests stopped passing
    failing = _gate({"tests.test_a::test_0": "failed"}, passed=0, failed=1)
    failing.ok, failing.exit_code, failing.summary = False, 1, "1 failed (exit 1)"
    [still_red] = audit([failing], [_gate({"tests.test_a::test_0": "passed"})], [])
    assert (
        still_red.summary
        == "1 failed (exit 1): 1 test that passed before the phase now fails: tests.test_a::test_0"
    )
    assert "tests" not in still_red.as_dict()


def test_gate_results_come_from_pytests_junit_report(tmp_path, monkeypatch):
    """The gate's command is run as written; pytest's own report gives each test's id and result,
    and any PYTEST_ADDOPTS already set is kept. The report lives outside the project and is removed."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    project = tmp_path / "project"
    project.mkdir()
    (project / "tests").mkdir()
    (project / "tests" / "test_x.py").write_text(
        "import pytest\n\n\ndef test_ok():\n    pass\n\n\n@pytest.mark.skip\ndef test_skip():\n    pass\n\n\n"
        "class TestK:\n    @pytest.mark.parametrize('n', [1, 2])\n    def test_n(self, n):\n        assert "
        "n == 1\n"
    )
    command = f"{sys.executable} -m pytest -p no:cacheprovider tests && echo done"
    # (no third-party plugins: the suite's own cost ~2 s of start-up and play no part here)
    result = run_gate(command, project, 120, {"PYTEST_ADDOPTS": "-q", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert result.tests == {
        "tests/test_x.py::test_ok": "passed",
        "tests/test_x.py::test_skip": "skipped",
        "tests/test_x.py::TestK::test_n[1]": "passed",
        "tests/test_x.py::TestK::test_n[2]": "failed",
    }
    assert result.counts == {"passed": 2, "failed": 1, "skipped": 1} and not result.ok
    assert "generated xml file" not in result.output_tail and "test session starts" not in result.output_tail
    assert sorted(p.name for p in project.iterdir()) == ["tests"] and not list(temp.iterdir())
    # no pytest run, no report: nothing to compare by id
    assert run_gate("echo pytest", project, 30).tests is None
