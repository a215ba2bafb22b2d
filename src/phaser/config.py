"""Project configuration: ``phaser.toml`` at the root, or ``[tool.phaser]`` in ``pyproject.toml``.

Loaded into typed dataclasses with defaults. An unknown key, a wrong type or a number outside its
range (RANGES) is a ConfigError that names the file and line, so a typo never silently falls back
to a default.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phaser import diskcache, layout
from phaser.difficulty import DIFFICULTIES
from phaser.errors import ConfigError
from phaser.layout import find_root as find_root  # its old home: callers import it from here
from phaser.modelref import (
    BUILTIN_PROVIDERS,
    CLAUDE_CODE_AUTH,
    PROVIDER_KINDS,
    ModelRef,
    ProviderSpec,
    parse_model_ref,
)

DEFAULT_PROTECTED = ["tests/**", "**/test_*.py", "**/*_test.py", "**/conftest.py"]
TIERS = DIFFICULTIES
PROFILES = ("quality", "balanced", "budget")
APPROVAL_POLICIES = ("never", "each", "limit")


@dataclass
class ModelsConfig:
    plan: str = "claude-opus-5-5"
    """Model that turns a spec into a plan (the strongest by default)."""
    easy: str = "claude-haiku-5-5"
    medium: str = "claude-sonnet-5-5"
    hard: str = "claude-opus-5-5"
    profile: str = "balanced"
    """quality shifts every tier up one, budget down one."""
    escalate: bool = True
    """Retry a phase once on the next tier up when its gates stay red."""
    provider: str = "anthropic"
    """The provider of a bare model name, in every tier (e.g. claude-code to run every phase on it)."""


@dataclass
class ProviderConfig:
    name: str = "anthropic"
    """anthropic or scripted."""
    base_url: str = ""
    """Empty: the SDK's default or ANTHROPIC_BASE_URL."""
    max_tokens: int = 16000
    timeout_s: float = 600.0
    max_retries: int = 4
    """Retries the SDK makes on 429/5xx/connection errors before phaser sees the error."""
    script: str = ""
    """For the scripted provider: a JSON script file, relative to the project root."""
    tool_reminders: int = 2
    """openai kind: times a model that answers a step with no tool call is reminded before the step fails."""


@dataclass
class GatesConfig:
    commands: list[str] = field(default_factory=lambda: ["python3 -m pytest -q"])
    fix_attempts: int = 2
    """How many times red gates go back to the coding step before the line stops."""
    timeout_s: float = 900.0
    network: bool = False
    """Whether the gates may reach the network (a test that needs a local service)."""


@dataclass
class ProtectConfig:
    paths: list[str] = field(default_factory=lambda: list(DEFAULT_PROTECTED))
    """Globs of files the agent may not modify, rename or delete (it may add new ones)."""


@dataclass
class ApprovalConfig:
    policy: str = "never"
    """never, each (stop after every phase), or limit (at most ``limit`` phases done but unapproved)."""
    limit: int = 2


@dataclass
class RunConfig:
    parallel: int = 1
    """At most this many independent phases at once in `phaser run`, each in its own git worktree
    (1: one phase at a time); ``--parallel N`` overrides it."""


@dataclass
class BudgetConfig:
    """Caps per phase (over all its attempts) and per `phaser run`; tokens count input, cached or
    not, and output."""

    phase_usd: float = 5.0
    run_usd: float = 50.0
    phase_tokens: int = 4_000_000
    phase_turns: int = 80
    run_tokens: int = 40_000_000
    run_turns: int = 800


@dataclass
class AgentConfig:
    bash_timeout_s: float = 120.0
    output_cap: int = 16000
    """Characters of tool output the model sees (head and tail kept)."""
    sandbox: str = "auto"
    """auto (the strongest that works: bwrap, landlock, seatbelt; refuse when none does), one of
    those by name, or none (opted out). The snapshot check runs in every case."""
    network: bool = False
    """Whether the agent's commands may reach the network."""
    credential_paths: list[str] = field(default_factory=list)
    """Paths hidden from confined commands besides the built-in credential list."""
    step_turns: int = 40
    """Turns one step may take before it is ended."""


