"""Plain-terminal rendering of statuses, run events and outcomes."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from phaser import events as ev

STATE_MARK = {"done": "✓", "next": "▶", "pending": "·", "blocked": "✗", "skipped": "-"}


def _out(stream: TextIO | None) -> TextIO:
    return stream or sys.stdout


def print_status(statuses: list, stream: TextIO | None = None) -> None:
    out = _out(stream)
    if not statuses:
        print('no specs yet: phaser new "Title"', file=out)
        return
    for i, st in enumerate(statuses):
        if i:
            print(file=out)
        if st.error:
            if "no plan yet" in st.error:
                print(f"{st.slug}: {st.error}", file=out)
            continue  # unreadable plans are reported on stderr by the caller
        done = sum(p.tasks_done for p in st.phases)
        total = sum(p.tasks_total for p in st.phases)
        nxt = (
            f"next: phase {st.next}"
            if st.next is not None
            else ("complete" if st.phases_done == len(st.phases) else "nothing runnable")
        )
        print(
            f"{st.title}  ({st.path})  phases {st.phases_done}/{len(st.phases)}  tasks {done}/{total}  {nxt}",
            file=out,
        )
        if st.problems:
            more = f" (and {len(st.problems) - 1} more)" if len(st.problems) > 1 else ""
            print(f"  ! {st.problems[0]}{more}: next and run refuse this plan until it is fixed", file=out)
        if st.active:
            a = st.active
            if a["running"]:
                print(f"  ▶ phase {a['phase']} is running (started {a['started']})", file=out)
            else:
                print(
                    f"  ! phase {a['phase']} did not finish (started {a['started']}): its changes are still in the "
                    "tree; phaser next undoes them first (kept as a patch) and runs it again",
                    file=out,
                )
        width = max((len(p.title) for p in st.phases), default=10)
        width = min(width, 48)
        for p in st.phases:
            title = p.title if len(p.title) <= width else p.title[: width - 1] + "…"
            extra = ""
            if p.state == "pending" and p.depends:
                extra = "  (after " + ", ".join(str(d) for d in p.depends) + ")"
            if p.state == "done" and p.commit:
                extra = f"  {p.commit[:10]}"
            if p.state == "done" and p.approved:
                extra += "  approved"
            print(
                f"  {STATE_MARK.get(p.state, '?')} {p.number:>2}  {title:<{width}}  {p.difficulty:<6}  "
                f"{p.tasks_done:>2}/{p.tasks_total:<2}  {p.state:<7}  {p.ran_on or p.model}{extra}",
                file=out,
            )


def money(usd: float) -> str:
    return f"${usd:,.4f}" if usd < 1 else f"${usd:,.2f}"


class EventPrinter:
    """An event sink for the terminal: steps, tool calls as they happen, streaming text, gates, cost."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.out = _out(stream)
        self.quiet = quiet
        self.gone = False
        """True once the reader went away (a closed pipe): nothing more is printed, the run goes on."""
        self._in_text = False
        self._last_usage: ev.UsageUpdated | None = None

    def _end_text(self) -> None:
        if self._in_text:
            print(file=self.out)
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
        reader_gone(self.out)  # stdout or stderr now goes to /dev/null: later output fails no more

    def _print(self, event: ev.Event) -> None:
        out = self.out
        if isinstance(event, ev.TextDelta):
            if not self.quiet:
                out.write(event.text)
                out.flush()
                self._in_text = not event.text.endswith("\n")
            return
        self._end_text()
        if isinstance(event, ev.PhaseStarted):
            self._last_usage = None
            attempt = f" (attempt {event.attempt})" if event.attempt > 1 else ""
            print(
                f"\n=== {event.slug}: phase {event.phase}: {event.title} on {event.model}{attempt}", file=out
            )
        elif isinstance(event, ev.StepStarted):
            print(f"--- {event.step}{self._so_far()}", file=out)
        elif isinstance(event, ev.ToolStarted):
            print(f"  → {event.name}: {event.summary}", file=out)
        elif isinstance(event, ev.ToolFinished):
            if not event.ok:
                print(f"    ✗ {event.summary}", file=out)
            elif not self.quiet and event.summary:
                print(f"    ✓ {event.summary}", file=out)
        elif isinstance(event, ev.PolicyViolation):
            print(f"  ! policy ({event.step}): {event.message}", file=out)
        elif isinstance(event, ev.GateFinished):
            mark = "✓" if event.ok else "✗"
            print(f"  {mark} gate {event.name}: {event.summary}", file=out)
            if not event.ok and event.output_tail and not self.quiet:
                for line in event.output_tail.splitlines()[-12:]:
                    print(f"    | {line}", file=out)
        elif isinstance(event, ev.UsageUpdated):
            self._last_usage = event
        elif isinstance(event, ev.Notice):
            prefix = {"warning": "warning: ", "error": "error: "}.get(event.level, "")
            print(f"{prefix}{event.message}", file=out)
        elif isinstance(event, ev.PhaseFinished):
            usage = self._last_usage
            cost = f"  {money(usage.cost_usd)}" if usage else ""
            print(f"=== phase {event.phase}: {event.outcome}{cost}  {event.detail}".rstrip(), file=out)
            if usage:
                print(f"    tokens: {self._tokens(usage)}", file=out)
        out.flush()

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
            self._end_text()
            self.out.flush()
        except BrokenPipeError:
            self._reader_gone()


