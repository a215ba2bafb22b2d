"""`phaser demo`, the README's first command: offline with the scripted agent, and `--live` through
the real anthropic SDK (pointed at the fake Messages API, since no real model is reachable here)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from phaser.cli import main
from phaser.workflow import demo
from workflow_helpers import git

# The product's demo: its gates' pytest loads every plugin of the venv it runs in (the suite's has
# many; a plain install has none), so on a loaded 2-core box a demo can pass 120 s.
pytestmark = pytest.mark.timeout(300)


def _finished_project(root: Path) -> str:
    """Assert what both demos leave behind; return the plan."""
    plan = (root / "specs" / "word-stats" / "plan.md").read_text(encoding="utf-8")
    assert plan.count("- [x]") == 6 and "- [ ]" not in plan
    assert plan.count("verified") == 3  # the harness's evidence note, once per phase
    assert git(root, "log", "--format=%s").splitlines()[:3] == [
        "phase 3: Command line",
        "phase 2: Most frequent words",
        "phase 1: Count words",
    ]
    assert git(root, "status", "--porcelain").strip() == ""
    assert (root / "tests" / "test_count.py").read_text(encoding="utf-8") == demo.TEST_COUNT
    return plan


def test_offline_demo_runs_the_whole_loop(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    root = tmp_path / "demo"
    assert main(["demo", "--dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "SCRIPTED (no model, no network, no API key)" in out
    assert "wrote specs/word-stats/plan.md: 3 phases, 6 tasks" in out
    # the gate goes red once, the fix turns it green; the protected test edit is refused
    assert "4 passed, 1 failed" in out and "5 passed" in out and "6 passed" in out
    assert "✗ str_replace tests/test_count.py" in out
    assert "phases 3/3  tasks 6/6  complete" in out and "total $" in out
    # progress while it runs: each step line carries the phase's tokens and dollars so far
    steps = [line for line in out.splitlines() if line.startswith("--- ")]
    assert steps[0] == "--- plan" and any(line.startswith("--- code  [") for line in steps)
    assert all(line.endswith("so far]") for line in steps if line.startswith(("--- gates", "--- update")))
    assert out.count("    tokens: ") == 3  # one summary per phase
    assert "phaser demo --live" in out
    _finished_project(root)
    assert json.loads((root / "demo-script.json").read_text(encoding="utf-8")) == demo.demo_script()


def test_live_demo_goes_through_the_real_sdk(tmp_path, capsys, monkeypatch, fake_api):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-live-demo-key")
    fake_api.set_script(demo.demo_script())
    root = tmp_path / "live"
    assert main(["demo", "--live", "--dir", str(root), "-q"]) == 0
    out = capsys.readouterr().out
    assert "phaser demo (live)" in out and "SCRIPTED" not in out
    _finished_project(root)
    assert not (root / "demo-script.json").exists()  # a live project holds no scripted turns
    assert fake_api.remaining == 0
    models = [r["body"]["model"] for r in fake_api.requests if r["path"] == "/v1/messages"]
    assert models[0] == "claude-opus-5-5"  # the plan on the strongest model, then routing
    assert {"claude-haiku-5-5", "claude-sonnet-5-5"} <= set(models)
    assert any(r["usage"]["cache_read_input_tokens"] for r in fake_api.requests if "usage" in r)
    cached = re.findall(r"\(([\d,]+) from cache\)", out)  # shown even with -q
    assert cached and max(int(n.replace(",", "")) for n in cached) > 0
    assert all("sk-test-live-demo-key" not in json.dumps(r["body"]) for r in fake_api.requests)


def test_live_demo_without_a_key_creates_nothing(tmp_path, capsys, monkeypatch):
    from phaser.workflow import providers

    monkeypatch.setattr(providers, "_saved_secrets", {})  # a fresh process: no key seen before
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    root = tmp_path / "never"
    assert main(["demo", "--live", "--dir", str(root)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "ANTHROPIC_API_KEY" in err and "phaser demo" in err
    assert not root.exists() and captured.out == ""
