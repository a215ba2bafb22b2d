"""Dollar, token and turn caps of a phase and of a run, in one place: `run_all` asks what is left of
the run, a phase asks for its next attempt's caps and which cap it reached."""

from __future__ import annotations

from dataclasses import dataclass, replace

from phaser.agent.provider import Usage
from phaser.config import BudgetConfig

DIMENSIONS = ("usd", "tokens", "turns")


@dataclass(frozen=True)
class Spend:
    """Dollars, tokens (input, cached or not, and output, as the caps count them) and turns."""

    usd: float = 0.0
    tokens: int = 0
    turns: int = 0

    @classmethod
    def of(cls, usage: Usage, usd: float, turns: int) -> Spend:
        return cls(usd, usage.total_input + usage.output_tokens, turns)

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.usd + other.usd, self.tokens + other.tokens, self.turns + other.turns)


@dataclass(frozen=True)
class Allowance:
    """What is left of a run's budget when a phase starts; the phase's own caps apply as well."""

    usd: float
    tokens: int
    turns: int


@dataclass(frozen=True)
class Budget:
    """The caps of [budget] in phaser.toml, for a phase (over all its attempts) and for a run."""

    config: BudgetConfig

    # -- the run ------------------------------------------------------------------------------

    def run_left(self, spent: Spend) -> Allowance:
        b = self.config
        return Allowance(b.run_usd - spent.usd, b.run_tokens - spent.tokens, b.run_turns - spent.turns)

    def run_reached(self, spent: Spend) -> str | None:
        """Why the run may not start another phase (a run cap is used up), or None."""
        b, left = self.config, self.run_left(spent)
        used = [
            f"${spent.usd:.4f} of ${b.run_usd:.2f}" if left.usd <= 0 else "",
            f"{spent.tokens:,} of {b.run_tokens:,} tokens" if left.tokens <= 0 else "",
            f"{spent.turns} of {b.run_turns} turns" if left.turns <= 0 else "",
        ]
        if not any(used):
            return None
        return "run budget reached: this run used " + "; ".join(x for x in used if x)

    # -- a phase ------------------------------------------------------------------------------

    def phase_limits(self, allowance: Allowance | None) -> dict[str, tuple[float, str]]:
        """Per dimension, the phase's cap over all its attempts and where it comes from: the phase
        caps in [budget], or what was left of the run's when the phase started, whichever is less."""
        b = self.config
        limits = {
            "usd": (b.phase_usd, "phase"),
            "tokens": (float(b.phase_tokens), "phase"),
            "turns": (float(b.phase_turns), "phase"),
        }
        if allowance is not None:
            for dim in DIMENSIONS:
                left = getattr(allowance, dim)
                if left < limits[dim][0]:
                    limits[dim] = (left, "run")
        return limits

    def attempt_caps(self, allowance: Allowance | None, spent: Spend) -> BudgetConfig:
        """The next attempt's caps: the phase's limits less what earlier attempts spent."""
        lim = self.phase_limits(allowance)
        return replace(
            self.config,
            phase_usd=lim["usd"][0] - spent.usd,
            phase_tokens=int(lim["tokens"][0]) - spent.tokens,
            phase_turns=int(lim["turns"][0]) - spent.turns,
        )

    def phase_reached(self, allowance: Allowance | None, spent: Spend) -> str:
        """Which cap the phase reached, in its totals (all attempts), and whose cap it is."""
        for dim, (limit, whose) in self.phase_limits(allowance).items():
            if getattr(spent, dim) >= limit:
                what = {
                    "usd": f"${spent.usd:.4f} of ${limit:.4f}",
                    "tokens": f"{spent.tokens:,} of {int(limit):,} tokens",
                    "turns": f"{spent.turns} of {int(limit)} turns",
                }[dim]
                cap = "the phase's cap" if whose == "phase" else "what was left of the run's budget"
                return f"budget reached: the phase used {what} ({cap})"
        return "budget reached"
