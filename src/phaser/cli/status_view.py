"""`phaser status` as text: one header per plan, then its phase table fitted to the terminal.

It reads statuses by attribute: phaser.workflow.status.PlanStatus objects, or the full dicts of
phaser.workflow.status_report seen through StatusView, so the status a snapshot gave is printed by
the same lines as one computed afresh.
"""

from __future__ import annotations

from typing import Any, TextIO

from phaser.cli.lines import Lines, ellipsize, terminal_width


def say(message: str, hints: Any) -> str:
    """phaser.cli.hints.say, loaded on first use (the hints' types are not status's)."""
    from phaser.cli.hints import say as words

    return words(message, hints)


STATE_MARK = {
    "done": "✓",
    "next": "▶",
    "ready": "▷",
    "pending": "·",
    "blocked": "✗",
    "skipped": "-",
}
STATE_STYLE = {"done": "green", "next": "bold cyan", "ready": "cyan", "blocked": "bold red", "skipped": "dim"}


class StatusView:
    """A status dict (``PlanStatus.full_dict``) read like the PlanStatus it came from."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        try:
            value = self._data[name]
        except KeyError:
            raise AttributeError(name) from None
        if name == "phases":
            return [StatusView(row) for row in value]
        return value


def phases_done(phases: list) -> int:
    return sum(1 for p in phases if p.state in ("done", "skipped"))


def print_status(statuses: list, stream: TextIO | None = None, console: Any = None) -> None:
    lines = Lines(stream, console, rich=False)  # colour without importing rich
    if not statuses:
        lines.line('no specs yet: phaser new "Title"')  # the CLI's own words: it names its commands
        return
    width = terminal_width()
    for i, st in enumerate(statuses):
        if i:
            lines.line()
        if st.error:
            if st.state == "no-plan":
                lines.line(f"{st.slug}: {say(st.error, st.hints)}")
            continue  # unreadable plans are reported on stderr by the caller
        done = sum(p.tasks_done for p in st.phases)
        total = sum(p.tasks_total for p in st.phases)
        if not st.phases:
            nxt = "no phases"
        elif st.next is not None:
            nxt = f"next: phase {st.next}"
        else:
            nxt = "complete" if phases_done(st.phases) == len(st.phases) else "nothing runnable"
        shown = f"phases {phases_done(st.phases)}/{len(st.phases)}  tasks {done}/{total}"
        lines.line(
            f"{st.title}  ({st.path})  {shown}  {nxt}",
            "bold",
        )
        if st.problems:
            more = f" (and {len(st.problems) - 1} more)" if len(st.problems) > 1 else ""
            lines.line(
                f"  ! {st.problems[0]}{more}: next and run refuse this plan until it is fixed", "yellow"
            )
        if st.active:
            a = st.active
            if a["running"] and a.get("lanes"):  # a parallel run: every phase it has in a worktree
                for lane in a["lanes"]:
                    lines.line(f"  ▶ phase {lane['phase']} is {lane['state']} in {lane['branch']}", "cyan")
            elif a["running"]:
                lines.line(f"  ▶ phase {a['phase']} is running (started {a['started']})", "cyan")
            elif a.get("lanes"):
                numbers = ", ".join(str(lane["phase"]) for lane in a["lanes"])
                lines.line(
                    f"  ! phase {numbers} did not finish in a parallel run: phaser run --parallel "
                    "merges the finished ones and runs the others again",
                    "yellow",
                )
            else:
                lines.line(
                    f"  ! phase {a['phase']} did not finish (started {a['started']}): its changes are "
                    "still in the "
                    "tree; phaser next undoes them first (kept as a patch) and runs it again",
                    "yellow",
                )
        for text, state in status_rows(st.phases, width):
            lines.line(text, STATE_STYLE.get(state, ""))


def status_rows(phases: list, width: int) -> list[tuple[str, str]]:
    """The phase table: one aligned row per phase that fits ``width`` columns (titles give way
    first, then the row is cut with ``…``)."""
    done = {p.number for p in phases if p.state in ("done", "skipped")}
    cells = []
    for p in phases:
        waits = [d for d in p.depends if d not in done]
        state = p.state
        note = ""
        if waits and p.state in ("pending", "blocked"):
            note = "after " + ", ".join(str(d) for d in waits)
        if p.state == "done" and p.commit:
            note = p.commit[:10]
        if p.state == "done" and p.approved:
            note = (note + "  approved").strip()
        cells.append(
            (
                STATE_MARK.get(p.state, "?"),
                str(p.number),
                p.title,
                p.difficulty,
                f"{p.tasks_done}/{p.tasks_total}",
                state,
                p.ran_on or p.model or "",
                note,
                p.state,
            )
        )
    if not cells:
        return []
    w = [max(len(c[k]) for c in cells) for k in range(8)]
    fixed = 2 + 2 + w[1] + 2 + 2 + w[3] + 2 + w[4] + 2 + w[5] + 2 + w[6] + 2 + w[7]
    title_w = max(10, min(w[2], 48, width - fixed))
    rows = []
    for mark, num, title, diff, tasks, state, model, note, raw in cells:
        text = (
            f"  {mark} {num:>{w[1]}}  {ellipsize(title, title_w):<{title_w}}  {diff:<{w[3]}}  "
            f"{tasks:>{w[4]}}  {state:<{w[5]}}  {model:<{w[6]}}  {note}"
        ).rstrip()
        rows.append((ellipsize(text, width), raw))
    return rows
