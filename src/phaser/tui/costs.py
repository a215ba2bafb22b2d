"""Tokens and dollars per plan, phase and model, and every run (as `phaser cost` prints them), from
the run journals (workflow.cost.cost_report).

The spec, phase and dollar columns come first and stay put when the table scrolls sideways, so the
money shows at 80 columns too.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Static

from phaser.errors import PhaserError
from phaser.tui.footer import PhaserFooter
from phaser.workflow.cost import cost_report
from phaser.workflow.project import Project

COLUMNS = ("spec", "phase", "cost", "model", "runs", "uncached in", "cache write", "cache read", "output")
RUN_COLUMNS = ("spec", "phase", "cost", "outcome", "model", "gates", "diff", "tokens in/out", "run")
FROZEN = 3
"""spec, phase and cost never scroll out of sight."""


def _gates(run: dict) -> str:
    gates = run.get("gates") or []
    if not gates:
        return "none run"
    ok = sum(1 for g in gates if g.get("ok"))
    return f"{ok}/{len(gates)} green: " + "; ".join(str(g.get("summary", "")) for g in gates)


def _diff(run: dict) -> str:
    d = run.get("diff") or {}
    if not d:
        return "none kept"
    text = f"{d.get('files', 0)} files +{d.get('insertions', 0)} -{d.get('deletions', 0)}"
    return text + (" (undone)" if d.get("undone") else "")


class CostsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,c,q", "app.pop_screen", "Back"),
        Binding("f5", "reload", "Reload"),
        Binding("tab", "app.focus_next", "Next table", show=False),
        Binding("j", "cursor('down')", "Down", show=False),
        Binding("k", "cursor('up')", "Up", show=False),
    ]

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="costs-total", markup=False)
        yield DataTable(id="costs-table", zebra_stripes=True, cursor_type="row", fixed_columns=FROZEN)
        yield Label("Runs (a redone or escalated phase has several: compare them here)", classes="section")
        yield DataTable(id="costs-runs", zebra_stripes=True, cursor_type="row", fixed_columns=FROZEN)
        yield PhaserFooter(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "costs"
        for table_id, columns in (("#costs-table", COLUMNS), ("#costs-runs", RUN_COLUMNS)):
            table = self.query_one(table_id, DataTable)
            for name in columns:
                table.add_column(name, key=name)
        self.action_reload()
        self.query_one("#costs-table", DataTable).focus()

    def action_cursor(self, where: str) -> None:
        focused = self.focused
        if isinstance(focused, DataTable):
            (focused.action_cursor_down if where == "down" else focused.action_cursor_up)()

    def action_reload(self) -> None:
        table = self.query_one("#costs-table", DataTable)
        runs = self.query_one("#costs-runs", DataTable)
        table.clear()
        runs.clear()
        total = self.query_one("#costs-total", Static)
        try:
            report = cost_report(self.project)
        except PhaserError as exc:
            total.update(str(exc))
            return
        for plan in report.plans:
            for row in plan["rows"]:
                table.add_row(plan["slug"], str(row["phase"]), *_figures(row, row["model"]))
            for model, row in plan["by_model"].items():
                table.add_row(plan["slug"], "all", *_figures(row, model))
            for run in plan["runs"]:
                tokens_in = sum(
                    int(run.get(k) or 0)
                    for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
                )
                runs.add_row(
                    plan["slug"],
                    str(run["phase"]),
                    f"${run['cost_usd']:.4f}",
                    str(run["outcome"]),
                    str(run["model"]),
                    _gates(run),
                    _diff(run),
                    f"{tokens_in:,}/{int(run.get('output_tokens') or 0):,}",
                    str(run["run"]),
                )
        grand = sum(p["total_usd"] for p in report.plans)
        per_plan = "  ".join(f"{p['slug']} ${p['total_usd']:.4f}" for p in report.plans)
        total.update(
            f"Total ${grand:.4f}" + (f"   ({per_plan})" if per_plan else "   (no runs recorded yet)")
        )


def _figures(row: dict, model: str) -> tuple[str, ...]:
    return (
        f"${row['cost_usd']:.4f}",
        model,
        str(row["runs"]),
        f"{row['input_tokens']:,}",
        f"{row['cache_creation_input_tokens']:,}",
        f"{row['cache_read_input_tokens']:,}",
        f"{row['output_tokens']:,}",
    )
