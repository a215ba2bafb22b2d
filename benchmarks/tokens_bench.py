"""Input/output tokens and dollars of a fixed 10-phase workload, phaser vs ideal caching vs one long
conversation vs the floor. Prints figures and PASS/MISS per target; exits 0 either way.

Run: .venv/bin/python benchmarks/tokens_bench.py [--keep]   (--keep leaves the temporary projects)

The real workflow (``run_all``) drives the real ``anthropic`` SDK against the offline fake Messages API
(src/phaser/testing/fake_api.py), which does the prompt-cache accounting. The agent is a fixed
scripted turn list in the exact order the workflow asks (explore until finish_step, code until
finish_step, phaser's own gates, plan update until finish_step). One phase has a red gate once, so
it goes through a fix turn. The agent makes one tool call per turn and checks its own work
before handing over (STYLES["typical"]); the same work by a leaner agent and by one that batches
each step's calls into one turn is run too, for the sensitivity of (c)/(a) to the requests per
phase. Token counts are the fake's estimate (about 4 bytes of canonical JSON per token, per block,
plus the tool-use overheads the real API bills), so the figures are
comparable with each other, not with a real tokenizer.

Scenarios, all from the request bodies the fake recorded during the run:
 (a) phaser as it runs: the fake's usage per request (cross-checked with the journal / phaser cost).
 (b) the same requests with IDEAL caching: per request, the longest block prefix (tools, system,
     message blocks in order) shared with any earlier request on the same model is read, the rest is
     written once (no minimum cacheable size, no expiry).
 (c) the same work as ONE conversation on the top model: all phases' messages after one tools+system
     head; each request reads the previous request's whole context and writes the rest. The plan is
     given once: later phases start with their own section (the conversation holds the rest). One
     model, because a conversation cannot switch models on the 5.5 models (their thinking blocks are
     tied to the model), and the one session needs the model its hardest phase needs.
     (c1) is (c) switching model per phase anyway, with the real per-model cache (after a switch the
     new model reads only what it cached last); (c0) is (c1) with a cache that crosses models, which
     no real one does. (c) / (a') isolates the context strategy from routing.
 (d) the floor: each phase's final context read once, uncached, plus the same output tokens.
Targets: cost (a) <= 1.15 x cost (b); cost (c) >= 3 x cost (a); >= 70% of (a)'s input tokens read
from the cache. Also: (a) with difficulty routing vs the same workload with every phase on opus, and the
workload with the easy tier on an open model behind an OpenAI-compatible endpoint (FakeChatAPI).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phaser.agent.journal import read_journal
from phaser.agent.script import estimate_tokens
from phaser.config import DEFAULT_PRICES
from phaser.testing.fake_api import FakeMessagesAPI, count_input_tokens, prompt_blocks, prompt_tokens
from phaser.workflow.cost import cost_report, run_dirs
from phaser.workflow.project import Project
from phaser.workflow.providers import RunOptions
from phaser.workflow.runner import run_all
from phaser.workflow.specs import init_project

SLUG = "ledger-features"
TOP_MODEL = "claude-opus-5-5"
MIN_CACHE_TOKENS = 1024

# --------------------------------------------------------------------------------------------------
# The project: a small bookkeeping library with a few modules of a few hundred lines each.
# --------------------------------------------------------------------------------------------------

MODULES = {
    "accounts": ("Chart of accounts: codes, kinds, hierarchy.", "account", 20),
    "entries": ("Journal entries: postings, validation, balancing.", "entry", 24),
    "reports": ("Reports over a ledger: balances, statements, formatting.", "report", 26),
    "importers": ("Importing statements and journals from text formats.", "record", 22),
    "money": ("Money amounts in integer cents, parsing and formatting.", "amount", 16),
}
VERBS = [
    "normalize",
    "parse",
    "format",
    "validate",
    "merge",
    "split",
    "round",
    "convert",
    "summarize",
    "filter",
    "group",
    "sort",
    "match",
    "collect",
    "describe",
    "check",
]
SUFFIXES = ["", "_lines", "_rows", "_map", "_keys", "_codes", "_totals", "_labels"]


def _function(verb: str, noun: str, i: int) -> str:
    """One small, valid, boring function; four shapes so the modules read like real code."""
    name = f"{verb}_{noun}{SUFFIXES[i % len(SUFFIXES)]}"
    shape = i % 4
    if shape == 0:
        return f'''def {name}(value: str) -> str:
    """{verb.capitalize()} a {noun} given as text: strip it, fold case and collapse separators.

    Total on purpose: it never raises, so importers can call it on any cell of a row.
    """
    text = str(value).strip().upper()
    for sep in ("-", "_", " ", "."):
        text = text.replace(sep, ":")
    while "::" in text:
        text = text.replace("::", ":")
    return text.strip(":")
'''
    if shape == 1:
        return f'''def {name}(items: list[tuple[str, int]]) -> dict[str, int]:
    """{verb.capitalize()} {noun} pairs (key, cents) into one total per key, keys in first-seen order."""
    totals: dict[str, int] = {{}}
    for key, cents in items:
        if not isinstance(cents, int):
            raise TypeError(f"{{key}}: amounts are integer cents, not {{type(cents).__name__}}")
        totals[key] = totals.get(key, 0) + cents
    return totals
'''
    if shape == 2:
        return f'''def {name}(rows: list[dict[str, str]], column: str = "{noun}") -> list[str]:
    """The distinct values of one column of {noun} rows, sorted, empty cells left out."""
    seen: set[str] = set()
    for row in rows:
        cell = (row.get(column) or "").strip()
        if cell:
            seen.add(cell)
    return sorted(seen)
'''
    return f'''def {name}(cents: int, width: int = 12) -> str:
    """A {noun} amount as text for a report column: thousands separators, two decimals, right-aligned."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    text = f"{{sign}}{{whole:,}}.{{frac:02d}}"
    return text.rjust(width)
