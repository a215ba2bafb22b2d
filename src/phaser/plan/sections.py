"""markdown-it's block tokens for a plan, section by section, reusing every section that did not change.

A person's save or a tick changes one phase of a 1,000-phase plan; parsing the whole file again
with markdown-it took seconds. The body is cut at its top-level ``## `` headings (a cheap line
scan) and each section is parsed on its own; the tokens of a section whose exact text was parsed
before are reused, wherever it now sits (the walker adds the section's first line to its line maps).

Why a cut is safe: a level-2 ATX heading at column 0 ends every open paragraph, list, blockquote,
indented code block and reference definition, so the block parser sees the same lines before and
after it whether or not the text is cut there. Only a top-level fenced code block or HTML block can
run on through such a line; when a section's last top-level block is one of those and reaches the
section's end, the cut is not made (the section is parsed together with the next). Whole-file and
sectioned parses give the same Plan and Layout: tests/test_plan_sections.py checks it on every
fixture plan and on generated ones.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

_CUT_RE = re.compile(r"##(?:[ \t]|\r?\n|\r|$)")
_OPEN_BLOCKS = ("fence", "html_block")
"""Top-level blocks that can run on through a ``## `` line."""

_CACHE: OrderedDict[str, list[Any]] = OrderedDict()
_CACHE_SIZE = 20_000
"""Sections remembered (by exact text): a few big plans' worth."""
_LOCK = threading.Lock()
"""The TUI parses on worker threads (a reload, a tick): the cache's bookkeeping is shared."""


def cuts(lines: list[str]) -> list[int]:
    """Lines that start a section: 0, then every top-level ``## `` heading line (a cheap scan,
    confirmed by the parse in ``segments``)."""
    out = [0]
    for n, line in enumerate(lines):
        if n and line.startswith("##") and _CUT_RE.match(line):
            out.append(n)
    return out


def segments(lines: list[str], parse: Callable[[str], list[Any]]) -> list[tuple[int, list[Any]]]:
    """(first line, tokens with line maps relative to it) per section of ``lines``, in order.

    ``parse`` turns a text into block tokens (markdown-it's ``parse``); it is called only for
    sections not seen before.
    """
    starts = cuts(lines)
    ends = [*starts[1:], len(lines)]
    out: list[tuple[int, list[Any]]] = []
    i = 0
    while i < len(starts):
        first, j = starts[i], i
        while True:
            text = "".join(lines[first : ends[j]])
            tokens = _tokens(text, parse)
            if j + 1 == len(starts) or not _runs_on(tokens, ends[j] - first):
                break
            j += 1  # a fence or HTML block may swallow the next heading: parse on through it
        out.append((first, tokens))
        i = j + 1
    return out


def _runs_on(tokens: list[Any], length: int) -> bool:
    """The section's last top-level block is one that a following ``## `` line could continue."""
    for tok in reversed(tokens):
        if tok.level == 0 and tok.map is not None:
            return tok.type in _OPEN_BLOCKS and tok.map[1] >= length
    return False


def _tokens(text: str, parse: Callable[[str], list[Any]]) -> list[Any]:
    with _LOCK:
        hit = _CACHE.get(text)
        if hit is not None:
            _CACHE.move_to_end(text)
            return hit
    tokens = parse(text)
    with _LOCK:
        _CACHE[text] = tokens
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return tokens


def forget() -> None:
    """Drop every remembered section (tests measure a parse from nothing)."""
    with _LOCK:
        _CACHE.clear()