def print_dry_run(info: dict[str, Any], stream: TextIO | None = None) -> None:
    out = _out(stream)
    if info["phase"] is None:
        print(f"nothing to run in {info['slug']}: {info['reason']}", file=out)
        return
    print(f"would run {info['slug']} phase {info['phase']}: {info['title']}", file=out)
    print(f"  difficulty {info['difficulty']} -> model {info['model']} ({info['model_reason']})", file=out)
    print(f"  steps: {' -> '.join(info['steps'])}", file=out)
    print(f"  gates: {', '.join(info['gates']) or '(none configured)'}", file=out)
    b = info["budget"]
    print(
        f"  budget: {money(b['phase_usd'])} / {b['phase_tokens']:,} tokens / {b['phase_turns']} turns per phase",
        file=out,
    )
    est = info.get("estimate") or {}
    if not info.get("priced", True):
        print(
            f"  no price configured for {info['model']}: dollars are not tracked and dollar caps do not apply",
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


def print_outcome(outcome: Any, stream: TextIO | None = None) -> None:
    out = _out(stream)
    if outcome.outcome in ("nothing", "stuck"):
        print(f"nothing to run in {outcome.slug}: {outcome.detail}", file=out)
        return
    print(f"phase {outcome.phase}: {outcome.outcome}  {outcome.detail}".rstrip(), file=out)
    for gate in outcome.gates:
        print(f"  {'✓' if gate['ok'] else '✗'} {gate['command']}: {gate['summary']}", file=out)
    if outcome.commit:
        print(f"  commit {outcome.commit[:10]}", file=out)
    u = outcome.usage
    print(
        f"  {outcome.model}: {u.get('input_tokens', 0):,} in (+{u.get('cache_creation_input_tokens', 0):,} cache write,"
        f" {u.get('cache_read_input_tokens', 0):,} cache read), {u.get('output_tokens', 0):,} out, {money(outcome.cost_usd)}",
        file=out,
    )


def print_run(result: Any, stream: TextIO | None = None) -> None:
    out = _out(stream)
    for outcome in result.outcomes:
        print_outcome(outcome, out)
    print(f"run: {result.reason}  total {money(result.cost_usd)}", file=out)


def _ref(row: dict) -> str:
    """provider:model, or the model alone for the default Anthropic provider (as before providers)."""
    provider = row.get("provider") or ""
    return row["model"] if provider in ("", "anthropic") else f"{provider}:{row['model']}"


def print_cost(report: Any, stream: TextIO | None = None) -> None:
    from phaser.workflow.cost import run_summary

    out = _out(stream)
    header = f"{'phase':<8} {'model':<20} {'runs':>4} {'uncached':>10} {'cache wr':>10} {'cache rd':>10} {'output':>9} {'cost':>10}"

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
