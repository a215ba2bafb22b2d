"""phaser.toml / [tool.phaser]: defaults, overrides, routing, and errors that name file and line."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import pytest

from phaser.config import DEFAULT_TOML, load_config
from phaser.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path):
    cfg = load_config(tmp_path)
    assert cfg.source is None
    assert cfg.model_for("easy") == "claude-haiku-5-5"
    assert cfg.model_for("medium") == "claude-sonnet-5-5"
    assert cfg.model_for("hard") == "claude-opus-5-5"
    assert cfg.gates.commands == ["python3 -m pytest -q"]  # python3: Debian has no bare python
    assert "tests/**" in cfg.protect.paths


def test_commented_default_file_loads_to_the_defaults(tmp_path):
    write(tmp_path, "phaser.toml", DEFAULT_TOML)
    cfg = load_config(tmp_path)
    assert cfg.source == tmp_path / "phaser.toml"
    assert cfg.models.plan == "claude-opus-5-5"
    assert cfg.approval.policy == "never"


def test_overrides_and_profiles(tmp_path):
    write(
        tmp_path,
        "phaser.toml",
        '[models]\neasy = "m-small"\nmedium = "m-mid"\nhard = "m-big"\nprofile = "budget"\n'
        '[gates]\ncommands = ["pytest -q", "ruff check ."]\n[budget]\nphase_usd = 2\n',
    )
    cfg = load_config(tmp_path)
    assert cfg.model_for("hard") == "m-mid"  # budget shifts down a tier
    assert cfg.model_for("easy") == "m-small"  # and never below the bottom
    assert cfg.model_for("easy", "quality") == "m-mid"
    assert cfg.model_for("hard", "quality") == "m-big"
    assert cfg.escalated("m-small") == "m-mid"
    assert cfg.escalated("m-big") is None
    assert cfg.gates.commands == ["pytest -q", "ruff check ."]
    assert cfg.budget.phase_usd == 2.0 and isinstance(cfg.budget.phase_usd, float)


def test_tool_phaser_in_pyproject(tmp_path):
    write(
        tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.phaser.gates]\ncommands = ["make test"]\n'
    )
    cfg = load_config(tmp_path)
    assert cfg.gates.commands == ["make test"]
    assert cfg.source == tmp_path / "pyproject.toml"


def test_unknown_key_names_file_and_line(tmp_path):
    write(tmp_path, "phaser.toml", '[models]\neasy = "a"\n\n[gates]\ncomands = ["pytest"]\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.line == 5
    assert str(err.value).startswith(f"{tmp_path / 'phaser.toml'}:5: unknown key 'comands' in [gates]")


def test_unknown_section(tmp_path):
    write(tmp_path, "phaser.toml", "[modles]\neasy = 'a'\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.line == 1 and "unknown section [modles]" in str(err.value)


def test_wrong_type_names_line(tmp_path):
    write(tmp_path, "phaser.toml", "[budget]\nphase_usd = 1.5\nphase_turns = 'many'\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.line == 3 and "budget.phase_turns must be an integer" in str(err.value)


def test_bad_choice(tmp_path):
    write(tmp_path, "phaser.toml", "[approval]\npolicy = 'sometimes'\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.line == 2 and "never, each, limit" in str(err.value)


def test_broken_toml_names_line(tmp_path):
    write(tmp_path, "phaser.toml", "[models]\neasy = \n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.line == 2 and "invalid TOML" in str(err.value)


def test_prices_table_overrides_and_adds(tmp_path):
    write(
        tmp_path,
        "phaser.toml",
        '[prices."my-model"]\ninput = 1\noutput = 2\ncache_write = 1.25\ncache_read = 0.1\n',
    )
    cfg = load_config(tmp_path)
    price = cfg.price("my-model")
    assert price.cost(1_000_000, 1_000_000, 0, 1_000_000) == pytest.approx(3.1)
    assert cfg.price("claude-sonnet-5-5").cache_read == 0.10


def test_long_context_tier_bills_the_whole_request_at_the_higher_rate(tmp_path):
    """Haiku 5.5: a request whose prompt (uncached + cache writes + cache reads) is over 100k tokens
    pays five times every rate, output included; at or under the threshold, the base rates."""
    haiku = load_config(tmp_path).price("claude-haiku-5-5")
    at = haiku.cost(10_000, 1_000, 40_000, 50_000)  # 100,000 prompt tokens
    over = haiku.cost(10_000, 1_000, 40_000, 50_001)
    assert at == pytest.approx((10_000 * 0.10 + 1_000 * 0.50 + 40_000 * 0.125 + 50_000 * 0.01) / 1e6)
    assert over == pytest.approx(5 * (at + 0.01 / 1e6))
    assert sum(haiku.parts(10_000, 1_000, 40_000, 50_001)) == pytest.approx(over)
    assert load_config(tmp_path).price("claude-sonnet-5-5").cost(300_000, 0) == pytest.approx(0.6)
    # a table can set the tier for any model, e.g. 2x input and 1.5x output above 200k tokens
    write(
        tmp_path,
        "phaser.toml",
        '[prices."m"]\ninput = 3\noutput = 15\ncache_write = 3.75\ncache_read = 0.3\n'
        "long_context_tokens = 200000\nlong_input_factor = 2\nlong_output_factor = 1.5\n",
    )
    m = load_config(tmp_path).price("m")
    assert m.cost(200_000, 1_000) == pytest.approx(0.6 + 0.015)
    assert m.cost(200_001, 1_000) == pytest.approx(2 * 200_001 * 3 / 1e6 + 1.5 * 0.015)


def test_unknown_price_key(tmp_path):
    write(tmp_path, "phaser.toml", '[prices."m"]\ninptu = 1\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert "unknown key 'inptu'" in str(err.value) and err.value.line == 1


# -- numeric ranges ---------------------------------------------------------------------------

OUT_OF_RANGE = [
    ("gates", "fix_attempts", "-1", "0 or more"),
    ("gates", "timeout_s", "0", "more than 0"),
    ("gates", "timeout_s", "-5", "more than 0"),
    ("budget", "phase_usd", "-1", "more than 0"),
    ("budget", "phase_usd", "0", "more than 0"),
    ("budget", "run_usd", "0.0", "more than 0"),
    ("budget", "phase_tokens", "0", "1 or more"),
    ("budget", "phase_turns", "0", "1 or more"),
    ("budget", "run_tokens", "-3", "1 or more"),
    ("budget", "run_turns", "0", "1 or more"),
    ("provider", "max_tokens", "0", "1 or more"),
    ("provider", "timeout_s", "0", "more than 0"),
    ("provider", "max_retries", "-1", "0 or more"),
    ("approval", "limit", "-2", "0 or more"),
    ("agent", "bash_timeout_s", "-0.5", "more than 0"),
    ("agent", "output_cap", "0", "200 or more"),
    ("agent", "output_cap", "199", "200 or more"),
    ("agent", "step_turns", "0", "1 or more"),
]


@pytest.mark.parametrize(("section", "key", "value", "allowed"), OUT_OF_RANGE)
def test_numeric_setting_out_of_range_names_file_and_line(tmp_path, section, key, value, allowed):
    write(tmp_path, "phaser.toml", f'[models]\neasy = "a"\n\n[{section}]\n{key} = {value}\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.line == 5
    assert str(err.value) == f"{tmp_path / 'phaser.toml'}:5: {section}.{key} must be {allowed}, not {value}"


def test_numeric_range_in_pyproject_names_its_line(tmp_path):
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.phaser.gates]\nfix_attempts = -1\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert (
        str(err.value)
        == f"{tmp_path / 'pyproject.toml'}:5: tool.phaser.gates.fix_attempts must be 0 or more, not -1"
    )


EDGES = [
    ("gates", "fix_attempts", "0", "-1"),
    ("gates", "timeout_s", "0.5", "0"),
    ("approval", "limit", "0", "-1"),
    ("provider", "max_retries", "0", "-1"),
    ("provider", "max_tokens", "1", "0"),
    ("provider", "timeout_s", "0.1", "0"),
    ("budget", "phase_usd", "0.01", "0"),
    ("budget", "run_usd", "0.01", "0"),
    ("budget", "phase_tokens", "1", "0"),
    ("budget", "phase_turns", "1", "0"),
    ("budget", "run_tokens", "1", "0"),
    ("budget", "run_turns", "1", "0"),
    ("agent", "output_cap", "200", "199"),
    ("agent", "step_turns", "1", "0"),
    ("agent", "bash_timeout_s", "0.1", "0"),
    ('prices."free"', "input", "0", "-0.01"),
    ('prices."free"', "cache_write_1h", "0", "-1"),
    ('prices."free"', "long_context_tokens", "0", "-1"),
    ('prices."free"', "long_input_factor", "1", "0.99"),
    ('prices."free"', "long_output_factor", "1", "0.5"),
]


@pytest.mark.parametrize(("section", "key", "edge", "beyond"), EDGES)
def test_numeric_range_edge_is_accepted_and_just_beyond_it_refused(tmp_path, section, key, edge, beyond):
    write(tmp_path, "phaser.toml", f"[{section}]\n{key} = {edge}\n")
    cfg = load_config(tmp_path)
    if section.startswith("prices"):
        assert getattr(cfg.price("free"), key) == float(edge)
    else:
        assert getattr(getattr(cfg, section), key) == pytest.approx(float(edge))
    write(tmp_path, "phaser.toml", f"[{section}]\n{key} = {beyond}\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.line == 2 and f"{key} must be " in str(err.value)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused(tmp_path, value):
    write(tmp_path, "phaser.toml", f"[budget]\nphase_usd = {value}\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.line == 2 and "budget.phase_usd must be a finite number" in str(err.value)
    write(tmp_path, "phaser.toml", f'[prices."m"]\ninput = 1\noutput = {value}\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.line == 3 and "prices.m.output must be a finite number" in str(err.value)


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("input", "-1", "0 or more"),
        ("cache_read", "-0.1", "0 or more"),
        ("cache_write_1h", "-2", "0 or more"),
        ("long_context_tokens", "-1", "0 or more"),
        ("long_input_factor", "0.5", "1 or more"),
        ("long_output_factor", "0", "1 or more"),
    ],
)
def test_price_out_of_range_names_the_line_of_the_key(tmp_path, key, value, allowed):
    write(tmp_path, "phaser.toml", f'[prices."m"]\noutput = 2\n{key} = {value}\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert str(err.value) == f"{tmp_path / 'phaser.toml'}:3: prices.m.{key} must be {allowed}, not {value}"


def _sections() -> dict[str, object]:
    from phaser.config import Config

    cfg = Config(root=Path("."))
    return {
        f.name: getattr(cfg, f.name)
        for f in dataclasses.fields(Config)
        if dataclasses.is_dataclass(getattr(cfg, f.name))
    }


def test_every_numeric_setting_has_a_range():
    from phaser.config import RANGES, Price

    numeric = {
        (name, f.name)
        for name, obj in _sections().items()
        for f in dataclasses.fields(obj)
        if isinstance(getattr(obj, f.name), (int, float)) and not isinstance(getattr(obj, f.name), bool)
    }
    numeric |= {("prices", f.name) for f in dataclasses.fields(Price)}
    assert numeric == set(RANGES)


# -- the `phaser init` template ---------------------------------------------------------------


def test_default_toml_shows_every_key_commented_with_its_default(tmp_path):
    """Uncommenting every `# key = value` line (and the example prices header) gives a file with
    every key of every section, each at its default, and the example model at its default price."""
    from phaser.config import DEFAULT_PRICES, Price

    assert not [line for line in DEFAULT_TOML.splitlines() if re.match(r"^\s*\w+\s*=", line)], (
        "every key in the template is commented"
    )
    uncommented = re.sub(r"(?m)^#\s+(\w+ = |\[prices\.)", r"\1", DEFAULT_TOML)
    data = tomllib.loads(uncommented)
    sections = _sections()
    for name, obj in sections.items():
        assert set(data[name]) == {f.name for f in dataclasses.fields(obj)}, name
    (model,) = data["prices"]
    assert set(data["prices"][model]) == {f.name for f in dataclasses.fields(Price)}
    write(tmp_path, "phaser.toml", uncommented)
    cfg = load_config(tmp_path)
    for name, obj in sections.items():
        assert getattr(cfg, name) == obj, name
    assert cfg.prices == DEFAULT_PRICES


# -- named providers and model references -------------------------------------------------------


def test_model_refs_name_their_provider_only_when_it_exists(tmp_path):
    write(tmp_path, "phaser.toml", '[providers.local]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n')
    cfg = load_config(tmp_path)
    assert str(cfg.model_ref("local:qwen3-coder:30b")) == "local:qwen3-coder:30b"
    assert cfg.model_ref("local:qwen3-coder:30b").model == "qwen3-coder:30b"
    assert str(cfg.model_ref("claude-code:sonnet")) == "claude-code:sonnet"
    assert str(cfg.model_ref("claude-sonnet-5-5")) == "anthropic:claude-sonnet-5-5"
    assert str(cfg.model_ref("qwen3-coder:30b")) == "anthropic:qwen3-coder:30b"  # no provider 'qwen3-coder'
    assert cfg.provider_spec("local:x").base_url == "http://127.0.0.1:9/v1"
    assert cfg.provider_spec("ollama:x").base_url == "http://localhost:11434/v1"


def test_a_default_provider_serves_every_bare_tier(tmp_path):
    write(tmp_path, "phaser.toml", '[models]\nprovider = "claude-code"\nhard = "anthropic:claude-opus-5-5"\n')
    cfg = load_config(tmp_path)
    assert cfg.model_ref(cfg.models.easy).provider == "claude-code"
    assert cfg.model_ref(cfg.models.hard).provider == "anthropic"


@pytest.mark.parametrize(
    ("toml", "line", "words"),
    [
        ('[providers.local]\nkind = "grpc"\n', 2, "kind must be one of anthropic, openai, claude-code"),
        ('[providers.local]\nkind = "openai"\napi_key = "sk-123"\n', 3, "api_key_env"),
        ('[providers.local]\nkind = "openai"\nbase_url = "localhost:1"\n', 3, "must start with http"),
        ('[providers.local]\nkind = "openai"\nbase_url = 3\n', 3, "must be a string"),
        ('[models]\nprovider = "nowhere"\n', 2, "unknown provider 'nowhere'"),
        (
            '[models]\neasy = "local:"\n[providers.local]\nkind = "openai"\n',
            2,
            "names provider 'local' but no model",
        ),
        ('[providers."bad name"]\nkind = "openai"\n', 1, "a provider name is a letter"),
    ],
)
def test_bad_provider_settings_name_file_and_line(tmp_path, toml, line, words):
    write(tmp_path, "phaser.toml", toml)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert words in str(info.value)
    assert info.value.line == line
