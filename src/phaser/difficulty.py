"""The difficulty tiers, easiest first: a plan's `difficulty:` names one, [models] maps each to a
model, and escalation climbs them. One tuple, so the plan format and the routing never disagree."""

from __future__ import annotations

DIFFICULTIES = ("easy", "medium", "hard")
