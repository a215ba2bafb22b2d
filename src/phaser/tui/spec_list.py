"""The specs list: every specs/<slug>/ folder, refreshed in place so the selection survives."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.message import Message
from textual.widgets import ListView

from phaser.tui.spec_item import SpecItem
from phaser.workflow.status import PlanStatus


class SpecList(ListView):
    """Posts SpecList.Chosen(slug) when the highlighted spec changes."""

    @dataclass
    class Chosen(Message):
        slug: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Specs"

    @property
    def slugs(self) -> list[str]:
        return [item.slug for item in self.query(SpecItem)]

    @property
    def selected(self) -> str | None:
        child = self.highlighted_child
        return child.slug if isinstance(child, SpecItem) else None

    async def show(
        self,
        statuses: list[PlanStatus],
        select: str | None = None,
        *,
        running: dict[str, tuple[int, ...]] | None = None,
        approvals: bool = False,
    ) -> None:
        """Show these plans; keep (or move to) ``select``, else keep the current selection.

        ``running``: the phases this process runs now, per slug; ``approvals``: done phases wait for
        approval."""
        keep = select or self.selected

        def run_of(slug: str) -> tuple[int, ...]:
            return (running or {}).get(slug, ())

        if [s.slug for s in statuses] == self.slugs:
            for item, status in zip(self.query(SpecItem), statuses, strict=True):
                item.show(status, running=run_of(status.slug), approvals=approvals)
        else:
            await self.clear()
            await self.extend(SpecItem(s, running=run_of(s.slug), approvals=approvals) for s in statuses)
        slugs = self.slugs
        if not slugs:
            return
        index = slugs.index(keep) if keep in slugs else min(self.index or 0, len(slugs) - 1)
        if self.index != index:
            self.index = index

    @on(ListView.Highlighted)
    def _highlighted(self, event: ListView.Highlighted) -> None:
        if isinstance(event.item, SpecItem):
            event.stop()
            self.post_message(self.Chosen(event.item.slug))
