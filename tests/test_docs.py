"""docs/configuration.md stays true to the code: its settings table lists every key the config
accepts, with its default and allowed range, and its prices table is exactly DEFAULT_PRICES."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from phaser.config import DEFAULT_PRICES, RANGES, Config, Price
from phaser.modelref import ProviderSpec

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def table(header: str) -> list[dict[str, str]]:
    """The rows of the markdown table whose header line starts with ``header``, by column name."""
    lines = DOC.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    names = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == len(names), line
        rows.append(dict(zip(names, cells, strict=True)))
    return rows


def settings() -> dict[tuple[str, str], dict[str, str]]:
    """(section, key) -> row; a row naming several keys ("a / b") counts for each."""
    out = {}
    for row in table("| section | key |"):
        section = row["section"].split(".")[0]  # prices."model", providers."name"
        for key in row["key"].split(" / "):
            assert (section, key) not in out, key
            out[section, key] = row
    return out


def code_keys() -> dict[tuple[str, str], object]:
    """(section, key) -> default for every key load_config accepts (prices: Price's fields)."""
    cfg = Config(root=Path("."))
    out: dict[tuple[str, str], object] = {}
    for f in dataclasses.fields(Config):
        obj = getattr(cfg, f.name)
        if dataclasses.is_dataclass(obj):
            out.update({(f.name, g.name): getattr(obj, g.name) for g in dataclasses.fields(obj)})
    out.update({("prices", g.name): g.default for g in dataclasses.fields(Price)})
    out.update(
        {
            ("providers", g.name): g.default
            for g in dataclasses.fields(ProviderSpec)
            if g.name not in {"name", "builtin"}
        }
    )
    return out


def test_settings_table_lists_exactly_the_keys_the_code_accepts():
    assert set(settings()) == set(code_keys())


@pytest.mark.parametrize(("section", "key"), sorted(RANGES), ids=[".".join(k) for k in sorted(RANGES)])
def test_settings_table_states_each_numeric_range_and_default(section, key):
    row = settings()[section, key]
    assert row["allowed"].startswith(RANGES[section, key].describe()), row
    default = code_keys()[section, key]
    if default is not dataclasses.MISSING and not row["default"].startswith("see "):
        assert float(row["default"].replace(",", "")) == default, row


def number(cell: str) -> float:
    return float(re.match(r"[\d.]+", cell).group())


def test_prices_table_is_exactly_the_default_prices():
    rows = {row["model"]: row for row in table("| model | input |")}
    assert list(rows) == list(DEFAULT_PRICES)
    for model, price in DEFAULT_PRICES.items():
        row = rows[model]
        assert number(row["input"]) == price.input, model
        assert number(row["output"]) == price.output, model
        assert number(row["cache write (5m)"]) == price.cache_write, model
        assert number(row["cache write (1h)"]) == price.cache_write_1h, model
        assert number(row["cache read"]) == price.cache_read, model
        if price.long_context_tokens:
            factors = {price.long_input_factor, price.long_output_factor}
            assert len(factors) == 1, "the doc says one factor for all rates"
            want = f"{factors.pop():g}x all rates over {price.long_context_tokens:,.0f} prompt tokens"
            assert row["long context"] == want, model
        else:
            assert row["long context"] == "none", model
