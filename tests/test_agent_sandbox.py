import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from phaser.agent.sandbox import cap_text, run_command, safe_env, sandbox_available

MODES = ["none", *(["bwrap"] if sandbox_available() else [])]
SECRET = "sk-ant-fake-0123456789abcdef"


def run(cmd: str, cwd: Path, mode: str = "none", **kw):
    kw.setdefault("timeout_s", 20)
    kw.setdefault("output_cap", 4000)
    kw.setdefault("read_only", False)
    return run_command(cmd, cwd=cwd, sandbox=mode, **kw)


@pytest.mark.parametrize("mode", MODES)
def test_exit_code_and_merged_output(tmp_path: Path, mode: str) -> None:
    r = run("echo out; echo err >&2; exit 3", tmp_path, mode)
    assert r.exit_code == 3 and "out" in r.output and "err" in r.output
    assert r.sandboxed is (mode == "bwrap") and not r.timed_out and not r.truncated


@pytest.mark.parametrize("mode", MODES)
def test_timeout_kills_the_process_group(tmp_path: Path, mode: str) -> None:
    marker = tmp_path / "alive"
    start = time.monotonic()
    r = run(f"(sleep 1; touch {marker}) & sleep 30", tmp_path, mode, timeout_s=0.5)
    assert r.timed_out and "timed out" in r.output
    assert time.monotonic() - start < 10
    time.sleep(2)  # a surviving child would have touched it 1.5 s ago or more
    assert not marker.exists()  # the background child died with the group


def test_background_jobs_do_not_outlive_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "late"
    start = time.monotonic()
    r = run(f"(sleep 2; touch {marker}) & echo started", tmp_path)
    assert r.exit_code == 0 and "started" in r.output and time.monotonic() - start < 2
    time.sleep(2.5)
    assert not marker.exists()


@pytest.mark.parametrize("mode", MODES)
def test_output_cap_keeps_head_and_tail(tmp_path: Path, mode: str) -> None:
    r = run("echo HEAD; seq 1 200000; echo TAIL", tmp_path, mode, output_cap=1000)
    assert r.truncated
    assert r.output.startswith("HEAD\n") and r.output.rstrip().endswith("TAIL")
    assert "characters cut ...]" in r.output and len(r.output) < 1100


def test_cap_text_counts_what_was_cut() -> None:
    text, cut = cap_text("a" * 50 + "b" * 50, 20)
    assert (
        cut
        and text.startswith("a" * 10)
        and text.endswith("b" * 10)
        and "[... 80 characters cut ...]" in text
    )
    assert cap_text("short", 20) == ("short", False)


def test_safe_env_is_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secretsecret")
    monkeypatch.setenv("RANDOM_APP_SETTING", "x")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("PYTHON_KEYRING_PASSWORD", "hunter2hunter2")
    env = safe_env({"EXTRA": "1", "MY_SECRET": "no"})
    assert "ANTHROPIC_API_KEY" not in env and "GITHUB_TOKEN" not in env and "RANDOM_APP_SETTING" not in env
    assert "PYTHON_KEYRING_PASSWORD" not in env and "MY_SECRET" not in env
    assert env["PYTHONPATH"] == "/somewhere" and env["EXTRA"] == "1" and "PATH" in env


@pytest.mark.parametrize("mode", MODES)
def test_commands_cannot_see_secrets(tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    r = run(
        "env; cat /proc/$PPID/environ; cat /proc/*/environ 2>/dev/null; printenv ANTHROPIC_API_KEY",
        tmp_path,
        mode,
    )
    assert SECRET not in r.output


def test_scrub_process_env_hides_the_initial_environment(tmp_path: Path) -> None:
    """A key in phaser's *initial* environment (as when a user exports it) stays in the memory that
    /proc/<pid>/environ shows; scrub_process_env blanks it there too."""
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from phaser.agent.sandbox import run_command, scrub_process_env
        assert {SECRET!r} in Path("/proc/self/environ").read_text(errors="replace")
        removed = scrub_process_env()
        assert "ANTHROPIC_API_KEY" in removed and "ANTHROPIC_API_KEY" not in os.environ
        r = run_command("cat /proc/$PPID/environ; env", cwd=Path({str(tmp_path)!r}), timeout_s=20,
                        output_cap=100000, read_only=True, sandbox="none")
        assert "PATH=" in r.output
        print(r.output)
        """
    )
    env = {**os.environ, "ANTHROPIC_API_KEY": SECRET}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout


@pytest.mark.skipif(
    not sandbox_available(),
    reason="bubblewrap is optional for phaser and not usable here; .ci/run installs it",
)
def test_bwrap_read_only_and_writable_paths(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("keep\n")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "t.py").write_text("orig\n")
    r = run("echo x > new.txt", tmp_path, "bwrap", read_only=True)
    assert r.exit_code != 0 and not (tmp_path / "new.txt").exists()
    r = run(
        "echo x > new.txt; echo y > locked/t.py; rm locked/t.py; echo z > /etc/phaser-test; true",
        tmp_path,
        "bwrap",
        writable_paths=[tmp_path],
        readonly_paths=[tmp_path / "locked" / "t.py"],
    )
    assert (tmp_path / "new.txt").read_text() == "x\n"
    assert (tmp_path / "locked" / "t.py").read_text() == "orig\n"
    assert not Path("/etc/phaser-test").exists()
    r = run("echo tmpfile > /tmp/phaser-probe && cat /tmp/phaser-probe", tmp_path, "bwrap", read_only=True)
    assert "tmpfile" in r.output and not Path("/tmp/phaser-probe").exists()


def _sleepers(mark: str) -> list[int]:
    """Live processes running ``sleep <mark>`` (zombies have an empty cmdline and do not count)."""
    want = b"sleep\0" + mark.encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes() == want:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("shape", ["direct", "grandchildren"])
@pytest.mark.parametrize("mode", MODES)
def test_commands_die_when_phaser_is_killed(tmp_path: Path, mode: str, shape: str) -> None:
    """SIGKILL of the process running run_command leaves no command behind: neither the command bash
    execs in place, nor the children of a compound command."""
    mark = f"90.{secrets.randbelow(10**8):08d}"  # a unique argument, to find the sleeps in /proc
    command = f"sleep {mark}" if shape == "direct" else f"sleep {mark} & sleep {mark}; wait"
    want = 1 if shape == "direct" else 2
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from phaser.agent.sandbox import run_command
        run_command({command!r}, cwd=Path({str(tmp_path)!r}), timeout_s=120, output_cap=1000,
                    read_only=False, sandbox={mode!r})
        """
    )
    phaser = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while len(_sleepers(mark)) < want and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_sleepers(mark)) == want, "the command did not start"
        phaser.send_signal(signal.SIGKILL)
        phaser.wait()
        deadline = time.monotonic() + 5
        while _sleepers(mark) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _sleepers(mark) == [], "the command outlived the killed phaser"
    finally:
        phaser.kill()
        phaser.wait()
        for pid in _sleepers(mark):
            os.kill(pid, signal.SIGKILL)
