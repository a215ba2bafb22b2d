"""What the model is told. The system prompt and project context stay byte-identical across phases so
the prompt-cache prefix (tools + system) is reused; everything phase-specific follows it."""

from __future__ import annotations

from pathlib import Path

from phaser.plan.model import Phase, Plan

SYSTEM = """\
You are a careful senior software engineer working inside phaser, a harness that runs one phase of a
written plan at a time. The harness, not you, decides what may change and when:

- The phase runs in steps. In the explore step and the plan-update step you may only read: file
  writes are refused and any change is reverted. Only the code step may change files.
- Existing tests and other protected paths cannot be modified, renamed or deleted in any step. You
  may add new test files in the code step. If an existing test looks wrong, say so with add_note or
  add_task for a human; do not work around the rule.
- The plan file changes only through the plan tools (claim_task, add_note, add_task), and only for
  the phase you are working on.
- After the code step the harness runs the project's gates itself (tests, lint). A task is checked
  off only when those gates pass; claim_task records your claim with its evidence.
- End every step by calling finish_step with a short summary.

Be concrete and economical: read what you need, change what the phase asks for, nothing more.
"""

EXPLORE = """\
Step 1 of 3: explore (read-only). Read the code and files this phase touches. Do not change files.
When you know what to do, call finish_step with your approach in a few lines."""

CODE = """\
Step 2 of 3: code. Implement phase {number} now: make the changes its tasks ask for, add tests for
new behaviour where it makes sense. The harness runs the gates ({gates}) after you call finish_step."""

FIX = """\
The gates failed (attempt {attempt} of {attempts}); you are still in the code step. Output:

{output}

Fix the cause (not the tests), then call finish_step."""

UPDATE = """\
Step 3 of 3: plan update (read-only). The harness's gates passed:
{gates}

Now keep the plan a living document, for phase {number} only:
- claim_task for each task of phase {number} that is now done (ref like "{number}.1"), with evidence;
- add_note for decisions, surprises, and what the next phase should know;
- add_task for work you discovered that this phase still needs.
Then call finish_step."""

PLAN = """\
Write a phased implementation plan for the spec below, for this repository. Explore the repository
first with the read-only tools. Then reply with the complete plan file and nothing else: the
markdown of plan.md, starting with its YAML frontmatter, in exactly this format:

{format}

Rules: each phase is a `## Phase N: title` section whose first paragraph holds `difficulty:` (easy,
medium or hard: how strong a model it needs) and `depends:` where it needs earlier phases; then a
GFM task list of concrete, verifiable tasks, including acceptance checks as tasks. Keep phases small
enough for one focused session each.

Phases run in parallel: with `phaser run --parallel`, every phase whose dependencies are done runs
at the same time as the others, each in its own git worktree, and their work is merged afterwards.
So `depends:` must be honest: a phase that builds on another phase's code, or changes the same
files, depends on it; phases that are truly independent do not, and then they should not name the
same files in their tasks.

Spec ({spec_path}):

{spec}
"""

REVISE = """\
Revise the plan below according to the feedback. Keep every checked task checked and every note,
keep the human's edits, and keep the format. Reply with the complete revised plan.md and nothing else.

Feedback: {feedback}

Current plan ({plan_path}):

{plan}
"""

INVALID = """\
That plan does not pass phaser's checks:

{problems}

Reply with the corrected complete plan.md and nothing else."""


def project_context(root: Path) -> str:
    """AGENTS.md / CLAUDE.md, which a project keeps for agents; part of the cached prefix."""
    parts = []
    for name in ("AGENTS.md", "CLAUDE.md"):
        path = root / name
        if path.is_file():
            parts.append(f"<{name}>\n{path.read_text(encoding='utf-8', errors='replace').strip()}\n</{name}>")
    return "\n\n".join(parts)


def system_prompt(root: Path, spec_text: str | None = None, spec_rel: str = "spec.md") -> str:
    """The stable head of every request: rules, project instructions and, for a phase, the spec.
    The spec sits here rather than in the phase brief because it is the same for every phase of a
    plan, so phases on the same model read it from the prompt cache instead of writing it again."""
    context = project_context(root)
    text = SYSTEM + ("\nProject instructions:\n\n" + context + "\n" if context else "")
    if spec_text is not None:
        text += (
            f'\nThe spec this plan implements:\n\n<spec path="{spec_rel}">\n{spec_text.strip()}\n</spec>\n'
        )
    return text


def phase_system(root: Path, spec_path: Path, spec_rel: str) -> str:
    """The system prompt of a phase of the plan beside ``spec_path``."""
    spec = spec_path.read_text(encoding="utf-8", errors="replace") if spec_path.is_file() else "(no spec.md)"
    return system_prompt(root, spec, spec_rel)


def phase_brief(plan: Plan, phase: Phase, plan_rel: str) -> str:
    """The first user message of a phase: the plan as it stands (it changes between phases, so it
    follows the cached head), and which phase is ours."""
    lines = plan.text.splitlines(keepends=True)
    section = "".join(lines[phase.line : phase.end_line]).rstrip()
    return (
        f'<plan path="{plan_rel}">\n{plan.text.strip()}\n</plan>\n\n'
        f"You are working on phase {phase.number} only:\n\n{section}\n"
    )
