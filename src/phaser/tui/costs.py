"""Tokens and dollars per plan, phase and model, from the run journals (workflow.cost.cost_report)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from phaser.errors import PhaserError
from phaser.workflow.cost import cost_report
from phaser.workflow.project import Project

COLUMNS = ("spec", "phase", "model", "runs", "uncached in", "cache write", "cache read", "output", "cost")


class CostsScreen(Screen[None]):
    BINDINGS = [Binding("escape,c,q", "app.pop_screen", "Back"), Binding("f5", "reload", "Reload")]

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="costs-total", markup=False)
        yield DataTable(id="costs-table", zebra_stripes=True, cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "costs"
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        self.action_reload()
        table.focus()

    def action_reload(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        total = self.query_one("#costs-total", Static)
        try:
            report = cost_report(self.project)
        except PhaserError as exc:
            total.update(str(exc))
            return
        for plan in report.plans:
            for row in plan["rows"]:
                table.add_row(plan["slug"], str(row["phase"]), row["model"], *_figures(row))
            for model, row in plan["by_model"].items():
                table.add_row(plan["slug"], "all", model, *_figures(row))
        grand = sum(p["total_usd"] for p in report.plans)
        per_plan = "  ".join(f"{p['slug']} ${p['total_usd']:.4f}" for p in report.plans)
        total.update(
            f"Total ${grand:.4f}" + (f"   ({per_plan})" if per_plan else "   (no runs recorded yet)")
        )


def _figures(row: dict) -> tuple[str, ...]:
    return (
        str(row["runs"]),
        f"{row['input_tokens']:,}",
        f"{row['cache_creation_input_tokens']:,}",
        f"{row['cache_read_input_tokens']:,}",
        f"{row['output_tokens']:,}",
        f"${row['cost_usd']:.4f}",
    )
