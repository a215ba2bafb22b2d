"""Terminal rendering of statuses, run events and outcomes.

Two modes, chosen per stream: on a terminal (and ``NO_COLOR`` unset, ``TERM`` not ``dumb``) lines
are coloured with rich and a spinner with the elapsed time shows what is running (a model call,
a tool, the gates); anywhere else (a pipe, a file, ``| head``) the same lines come out as plain,
stable text, with no escape codes and nothing that depends on timing.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from phaser.cli.lines import Lines, ellipsize, terminal_width, use_color, visible
from phaser.cli.status_view import STATE_MARK, STATE_STYLE, print_status, status_rows
from phaser.outcomes import Kind, Outcome, kind

if TYPE_CHECKING:  # loaded by EventPrinter when an event comes: `phaser status` never needs it
    from phaser import events as ev


def next_line(hints: Any) -> str | None:
    """phaser.cli.hints.next_line, loaded on first use (the hints' types are not status's)."""
    from phaser.cli.hints import next_line as line

    return line(hints)


def say(message: str, hints: Any) -> str:
    """phaser.cli.hints.say, loaded on first use."""
    from phaser.cli.hints import say as words

    return words(message, hints)


KIND_STYLE = {Kind.OK: "bold green", Kind.HUMAN: "bold yellow", Kind.ERROR: "bold red"}
"""The style of a finished phase, by its outcome's kind (phaser.outcomes)."""

__all__ = ["STATE_MARK", "STATE_STYLE", "Lines", "ellipsize", "print_status", "status_rows", "use_color"]


def money(usd: float) -> str:
    return f"${usd:,.4f}" if usd < 1 else f"${usd:,.2f}"


class _Elapsed:
    """A spinner whose text carries the seconds since it started, recomputed at each refresh."""

    def __init__(self, label: str) -> None:
        from rich.spinner import Spinner

        self.label = label
        self.started = time.monotonic()
        self.spinner = Spinner("dots", style="cyan")

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.text import Text

        self.spinner.update(text=Text(f"{self.label}  {time.monotonic() - self.started:.0f}s", style="dim"))
        yield self.spinner


