"""Confinement end to end: a new test file that the gate runs, and the agent's own bash, try every
way out (a write outside the tree, .git/hooks, .git/config, a symlink out, a 127.0.0.1 listener
this test opens, each credential path under a fake HOME, /proc/<phaser>/environ). Run three
ways: bubblewrap; Landlock with a failing fake `bwrap` early on PATH (how a container looks);
nothing that works (phaser refuses before the first model request, nothing changed). Legitimate
work passes in every mode: a new module and test, caches in the tree, the gate's temp dir, the
user's own git hook at commit."""

from __future__ import annotations

import json
import os
import socket
import tempfile
from pathlib import Path

import pytest

from phaser.agent.confine import seatbelt
from phaser.agent.confine.denials import explain
from phaser.agent.confine.policy import CREDENTIAL_PATHS, Choice, build, probe_landlock, reset_probes
from phaser.agent.sandbox import run_command, sandbox_available
from phaser.cli import main
from phaser.workflow.git_guard import GitGuard
from workflow_helpers import git, no_fix_attempts, phase_turns, project_with_plan, read, tree_bytes

ATTACK = """\
import os, socket, sys
from pathlib import Path

HOME, OUTSIDE, PORT, PHASER_PID = {home!r}, {outside!r}, {port}, {pid}
TRIED = []


def attempt(name, fn):
    try:
        fn()
        TRIED.append(name + ": DONE")
    except Exception as exc:
        TRIED.append(name + ": blocked (" + type(exc).__name__ + ")")


def leak(name, data):
    Path("wordstats/leaks").mkdir(exist_ok=True)
    Path("wordstats/leaks", name).write_bytes(data)


def attacks(tag):
    attempt("outside", lambda: Path(OUTSIDE, tag).write_text("x"))
    hook = "#!/bin/sh\\ntouch " + OUTSIDE + "/hook\\n"
    attempt("hook", lambda: Path(".git/hooks/post-commit").write_text(hook))
    attempt("config", lambda: open(".git/config", "a").write("[core]\\n\\thooksPath = /tmp\\n"))

    def link():
        os.symlink(OUTSIDE, "wordstats/out-" + tag)
        try:
            Path("wordstats/out-" + tag, "via-link-" + tag).write_text("x")
        finally:
            os.unlink("wordstats/out-" + tag)

    attempt("symlink", link)
    attempt("connect", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=5).close())
    for rel in {creds!r}:
        p = Path(HOME, rel[2:])
        def steal(p=p):
            files = [p] if p.is_file() else [c for c in p.rglob("*") if c.is_file()]
            data = b"".join(c.read_bytes() for c in files)
            if not data:
                raise PermissionError("empty: hidden")
            leak(tag + "-" + p.name, data)
        attempt("read " + rel, steal)
    attempt("environ", lambda: leak(tag + "-environ", Path("/proc/%d/environ" % PHASER_PID).read_bytes()))
    # legitimate work
    Path("wordstats/cache").mkdir(exist_ok=True)
    Path("wordstats/cache", tag).write_text("artifact")
    Path(os.environ["TMPDIR"], tag).write_text("scratch")
    print("\\n".join(TRIED))


def test_attacks_from_the_gate():
    attacks("gate")


if __name__ == "__main__":
    attacks("agent")
"""


def fake_home() -> Path:
    """Outside /tmp, so even bubblewrap's private /tmp does not hide it by accident."""
    home = Path(tempfile.mkdtemp(prefix="phaser-home-", dir="/var/tmp"))
    for rel in CREDENTIAL_PATHS:
        p = home / rel[2:]
        if rel.endswith((".json", "rc", "credentials")) or "." in p.name[1:]:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(f"SECRET-{p.name}\n")
        else:
            p.mkdir(parents=True, exist_ok=True)
            (p / "id_ed25519").write_text(f"SECRET-{p.name}\n")
    return home


def listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    return sock


