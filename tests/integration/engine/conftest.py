"""An embedded Attune per test, on SQLite and on PostgreSQL, with the demo pack registered.

``attune`` runs on the system clock; ``env`` runs on a FakeClock (starting at ``START``) and
wraps the engine in the test kit (``settle``, ``advance``, ``mock_action``).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from attune_core.app import Attune
from attune_core.clock import FakeClock
from attune_core.config import load_settings
from attune_core.storage import create_engine
from attune_core.testing import AttuneTestEnvironment, MockingRunner
from tests.conftest import POSTGRES_URL

DEMO_PACK = Path(__file__).resolve().parents[2] / "fixtures" / "engine" / "demo"
START = datetime(2026, 1, 1, tzinfo=UTC)


async def _sql(statement: str) -> None:
    engine = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


@pytest.fixture
async def attune(backend: str, tmp_path: Path) -> AsyncIterator[Attune]:
    environ = {"ATTUNE__DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}
    schema = None
    if backend != "sqlite":
        schema = f"attune_test_{secrets.token_hex(6)}"
        await _sql(f'CREATE SCHEMA "{schema}"')
        environ |= {"ATTUNE__DATABASE__URL": backend, "ATTUNE__DATABASE__SCHEMA": schema}
    settings = load_settings(env="test", environ=environ, base_dir=tmp_path)
    try:
        async with Attune.embedded(settings=settings, packs=[DEMO_PACK]) as engine:
            yield engine
    finally:
        if schema is not None:
            await _sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
async def env(backend: str, tmp_path: Path) -> AsyncIterator[AttuneTestEnvironment]:
    """An embedded Attune on a FakeClock, wrapped in the test kit for settle/advance."""
    environ = {"ATTUNE__DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}
    schema = None
    if backend != "sqlite":
        schema = f"attune_test_{secrets.token_hex(6)}"
        await _sql(f'CREATE SCHEMA "{schema}"')
        environ |= {"ATTUNE__DATABASE__URL": backend, "ATTUNE__DATABASE__SCHEMA": schema}
    settings = load_settings(env="test", environ=environ, base_dir=tmp_path)
    clock = FakeClock(START)
    runner = MockingRunner()
    try:
        async with Attune.embedded(
            settings=settings, packs=[DEMO_PACK], clock=clock, runner=runner
        ) as attune:
            yield AttuneTestEnvironment(attune, runner, clock)
    finally:
        runner.close()
        if schema is not None:
            await _sql(f'DROP SCHEMA "{schema}" CASCADE')
