"""`phaser config`: the effective configuration, each value with where it came from.

A value comes from phaser's defaults, from ``phaser.toml`` (or ``[tool.phaser]`` in
``pyproject.toml``) at a line, or from a flag of this command line (``--profile``,
``--provider``, ``--model``, ``--script``), which wins for one run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from phaser.config import _SECTIONS, TIERS, _locate, _read_toml
from phaser.workflow.project import Project
from phaser.workflow.providers import RunOptions


@dataclass
class Setting:
    key: str
    """``section.key``, as in phaser.toml."""
    value: Any
    source: str
    """default, ``phaser.toml:LINE``, ``pyproject.toml:LINE`` or ``flag --NAME``."""

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


_FLAGS = {
    ("models", "profile"): "profile",
    ("provider", "name"): "provider",
    ("provider", "script"): "script",
}


def effective_config(project: Project, options: RunOptions | None = None) -> list[Setting]:
    cfg = project.config
    options = options or RunOptions()
    data: dict[str, Any] = {}
    prefix = ""
    if cfg.source is not None:
        data = _read_toml(cfg.source)
        if cfg.source.name == "pyproject.toml":
            data = data.get("tool", {}).get("phaser", {}) or {}
            prefix = "tool.phaser."
    file_name = project.rel(cfg.source) if cfg.source is not None else ""
    out: list[Setting] = []
    for section in _SECTIONS:
        values = getattr(cfg, section)
        raw = data.get(section)
        given: dict[str, Any] = raw if isinstance(raw, dict) else {}
        for f in dataclasses.fields(values):
            value = getattr(values, f.name)
            source = "default"
            if f.name in given:
                line = _locate(cfg.source, prefix + section, f.name) if cfg.source else None
                source = f"{file_name}:{line}" if line else file_name
            flag = _FLAGS.get((section, f.name))
            flagged = getattr(options, flag) if flag else None
            if flagged is not None:
                value, source = flagged, f"flag --{flag}"
            out.append(Setting(f"{section}.{f.name}", value, source))
    if options.model:
        out.append(Setting("run.model", options.model, "flag --model"))
    out += _provider_settings(project, data, prefix, {s.key: s for s in out})
    raw_prices = data.get("prices")
    prices: dict[str, Any] = raw_prices if isinstance(raw_prices, dict) else {}
    for model, price in sorted(cfg.prices.items()):
        source = "default"
        if model in prices:
            table = prefix + "prices"
            line = None
            if cfg.source is not None:
                line = (
                    _locate(cfg.source, f'{table}."{model}"')
                    or _locate(cfg.source, f"{table}.{model}")
                    or _locate(cfg.source, table, model)
                )
            source = f"{file_name}:{line}" if line else file_name
        out.append(Setting(f"prices.{model}", dataclasses.asdict(price), source))
    return out


def _provider_settings(
    project: Project, data: dict[str, Any], prefix: str, settings: dict[str, Setting]
) -> list[Setting]:
    """``providers.NAME.KEY`` for each provider a tier uses or the file configures: the SDK retries and
    timeout it will use (its own, else ``[provider]``'s, with that one's source), and its other keys."""
    cfg = project.config
    raw = data.get("providers")
    tables: dict[str, Any] = raw if isinstance(raw, dict) else {}
    used = {cfg.model_ref(getattr(cfg.models, tier)).provider for tier in ("plan", *TIERS)}
    file_name = project.rel(cfg.source) if cfg.source is not None else ""
    out: list[Setting] = []
    for name, spec in sorted(cfg.providers.items()):
        entry = tables.get(name)
        table: dict[str, Any] = entry if isinstance(entry, dict) else {}
        if name not in used and not table:
            continue
        retries, timeout = cfg.client_limits(spec)
        values: dict[str, Any] = {k: getattr(spec, k) for k in ("kind", "base_url", "api_key_env")}
        values.update(max_retries=retries, timeout_s=timeout)
        for key, value in values.items():
            if key in table:
                line = None
                if cfg.source is not None:
                    where = f"{prefix}providers"
                    line = _locate(cfg.source, f'{where}."{name}"', key) or _locate(
                        cfg.source, f"{where}.{name}", key
                    )
                source = f"{file_name}:{line}" if line else file_name
            elif key in ("max_retries", "timeout_s"):
                source = settings[f"provider.{key}"].source
            else:
                source = "default"
            out.append(Setting(f"providers.{name}.{key}", value, source))
    return out