@dataclass
class Price:
    """USD per million tokens, for one request. Some models bill a request whose prompt (uncached
    + cache writes + cache reads) exceeds ``long_context_tokens`` at higher rates for all its tokens;
    ``long_input_factor`` scales the three input prices and ``long_output_factor`` the output price."""

    input: float
    output: float
    cache_write: float
    cache_read: float
    cache_write_1h: float = 0.0
    long_context_tokens: float = 0.0
    """0: no long-context tier."""
    long_input_factor: float = 1.0
    long_output_factor: float = 1.0

    def cost(self, input_tokens: int, output_tokens: int, cache_write: int = 0, cache_read: int = 0) -> float:
        """The price of one request (the long-context tier depends on that request's prompt)."""
        return sum(self.parts(input_tokens, output_tokens, cache_write, cache_read))

    def parts(
        self, input_tokens: int, output_tokens: int, cache_write: int = 0, cache_read: int = 0
    ) -> tuple[float, float, float, float]:
        """Dollars of one request for uncached input, cache writes, cache reads and output."""
        fin = fout = 1.0
        if self.long_context_tokens and input_tokens + cache_write + cache_read > self.long_context_tokens:
            fin, fout = self.long_input_factor, self.long_output_factor
        return (
            fin * input_tokens * self.input / 1_000_000,
            fin * cache_write * self.cache_write / 1_000_000,
            fin * cache_read * self.cache_read / 1_000_000,
            fout * output_tokens * self.output / 1_000_000,
        )


# Checked 2026-11 (see docs/configuration.md); override in [prices."model-id"].
DEFAULT_PRICES: dict[str, Price] = {
    "claude-opus-5-5": Price(4.0, 20.0, 5.0, 0.20, 8.0),
    "claude-sonnet-5-5": Price(2.0, 10.0, 2.50, 0.10, 4.0),
    # Haiku 5.5 bills a request whose prompt exceeds 100k tokens at five times every rate
    "claude-haiku-5-5": Price(0.10, 0.50, 0.125, 0.01, 0.20, 100_000, 5.0, 5.0),
    "claude-fable-5-2": Price(8.0, 40.0, 10.0, 0.80, 16.0),
    "claude-opus-5": Price(5.0, 25.0, 6.25, 0.50, 10.0),
    "claude-sonnet-5": Price(3.0, 15.0, 3.75, 0.30, 6.0),
    "claude-haiku-4-5": Price(1.0, 5.0, 1.25, 0.10, 2.0),
}


