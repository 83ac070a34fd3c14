"""Fixtures of the distributed tests: an installation (PostgreSQL schema + RabbitMQ prefix)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from attune_core.config import Settings
from tests.integration.distributed.cluster import new_installation


@pytest.fixture
async def installation(tmp_path: Path) -> AsyncIterator[tuple[Settings, dict[str, str]]]:
    """A PostgreSQL schema and a RabbitMQ name prefix of our own, migrated, packs registered."""
    async with new_installation(tmp_path) as installed:
        yield installed
