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
