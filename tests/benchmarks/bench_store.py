"""Store benchmark: the cost of one execution status transition on PostgreSQL.

A worker makes two per execution (the claim, the outcome), each in its own autocommit unit of
work. This measures, on one row, alternating transitions ``scheduled`` <-> ``running``:

- through the Store (``store.transaction(autocommit=True)`` + ``executions.transition``: the
  history trigger, parameter and result processing, the pool);
- baseline of the same run: the same UPDATE ... RETURNING on the asyncpg connection directly
  (a prepared statement, no SQLAlchemy): the floor for any path to the database.

Prints CPU (``time.process_time``) and wall time per transition and the ratio to the baseline.
Run with ``pytest -p no:xdist -m benchmark tests/benchmarks/bench_store.py -s``.
"""

from __future__ import annotations

import time

import pytest

from attune_core.model import Execution, ExecutionStatus
from attune_core.testing import temporary_store
from tests.conftest import POSTGRES_URL, require_service

pytestmark = [pytest.mark.benchmark, pytest.mark.anyio, pytest.mark.postgresql]

TRANSITIONS = 2_000
WARM_UP = 200

SCHEDULED, RUNNING = ExecutionStatus.SCHEDULED, ExecutionStatus.RUNNING


async def test_store_transition_against_the_raw_driver() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with temporary_store(POSTGRES_URL) as store:
        async with store.transaction() as uow:
            row = await uow.executions.create(Execution(action_ref="core.echo", status=SCHEDULED))
        assert row.id is not None
        execution_id = row.id

        async def through_the_store(n: int) -> None:
            expected, new = (SCHEDULED, RUNNING) if n % 2 == 0 else (RUNNING, SCHEDULED)
            async with store.transaction(autocommit=True) as uow:
                changed = await uow.executions.transition(execution_id, expected=expected, new=new)
            assert changed is not None and changed.status is new

        for n in range(WARM_UP):
            await through_the_store(n)
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(TRANSITIONS):
            await through_the_store(n)
        store_cpu = (time.process_time() - cpu) / TRANSITIONS * 1000
        store_wall = (time.perf_counter() - wall) / TRANSITIONS * 1000

        sql = (
            "UPDATE execution SET status = $1, updated = now() "
            "WHERE id = $2 AND status = $3 RETURNING *"
        )
        async with store.engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            # (new, expected) by parity, as through the Store.
            flips = [(RUNNING.value, SCHEDULED.value), (SCHEDULED.value, RUNNING.value)]
            for n in range(WARM_UP):
                assert await driver.fetchrow(sql, flips[n % 2][0], execution_id, flips[n % 2][1])
            cpu, wall = time.process_time(), time.perf_counter()
            for n in range(TRANSITIONS):
                new, expected = flips[n % 2]
                assert await driver.fetchrow(sql, new, execution_id, expected) is not None
            raw_cpu = (time.process_time() - cpu) / TRANSITIONS * 1000
            raw_wall = (time.perf_counter() - wall) / TRANSITIONS * 1000

    print(
        f"\nexecution transition on PostgreSQL, {TRANSITIONS} in a row: "
        f"through the Store (autocommit) {store_cpu:.3f} ms CPU, {store_wall:.3f} ms wall; "
        f"baseline (asyncpg directly) {raw_cpu:.3f} ms CPU, {raw_wall:.3f} ms wall: "
        f"{store_cpu / raw_cpu:.1f} x baseline CPU, {store_wall / raw_wall:.1f} x wall"
    )
