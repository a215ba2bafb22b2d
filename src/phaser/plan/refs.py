"""Phase numbers (``3``, ``3.5``, ``12.3.1``) and task references (``3.2``, ``3.5#2``): one parser.

Integer phases stay plain ``int`` everywhere (``phase.number == 3``, f-strings, JSON ``3``).
A dotted phase (an inserted one, as Spec Kit and get-shit-done write them) is a ``PhaseNumber``:
an ``int`` subclass so that code typed for ``int`` keeps working, but it compares, hashes, sorts
and formats by all its parts, so ``3.5 != 3`` and ``f"{n}" == "3.5"``.

A task reference is ``PHASE.TASK`` for an integer phase (``2.3``) and ``PHASE#TASK`` for any
phase (``2#3``, ``3.5#2``, ``12.3.1#4``). ``3.5.2`` without ``#`` could mean task 2 of phase 3.5
or phase 3.5.2, so it is refused with the two spellings it could mean.
"""

from __future__ import annotations

import re
from typing import Any

from phaser.errors import UsageError

_NUMBER_RE = re.compile(r"\d{1,9}(?:\.\d{1,9})*")
_REF_RE = re.compile(r"(\d{1,9}(?:\.\d{1,9})*)#(\d{1,9})|(\d{1,9})\.(\d{1,9})")


class PhaseNumber(int):
    """A dotted phase number; its ``int`` value is the leading part (kept only for typing)."""

    parts: tuple[int, ...]

    def __new__(cls, parts: tuple[int, ...]) -> PhaseNumber:
        self = super().__new__(cls, parts[0])
        self.parts = tuple(parts)
        return self

    def __reduce__(self) -> Any:
        return (PhaseNumber, (self.parts,))

    def __str__(self) -> str:
        return ".".join(map(str, self.parts))

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec.removesuffix("d"))

    def __hash__(self) -> int:
        return hash(self.parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, int) and key(other) == self.parts

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __lt__(self, other: object) -> bool:
        return key(other) > self.parts if isinstance(other, int) else NotImplemented

    def __le__(self, other: object) -> bool:
        return key(other) >= self.parts if isinstance(other, int) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return key(other) < self.parts if isinstance(other, int) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return key(other) <= self.parts if isinstance(other, int) else NotImplemented


def key(number: int) -> tuple[int, ...]:
    """Sort key of any phase number: its parts (``3`` -> ``(3,)``, ``3.5`` -> ``(3, 5)``)."""
    return number.parts if isinstance(number, PhaseNumber) else (int(number),)


def make_number(parts: tuple[int, ...] | list[int]) -> int:
    """A plain int for one part, a PhaseNumber for several."""
    return int(parts[0]) if len(parts) == 1 else PhaseNumber(tuple(int(p) for p in parts))


def parse_number(text: str) -> int | None:
    """``"3"`` -> 3, ``"3.5"`` -> PhaseNumber 3.5; None when it is not a phase number."""
    text = text.strip()
    if _NUMBER_RE.fullmatch(text) is None:
        return None
    return make_number([int(p) for p in text.split(".")])


def phase_arg(text: str) -> int:
    """A ``--phase``/``note`` argument: a phase number, or UsageError saying what one looks like."""
    number = parse_number(text)
    if number is None:
        raise UsageError(f"phase {text!r} is not a phase number such as 3 or 3.5")
    return number


def as_json(number: int) -> int | str:
    """JSON form: ``3`` for an integer phase, ``"3.5"`` for a dotted one (a float would lose 3.10)."""
    return str(number) if isinstance(number, PhaseNumber) else int(number)


def jsonable(value: Any) -> Any:
    """``value`` with every dotted phase number as its string (json writes an int subclass as the
    bare int, which would turn 3.5 into 3); dicts, lists and tuples are walked."""
    if isinstance(value, PhaseNumber):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def task_ref(phase: int, index: int) -> str:
    """The canonical reference of task ``index`` of ``phase``: ``2.3``, or ``3.5#2``."""
    return f"{phase}#{index}" if isinstance(phase, PhaseNumber) else f"{phase}.{index}"


def parse_ref(ref: str) -> tuple[int, int]:
    """``"2.3"`` / ``"2#3"`` / ``"3.5#2"`` -> (phase number, 1-based task index); else UsageError."""
    text = ref.strip()
    m = _REF_RE.fullmatch(text)
    if m is not None:
        if m.group(1) is not None:
            return parse_number(m.group(1)) or 0, int(m.group(2))
        return int(m.group(3)), int(m.group(4))
    if _NUMBER_RE.fullmatch(text) is not None and text.count(".") >= 2:
        head, _, tail = text.rpartition(".")
        raise UsageError(
            f"task reference {ref!r} is ambiguous: write {head}#{tail} (task {tail} of phase {head})"
            f" or {text}#N (a task of phase {text})"
        )
    raise UsageError(
        f"task reference {ref!r} is not PHASE.TASK (e.g. 2.3) or PHASE#TASK (e.g. 3.5#2 for a dotted phase)"
    )


def is_ref(ref: str) -> bool:
    return _REF_RE.fullmatch(ref.strip()) is not None
