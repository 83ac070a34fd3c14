"""Fault tests that restart the shared RabbitMQ and PostgreSQL servers (``make test-faults``).

They are not part of ``make test``: a restart drops the connections of every test running at
the same time. Each outage lasts a few seconds and the servers are running again when a test
ends (also when it fails).
"""

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