class EventPrinter:
    """An event sink for the terminal: steps, one line per tool call (with its outcome and, when it
    failed or was refused, why), streaming text, gates, each phase's outcome once, cost. On a
    terminal a spinner with the elapsed time shows what is running between lines."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False, console: Any = None) -> None:
        self.lines = Lines(stream, console)
        self.out = self.lines.out
        self.quiet = quiet
        self.gone = False
        """True once the reader went away (a closed pipe): nothing more is printed, the run goes on."""
        self.finished: set[tuple[str, int]] = set()
        """(slug, phase) of every PhaseFinished printed: the closing summary does not repeat them."""
        self._in_text = False
        self._last_usage: ev.UsageUpdated | None = None
        self._live: Any = None
        self.spinning: str | None = None
        """What the spinner says is running (terminal only), None when nothing spins."""
        self._tool_started = 0.0

    # -- the spinner (terminal only) ---------------------------------------------------------

    def _spin(self, label: str) -> None:
        if not self.lines.rich:
            return
        self.spinning = label
        if self._live is None:
            from rich.live import Live

            self._live = Live(
                _Elapsed(label), console=self.lines.console, transient=True, refresh_per_second=8
            )
            self._live.start()
        else:
            self._live.update(_Elapsed(label))

    def _stop_spin(self) -> None:
        self.spinning = None
        if self._live is not None:
            live, self._live = self._live, None
            live.stop()

    # -- events ------------------------------------------------------------------------------

    def _end_text(self) -> None:
        if self._in_text:
            self.lines.write("\n")
            self._in_text = False

    def __call__(self, event: ev.Event) -> None:
        if self.gone:
            return
        try:
            self._print(event)
        except BrokenPipeError:
            self._reader_gone()

    def _reader_gone(self) -> None:
        """Stop printing, and never let a closed pipe end the run this printer watches."""
        from phaser.cli import reader_gone

        self.gone = True
        if self._live is not None:
            self._live, live = None, self._live
            with contextlib.suppress(Exception):
                live.stop()
        reader_gone(self.out)  # stdout or stderr now goes to /dev/null: later output fails no more

    def _print(self, event: ev.Event) -> None:
        from phaser import events as ev

        line = self.lines.line
        if isinstance(event, ev.TextDelta):
            if not self.quiet:
                self._stop_spin()
                self.lines.write(event.text)
                self._in_text = not event.text.endswith("\n")
            return
        if isinstance(event, ev.UsageUpdated):
            self._last_usage = event
            return
        self._end_text()
        if isinstance(event, ev.PhaseStarted):
            self._last_usage = None
            attempt = f" (attempt {event.attempt})" if event.attempt > 1 else ""
            line()
            line(f"=== {event.slug}: phase {event.phase}: {event.title} on {event.model}{attempt}", "bold")
        elif isinstance(event, ev.StepStarted):
            line(f"--- {event.step}{self._so_far()}", "bold cyan")
            self._spin(
                "running the gates" if event.step == "gates" else f"{event.step}: waiting for the model"
            )
        elif isinstance(event, ev.ToolStarted):
            self._tool_started = time.monotonic()
            self._spin(f"{event.name}: {event.summary}")
        elif isinstance(event, ev.ToolFinished):
            self._tool_line(event)
            self._spin("waiting for the model")
        elif isinstance(event, ev.PolicyViolation):
            paths = f" ({', '.join(event.paths)})" if event.paths else ""
            line(f"  ! policy ({event.step}): {event.message}{paths}", "bold red")
        elif isinstance(event, ev.GateFinished):
            mark = "✓" if event.ok else "✗"
            line(f"  {mark} gate {event.name}: {event.summary}", "green" if event.ok else "bold red")
            if not event.ok and event.output_tail and not self.quiet:
                for tail in event.output_tail.splitlines()[-12:]:
                    line(f"    | {tail}", "red")
        elif isinstance(event, ev.PlanProblems):
            noun = "problem" if len(event.problems) == 1 else "problems"
            line(
                f"warning: the proposed plan has {len(event.problems)} {noun}; sent back to the model:",
                "yellow",
            )
            for problem in event.problems:
                line(f"  {problem}", "yellow")
        elif isinstance(event, ev.Notice):
            prefix = {"warning": "warning: ", "error": "error: "}.get(event.level, "")
            style = {"warning": "yellow", "error": "bold red"}.get(event.level, "")
            line(f"{prefix}{say(event.message, event.hints)}", style)
        elif isinstance(event, ev.PhaseFinished):
            self._stop_spin()
            self._phase_line(event)
        self.lines.flush()

    def _tool_line(self, event: ev.ToolFinished) -> None:
        took = f"  ({time.monotonic() - self._tool_started:.1f}s)" if self.lines.rich else ""
        if event.ok:
            self.lines.line(f"  ✓ {event.summary}{took}", "", crop=True)
        else:
            why = f": {event.reason}" if event.reason else ""
            self.lines.line(f"  ✗ {event.summary}{why}{took}", "red")

    def _phase_line(self, event: ev.PhaseFinished) -> None:
        data = event.data or {}
        usage = self._last_usage
        cost = data.get("cost_usd", usage.cost_usd if usage else None)
        shown_cost = f"  {money(cost)}" if isinstance(cost, (int, float)) else ""
        self.lines.line(
            f"=== phase {event.phase}: {event.outcome}{shown_cost}  {event.detail}".rstrip(),
            KIND_STYLE[kind(event.outcome)],
        )
        if data.get("commit"):
            self.lines.line(f"    commit {str(data['commit'])[:10]}")
        if usage:
            self.lines.line(f"    tokens: {self._tokens(usage)}", "dim")
        hint = next_line(data.get("hints"))
        if hint:
            self.lines.line(f"    {hint}", "cyan")
        self.finished.add((event.slug, event.phase))

    @staticmethod
    def _tokens(u: ev.UsageUpdated) -> str:
        total_in = u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens
        return f"{total_in:,} in ({u.cache_read_input_tokens:,} from cache) / {u.output_tokens:,} out"

    def _so_far(self) -> str:
        """The phase's tokens and dollars so far, for the step lines: progress a person can watch."""
        u = self._last_usage
        return f"  [{self._tokens(u)}, {money(u.cost_usd)} so far]" if u else ""

    def close(self) -> None:
        if self.gone:
            return
        try:
            self._stop_spin()
            self._end_text()
            self.out.flush()
        except BrokenPipeError:
            self._reader_gone()