'''


def module_text(name: str) -> tuple[str, list[str]]:
    doc, noun, count = MODULES[name]
    parts = [f'"""{doc}"""\n\nfrom __future__ import annotations\n']
    names = []
    for i in range(count):
        fn = _function(VERBS[i % len(VERBS)], noun, i)
        names.append(fn.split("(", 1)[0][4:])
        parts.append(fn)
    return "\n\n".join(parts), names


TEST_BASICS = """\
from ledger.accounts import normalize_account
from ledger.money import parse_amount_lines, validate_amount_map


def test_account_codes_are_normalized():
    assert normalize_account(" 4000-sales . eu ") == "4000:SALES:EU"


def test_amounts_merge_per_key():
    assert parse_amount_lines([("a", 100), ("b", 5), ("a", -30)]) == {"a": 70, "b": 5}


def test_amount_column_format():
    assert validate_amount_map(123456, width=10) == "  1,234.56"
"""

# --------------------------------------------------------------------------------------------------
# The spec and the plan: 10 phases, mixed difficulty, 2-3 tasks each.
# --------------------------------------------------------------------------------------------------


@dataclass
class PhaseDef:
    title: str
    difficulty: str
    feature: str
    """New module ledger/<feature>.py and tests/test_<feature>.py."""
    reads: list[str]
    """Files the explore step views (2-3)."""
    hook: str | None
    """An existing module that gets a small wrapper (a str_replace), or None."""
    tasks: list[str]
    requirement: str
    bug: bool = False
    depends: list[int] = field(default_factory=list)


PHASES = [
    PhaseDef(
        "Account code helpers",
        "easy",
        "codes",
        ["ledger/accounts.py", "tests/test_basics.py"],
        None,
        ["Add `ledger/codes.py` parsing `key;amount;note` code rows", "Add `tests/test_codes.py`"],
        "Account codes are normalized before any lookup; rows of codes are parsed from "
        "`key;amount;note` lines where the amount has up to two decimals.",
    ),
    PhaseDef(
        "Rounding rules",
        "easy",
        "rounding",
        ["ledger/money.py", "ledger/accounts.py"],
        "money",
        [
            "Add `ledger/rounding.py` with banker's rounding of cent rows",
            "Expose a `rounded_total` wrapper in `ledger/money.py`",
            "Add `tests/test_rounding.py`",
        ],
        "Totals are computed in integer cents; when a conversion yields fractions of a cent the "
        "result is rounded half to even, once, at the end of the computation.",
        depends=[1],
    ),
    PhaseDef(
        "Bank statement import",
        "medium",
        "bankcsv",
        ["ledger/importers.py", "ledger/money.py", "ledger/entries.py"],
        "importers",
        [
            "Add `ledger/bankcsv.py` reading bank statement rows",
            "Register the reader in `ledger/importers.py`",
            "Add `tests/test_bankcsv.py`",
        ],
        "Bank statements arrive as semicolon-separated lines; each line becomes a record with a "
        "key, an amount in cents and a free-text note. Malformed lines are reported, not skipped.",
    ),
    PhaseDef(
        "Trial balance",
        "medium",
        "trial",
        ["ledger/reports.py", "ledger/entries.py"],
        "reports",
        ["Add `ledger/trial.py` computing a trial balance per account", "Add `tests/test_trial.py`"],
        "A trial balance lists every account with its debit and credit totals and proves that the "
        "ledger balances; the report groups accounts by code.",
        depends=[1],
    ),
    PhaseDef(
        "Multi-currency conversion",
        "hard",
        "fx",
        ["ledger/money.py", "ledger/entries.py", "ledger/reports.py"],
        "entries",
        [
            "Add `ledger/fx.py` converting cent rows with dated rates",
            "Convert foreign postings in `ledger/entries.py`",
            "Add `tests/test_fx.py`",
        ],
        "Postings may be in a foreign currency; they are converted to the book currency with the "
        "rate of the posting date, and the rounding difference is booked to a dedicated account.",
        depends=[2],
    ),
    PhaseDef(
        "Recurring entries",
        "medium",
        "recurring",
        ["ledger/entries.py", "ledger/accounts.py"],
        None,
        ["Add `ledger/recurring.py` expanding recurring entry rows", "Add `tests/test_recurring.py`"],
        "A recurring entry (rent, salaries) is written once with a schedule and expanded into "
        "ordinary entries for a period; expansion is idempotent.",
        depends=[3],
    ),
    PhaseDef(
        "Period close",
        "hard",
        "closing",
        ["ledger/reports.py", "ledger/entries.py", "ledger/accounts.py"],
        "reports",
        [
            "Add `ledger/closing.py` closing income accounts into retained earnings",
            "Add a `closing_summary` wrapper to `ledger/reports.py`",
            "Add `tests/test_closing.py`",
        ],
        "Closing a period moves the balance of every income and expense account into retained "
        "earnings and locks the period against new postings.",
        bug=True,
        depends=[4, 5],
    ),
    PhaseDef(
        "Budget vs actual",
        "medium",
        "budget",
        ["ledger/reports.py", "ledger/money.py"],
        None,
        ["Add `ledger/budget.py` comparing budget rows with actual totals", "Add `tests/test_budget.py`"],
        "A budget is a list of planned amounts per account and period; the report shows planned, "
        "actual and the difference, with accounts over budget first.",
        depends=[4],
    ),
    PhaseDef(
        "Audit trail",
        "easy",
        "audit",
        ["ledger/entries.py", "ledger/importers.py"],
        None,
        ["Add `ledger/audit.py` summarising who changed which entry", "Add `tests/test_audit.py`"],
        "Every change to an entry is recorded with who, when and why; the trail can be listed per "
        "entry and per user.",
        depends=[3],
    ),
    PhaseDef(
        "Consistency checker",
        "hard",
        "consistency",
        ["ledger/entries.py", "ledger/reports.py", "ledger/accounts.py"],
        "accounts",
        [
            "Add `ledger/consistency.py` finding unbalanced keys and orphan codes",
            "Call it from `ledger/accounts.py`",
            "Add `tests/test_consistency.py`",
        ],
        "A consistency check finds entries that do not balance, postings to unknown accounts and "
        "periods closed with open postings, and reports each with its location.",
        depends=[6, 7, 8, 9],
    ),
]


def spec_text() -> str:
    out = [
        "---",
        "title: Ledger features",
        "---",
        "",
        "# Ledger features",
        "",
        "## Goal",
        "`ledger` is a small double-entry bookkeeping library used by two internal tools: the monthly "
        "close script and the finance dashboard. Both need more than the library offers today: "
        "imports from the bank, multi-currency postings, period close, budgets and a way to prove the "
        "books are consistent. This spec lists what to add; the plan splits it into phases that each "
        "end with green tests.",
        "",
        "## Context",
        "- Amounts are integer cents everywhere; floats never appear in stored data.",
        "- Accounts are identified by codes such as `4000:SALES:EU`; codes are normalized on input.",
        "- The library has no I/O of its own beyond reading text it is given; callers own the files.",
        "- Public functions are total where it makes sense and raise `ValueError` with a message that "
        "names the offending row otherwise.",
        "",
        "## Requirements",
    ]
    for i, p in enumerate(PHASES, 1):
        out += [
            f"### R{i}. {p.title}",
            p.requirement,
            f"The module `ledger/{p.feature}.py` owns this behaviour; it parses `key;amount;note` "
            "rows, totals them per key and formats them for reports. It comes with its own tests "
            f"in `tests/test_{p.feature}.py`.",
            "",
        ]
    out += [
        "## Glossary",
        "- *Account*: a named bucket of value with a code, a kind (asset, liability, equity, income, "
        "expense) and an optional parent; balances roll up the hierarchy.",
        "- *Entry*: a dated set of postings that sums to zero; it has an author and a free-text memo.",
        "- *Posting*: one line of an entry: an account code, an amount in cents and a currency.",
        "- *Period*: a calendar month by default; a closed period accepts no new postings.",
        "- *Book currency*: the currency reports are in; every other currency is converted on posting.",
        "- *Row*: the text form `key;amount;note` every importer and every feature module reads; the "
        "amount has up to two decimals and an optional minus sign.",
        "",
        "## Non-goals",
        "- No database, no web interface, no concurrency: callers serialise access.",
        "- No tax rules beyond what the requirements above state.",
        "",
        "## Acceptance",
        "- The existing tests in `tests/test_basics.py` pass unchanged.",
        "- Every requirement has tests of its own; `python -m pytest -q` is green after every phase.",
        "- Error messages name the row or the account they are about.",
        "",
    ]
    return "\n".join(out)


def plan_text() -> str:
    out = [
        "---",
        "title: Ledger features",
        "spec: spec.md",
        "format: 1",
        "---",
        "",
        "# Ledger features",
        "",
        "## Overview",
        "Ten phases, each adding one feature module with its tests; the hard ones (currencies, "
        "period close, consistency) run on the strongest model.",
        "",
    ]
    for n, p in enumerate(PHASES, 1):
        out += [f"## Phase {n}: {p.title}", f"difficulty: {p.difficulty}"]
        if p.depends:
            out.append("depends: " + ", ".join(map(str, p.depends)))
        out.append("")
        out += [f"- [ ] {t}" for t in p.tasks] + [""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# The scripted agent.
# --------------------------------------------------------------------------------------------------


def feature_module(p: PhaseDef, n: int, buggy: bool = False) -> str:
    f = p.feature
    extra = {"easy": 0, "medium": 1, "hard": 2}[p.difficulty]
    group_sort = "sorted(totals.items())" if not buggy else "list(totals.items())"
    text = f'''"""{p.title} (phase {n}): {p.requirement}"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class {f.capitalize()}Row:
    key: str
    cents: int
    note: str = ""


def parse_{f}_row(line: str) -> {f.capitalize()}Row:
    """Parse one `key;amount;note` line; the amount has up to two decimals."""
    parts = [part.strip() for part in line.split(";")]
    if len(parts) < 2 or not parts[0]:
        raise ValueError(f"{{line!r}}: expected key;amount[;note]")
    whole, _, frac = parts[1].partition(".")
    if not whole.lstrip("-").isdigit() or (frac and not frac.isdigit()) or len(frac) > 2:
        raise ValueError(f"{{line!r}}: bad amount {{parts[1]!r}}")
    sign = -1 if whole.startswith("-") else 1
    cents = sign * (abs(int(whole)) * 100 + int(frac.ljust(2, "0") or 0))
    return {f.capitalize()}Row(parts[0], cents, parts[2] if len(parts) > 2 else "")


def {f}_total(rows: list[{f.capitalize()}Row]) -> int:
    """The sum of all rows, in cents."""
    return sum(row.cents for row in rows)


def {f}_by_key(rows: list[{f.capitalize()}Row]) -> list[tuple[str, int]]:
    """One (key, total cents) pair per key, sorted by key."""
    totals: dict[str, int] = {{}}
    for row in rows:
        totals[row.key] = totals.get(row.key, 0) + row.cents
    return {group_sort}
'''
    for i in range(extra * 2):
        text += f'''

def {f}_check_{i}(rows: list[{f.capitalize()}Row], limit: int = {1000 * (i + 1)}) -> list[str]:
    """Keys whose total exceeds the limit (in cents), for the {p.title.lower()} report."""
    return [key for key, cents in {f}_by_key(rows) if abs(cents) > limit]
'''
    return text


def feature_test(p: PhaseDef) -> str:
    f = p.feature
    return f"""from ledger.{f} import {f}_by_key, {f}_total, parse_{f}_row