def failing_bwrap(tmp_path: Path) -> str:
    """A `bwrap` that cannot create namespaces, as in most containers; first on PATH."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    fake = bindir / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    return f"{bindir}{os.pathsep}{os.environ['PATH']}"


@pytest.fixture
def api(fake_api, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-secret-key-123456")
    yield fake_api
    reset_probes()


MODES = [
    pytest.param(
        "bwrap", marks=pytest.mark.skipif(not sandbox_available(), reason="bubblewrap not installed")
    ),
    pytest.param(
        "landlock", marks=pytest.mark.skipif(not probe_landlock().works, reason="no Landlock ABI 4")
    ),
]


@pytest.mark.parametrize("mode", MODES)
def test_gate_and_agent_bash_cannot_get_out(tmp_path, api, monkeypatch, capsys, mode):
    home = fake_home()
    monkeypatch.setenv("HOME", str(home))
    if mode == "landlock":
        monkeypatch.setenv("PATH", failing_bwrap(tmp_path))
    reset_probes()
    outside = tmp_path / "outside"
    outside.mkdir()
    sock = listener()
    root = project_with_plan(tmp_path / "p")
    marker = tmp_path / "user-hook-ran"
    user_hook = root / ".git" / "hooks" / "post-commit"  # phaser commits --no-verify, as before
    user_hook.write_text(f"#!/bin/sh\necho ran >> {marker}\n")
    user_hook.chmod(0o755)
    config_before = (root / ".git" / "config").read_bytes()
    attack = ATTACK.format(
        home=str(home),
        outside=str(outside),
        port=sock.getsockname()[1],
        pid=os.getpid(),
        creds=CREDENTIAL_PATHS,
    )
    turns = phase_turns(1)
    code_turn = turns[2]["tool_calls"]
    code_turn.append(
        {
            "name": "str_replace_based_edit_tool",
            "input": {"command": "create", "path": "tests/test_attack.py", "file_text": attack},
        }
    )
    code_turn.append({"name": "bash", "input": {"command": "python tests/test_attack.py"}})
    api.set_script(turns)

    code = main(["next", "-C", str(root), "-q"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert list(outside.iterdir()) == []  # nothing written outside, through a link or otherwise
    assert user_hook.read_text() == f"#!/bin/sh\necho ran >> {marker}\n"
    assert (root / ".git" / "config").read_bytes() == config_before
    assert marker.read_text() == "ran\n"  # the user's own hook still ran at phaser's commit
    with pytest.raises(BlockingIOError):
        sock.accept()  # no connection reached the listener
    assert not (root / "wordstats" / "leaks").exists()  # no credential, no environ copied in
    assert (root / "wordstats" / "cache" / "gate").read_text() == "artifact"
    assert (root / "wordstats" / "cache" / "agent").read_text() == "artifact"
    # the agent's bash tried every vector, and was told why each was refused
    bash_results = [
        c["content"]
        for r in api.requests
        for m in r["body"]["messages"]
        if isinstance(m["content"], list)
        for c in m["content"]
        if c.get("type") == "tool_result" and "outside:" in json.dumps(c.get("content"))
    ]
    text = json.dumps(bash_results)
    assert "outside: blocked" in text and "hook: blocked" in text and "connect: blocked" in text
    assert "DONE" not in text and "read ~/.pypirc: blocked" in text and "environ: blocked" in text
    # the journal records the confinement per command, gates included
    runs = sorted((root / ".phaser").rglob("journal.jsonl"))
    records = [json.loads(line) for f in runs for line in f.read_text().splitlines()]
    conf = [r for r in records if r.get("kind") == "confinement"]
    assert {r["backend"] for r in conf} == {mode}
    assert {r["runs"] for r in conf} == {"agent", "gate"}
    assert git(root, "status", "--porcelain").strip() == ""


def test_nothing_works_refuses_before_any_model_request(tmp_path, api, monkeypatch, capsys):
    monkeypatch.setenv("PATH", failing_bwrap(tmp_path))
    reset_probes()
    root = project_with_plan(tmp_path / "p", toml_extra='\n[agent]\nsandbox = "bwrap"\n')
    head = git(root, "rev-parse", "HEAD")
    before = tree_bytes(root)
    api.set_script(phase_turns(1))
    for argv in (["next"], ["run"], ["plan", "word-stats", "--force"]):
        code = main([argv[0], "-C", str(root), *argv[1:]])
        err = capsys.readouterr().err
        assert code != 0, argv
        assert len(err.strip().splitlines()) == 1, err
        assert 'agent.sandbox = "bwrap" but' in err and "cannot create its namespaces" in err, err
    assert api.requests == []
    after = tree_bytes(root)
    assert after == before and git(root, "rev-parse", "HEAD") == head
    assert not list((root / ".phaser").rglob("journal.jsonl"))  # no run began (only phaser's plan cache)


def test_opted_out_run_says_so_and_a_planted_hook_is_restored_and_blocks(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p", toml_extra='\n[agent]\nsandbox = "none"\n')
    hooks_before = sorted(p.name for p in (root / ".git" / "hooks").iterdir())
    turns = phase_turns(1)
    plant = (
        "from pathlib import Path\n\n\ndef test_plant():\n"
        "    Path('.git/hooks/post-commit').write_text('#!/bin/sh\\ntouch pwned\\n')\n"
        "    Path('.git/hooks/post-commit').chmod(0o755)\n"
    )
    turns[2]["tool_calls"].append(
        {
            "name": "str_replace_based_edit_tool",
            "input": {"command": "create", "path": "tests/test_plant.py", "file_text": plant},
        }
    )  # the agent's own bash is put back by the snapshot check; a gate running its test is not
    api.set_script(turns)
    code = main(["next", "-C", str(root)])
    out = capsys.readouterr().out
    assert "UNCONFINED" in out
    assert code == 1, out
    assert "planted in .git" in out and ".git/hooks/post-commit added" in out
    assert sorted(p.name for p in (root / ".git" / "hooks").iterdir()) == hooks_before
    assert not (root / "pwned").exists()
    assert "status: blocked" in read(root, "specs/word-stats/plan.md")
    records = [
        json.loads(x) for f in (root / ".phaser").rglob("journal.jsonl") for x in f.read_text().splitlines()
    ]
    assert any(r.get("kind") == "phase_start" and r.get("confinement") == "none" for r in records)


def test_guard_restores_config_and_keeps_the_users_hooks(tmp_path):
    git(tmp_path, "init", "-q")
    hook = tmp_path / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    guard = GitGuard.take(tmp_path)
    with open(tmp_path / ".git" / "config", "a") as fh:
        fh.write("[alias]\n\tst = !touch /tmp/x\n")
    (tmp_path / ".git" / "hooks" / "pre-push").write_text("evil")
    assert guard.restore() == [".git/config changed", ".git/hooks/pre-push added"]
    assert "alias" not in (tmp_path / ".git" / "config").read_text()
    assert hook.read_text() == "#!/bin/sh\nexit 0\n" and guard.restore() == []


@pytest.mark.parametrize("mode", MODES)
def test_a_protected_test_denial_names_the_rule(tmp_path, monkeypatch, mode):
    if mode == "landlock":
        monkeypatch.setenv("PATH", failing_bwrap(tmp_path))
    (tmp_path / "tests").mkdir()
    protected = tmp_path / "tests" / "test_x.py"
    protected.write_text("def test(): pass\n")
    policy = build(
        tmp_path, Choice(mode, "test"), read_only=False, readonly=[protected], protected=[protected]
    )
    r = run_command("sed -i s/pass/0/ tests/test_x.py", cwd=tmp_path, timeout_s=30, output_cap=4000,
                    read_only=False, policy=policy)  # fmt: skip
    assert r.exit_code != 0 and protected.read_text() == "def test(): pass\n"
    assert "tests/test_x.py is protected: existing tests can't change; add a new test file" in explain(
        r.output, policy, "sed -i s/pass/0/ tests/test_x.py"
    )


def test_seatbelt_profile_denies_writes_credentials_and_network(tmp_path):
    """Written for macOS sandbox-exec; checked here for its text only (never run on this machine)."""
    p = build(tmp_path, Choice("seatbelt", "t"), read_only=False, readonly=[tmp_path / ".git"])
    text = seatbelt.profile(p)
    assert text.startswith("(version 1)\n(deny default)")
    assert f'(allow file-write* (subpath "{tmp_path}")' in text
    assert f'(deny file-write* (subpath "{tmp_path / ".git"}"))' in text
    assert '(deny file-read* file-write* (subpath "' in text and "/.ssh" in text
    assert "(allow network*)\n" not in text
    ro = seatbelt.profile(build(tmp_path, Choice("seatbelt", "t"), read_only=True, network=True))
    assert f'(subpath "{tmp_path}")' not in ro.split("(allow file-write*", 1)[1].split(")\n")[0]
    assert "(allow network*)\n" in ro


def test_doctor_says_which_confinement_is_in_force_and_why(tmp_path, monkeypatch, capsys):
    root = project_with_plan(tmp_path / "p")
    reset_probes()
    assert main(["doctor", "-C", str(root)]) == 0
    out = capsys.readouterr().out
    expected = "bwrap" if sandbox_available() else "landlock"
    assert f"confinement: {expected} (sandbox = 'auto')" in out and "network: agent off, gates off" in out
    monkeypatch.setenv("PATH", failing_bwrap(tmp_path))
    reset_probes()
    assert main(["doctor", "-C", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (
        data["backend"] == "landlock"
        and "not /" in data["reason"]
        and "cannot create its namespaces" in data["reason"]
    )
    reset_probes()


@pytest.mark.parametrize("mode", MODES)
def test_a_gate_appending_to_a_protected_test_is_red_and_put_back(tmp_path, api, monkeypatch, capsys, mode):
    if mode == "landlock":
        monkeypatch.setenv("PATH", failing_bwrap(tmp_path))
    reset_probes()
    root = project_with_plan(tmp_path / "p")
    no_fix_attempts(root)
    original = read(root, "tests/test_count.py")
    sneak = (
        "def test_sneak():\n"
        "    try:\n"
        "        open('tests/test_count.py', 'a').write('\\ndef test_weakened():\\n    pass\\n')\n"
        "    except OSError:\n"
        "        pass\n"
    )
    turns = phase_turns(1)
    turns[2]["tool_calls"].append(
        {
            "name": "str_replace_based_edit_tool",
            "input": {"command": "create", "path": "tests/test_sneak.py", "file_text": sneak},
        }
    )
    api.set_script(turns)
    code = main(["next", "-C", str(root)])
    capsys.readouterr()
    assert read(root, "tests/test_count.py") == original
    if mode == "bwrap":  # the append itself was refused (read-only bind); the phase passes
        assert code == 0
    else:  # Landlock let the append land in place: the gate is red, the file put back
        assert code == 1 and "changed protected files (restored): tests/test_count.py" in read(
            root, "specs/word-stats/plan.md"
        )
