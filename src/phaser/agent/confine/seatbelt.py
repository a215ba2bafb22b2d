"""The Seatbelt backend (macOS ``sandbox-exec``): a policy as a profile.

Written from Apple's SBPL as used by Chromium and Bazel; unit-tested for its text only, never run
here (see docs/agent-harness.md). Later rules win in SBPL, so the denials come last.
"""

from __future__ import annotations

from phaser.agent.confine.policy import Policy


def _q(path: object) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def profile(policy: Policy) -> str:
    lines = [
        "(version 1)",
        "(deny default)",
        "(allow process*)",
        "(allow sysctl-read)",
        "(allow mach-lookup)",
    ]
    lines += ["(allow signal (target same-sandbox))", "(allow file-read*)", "(allow ipc-posix*)"]
    writes = [f"(subpath {_q(p)})" for p in (*((policy.temp_dir,) if policy.temp_dir else ()),)]
    writes += [f"(subpath {_q(p)})" for p in policy.extra_writable]
    if not policy.read_only:
        writes += [f"(subpath {_q(p)})" for p in policy.writable]
    writes += ['(literal "/dev/null")', '(literal "/dev/tty")', '(regex #"^/dev/fd/")']
    lines.append("(allow file-write* " + " ".join(writes) + ")")
    for p in policy.readonly:
        lines.append(f"(deny file-write* (subpath {_q(p)}))")
    for p in policy.hidden:
        lines.append(f"(deny file-read* file-write* (subpath {_q(p)}))")
    if policy.network:
        lines.append("(allow network*)")
    else:
        lines.append('(allow network* (remote unix-socket (path-literal "/private/var/run/mDNSResponder")))')
    return "\n".join(lines) + "\n"


def argv(policy: Policy) -> list[str]:
    return ["sandbox-exec", "-p", profile(policy)]
