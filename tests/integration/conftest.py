"""Integration fixtures: every test that takes ``store`` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from attune_core.clock import FakeClock
from attune_core.storage import Store
from attune_core.testing import temporary_store
from tests.conftest import POSTGRES_URL, require_service


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test."""
    if request.param == "postgresql":
        require_service("PostgreSQL", "127.0.0.1", 5432)
        return POSTGRES_URL
    return "sqlite"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(backend: str, clock: FakeClock) -> AsyncIterator[Store]:
    """A migrated, isolated database (own SQLite file or own PostgreSQL schema)."""
    async with temporary_store(backend, now=clock.now) as store:
        yield store
