"""`[providers.NAME]` sets its own SDK retries and timeout (issue 11): validated with file and line,
shown by `phaser config`, and used by the real SDK clients against phaser's fakes on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phaser.agent.provider import Request
from phaser.cli import main
from phaser.config import load_config
from phaser.errors import ProviderError
from phaser.testing.fake_api import FakeMessagesAPI
from phaser.testing.fake_http import FakeServer
from phaser.testing.fake_openai import FakeChatAPI
from phaser.workflow.providers import build_provider

# kind -> (fake, the status its servers answer when overloaded)
KINDS = {"openai": (FakeChatAPI, 500), "anthropic": (FakeMessagesAPI, 529)}


def _config(
    root: Path, kind: str, url: str, own: str, shared: str = "max_retries = 0\ntimeout_s = 600"
) -> None:
    """By default the global [provider] values would fail every case; only the provider's own can pass."""
    (root / "phaser.toml").write_text(
        f'[provider]\n{shared}\n\n[providers.flaky]\nkind = "{kind}"\nbase_url = "{url}"\n{own}\n',
        encoding="utf-8",
    )


def _ask(root: Path, model: str = "flaky:m1") -> str:
    cfg = load_config(root)
    provider = build_provider(cfg, cfg.providers["flaky"], "sk-test")
    provider.retry_backoff_s = 0  # type: ignore[attr-defined]
    request = Request(model, "", [{"role": "user", "content": "hi"}], [], max_tokens=100)
    return provider.complete(request).text


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(("retries", "ok"), [(0, False), (3, True)])
def test_a_providers_own_retries_decide_whether_two_overloads_are_survived(
    tmp_path: Path, kind: str, retries: int, ok: bool
) -> None:
    fake_cls, status = KINDS[kind]
    overloaded = {"fault": {"status": status, "retry_after": 0}}
    with fake_cls([overloaded, overloaded, {"text": "made it"}]) as fake:
        _config(tmp_path, kind, fake.base_url, f"max_retries = {retries}")
        if ok:
            assert _ask(tmp_path) == "made it"
            assert len(fake.requests) == 3
        else:
            with pytest.raises(ProviderError) as info:
                _ask(tmp_path)
            assert str(status) in str(info.value) and "\n" not in str(info.value)
            assert len(fake.requests) == 1  # no retry: the SDK gave up at the first 5xx


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_providers_own_timeout_ends_a_stalled_request(tmp_path: Path, kind: str) -> None:
    fake_cls: type[FakeServer] = KINDS[kind][0]
    # the server stalls far longer than the provider's timeout, then would answer: with the global
    # 600 s the call would succeed after the stall; with the provider's 0.5 s it fails first
    with fake_cls([{"fault": {"stall": 120, "reply": {"text": "too late"}}}]) as fake:
        _config(tmp_path, kind, fake.base_url, "timeout_s = 0.5\nmax_retries = 0")
        with pytest.raises(ProviderError) as info:
            _ask(tmp_path)
        assert "\n" not in str(info.value)
        assert "timed out" in str(info.value).lower() or "timeout" in str(info.value).lower()
        assert len(fake.requests) == 1


def test_without_its_own_values_a_provider_takes_the_global_ones(tmp_path: Path) -> None:
    overloaded = {"fault": {"status": 500, "retry_after": 0}}
    with FakeChatAPI([overloaded, {"text": "global retries"}]) as fake:
        _config(tmp_path, "openai", fake.base_url, "", shared="max_retries = 1")
        assert _ask(tmp_path) == "global retries" and len(fake.requests) == 2


def test_config_shows_each_providers_retries_and_timeout_with_their_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "phaser.toml").write_text(
        "[provider]\nmax_retries = 2\n\n"
        '[providers.local]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\ntimeout_s = 30\n\n'
        '[models]\neasy = "local:qwen3-coder"\n',
        encoding="utf-8",
    )
    assert main(["-C", str(tmp_path), "config", "--json"]) == 0
    settings = {s["key"]: s for s in json.loads(capsys.readouterr().out)["settings"]}
    assert settings["providers.local.timeout_s"] == {
        "key": "providers.local.timeout_s",
        "value": 30.0,
        "source": "phaser.toml:7",
    }
    assert settings["providers.local.max_retries"]["value"] == 2
    assert settings["providers.local.max_retries"]["source"] == "phaser.toml:2"  # [provider]'s, inherited
    assert settings["providers.anthropic.timeout_s"]["value"] == 600.0  # the medium and hard tiers' provider
    assert settings["providers.anthropic.timeout_s"]["source"] == "default"
    assert main(["-C", str(tmp_path), "config"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert ["providers.local.timeout_s", "30.0", "(phaser.toml:7)"] in [line.split() for line in lines]


@pytest.mark.parametrize(
    ("setting", "want"),
    [
        ("max_retries = -1", "phaser.toml:3: providers.local.max_retries must be 0 or more, not -1"),
        ("max_retries = 1.5", "phaser.toml:3: providers.local.max_retries must be an integer, not float 1.5"),
        ("timeout_s = 0", "phaser.toml:3: providers.local.timeout_s must be more than 0, not 0"),
        (
            'timeout_s = "1m"',
            "phaser.toml:3: providers.local.timeout_s must be a finite number, not str '1m'",
        ),
        ("retries = 3", "phaser.toml:3: unknown key 'retries' in [providers.local]"),
    ],
    ids=["negative retries", "fractional retries", "zero timeout", "text timeout", "unknown key"],
)
def test_a_bad_provider_limit_is_one_line_with_file_and_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, want: str
) -> None:
    (tmp_path / ".git").mkdir()
    toml = f'[providers.local]\nkind = "openai"\n{setting}\n'
    (tmp_path / "phaser.toml").write_text(toml, encoding="utf-8")
    for argv in (["config"], ["next", "--dry-run"]):
        assert main(["-C", str(tmp_path), *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and want in err, (argv, err)
    assert (tmp_path / "phaser.toml").read_text(encoding="utf-8") == toml


def test_claude_code_takes_its_providers_own_timeout_and_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Code's step timeout is three times the provider's timeout_s; its CLAUDE_CODE_MAX_RETRIES
    the provider's max_retries, at most 2 (its own default retries can wait for minutes)."""
    import sys

    from phaser.agent.claude_code.session import child_env
    from phaser.workflow import providers
    from phaser.workflow.project import Project
    from phaser.workflow.step_agents import claude_code_options

    monkeypatch.setattr(providers, "_saved_secrets", {})
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-000000001")
    (tmp_path / "phaser.toml").write_text(
        "[provider]\ntimeout_s = 600\nmax_retries = 4\n\n"
        f'[providers.cc]\nkind = "claude-code"\ncommand = "{sys.executable}"\n'
        "timeout_s = 20\nmax_retries = 1\n"
        f'\n[providers.claude-code]\ncommand = "{sys.executable}"\n',
        encoding="utf-8",
    )
    project = Project(load_config(tmp_path))
    options = claude_code_options(project, "cc:sonnet")
    assert options.step_timeout_s == 60.0
    assert child_env(options)["CLAUDE_CODE_MAX_RETRIES"] == "1"
    default = claude_code_options(project, "claude-code:sonnet")  # no values of its own: [provider]'s
    assert default.step_timeout_s == 1800.0 and child_env(default)["CLAUDE_CODE_MAX_RETRIES"] == "2"
