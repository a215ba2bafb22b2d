"""`phaser redo` fails closed like next, run and plan (issue 18): where no confinement works it
refuses before the reset and before any model request, in one line, and changes nothing."""

from __future__ import annotations

import pytest

from phaser.agent.confine.policy import reset_probes
from phaser.agent.sandbox import sandbox_available
from phaser.cli import main
from test_confinement import failing_bwrap
from workflow_helpers import git, phase_turns, project_with_plan, tree_bytes


@pytest.mark.skipif(not sandbox_available(), reason="bubblewrap not installed")
def test_redo_refuses_before_any_model_request_when_no_confinement_works(
    tmp_path, fake_api, monkeypatch, capsys, request
):
    request.addfinalizer(reset_probes)  # the next test probes this machine's bubblewrap afresh
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-000000001")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    root = project_with_plan(tmp_path / "p", toml_extra='\n[agent]\nsandbox = "bwrap"\n')
    fake_api.set_script(phase_turns(1))
    reset_probes()
    assert main(["next", "-C", str(root), "-q"]) == 0, capsys.readouterr()  # phase 1 done, confined
    capsys.readouterr()
    assert git(root, "log", "-1", "--format=%s").strip() == "phase 1: Count words"
    # now bubblewrap cannot create its namespaces (a container), and bwrap is what the project asks for
    monkeypatch.setenv("PATH", failing_bwrap(tmp_path))
    reset_probes()
    head = git(root, "rev-parse", "HEAD")
    before = tree_bytes(root)
    journals = sorted((root / ".phaser").rglob("journal.jsonl"))
    requests = len(fake_api.requests)
    fake_api.set_script(phase_turns(1))
    code = main(["redo", "-C", str(root), "1"])
    err = capsys.readouterr().err
    assert code != 0
    assert len(err.strip().splitlines()) == 1, err
    assert 'agent.sandbox = "bwrap" but' in err and "cannot create its namespaces" in err, err
    assert len(fake_api.requests) == requests  # not one model request
    assert tree_bytes(root) == before and git(root, "rev-parse", "HEAD") == head  # no reset, no untick
    assert sorted((root / ".phaser").rglob("journal.jsonl")) == journals  # no run began