def print_dry_run(info: dict[str, Any], stream: TextIO | None = None) -> None:
    out = visible(stream)
    if info["phase"] is None:
        print(f"nothing to run in {info['slug']}: {info['reason']}", file=out)
        hint = next_line(info.get("hints"))
        if hint:
            print(f"  {hint}", file=out)
        return
    print(f"would run {info['slug']} phase {info['phase']}: {info['title']}", file=out)
    print(f"  difficulty {info['difficulty']} -> model {info['model']} ({info['model_reason']})", file=out)
    print(f"  steps: {' -> '.join(info['steps'])}", file=out)
    print(f"  gates: {', '.join(info['gates']) or '(none configured)'}", file=out)
    b = info["budget"]
    print(
        f"  budget: {money(b['phase_usd'])} / {b['phase_tokens']:,} tokens / {b['phase_turns']} turns per "
        "phase",
        file=out,
    )
    est = info.get("estimate") or {}
    if not info.get("priced", True):
        print(
            f"  no price configured for {info['model']}: dollars are not tracked and dollar caps do not "
            "apply",
            file=out,
        )
    if est.get("input_tokens") is not None:
        usd = f", about {money(est['first_call_usd'])}" if est.get("first_call_usd") is not None else ""
        print(
            f"  first call: {est['input_tokens']:,} input tokens{usd} "
            f"(uncached; later calls read the prefix from the cache)",
            file=out,
        )
    elif est.get("error"):
        print(f"  estimate unavailable: {est['error']}", file=out)
    undo = info.get("unfinished")
    if undo:
        print(
            f"  first: phase {undo['phase']} did not finish (started {undo['started']}); its changes "
            f"({len(undo['paths'])} file{'s' if len(undo['paths']) != 1 else ''}) are undone, kept as a "
            "patch",
            file=out,
        )
    merge = info.get("half_merge")
    if merge is not None:
        print(
            f"  first: a killed parallel run's merge is put right ({len(merge)} file"
            f"{'s' if len(merge) != 1 else ''} it wrote taken back or committed; a person's edits stay)",
            file=out,
        )
    for expected in info.get("expected") or []:
        print(
            f"  would end {expected['outcome']} (exit {expected['exit_code']}): {expected['message']}",
            file=out,
        )


def print_outcome(outcome: Any, stream: TextIO | None = None, shown: set | None = None) -> None:
    """A phase's outcome; when the live output already showed it (``shown`` holds its (slug,
    phase)), only what it did not: nothing."""
    out = visible(stream)
    hint = next_line(getattr(outcome, "hints", None))
    if outcome.outcome in (Outcome.NOTHING, Outcome.STUCK):
        print(f"nothing to run in {outcome.slug}: {outcome.detail}", file=out)
        if hint:
            print(f"  {hint}", file=out)
        return
    if shown and (outcome.slug, outcome.phase) in shown:
        return
    print(f"phase {outcome.phase}: {outcome.outcome}  {outcome.detail}".rstrip(), file=out)
    for gate in outcome.gates:
        print(f"  {'✓' if gate['ok'] else '✗'} {gate['command']}: {gate['summary']}", file=out)
    if outcome.commit:
        print(f"  commit {outcome.commit[:10]}", file=out)
    u = outcome.usage
    print(
        f"  {outcome.model}: {u.get('input_tokens', 0):,} in (+{u.get('cache_creation_input_tokens', 0):,} "
        "cache write,"
        f" {u.get('cache_read_input_tokens', 0):,} cache read), {u.get('output_tokens', 0):,} out, "
        f"{money(outcome.cost_usd)}",
        file=out,
    )
    if hint:
        print(f"  {hint}", file=out)


def print_run(result: Any, stream: TextIO | None = None, shown: set | None = None) -> None:
    out = visible(stream)
    for outcome in result.outcomes:
        print_outcome(outcome, out, shown)
    detail = f": {result.detail}" if result.detail and result.reason != Outcome.COMPLETE else ""
    print(f"run: {result.reason}{detail}  total {money(result.cost_usd)}", file=out)
    if result.hints:
        print(next_line(result.hints), file=out)


def _ref(row: dict) -> str:
    """provider:model, or the model alone for the default Anthropic provider (as before providers)."""
    provider = row.get("provider") or ""
    return row["model"] if provider in ("", "anthropic") else f"{provider}:{row['model']}"


def print_cost(report: Any, stream: TextIO | None = None) -> None:
    from phaser.workflow.cost import run_summary

    out = visible(stream)
    header = (
        f"{'phase':<8} {'model':<20} {'runs':>4} {'uncached':>10} {'cache wr':>10} {'cache rd':>10} "
        f"{'output':>9} {'cost':>10}"
    )

    def cost(row: dict) -> str:  # an unknown price or cache count is said, never shown as a number
        return money(row["cost_usd"]) if row.get("priced", True) else "unknown"

    def cache_rd(row: dict) -> str:
        return f"{row['cache_read_input_tokens']:,}" + ("?" if row.get("cache_unknown") else "")

    for plan in report.plans:
        print(f"{plan['slug']}", file=out)
        print("  " + header, file=out)
        for row in plan["rows"]:
            print(
                f"  {str(row['phase']):<8} {_ref(row):<20} {row['runs']:>4} {row['input_tokens']:>10,} "
                f"{row['cache_creation_input_tokens']:>10,} {cache_rd(row):>10} {row['output_tokens']:>9,} "
                f"{cost(row):>10}",
                file=out,
            )
        for provider, models in plan.get("by_provider", {"": plan["by_model"]}).items():
            for model, row in models.items():
                print(
                    f"  {'model':<8} {_ref({'provider': provider, 'model': model}):<20} {row['runs']:>4} "
                    f"{row['input_tokens']:>10,} {row['cache_creation_input_tokens']:>10,} "
                    f"{cache_rd(row):>10} {row['output_tokens']:>9,} {cost(row):>10}",
                    file=out,
                )
        total = money(plan["total_usd"])
        print(f"  total {total}" + ("" if plan.get("priced", True) else " + unpriced runs"), file=out)
        if any(r.get("cache_unknown") for r in plan["rows"]):
            print(
                "  ? the server did not report cached tokens: counted as uncached (an upper bound)", file=out
            )
        print("  runs (a redone or escalated phase has several; compare them here):", file=out)
        for run in plan["runs"]:
            print(f"    phase {run['phase']}  {run['run']}  {run_summary(run)}", file=out)
    if not report.plans:
        print("no runs recorded yet", file=out)