def test_parse_amounts_in_cents():
    assert parse_{f}_row("a;1.5;x").cents == 150
    assert parse_{f}_row("b;-2.25").cents == -225


def test_total_and_grouping():
    rows = [parse_{f}_row(line) for line in ["b;1", "a;2.50", "b;0.25"]]
    assert {f}_total(rows) == 375
    assert {f}_by_key(rows) == [("a", 250), ("b", 125)]
"""


def _edit(command: str, path: str, **kw: Any) -> dict:
    return {"name": "str_replace_based_edit_tool", "input": {"command": command, "path": path, **kw}}


def _finish(summary: str) -> dict:
    return {"name": "finish_step", "input": {"summary": summary}}


STYLES = {
    "batched": "each step's calls in one turn (parallel tool use), no self-checks: the fewest requests",
    "lean": "one call per turn; runs its own new tests before handing over",
    "typical": "one call per turn; also reads a test for conventions, runs the whole suite and reviews "
    "its diff before handing over, as coding agents commonly do",
}


def _turns(calls: list[dict], text: str, style: str) -> list[dict]:
    """The calls as the agent makes them: one call per turn, or all in one turn."""
    if style == "batched":
        return [{"text": text, "tool_calls": calls}]
    return [{"text": text if i == 0 else "", "tool_calls": [c]} for i, c in enumerate(calls)]


def _bash(command: str) -> dict:
    return {"name": "bash", "input": {"command": command}}


def phase_turns(n: int, p: PhaseDef, first_fn: dict[str, str], style: str = "typical") -> list[dict]:
    f = p.feature
    turns: list[dict] = []
    pytest = "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python -m pytest -q -p no:cacheprovider"
    checks = [] if style == "batched" else [_bash(f"{pytest} tests/test_{f}.py")]
    if style == "typical":
        checks += [_bash(pytest), _bash("git diff --stat")]
    # explore: the package layout, the files the phase touches, a grep; then the approach
    explore = [_edit("view", "ledger")] + [_edit("view", r) for r in p.reads]
    explore.append(_bash(f"grep -n 'def ' {p.reads[0]} | head -20"))
    if style == "typical":
        explore.append(_edit("view", "tests/test_basics.py"))
        if p.hook:
            explore.append(_bash(f"grep -rn '{first_fn[p.hook]}' ledger tests"))
    turns += _turns(
        explore, f"Phase {n} touches {', '.join(p.reads[:2])}; looking at the layout first.", style
    )
    turns.append(
        {
            "text": "I have what I need.",
            "tool_calls": [
                _finish(
                    f"Add ledger/{f}.py (row parser, totals, per-key grouping) and tests/test_{f}.py"
                    + (f"; a small wrapper in ledger/{p.hook}.py" if p.hook else "")
                    + "."
                )
            ],
        }
    )
    # code: the module, the hook, the tests; then the agent's own checks, except in the buggy
    # phase, where it forgets them and phaser's gate catches the bug
    code = [_edit("create", f"ledger/{f}.py", file_text=feature_module(p, n, buggy=p.bug))]
    if p.hook:
        anchor = f"def {first_fn[p.hook]}("
        wrapper = (
            f"def {f}_summary(lines: list[str]) -> list[tuple[str, int]]:\n"
            f'    """Per-key totals of `key;amount;note` lines (see ledger.{f})."""\n'
            f"    from ledger.{f} import {f}_by_key, parse_{f}_row\n\n"
            f"    return {f}_by_key([parse_{f}_row(line) for line in lines])\n\n\n"
        )
        code.append(_edit("str_replace", f"ledger/{p.hook}.py", old_str=anchor, new_str=wrapper + anchor))
    code.append(_edit("create", f"tests/test_{f}.py", file_text=feature_test(p)))
    if not p.bug:
        code += checks
    turns += _turns(code, "Writing the module.", style)
    turns.append(
        {
            "text": "Done; over to the gates.",
            "tool_calls": [_finish(f"ledger/{f}.py and tests/test_{f}.py written.")],
        }
    )
    if p.bug:  # the gate is red once: the fix turns answer phaser's FIX prompt
        fix = [
            _edit("view", f"ledger/{f}.py"),
            _edit(
                "str_replace",
                f"ledger/{f}.py",
                old_str="return list(totals.items())",
                new_str="return sorted(totals.items())",
            ),
            *checks,
        ]
        turns += _turns(fix, "The grouping must be sorted by key; the test caught it.", style)
        turns.append({"tool_calls": [_finish("Sorted the per-key totals.")]})
    # update: claim each task, leave a note; then finish
    turns.append(
        {
            "tool_calls": [
                *[
                    {
                        "name": "claim_task",
                        "input": {"ref": f"{n}.{t}", "evidence": f"tests/test_{f}.py passes under the gate"},
                    }
                    for t in range(1, len(p.tasks) + 1)
                ],
                {
                    "name": "add_note",
                    "input": {
                        "text": f"ledger/{f}.py: rows are parsed by parse_{f}_row; reuse "
                        f"{f}_by_key for reports rather than grouping again."
                    },
                },
            ]
        }
    )
    turns.append({"tool_calls": [_finish(f"Phase {n} done.")]})
    return turns


def script(style: str = "typical") -> list[dict]:
    first_fn = {m: module_text(m)[1][0] for m in MODULES}
    return [t for n, p in enumerate(PHASES, 1) for t in phase_turns(n, p, first_fn, style)]


def make_project(root: Path) -> Project:
    (root / "ledger").mkdir(parents=True)
    (root / "ledger" / "__init__.py").write_text('"""Double-entry bookkeeping."""\n', encoding="utf-8")
    for name in MODULES:
        (root / "ledger" / f"{name}.py").write_text(module_text(name)[0], encoding="utf-8")
    (root / "tests").mkdir()
    (root / "tests" / "test_basics.py").write_text(TEST_BASICS, encoding="utf-8")
    spec_dir = root / "specs" / SLUG
    spec_dir.mkdir(parents=True)
    (spec_dir / "spec.md").write_text(spec_text(), encoding="utf-8")
    (spec_dir / "plan.md").write_text(plan_text(), encoding="utf-8")
    (root / "AGENTS.md").write_text(
        "Run the tests with `python -m pytest -q`. Amounts are integer cents. Keep functions small.\n",
        encoding="utf-8",
    )
    init_project(root)
    # `python` is this interpreter (see main), so the prompts don't depend on where the venv lives;
    # no third-party pytest plugins: faster, and their warnings stay out of the FIX prompt
    gate = "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python -m pytest -q -p no:cacheprovider"
    (root / "phaser.toml").write_text(
        f"[gates]\ncommands = [{json.dumps(gate)}]\nfix_attempts = 2\n\n[models]\nescalate = false\n",
        encoding="utf-8",
    )
    with (root / ".gitignore").open("a", encoding="utf-8") as fh:
        fh.write("__pycache__/\n")
    for cmd in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", "ledger"],
    ):
        subprocess.run(cmd, cwd=root, check=True, capture_output=True)
    return Project.open(root)


# --------------------------------------------------------------------------------------------------
# Running it and measuring.
# --------------------------------------------------------------------------------------------------


@dataclass
class Req:
    phase: int
    model: str
    body: dict
    blocks: list  # [kind, block] as the cache sees them, no cache_control
    toks: list[int]  # tokens per block
    output: int = 0


@dataclass
class Row:
    name: str
    uncached: int = 0
    write: int = 0
    read: int = 0
    output: int = 0
    cost: float = 0.0
    split: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    """Dollars for uncached input, cache writes, cache reads, output."""
    peak: int = 0
    """The largest request's input tokens (set by one_conversation)."""

    def add(self, model: str, uncached: int, write: int, read: int, output: int) -> None:
        price = DEFAULT_PRICES[model]
        self.uncached += uncached
        self.write += write
        self.read += read
        self.output += output
        parts = price.parts(uncached, output, write, read)
        self.cost += sum(parts)
        for i, part in enumerate(parts):
            self.split[i] += part

    @property
    def total_in(self) -> int:
        return self.uncached + self.write + self.read


