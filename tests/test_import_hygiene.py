"""The headless core stays headless: plan/ and agent/ never pull in textual (or, for the harness
modules, the anthropic SDK), and plan/ never imports agent/. Checked in a fresh interpreter."""

import json
import subprocess
import sys

AGENT = ["policy", "sandbox", "snapshot", "tools", "journal", "loop", "scripted", "provider"]

SCRIPT = f"""
import importlib, json, pkgutil, sys
import phaser.plan
plan_modules = ["phaser.plan." + m.name for m in pkgutil.iter_modules(phaser.plan.__path__)]
for name in plan_modules:
    importlib.import_module(name)
after_plan = sorted(m for m in sys.modules if m.startswith("phaser.agent"))
for name in {AGENT!r}:
    importlib.import_module("phaser.agent." + name)
print(json.dumps({{
    "plan_modules": plan_modules,
    "agent_after_plan": after_plan,
    "heavy": sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "anthropic")),
}}))
"""


def test_core_imports_stay_light() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "phaser.plan.model" in report["plan_modules"] and len(report["plan_modules"]) >= 3
    assert report["agent_after_plan"] == []
    assert report["heavy"] == []


LAYERS = """
import importlib, json, pkgutil, sys
import phaser.workflow, phaser.agent, phaser.plan
names = [
    pkg.__name__ + "." + m.name
    for pkg in (phaser.workflow, phaser.agent, phaser.plan)
    for m in pkgutil.iter_modules(pkg.__path__)
]
for name in names:
    importlib.import_module(name)
print(json.dumps({
    "modules": names,
    "shells": sorted(m for m in sys.modules if m.split(".")[:2] in (["phaser", "cli"], ["phaser", "tui"])),
    "textual": sorted(m for m in sys.modules if m.split(".")[0] == "textual"),
}))
"""


def test_workflow_and_below_never_import_the_shells() -> None:
    """Imports flow downward: cli/tui -> workflow -> agent, plan. Importing every module of the
    lower layers must not pull in phaser.cli, phaser.tui or textual."""
    done = subprocess.run([sys.executable, "-c", LAYERS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "phaser.workflow.demo" in report["modules"] and "phaser.workflow.runner" in report["modules"]
    assert report["shells"] == [] and report["textual"] == []