TESTS_LISTED = 30
"""A gate with more tests than this lists only those that did not pass (--json has them all)."""


def print_evidence(evidence: Any, stream: TextIO | None = None, console: Any = None) -> None:
    """`phaser show`: what a phase did, what proved it, and what it cost."""
    lines = Lines(stream, console)
    e = evidence
    lines.line(f"{e.slug}: phase {e.phase}: {e.title}", "bold")
    lines.line(f"  state {e.state}  difficulty {e.difficulty}  model {e.model}", STATE_STYLE.get(e.state, ""))
    u = e.usage
    total_in = sum(
        int(u.get(k) or 0) for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    runs = f"{len(e.runs)} run{'s' if len(e.runs) != 1 else ''}"
    lines.line(
        f"  tokens {total_in:,} in ({int(u.get('cache_read_input_tokens') or 0):,} from cache) / "
        f"{int(u.get('output_tokens') or 0):,} out  cost {money(e.cost_usd)}  ({runs})"
    )
    lines.line()
    lines.line("gates (newest run):" if e.gates else "gates: none run yet", "bold")
    for gate in e.gates:
        lines.line(
            f"  {'✓' if gate.get('ok') else '✗'} {gate.get('command')}: {gate.get('summary')}",
            "green" if gate.get("ok") else "red",
        )
        tests = gate.get("tests") or {}
        shown = tests if len(tests) <= TESTS_LISTED else {k: v for k, v in tests.items() if v != "passed"}
        for test_id, result in sorted(shown.items()):
            mark = {"passed": "✓", "failed": "✗", "skipped": "-"}.get(result, "?")
            lines.line(
                f"      {mark} {test_id}  {result}", {"failed": "red", "skipped": "yellow"}.get(result, "")
            )
        if len(shown) < len(tests):
            lines.line(f"      (and {len(tests) - len(shown)} passed: phaser show --json lists them)", "dim")
    if e.claims:
        lines.line()
        lines.line("claims (newest run):", "bold")
        for claim in e.claims:
            verdict = "" if claim.get("accepted") else "  (refused)"
            lines.line(f"  {claim.get('ref')}: {claim.get('evidence') or '(no evidence given)'}{verdict}")
    if e.tasks:
        lines.line()
        lines.line("tasks:", "bold")
        for task in e.tasks:
            lines.line(f"  [{'x' if task['checked'] else ' '}] {task['ref']} {task['text']}")
    if e.notes:
        lines.line()
        lines.line("notes:", "bold")
        for note in e.notes:
            lines.line(f"  - {note}")
    if e.runs:
        from phaser.workflow.cost import run_summary

        lines.line()
        lines.line("runs:", "bold")
        for run in e.runs:
            lines.line(f"  {run['run']}  {run_summary(run)}")
    lines.line()
    if e.diff_source == "commit":
        lines.line(f"diff of commit {e.commit}:", "bold")
    elif e.diff_source == "patch":
        lines.line(f"no commit; the patch kept from the last undone attempt ({e.patch}):", "bold")
    else:
        lines.line("no diff: the phase has no commit and no kept patch", "bold")
    for text in e.diff.splitlines():
        style = ""
        if lines.rich:
            if text.startswith("+") and not text.startswith("+++"):
                style = "green"
            elif text.startswith("-") and not text.startswith("---"):
                style = "red"
            elif text.startswith("@@"):
                style = "cyan"
        lines.line(text, style)


def fit_lines(lines: list[str], *, full: bool = False, width: int | None = None) -> list[str]:
    """Lines fitted to the terminal: cut with ``…`` (the default), or with ``full`` whole: wrapped
    on a terminal, as they are elsewhere (a pipe keeps one entry per line)."""
    import textwrap

    width = width or terminal_width()
    if not full:
        return [ellipsize(line, width) for line in lines]
    if not sys.stdout.isatty():
        return list(lines)
    out: list[str] = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip(" ")) + 12)
        out.extend(textwrap.wrap(line, width, subsequent_indent=indent, drop_whitespace=True) or [""])
    return out
