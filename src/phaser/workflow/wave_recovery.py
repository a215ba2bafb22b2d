"""What a killed parallel run left, put right before any phase starts: `phaser next`, `phaser run`
(with or without ``--parallel``), `phaser redo` and the TUI's runs all come through here, under the
plan's run lock, before their check for uncommitted changes.

The wave record (``.phaser/worktrees/<slug>/wave.json``) says how far each lane got. A merge left
in progress (a ``MERGE_HEAD`` naming a lane's commit) is taken back path by path: what the merge
wrote goes back to the head it started from, while a file a person changed since (compared with
the tree the merge staged, which the record keeps) keeps the person's version, unstaged, and every
path the merge did not touch is left alone. A merge whose gates were green and whose tick was
written (only its commit was left) is committed, the merge alone. Lanes cut off mid-phase are
cleaned (their changes kept as a patch) and run again; lanes that finished wait, committed on their
branch, and merge when their phase comes (`merge_ready`); blocked lanes keep branch and worktree.
phaser never commits a merge before its gates are green and its tick is written, so the head
itself never needs resetting. Anything it cannot tell apart (another merge in progress, a head
that moved under the merge) stops the run with one line, touching nothing.
"""

from __future__ import annotations

import threading

from phaser import events as ev
from phaser.agent.confine.policy import resolve_backend
from phaser.errors import NeedsHuman, PhaserError
from phaser.stamps import utc_stamp
from phaser.workflow import git, merge_git, worktrees
from phaser.workflow.git_guard import GitGuard
from phaser.workflow.merge import MergeContext, block, cleanup, merge_lane, outcome_of
from phaser.workflow.phase_outcome import PhaseOutcome
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.routing import load_plan
from phaser.workflow.worktrees import Lane, WaveRecord

__all__ = ["discard", "merge_ready", "pending", "recover_wave"]

INTERRUPTED = (worktrees.MERGING, worktrees.TICKED)


def _half_merged(project: Project, record: WaveRecord) -> Lane | None:
    """The lane whose merge a killed run left in progress, or None. Raises NeedsHuman when the
    merge in progress is not (only) that lane's: phaser will not guess."""
    root = project.root
    if not merge_git.merge_in_progress(root):
        return None
    lanes = [lane for lane in record.lanes.values() if lane.state in INTERRUPTED]
    if not lanes:
        return None  # a person's own merge: the check for uncommitted changes names its paths
    lane = min(lanes, key=lambda x: x.number)
    theirs, head = merge_git.merge_head(root), git.head(root)
    if theirs != lane.work.get("commit") or not lane.head_before or head != lane.head_before:
        raise NeedsHuman(
            f"a merge is in progress that phaser cannot tell apart from phase {lane.number}'s interrupted "
            f"merge of {lane.branch} (the head or MERGE_HEAD moved): finish or abort it "
            "(git merge --abort), then run again"
        )
    return lane


def pending(project: Project, info: SpecInfo) -> list[str] | None:
    """None when no killed run's merge is left in progress; else the paths the run puts back
    before it checks for uncommitted changes (what the merge wrote, taken back or committed, minus
    files a person changed since, which stay changed). Refuses as the run would when it could not
    tell them apart."""
    record = WaveRecord(project.config.state_dir, info.slug)
    lane = _half_merged(project, record) if record.lanes else None
    if lane is None:
        return None
    root = project.root
    tree = lane.merged_tree or merge_git.index_tree(root)
    assert lane.head_before is not None
    paths = merge_git.changed_between(root, lane.head_before, tree) if tree else []
    edited = set(merge_git.edited_since(root, tree, paths)) if tree else set()
    return [p for p in paths if p not in edited]


def _finish_half_merge(project: Project, info: SpecInfo, record: WaveRecord, on_event: ev.EventSink) -> None:
    lane = _half_merged(project, record)
    if lane is None:
        return
    root = project.root
    assert lane.head_before is not None
    if lane.state == worktrees.TICKED:  # gates green, tick written: commit it
        from phaser.workflow.checkoff import commit_message

        plan_rel = project.rel(info.plan_path)
        extra = merge_git.unstage_extra(root, lane.merged_tree, plan_rel) if lane.merged_tree else []
        message = commit_message(
            info.slug,
            lane.number,
            lane.work.get("title", ""),
            "resumed: merged and gates green before the interruption",
        )
        merge_git.commit_merge(root, message, plan_rel)
        record.set(lane.number, worktrees.MERGED)
        also = f" ({', '.join(extra[:5])} left as they were, not in the commit)" if extra else ""
        said = f"phase {lane.number}: its merge was interrupted just before the commit; committed now"
        on_event(ev.Notice(said + also))
        return
    kept = merge_git.undo_merge(root, lane.head_before, lane.merged_tree)
    record.set(lane.number, worktrees.READY, merged_tree=None)
    yours = (
        f"; {', '.join(kept[:5])} changed since the merge began and keep your version (uncommitted)"
        if kept
        else ""
    )
    on_event(
        ev.Notice(
            f"phase {lane.number}: an interrupted merge of {lane.branch} was taken back{yours}; "
            "it merges again",
            "warning",
        )
    )


