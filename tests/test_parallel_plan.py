"""What planning and `validate` say about phases that may run at once (`phaser run --parallel`)."""

from __future__ import annotations

import json

from parallel_helpers import make_project, plan_text
from phaser.cli import main
from phaser.workflow import demo


def test_the_planner_is_told_that_independent_phases_run_in_parallel(tmp_path, api):
    root = tmp_path / "p"
    demo.make_demo_project(root)
    api.set_script(demo.demo_script()[:3])
    assert main(["plan", "-C", str(root), "-q"]) == 0
    sent = json.dumps(api.requests[0]["body"]["messages"])
    assert "Phases run in parallel" in sent and "`depends:` must be honest" in sent


def test_validate_warns_when_phases_that_can_run_at_once_name_the_same_files(tmp_path, capsys):
    plan = plan_text(
        [
            ("Models", "Add `app/models.py` with the User model"),
            ("Views", "Add app/views.py using app/models.py"),
            ("Docs", "Write README.md"),
        ]
    )
    root = make_project(tmp_path / "p", plan)
    assert main(["validate", "-C", str(root)]) == 0  # a warning, not a problem
    captured = capsys.readouterr()
    assert captured.out.strip() == "ok"
    lines = [line for line in captured.err.splitlines() if "can run at once" in line]
    assert len(lines) == 1
    assert lines[0].startswith("specs/par/plan.md:14: warning: phases 1 and 2 can run at once")
    assert "both name app/models.py" in lines[0] and "add 'depends: 1' to phase 2" in lines[0]
    assert main(["validate", "-C", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any("phases 1 and 2 can run at once" in w["message"] for w in data["warnings"])


def test_no_warning_once_the_dependency_is_honest(tmp_path, capsys):
    plan = plan_text(
        [
            ("Models", "Add `app/models.py`"),
            ("Views", "Add app/views.py using app/models.py"),
            ("More views", "Extend app/views.py, e.g. a list view (v1.2)"),
        ],
        depends={2: "1", 3: "2"},
    )
    root = make_project(tmp_path / "p", plan)
    assert main(["validate", "-C", str(root)]) == 0
    assert "can run at once" not in capsys.readouterr().err