@dataclass
class Config:
    root: Path
    source: Path | None = None
    """The file the settings came from, or None for pure defaults."""
    models: ModelsConfig = field(default_factory=ModelsConfig)
    provider: ProviderConfig = field(default_factory=ProviderConfig)
    gates: GatesConfig = field(default_factory=GatesConfig)
    protect: ProtectConfig = field(default_factory=ProtectConfig)
    approval: ApprovalConfig = field(default_factory=ApprovalConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    run: RunConfig = field(default_factory=RunConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    prices: dict[str, Price] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    providers: dict[str, ProviderSpec] = field(default_factory=lambda: dict(BUILTIN_PROVIDERS))
    """Built-in providers plus ``[providers.NAME]`` tables, by name."""

    def model_ref(self, model: str) -> ModelRef:
        """Which provider serves ``model`` (``provider:model``, or a bare name of ``[models] provider``)."""
        return parse_model_ref(model, self.providers, self.models.provider)

    def provider_spec(self, model: str) -> ProviderSpec:
        return self.providers[self.model_ref(model).provider]

    def client_limits(self, spec: ProviderSpec) -> tuple[int, float]:
        """(max_retries, timeout_s) of a provider's SDK client: its own, else ``[provider]``'s."""
        retries = spec.max_retries if spec.max_retries is not None else self.provider.max_retries
        timeout = spec.timeout_s if spec.timeout_s is not None else self.provider.timeout_s
        return retries, timeout

    @property
    def specs_dir(self) -> Path:
        return self.root / "specs"

    @property
    def state_dir(self) -> Path:
        return layout.state_dir(self.root)

    def tier_model(self, tier: str) -> str:
        return getattr(self.models, tier)

    def model_for(self, difficulty: str, profile: str | None = None) -> str:
        """The model a phase of this difficulty runs on, after the routing profile's shift."""
        profile = profile or self.models.profile
        idx = TIERS.index(difficulty) if difficulty in TIERS else 1
        idx += {"quality": 1, "budget": -1}.get(profile, 0)
        return self.tier_model(TIERS[max(0, min(idx, len(TIERS) - 1))])

    def escalated(self, model: str) -> str | None:
        """The next tier up from ``model``, or None when it is already the top."""
        ladder = [self.tier_model(t) for t in TIERS]
        if model not in ladder:
            return None
        for candidate in ladder[ladder.index(model) + 1 :]:
            if candidate != model:
                return candidate
        return None

    def price(self, model: str) -> Price | None:
        """``[prices."provider:model"]``, else ``[prices."model"]``; a local provider's model costs 0
        unless priced; None: unknown (dollars are not tracked, dollar caps do not apply)."""
        if model in self.prices:
            return self.prices[model]
        try:
            ref = self.model_ref(model)
        except ValueError:
            return None
        for key in (str(ref), ref.model):
            if key in self.prices:
                return self.prices[key]
        spec = self.providers.get(ref.provider)
        if spec is not None and spec.local:
            return Price(0.0, 0.0, 0.0, 0.0)
        return None


_SECTIONS = {
    "models": ModelsConfig,
    "provider": ProviderConfig,
    "gates": GatesConfig,
    "protect": ProtectConfig,
    "approval": ApprovalConfig,
    "budget": BudgetConfig,
    "run": RunConfig,
    "agent": AgentConfig,
}
_CHOICES = {
    ("models", "profile"): PROFILES,
    ("approval", "policy"): APPROVAL_POLICIES,
    ("provider", "name"): ("anthropic", "scripted"),
    ("agent", "sandbox"): ("auto", "bwrap", "landlock", "seatbelt", "none"),
}


@dataclass(frozen=True)
class Range:
    """The allowed values of a numeric setting: ``low`` or more, or more than ``low`` when
    ``strict``. Values must also be finite (TOML allows inf and nan)."""

    low: float
    strict: bool = False

    def allows(self, value: float) -> bool:
        return value > self.low if self.strict else value >= self.low

    def describe(self) -> str:
        return f"more than {self.low:g}" if self.strict else f"{self.low:g} or more"


_COUNT = Range(0)
"""A count where 0 is meaningful (no fix attempts, no SDK retries)."""
_POSITIVE = Range(0, strict=True)
"""Timeouts and dollar caps: 0 would time out every gate or refuse every request."""
_AT_LEAST_ONE = Range(1)
"""Token and turn caps: under 1, nothing could run."""

RANGES: dict[tuple[str, str], Range] = {
    ("provider", "max_tokens"): _AT_LEAST_ONE,
    ("provider", "timeout_s"): _POSITIVE,
    ("provider", "max_retries"): _COUNT,
    ("provider", "tool_reminders"): _COUNT,
    ("gates", "fix_attempts"): _COUNT,
    ("gates", "timeout_s"): _POSITIVE,
    ("approval", "limit"): _COUNT,  # 0 stops after every phase, like policy = "each"
    ("budget", "phase_usd"): _POSITIVE,
    ("budget", "run_usd"): _POSITIVE,
    ("budget", "phase_tokens"): _AT_LEAST_ONE,
    ("budget", "phase_turns"): _AT_LEAST_ONE,
    ("budget", "run_tokens"): _AT_LEAST_ONE,
    ("budget", "run_turns"): _AT_LEAST_ONE,
    ("run", "parallel"): _AT_LEAST_ONE,
    ("agent", "bash_timeout_s"): _POSITIVE,
    ("agent", "output_cap"): Range(200),  # less leaves the model too little output to act on
    ("agent", "step_turns"): _AT_LEAST_ONE,
    ("prices", "input"): _COUNT,
    ("prices", "output"): _COUNT,
    ("prices", "cache_write"): _COUNT,
    ("prices", "cache_read"): _COUNT,
    ("prices", "cache_write_1h"): _COUNT,
    ("prices", "long_context_tokens"): _COUNT,  # 0: no long-context tier
    ("prices", "long_input_factor"): _AT_LEAST_ONE,
    ("prices", "long_output_factor"): _AT_LEAST_ONE,
}
"""Every numeric setting's allowed values, by (section, key); ``prices`` keys apply to every model."""


def _check_range(
    section: str, key: str, raw: Any, value: Any, where: str, path: Path, line: int | None
) -> None:
    rng = RANGES.get((section, key))
    if rng is not None and not rng.allows(value):
        raise ConfigError(f"{where} must be {rng.describe()}, not {raw!r}", path=path, line=line)


def load_config(root: Path) -> Config:
    """Read the project's settings; defaults where a file or key is absent."""
    toml_path = root / "phaser.toml"
    pyproject = root / "pyproject.toml"
    if toml_path.is_file():
        data = _read_toml(toml_path)
        return _build(root, toml_path, data, prefix="")
    if pyproject.is_file():
        data = _read_toml(pyproject)
        section = data.get("tool", {}).get("phaser")
        if isinstance(section, dict):
            return _build(root, pyproject, section, prefix="tool.phaser.")
    return Config(root=root)


def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML of a settings file. With a ``.phaser/`` beside it, the parse is kept in
    ``.phaser/cache/config/`` keyed by the file's exact bytes (phaser.diskcache), so commands on an
    unchanged file don't import the TOML parser; any change to the bytes parses again."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=path) from None
    state = layout.state_dir(path.parent)
    folder = state / "cache" / "config" if state.is_dir() else None
    hit = diskcache.read(path, data, folder) if folder is not None else None
    if hit is not None and isinstance(hit.get("toml"), dict):
        return hit["toml"]
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text", path=path, line=raw_line(data, exc.start)) from None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        parsed = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        msg = getattr(exc, "msg", None) or re.sub(r"\s*\(at line.*\)$", "", str(exc))
        raise ConfigError(f"invalid TOML: {msg}", path=path, line=line) from None
    if folder is not None:  # a TOML date has no JSON form: that file is just parsed every time
        diskcache.write(path, data, {"toml": parsed}, folder)
    return parsed


def raw_line(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def _line_from_message(message: str) -> int | None:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def _locate(path: Path, table: str, key: str | None = None) -> int | None:
    """Best line for ``key`` in ``[table]`` (or the table header itself), for error messages."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    header = re.compile(r"^\s*\[\s*" + re.escape(table).replace(r"\.", r"\s*\.\s*") + r"\s*\]")
    in_table = table == ""
    for i, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = bool(header.match(line))
            if in_table and key is None:
                return i
            continue
        if in_table and key is not None and re.match(r"^\s*\"?" + re.escape(key) + r"\"?\s*=", line):
            return i
    return None


def _build(root: Path, path: Path, data: dict[str, Any], prefix: str) -> Config:
    cfg = Config(root=root, source=path)
    for name, value in data.items():
        table = prefix + name
        if name == "prices":
            cfg.prices = _prices(path, prefix, value, cfg.prices)
            continue
        if name == "providers":
            cfg.providers = _providers(path, prefix, value, cfg.providers)
            continue
        cls = _SECTIONS.get(name)
        if cls is None:
            line = _locate(path, table) or _locate(path, prefix.rstrip("."), name)
            known = ", ".join([*_SECTIONS, "prices", "providers"])
            raise ConfigError(f"unknown section [{table}] (known: {known})", path=path, line=line)
        if not isinstance(value, dict):
            raise ConfigError(
                f"[{table}] must be a table", path=path, line=_locate(path, prefix.rstrip("."), name)
            )
        setattr(cfg, name, _section(path, table, cls, value, name))
    _check_models(cfg, path, prefix)
    return cfg


def _check_models(cfg: Config, path: Path, prefix: str) -> None:
    """Every tier names a model of a known provider, so a typo fails at load, not mid-run."""
    table = prefix + "models"
    if cfg.models.provider not in cfg.providers:
        known = ", ".join(cfg.providers)
        raise ConfigError(
            f"{table}.provider: unknown provider {cfg.models.provider!r} (known: {known})",
            path=path,
            line=_locate(path, table, "provider"),
        )
    for key in ("plan", *TIERS):
        try:
            cfg.model_ref(getattr(cfg.models, key))
        except ValueError as exc:
            raise ConfigError(f"{table}.{key}: {exc}", path=path, line=_locate(path, table, key)) from None


_PROVIDER_KEYS = {f.name for f in dataclasses.fields(ProviderSpec)} - {"name", "builtin"}
_PROVIDER_NUMBERS = {"max_retries": 0, "timeout_s": 0.0}
"""Keys of ``[providers.NAME]`` that are numbers (checked as ``[provider]``'s keys of the same name)."""


def _providers(path: Path, prefix: str, value: Any, base: dict[str, ProviderSpec]) -> dict[str, ProviderSpec]:
    """``[providers.NAME]`` tables: a new backend, or a built-in one with other settings."""
    table = prefix + "providers"
    if not isinstance(value, dict):
        raise ConfigError(f"[{table}] must be a table", path=path, line=_locate(path, table))
    out = dict(base)
    for name, entry in value.items():
        where = f"{table}.{name}"
        line = _locate(path, f'{table}."{name}"') or _locate(path, where) or _locate(path, table, name)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name):
            raise ConfigError(
                f"{where}: a provider name is a letter then letters, digits, - or _", path=path, line=line
            )
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a table", path=path, line=line)
        unknown = set(entry) - _PROVIDER_KEYS
        if unknown:
            key = sorted(unknown)[0]
            hint = (
                " (put the key in an environment variable and name it in api_key_env)" if "key" in key else ""
            )
            raise ConfigError(
                f"unknown key {key!r} in [{where}] (known: {', '.join(sorted(_PROVIDER_KEYS))}){hint}",
                path=path,
                line=_locate(path, where, key) or line,
            )
        fields: dict[str, Any] = {}
        start = out.get(name)
        if start is not None:
            fields = {k: getattr(start, k) for k in _PROVIDER_KEYS}
        for key, raw in entry.items():
            key_line = _locate(path, where, key) or line
            if key in _PROVIDER_NUMBERS:
                value = _coerce(raw, _PROVIDER_NUMBERS[key], path, key_line, f"{where}.{key}")
                _check_range("provider", key, raw, value, f"{where}.{key}", path, key_line)
                fields[key] = value
                continue
            if not isinstance(raw, str):
                raise ConfigError(f"{where}.{key} must be a string", path=path, line=key_line)
            fields[key] = raw
        kind = fields.get("kind", "")
        if kind not in PROVIDER_KINDS:
            raise ConfigError(
                f"{where}.kind must be one of {', '.join(PROVIDER_KINDS)}, not {kind!r}",
                path=path,
                line=_locate(path, where, "kind") or line,
            )
        if fields.get("auth", "api-key") not in CLAUDE_CODE_AUTH:
            raise ConfigError(
                f"{where}.auth must be one of {', '.join(CLAUDE_CODE_AUTH)}",
                path=path,
                line=_locate(path, where, "auth") or line,
            )
        url = fields.get("base_url", "")
        if url and not re.match(r"https?://", url):
            raise ConfigError(
                f"{where}.base_url must start with http:// or https://, not {url!r}",
                path=path,
                line=_locate(path, where, "base_url") or line,
            )
        out[name] = ProviderSpec(name=name, **fields)
    return out


def _section(path: Path, table: str, cls: type, values: dict[str, Any], name: str) -> Any:
    obj = cls()
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in values.items():
        line = _locate(path, table, key)
        if key not in fields:
            raise ConfigError(
                f"unknown key {key!r} in [{table}] (known: {', '.join(fields)})", path=path, line=line
            )
        default = getattr(obj, key)
        raw = value
        value = _coerce(value, default, path, line, f"{table}.{key}")
        _check_range(name, key, raw, value, f"{table}.{key}", path, line)
        choices = _CHOICES.get((name, key))
        if choices and value not in choices:
            raise ConfigError(
                f"{table}.{key} must be one of {', '.join(choices)}, not {value!r}", path=path, line=line
            )
        setattr(obj, key, value)
    return obj


def _coerce(value: Any, default: Any, path: Path, line: int | None, where: str) -> Any:
    def wrong(expected: str) -> ConfigError:
        return ConfigError(
            f"{where} must be {expected}, not {type(value).__name__} {value!r}", path=path, line=line
        )

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise wrong("a finite number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    if isinstance(default, list):
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of strings")
        return list(value)
    return value


def _prices(path: Path, prefix: str, value: Any, base: dict[str, Price]) -> dict[str, Price]:
    table = prefix + "prices"
    if not isinstance(value, dict):
        raise ConfigError(f"[{table}] must be a table", path=path, line=_locate(path, table))
    out = dict(base)
    names = {f.name for f in dataclasses.fields(Price)}
    for model, entry in value.items():
        line = (
            _locate(path, f'{table}."{model}"')
            or _locate(path, f"{table}.{model}")
            or _locate(path, table, model)
        )
        if not isinstance(entry, dict):
            raise ConfigError(f"{table}.{model} must be a table of prices", path=path, line=line)
        unknown = set(entry) - names
        if unknown:
            raise ConfigError(
                f"unknown key {sorted(unknown)[0]!r} in {table}.{model} (known: {', '.join(sorted(names))})",
                path=path,
                line=line,
            )
        start = out.get(model) or Price(0.0, 0.0, 0.0, 0.0)
        fields = dataclasses.asdict(start)
        for k, v in entry.items():
            key_line = _locate(path, f'{table}."{model}"', k) or _locate(path, f"{table}.{model}", k) or line
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"{table}.{model}.{k} must be a finite number", path=path, line=key_line)
            _check_range("prices", k, v, v, f"{table}.{model}.{k}", path, key_line)
            fields[k] = float(v)
        out[model] = Price(**fields)
    return out


DEFAULT_TOML = """\
# phaser settings. Every key is optional; the values shown are the defaults.
# Allowed ranges: docs/configuration.md.

[models]
# plan = "claude-opus-5-5"        # turns a spec into a plan
# easy = "claude-haiku-5-5"       # model for phases marked difficulty: easy
# medium = "claude-sonnet-5-5"
# hard = "claude-opus-5-5"
# profile = "balanced"            # quality | balanced | budget: shift every tier up or down
# escalate = true                 # retry once on the next tier up when gates stay red
# provider = "anthropic"          # provider of a bare model name; a tier may also say "name:model"

[provider]
# name = "anthropic"              # anthropic | scripted
# base_url = ""                   # default: ANTHROPIC_BASE_URL or the SDK's own
# max_tokens = 16000              # per model call
# timeout_s = 600                 # the SDK's timeout per request
# max_retries = 4                 # the SDK's retries on 429, 5xx and connection errors
# script = ""                     # scripted provider: JSON script file, relative to the root
# tool_reminders = 2              # openai kind: reminders when a reply has no tool call, then fail

[gates]
# commands = ["python3 -m pytest -q"]   # run by phaser after the coding step, never by the model
# fix_attempts = 2                # times red gates go back to the coding step (0: none)
# timeout_s = 900                 # per gate command
# network = false                 # let the gates reach the network (tests needing a service)

[protect]
# paths = ["tests/**", "**/test_*.py", "**/*_test.py", "**/conftest.py"]

[approval]
# policy = "never"                # never | each | limit
# limit = 2                       # with limit: phases done but not yet approved

[budget]
# phase_usd = 5.0                 # caps per phase, over all its attempts
# phase_tokens = 4000000
# phase_turns = 80
# run_usd = 50.0                  # caps per phaser run
# run_tokens = 40000000
# run_turns = 800

[run]
# parallel = 1                    # independent phases at once, each in its own git worktree

[agent]
# bash_timeout_s = 120            # per bash command
# output_cap = 16000              # characters of tool output the model sees
# sandbox = "auto"                # auto | bwrap | landlock | seatbelt | none (opt out)
# network = false                 # let the agent's commands reach the network
# credential_paths = []           # hidden from commands besides ~/.ssh, ~/.aws, ...
# step_turns = 40                 # turns one step may take

# Named providers (built in: anthropic, claude-code, openai, openrouter, ollama, vllm, lmstudio).
# A model is then named "local:qwen3-coder" in [models], a phase's model: or --model. For example
# (remove the "##"):
## [providers.local]
## kind = "openai"                # openai | anthropic | claude-code
## base_url = "http://localhost:11434/v1"
## api_key_env = ""               # the environment variable with the key (never the key itself)
## auth = "api-key"               # claude-code only: api-key | subscription
## command = ""                   # claude-code only: the CLI to run (default: claude on PATH)
## max_retries = 4                # this provider's SDK retries (default: [provider] max_retries)
## timeout_s = 600                # this provider's SDK timeout per request (default: [provider] timeout_s)

# USD per million tokens; a table per model overrides or adds one. For example, the defaults of:
# [prices."claude-sonnet-5-5"]
#   input = 2.0
#   output = 10.0
#   cache_write = 2.5             # 5-minute cache writes
#   cache_read = 0.1
#   cache_write_1h = 4.0
#   long_context_tokens = 0       # over this many prompt tokens (0: never) a request pays
#   long_input_factor = 1.0       # this multiple of every input rate
#   long_output_factor = 1.0      # and this of the output rate
"""