def _committed(project: Project, lane: Lane) -> bool:
    """The lane's tick was committed on the head since its merge began (killed after the commit)."""
    if not lane.head_before or git.head(project.root) == lane.head_before:
        return False
    since = git.commits_touching_since(project.root, lane.head_before)
    return any(line.partition(" ")[2].startswith(f"phase {lane.number}: ") for line in since)


def recover_wave(project: Project, info: SpecInfo, on_event: ev.EventSink = ev.ignore) -> WaveRecord:
    """Put right what a killed parallel run left (see the module's docstring); returns the record,
    whose READY lanes merge when their phase comes."""
    root = project.root
    record = WaveRecord(project.config.state_dir, info.slug)
    if not record.lanes and not record.dir.is_dir():  # never ran in parallel: nothing to look at
        return record
    _finish_half_merge(project, info, record, on_event)
    plan = load_plan(project, info)
    for lane in sorted(record.lanes.values(), key=lambda x: x.number):
        if lane.state == worktrees.TICKED and _committed(project, lane):
            record.set(lane.number, worktrees.MERGED)
        elif lane.state in INTERRUPTED:  # no merge in progress: it never started or was taken back
            record.set(lane.number, worktrees.READY, merged_tree=None)
        phase = plan.phase(lane.number)
        if lane.state == worktrees.MERGED:
            cleanup(project, lane, record)
        elif lane.state == worktrees.RUNNING:
            discard(project, record, lane, on_event, "was cut off")
        elif lane.state == worktrees.READY and not lane.worktree.is_dir():
            record.drop(lane.number)
        elif lane.state == worktrees.READY and (phase is None or phase.done):
            stale = "was done meanwhile (or left the plan): its lane is stale,"
            discard(project, record, lane, on_event, stale)
    known = {lane.worktree.resolve() for lane in record.lanes.values()}
    ours = worktrees.worktrees_dir(project.config.state_dir, info.slug).resolve()
    for path in worktrees.listed(root):
        if path.resolve().is_relative_to(ours) and path.resolve() not in known:
            stray = Lane(0, "", str(path), git.head(root) or "")
            worktrees.remove(root, stray, branch=False)
    return record


def discard(project: Project, record: WaveRecord, lane: Lane, on_event: ev.EventSink, what: str) -> None:
    """A lane that will not merge (stopped, cut off, out of budget): its changes kept as a patch,
    its worktree and branch removed; the phase runs again from scratch next time."""
    dest = (
        project.config.state_dir / "runs" / record.dir.name / str(lane.number) / f"lane-{utc_stamp()}.patch"
    )
    kept = worktrees.save_changes(lane, dest)
    cleanup(project, lane, record)
    where = f"; its changes are kept in {project.rel(kept)}" if kept else ""
    on_event(
        ev.Notice(
            f"phase {lane.number} {what} in its worktree: cleaned up{where}; it runs again next time",
            "warning",
        )
    )


def merge_safely(ctx: MergeContext, lane: Lane, guard: GitGuard) -> PhaseOutcome:
    """Merge one READY lane; a git failure on the way blocks that phase alone, never leaving the
    head with a merge in progress."""
    try:
        return merge_lane(ctx, lane, guard)
    except PhaserError as exc:
        return block(ctx, lane, outcome_of(ctx, lane), f"the merge failed: {exc}", None)


def merge_ready(
    project: Project,
    info: SpecInfo,
    record: WaveRecord,
    number: int,
    on_event: ev.EventSink,
    stop_event: threading.Event | None = None,
) -> PhaseOutcome:
    """A phase that finished in its worktree before a run was cut off, merged now (by a run one
    phase at a time too): merge, gates on the merged tree, tick, commit, as a parallel run does."""
    lane = record.lanes[number]
    on_event(ev.Notice(f"phase {number} finished in its worktree before the interruption: merging it"))
    confinement = resolve_backend(project.config.agent.sandbox)
    ctx = MergeContext(project, info, record, confinement, on_event, stop_event)
    return merge_safely(ctx, lane, GitGuard.take(project.root))