@dataclass
class Run:
    project: Project
    reqs: list[Req]
    outcome: str
    phases_passed: int
    seconds: float
    tails: dict[int, list]  # per phase: the final reply and its tool results, as cache blocks


def _canon(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _tok(block: Any) -> int:
    return estimate_tokens(_canon(block))  # the same per-block estimate as the fake server


_PHASE_RE = re.compile(r"You are working on phase (\d+) only")


def run_workload(model: str | None, style: str = "typical") -> Run:
    root = Path(tempfile.mkdtemp(prefix="phaser-tokens-bench-"))
    project = make_project(root)
    start = time.perf_counter()
    with FakeMessagesAPI(script(style), min_cache_tokens=MIN_CACHE_TOKENS) as api:
        os.environ["ANTHROPIC_BASE_URL"] = api.base_url
        os.environ["ANTHROPIC_API_KEY"] = "test"  # phaser moves it out of os.environ once the client has it
        result = run_all(
            project, SLUG, approve="never", options=RunOptions(provider="anthropic", model=model)
        )
        recorded = [r for r in api.requests if r["path"] == "/v1/messages"]
        left = api.remaining
    seconds = time.perf_counter() - start
    if left:
        raise SystemExit(f"the workflow asked for fewer turns than scripted ({left} left): {result.reason}")
    reqs = []
    for r in recorded:
        body = r["body"]
        first = body["messages"][0]["content"]
        text = first if isinstance(first, str) else first[0]["text"]
        blocks = [b for b, _ in prompt_blocks(body)]
        reqs.append(
            Req(int(_PHASE_RE.search(text).group(1)), body["model"], body, blocks, prompt_tokens(body))
        )
    # output tokens and each phase's final reply + tool results, from the journal
    tails: dict[int, list] = {}
    by_phase: dict[int, list[Req]] = {}
    for q in reqs:
        by_phase.setdefault(q.phase, []).append(q)
    for run_dir in run_dirs(project, SLUG):
        entries = read_journal(run_dir / "journal.jsonl")
        phase = next(e["phase"] for e in entries if e.get("kind") == "phase_start")
        responses = [e for e in entries if e.get("kind") == "response"]
        if len(responses) != len(by_phase[phase]):
            raise SystemExit(f"phase {phase}: {len(responses)} responses for {len(by_phase[phase])} requests")
        for q, e in zip(by_phase[phase], responses, strict=True):
            q.output = int(e["usage"]["output_tokens"])
        last = max(i for i, e in enumerate(entries) if e.get("kind") == "response")
        tail = [["assistant", b] for b in entries[last]["content"]]
        ids = [b["id"] for b in entries[last]["content"] if b.get("type") == "tool_use"]
        tools = [e for e in entries[last:] if e.get("kind") == "tool"]
        for tid, e in zip(ids, tools, strict=True):
            block = {"type": "tool_result", "tool_use_id": tid, "content": e["result"]}
            if not e["ok"]:
                block["is_error"] = True
            tail.append(["user", block])
        tails[phase] = tail
    passed = sum(1 for o in result.outcomes if o.outcome == "passed")
    return Run(project, reqs, result.reason, passed, seconds, tails)


CHEAP_MODEL = "cheap:qwen3-coder"
CHEAP_PRICE = {"input": 0.20, "output": 0.80, "cache_write": 0.0, "cache_read": 0.02}
"""An open model behind an OpenAI-compatible gateway, at about what such gateways charge (USD/Mtok)."""


def run_cheap_easy(style: str = "typical") -> tuple[float, Project, int]:
    """The same workload with the easy tier on CHEAP_MODEL (the real openai SDK against FakeChatAPI),
    the rest on the Messages API as routed: (dollars from phaser cost, project, easy requests)."""
    from phaser.testing.fake_openai import FakeChatAPI

    root = Path(tempfile.mkdtemp(prefix="phaser-tokens-bench-cheap-"))
    project = make_project(root)
    turns = iter(script(style))

    def next_turn(_body: dict) -> dict:  # one agent, whichever server its phase's model is on
        return next(turns, {"text": "(no more turns)"})

    with FakeMessagesAPI(next_turn, min_cache_tokens=MIN_CACHE_TOKENS) as api, FakeChatAPI(next_turn) as chat:
        toml = (root / "phaser.toml").read_text(encoding="utf-8")
        toml = toml.replace("[models]\n", f'[models]\neasy = "{CHEAP_MODEL}"\n')
        toml += f'\n[providers.cheap]\nkind = "openai"\nbase_url = "{chat.base_url}"\n'
        toml += f'\n[prices."{CHEAP_MODEL}"]\n' + "".join(f"{k} = {v}\n" for k, v in CHEAP_PRICE.items())
        (root / "phaser.toml").write_text(toml, encoding="utf-8")
        subprocess.run(
            ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qam", "cheap"],
            cwd=root,
            check=True,
            capture_output=True,
        )
        project = Project.open(root)
        os.environ["ANTHROPIC_BASE_URL"] = api.base_url
        os.environ["ANTHROPIC_API_KEY"] = "test"
        result = run_all(project, SLUG, approve="never", options=RunOptions(provider="anthropic"))
        easy_requests = len(chat.requests)
    if result.reason != "complete":
        raise SystemExit(f"the cheap-easy run did not complete: {result.reason} {result.detail}")
    return cost_report(project, SLUG).plans[0]["total_usd"], project, easy_requests


def actual(run: Run) -> tuple[Row, list[dict]]:
    """(a): the fake's cache accounting, replayed on the recorded bodies (same code, same order)."""
    replay = FakeMessagesAPI(min_cache_tokens=MIN_CACHE_TOKENS)
    row, per = Row("(a) phaser as it runs"), []
    for q in run.reqs:
        u = replay.cache_usage(q.body)
        row.add(
            q.model,
            u["input_tokens"],
            u["cache_creation_input_tokens"],
            u["cache_read_input_tokens"],
            q.output,
        )
        per.append(u)
    # cross-check with the journal, which holds the usage the SDK actually received
    rep = cost_report(run.project, SLUG).plans[0]
    journal = {
        k: sum(r[k] for r in rep["runs"])
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")
    }
    mine = {
        "input_tokens": row.uncached,
        "cache_creation_input_tokens": row.write,
        "cache_read_input_tokens": row.read,
        "output_tokens": row.output,
    }
    if journal != mine or abs(rep["total_usd"] - row.cost) > 1e-4:
        raise SystemExit(f"replay {mine} ${row.cost:.4f} != journal {journal} ${rep['total_usd']:.4f}")
    return row, per


def ideal(reqs: list[Req], per_model: bool = True) -> tuple[Row, list[int]]:
    """(b): per request, the longest block prefix shared with any earlier request is read."""
    seen: set[str] = set()
    row, reads = Row("(b) same requests, ideal cache"), []
    for q in reqs:
        digest = hashlib.sha256(q.model.encode() if per_model else b"")
        hashes, totals, total = [], [], 0
        for b, t in zip(q.blocks, q.toks, strict=True):
            digest.update(_canon(b).encode() + b"\x00")
            hashes.append(digest.copy().hexdigest())
            total += t
            totals.append(total)
        hit = next((j for j in range(len(hashes) - 1, -1, -1) if hashes[j] in seen), None)
        read = totals[hit] if hit is not None else 0
        row.add(q.model, 0, total - read, read, q.output)
        reads.append(read)
        seen.update(hashes)
    return row, reads


def head_len(q: Req) -> int:
    return sum(1 for kind, _ in q.blocks if kind in ("tool", "system"))


def one_conversation(run: Run, model: str | None = TOP_MODEL, per_model: bool = True) -> Row:
    """(c): every phase's messages in one conversation; each request reads the previous whole context.
    ``model``: the conversation's one model. A conversation cannot switch models on the 5.5 models
    (their thinking blocks are tied to the model), so one session runs on the model its hardest
    phase needs. ``model=None`` prices each phase on its own model anyway (c1, idealized): with
    ``per_model`` (as on the real API) a request after a switch reads only what that model cached
    last and writes the rest; without it the cache crosses models (c0), which no real cache does."""
    if model:
        row = Row(f"(c) one long conversation, {model.removeprefix('claude-')}")
    else:
        row = Row("(c1) same, model switched per phase" if per_model else "(c0) (c1), cache across models")
    last_on: dict[str, int] = {}
    heads = {_canon(q.blocks[: head_len(q)]) for q in run.reqs}
    if len(heads) != 1:
        raise SystemExit("tools+system differ between phases; (c) assumes one shared head")
    head = sum(run.reqs[0].toks[: head_len(run.reqs[0])])
    history, prev = 0, 0  # tokens of the earlier phases' full conversations; previous request's context
    row.peak = 0
    phases = sorted({q.phase for q in run.reqs})
    for p in phases:
        mine = [q for q in run.reqs if q.phase == p]
        # the conversation already holds the plan (given once, then kept up to date by the agent's own
        # plan-tool calls), so a later phase starts with its own section, not the whole plan again
        trim = 0 if p == phases[0] else mine[0].toks[head_len(mine[0])] - _tok(_without_plan(mine[0]))
        for q in mine:
            on = model or q.model
            total = head + history + sum(q.toks[head_len(q) :]) - trim
            read = last_on.get(on, 0) if per_model else prev
            row.add(on, 0, total - read, read, q.output)
            prev = last_on[on] = total
            row.peak = max(row.peak, total)
        last = mine[-1]
        history += sum(last.toks[head_len(last) :]) - trim + sum(_tok(b) for b in run.tails[p])
    return row


def _without_plan(q: Req) -> list:
    """The first message block of a phase with the `<plan>` element taken out."""
    kind, block = q.blocks[head_len(q)]
    text = block["text"]
    start, end = text.index("<plan "), text.index("</plan>") + len("</plan>\n\n")
    return [kind, {**block, "text": text[:start] + text[end:]}]


def floor(run: Run) -> Row:
    """(d): each phase's final context read once, uncached; the same output tokens."""
    row = Row("(d) floor: final contexts once")
    for p in sorted({q.phase for q in run.reqs}):
        mine = [q for q in run.reqs if q.phase == p]
        row.add(mine[-1].model, count_input_tokens(mine[-1].body), 0, 0, 0)
        for q in mine:
            row.add(q.model, 0, 0, 0, q.output)
    return row


def show(rows: list[Row], out=print) -> None:
    out(
        "  "
        f"{'scenario':<36}{'uncached in':>12}{'cache write':>12}{'cache read':>12}{'output':>9}{'cost $':>10}"
    )
    for r in rows:
        out(f"  {r.name:<36}{r.uncached:>12,}{r.write:>12,}{r.read:>12,}{r.output:>9,}{r.cost:>10.4f}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> int:
    t0 = time.perf_counter()
    bindir = str(Path(sys.executable).parent)  # the gate's `python` must be this one (with pytest)
    os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    routed = run_workload(None)
    top = run_workload(TOP_MODEL)
    others = {style: run_workload(None, style) for style in STYLES if style != "typical"}
    a, per = actual(routed)
    b, b_reads = ideal(routed.reqs)
    b_any, _ = ideal(routed.reqs, per_model=False)
    c = one_conversation(routed)
    c1 = one_conversation(routed, model=None)
    c0 = one_conversation(routed, model=None, per_model=False)
    d = floor(routed)
    a_top, _ = actual(top)
    a_top.name = "(a') phaser, every phase on opus"

    diffs = {p.difficulty for p in PHASES}
    counts = {k: sum(1 for p in PHASES if p.difficulty == k) for k in ("easy", "medium", "hard")}
    print(
        f"phaser token benchmark: {len(PHASES)} phases ({', '.join(f'{v} {k}' for k, v in counts.items())}), "
        f"{len(routed.reqs)} model requests, fake Messages API (min_cache_tokens={MIN_CACHE_TOKENS})"
    )
    assert diffs == {"easy", "medium", "hard"}
    print(
        f"run with routing: {routed.outcome}, {routed.phases_passed}/{len(PHASES)} phases passed, "
        f"{routed.seconds:.1f}s; all-opus run: {top.outcome}, {top.phases_passed}/{len(PHASES)} passed, "
        f"{top.seconds:.1f}s"
    )
    print()
    print(
        "Columns (tokens: the fake server's estimate, ~4 bytes of canonical JSON per block, plus the real "
        "API's tool-use overheads):"
    )
    print("  uncached in  input tokens billed at the base input price (no cache involved)")
    print("  cache write  input tokens written to the prompt cache (5-minute write price)")
    print("  cache read   input tokens read from the prompt cache (cache read price)")
    print("  output       output tokens (the same scripted replies in every scenario)")
    print(
        "  cost $       DEFAULT_PRICES of each request's own model; for (c) its one model, (c1), (c0), (d) "
        "each phase's"
    )
    print("Scenarios:")
    print("  (a)  the real workflow on the fake server; its cache accounting (checked against `phaser cost`)")
    print("  (b)  the same request bodies; the longest block prefix seen in any earlier request on the same")
    print("       model is read, the rest written once (no minimum size, no expiry)")
    print(f"  (c)  one conversation on {TOP_MODEL}, the model its hardest phase needs (on the 5.5 models a")
    print("       conversation cannot switch models: thinking blocks are tied to the model); all phases'")
    print("       messages after one tools+system head, each request reads the previous request's whole")
    print("       context and writes the rest; the plan is given once, later phases start with their section")
    print("  (c1) (c) switching model per phase anyway (idealized): after a switch the new model reads only")
    print("       what it cached last; (c0) (c1) with a cache that crosses models (none does)")
    print("  (d)  each phase's final context read once uncached, plus the same output: the floor")
    print()
    show([a, b, c, c1, c0, d, a_top])
    print()
    print("Cost split, $ (uncached input / cache writes / cache reads / output):")
    for r in (a, b, c, c1, c0, d, a_top):
        print(f"  {r.name:<36}" + " / ".join(f"{x:.4f}" for x in r.split))
    print()

    # per phase, where (a) and (b) differ
    print("Per phase, (a) as it runs; 'not read' = input tokens (b) reads from the cache that (a) does not:")
    print(
        f"  {'ph':>2} {'difficulty':<10} {'model':<18}{'reqs':>5}{'uncached':>10}{'write':>9}{'read':>9}"
        f"{'output':>8}{'cost $':>9}{'not read':>10}"
    )
    for n, p in enumerate(PHASES, 1):
        idx = [i for i, q in enumerate(routed.reqs) if q.phase == n]
        r = Row("")
        for i in idx:
            q, u = routed.reqs[i], per[i]
            r.add(
                q.model,
                u["input_tokens"],
                u["cache_creation_input_tokens"],
                u["cache_read_input_tokens"],
                q.output,
            )
        missed = sum(b_reads[i] - per[i]["cache_read_input_tokens"] for i in idx)
        print(
            f"  {n:>2} {p.difficulty:<10} {routed.reqs[idx[0]].model:<18}{len(idx):>5}{r.uncached:>10,}"
            f"{r.write:>9,}{r.read:>9,}{r.output:>8,}{r.cost:>9.4f}{missed:>10,}"
        )
    # which requests miss reads, and which part of their prefix
    misses = [
        (i, b_reads[i] - per[i]["cache_read_input_tokens"])
        for i in range(len(routed.reqs))
        if b_reads[i] > per[i]["cache_read_input_tokens"]
    ]
    head = sum(routed.reqs[0].toks[: head_len(routed.reqs[0])])
    first_of_phase = {
        min(i for i, q in enumerate(routed.reqs) if q.phase == n) for n in range(1, len(PHASES) + 1)
    }
    print(
        f"  requests reading less than ideal: {len(misses)} of {len(routed.reqs)}; "
        f"{sum(1 for i, _ in misses if i in first_of_phase)} of them first requests of a phase, "
        f"missing {sorted({m for _, m in misses})} tokens each (tools+system head = {head:,} tokens, "
        f"below min_cache_tokens={MIN_CACHE_TOKENS} on its own: {head < MIN_CACHE_TOKENS})"
    )
    if b_any.cost != b.cost:
        print(
            f"  (b) if prefixes were shared across models too: ${b_any.cost:.4f} (vs ${b.cost:.4f} per model)"
        )
    print()

    ratio_ab = a.cost / b.cost
    ratio_ca = c.cost / a.cost
    read_share = a.read / a.total_in
    print("Targets:")
    print(
        f"  {verdict(ratio_ab <= 1.15)}  cost (a) within 1.15x of ideal (b): ${a.cost:.4f} / ${b.cost:.4f} "
        f"= {ratio_ab:.3f}x"
    )
    print(
        f"  {verdict(ratio_ca >= 3)}  one long conversation (c) costs >= 3x (a): ${c.cost:.4f} / "
        f"${a.cost:.4f} = {ratio_ca:.2f}x"
    )
    print(
        f"        of which the context strategy alone, both all on {TOP_MODEL}: (c) / (a') "
        f"${a_top.cost:.4f} = "
        f"{c.cost / a_top.cost:.2f}x; the rest is routing, which one conversation cannot do"
    )
    print(
        f"        (c1) switching model per phase (idealized): ${c1.cost:.4f} = {c1.cost / a.cost:.2f}x (a): "
        f"+${c1.split[1] - a.split[1]:.4f} of cache writes (after a switch the history is written again), "
        f"+${c1.split[2] - a.split[2]:.4f} of cache reads"
    )
    print(
        f"        (c0) (c1) with a cache crossing models (impossible): ${c0.cost:.4f} = "
        f"{c0.cost / a.cost:.2f}x (a)"
    )
    print(f"        the one conversation's last request carries {c.peak:,} input tokens")
    print(
        f"  {verdict(read_share >= 0.70)}  >= 70% of (a)'s input read from cache: {a.read:,} / "
        f"{a.total_in:,} = {read_share:.1%}"
    )
    print(f"  (a) vs floor (d): {a.cost / d.cost:.2f}x; (c) vs floor: {c.cost / d.cost:.2f}x")
    print(
        f"  difficulty routing vs every phase on {TOP_MODEL}: ${a.cost:.4f} vs ${a_top.cost:.4f} = "
        f"{a.cost / a_top.cost:.2f}x (routing saves {1 - a.cost / a_top.cost:.0%})"
    )
    cheap_usd, cheap_project, easy_reqs = run_cheap_easy()
    top_usd = cost_report(top.project, SLUG).plans[0]["total_usd"]
    routed_usd = cost_report(routed.project, SLUG).plans[0]["total_usd"]
    print(
        f"  easy tier on {CHEAP_MODEL} (OpenAI-compatible, {easy_reqs} requests), the rest as routed: "
        f"${cheap_usd:.4f} vs every phase on {TOP_MODEL} ${top_usd:.4f} = {cheap_usd / top_usd:.2f}x "
        f"(saves {1 - cheap_usd / top_usd:.0%}; Anthropic-only routing: ${routed_usd:.4f}, phaser cost "
        "figures)"
    )
    shutil.rmtree(cheap_project.root, ignore_errors=True)
    print()
    print("Sensitivity: the same ten phases done by agents of other habits (each a full run, as above).")
    print("(c)/(a) grows with the requests per phase: every request of a long conversation rereads all")
    print("earlier phases, while phaser's fresh contexts reread only their own phase.")
    print(
        f"  {'agent style':<10}{'requests':>9}{'per phase':>10}{'(a) $':>9}{'(c) $':>9}"
        f"{'(c)/(a)':>9}{'(c1)/(a)':>10}  habits"
    )
    for style, run in [*others.items(), ("typical", routed)]:
        ra, rc, rc1 = actual(run)[0], one_conversation(run), one_conversation(run, model=None)
        print(
            "  "
            f"{style:<10}{len(run.reqs):>9}{len(run.reqs) / len(PHASES):>10.1f}{ra.cost:>9.4f}{rc.cost:>9.4f}"
            f"{rc.cost / ra.cost:>8.2f}x{rc1.cost / ra.cost:>9.2f}x  {STYLES[style]}"
        )
    roots = [routed.project.root, top.project.root, *(r.project.root for r in others.values())]
    if "--keep" in sys.argv[1:]:
        print(
            f"total wall time {time.perf_counter() - t0:.1f}s; projects kept in " + ", ".join(map(str, roots))
        )
    else:
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)
        print(f"total wall time {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
