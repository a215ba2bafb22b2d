"""Shared fixtures. Keep this small and generic: module-specific fixtures live in their test files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from phaser.testing.fake_api import FakeMessagesAPI


@pytest.fixture
def fake_api() -> Iterator[FakeMessagesAPI]:
    """A started fake Messages API on 127.0.0.1 (empty script: use set_script / add_turns)."""
    with FakeMessagesAPI() as api:
        yield api


@pytest.fixture
def api(fake_api: FakeMessagesAPI, monkeypatch: pytest.MonkeyPatch) -> FakeMessagesAPI:
    """The fake Messages API as the anthropic SDK finds it: phaser's commands run in this process
    (``main(argv)``) talk to it through ANTHROPIC_BASE_URL, with a key the journals must never show."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-secret-key-123456")
    return fake_api


E2E_FILES = ("test_workflow_", "test_demo")
"""Files whose tests run whole phases end to end (real git, gates run by pytest, the CLI on the
fakes): marked ``e2e``, so ``pytest -m "not e2e"`` is the quick loop."""


SLOW_FILES = (*E2E_FILES, "test_claude_code", "test_cannot_judge", "test_confinement", "test_person_saves")
"""Files of long tests (whole phases, real gates, the real claude CLI), run first: with
``-n 2 --dist worksteal`` (.ci/run) the last minute is then short tests one worker takes from the
other, not one long test started late while the other worker idles."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name.startswith(E2E_FILES):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: not item.path.name.startswith(SLOW_FILES))  # stable: same order within
