"""RabbitMQ and PostgreSQL restarted under load, with an executor and two workers running as
processes: every execution and workflow submitted reaches a terminal state, none finishes
twice, none is lost, and the services keep running (they stop cleanly afterwards)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Awaitable, Callable

import anyio
import pytest

from attune_core.config import Settings
from attune_core.engine._messages import database_unavailable
from attune_core.model import Execution, ExecutionStatus
from tests.integration.distributed.cluster import Cluster, all_terminal, count_is, until_true

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.anyio,
]

ACTIONS = 60
WORKFLOWS = 10
OUTAGE = 3.0  # seconds the server stays down


async def _run(*argv: str) -> None:
    result = await anyio.run_process(list(argv), check=False, stderr=subprocess.STDOUT)
    assert result.returncode == 0, result.stdout.decode()


async def restart_rabbitmq() -> None:
    try:
        await _run("rabbitmqctl", "stop_app")
        await anyio.sleep(OUTAGE)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.run_process(["rabbitmqctl", "start_app"], check=False)
            with anyio.fail_after(60):
                while not await _accepting(5672):  # noqa: ASYNC110 - polling a port
                    await anyio.sleep(0.2)


async def restart_postgresql() -> None:
    # A checkpoint first, so that the fast (clean) shutdown has little to write and the start
    # needs no crash recovery (which fsyncs the whole data directory: a minute here). Then a
    # few seconds down, and start; the start runs whatever happened, and the test waits until
    # the server answers queries again.
    # The server is shared with the other sessions: whatever happens here (a stop slower than
    # pg_ctlcluster's 60 s wait, a start refused because the stop is still going on), the
    # `finally` keeps starting it until it answers.
    await _run("psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "CHECKPOINT")
    try:
        await _run("pg_ctlcluster", "15", "main", "stop", "-m", "fast")
        await anyio.sleep(OUTAGE)
    finally:
        with anyio.CancelScope(shield=True):
            await _start_postgresql()


async def _start_postgresql() -> None:
    for _ in range(60):
        if await _answers():
            return
        await anyio.run_process(["pg_ctlcluster", "15", "main", "start"], check=False)
        for _ in range(10):
            if await _answers():
                return
            await anyio.sleep(0.5)
    raise AssertionError("PostgreSQL did not start again")


async def _answers() -> bool:
    query = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "SELECT 1"]
    return (await anyio.run_process(query, check=False)).returncode == 0


async def _accepting(port: int) -> bool:
    try:
        stream = await anyio.connect_tcp("127.0.0.1", port)
    except OSError:
        return False
    await stream.aclose()
    return True


async def _under_fault(
    installation: tuple[Settings, dict[str, str]],
    fault: Callable[[], Awaitable[None]],
    what: str,
) -> None:
    settings, environ = installation
    async with Cluster(settings, environ) as cluster:
        cluster.start("executor")
        cluster.start("worker", "worker-a")
        cluster.start("worker", "worker-b")
        await until_true(lambda: count_is(cluster.active_workers(), 2))
        submitted: list[int] = []
        workflows: list[int] = []
        retries = 0

        async def submit(execution: Execution) -> int:
            # A client retries while the database is down, as the API's callers would.
            nonlocal retries
            with anyio.fail_after(60):
                while True:
                    try:
                        [execution_id] = await cluster.request(execution)
                        return execution_id
                    except Exception as exc:
                        if not database_unavailable(exc):
                            raise
                        retries += 1
                        await anyio.sleep(0.5)

        async def load() -> None:
            for n in range(ACTIONS + WORKFLOWS):
                if n % 7 == 3 and len(workflows) < WORKFLOWS:
                    workflows.append(
                        await submit(Execution(action_ref="demo.chain", config={"a": n}))
                    )
                else:
                    submitted.append(
                        await submit(Execution(action_ref="demo.add", config={"a": n, "b": 1}))
                    )
                await anyio.sleep(0.08)

        began = time.monotonic()
        async with anyio.create_task_group() as tg:
            tg.start_soon(load)
            await anyio.sleep(2)
            await fault()
        everything = submitted + workflows

        async def settled() -> bool:
            try:
                return await all_terminal(cluster.store, everything)
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                return False

        with anyio.move_on_after(180):
            await until_true(settled, 180)
        took = time.monotonic() - began
        async with cluster.store.read() as uow:
            finished = [await uow.executions.get(i) for i in everything]
            histories = [
                await uow.execution_history.query(entity_id=i, changed_field="status")
                for i in everything
            ]
    statuses = [e.status for e in finished]
    twice = sum(
        1
        for history in histories
        if sum(ExecutionStatus(h.new_values["status"]).is_terminal for h in history) > 1
    )
    completed = statuses.count(ExecutionStatus.COMPLETED)
    lost = [(e.id, e.action_ref, e.status.value) for e in finished if not e.status.is_terminal]
    print(
        f"\n{what} for {OUTAGE:g} s under load: submitted {len(submitted)} actions + "
        f"{len(workflows)} workflows, completed {completed}, "
        f"failed {statuses.count(ExecutionStatus.FAILED)}, "
        f"abandoned {statuses.count(ExecutionStatus.ABANDONED)}, duplicates {twice}, "
        f"lost {len(lost)}, client retries {retries}, all settled after {took:.1f} s"
    )
    if lost:
        for output in cluster.outputs:  # the services' own lines, without the tracebacks
            print(
                "\n".join(
                    line for line in output.splitlines() if line[:1].isalnum() or line[:3] == "---"
                )
            )
    assert not lost, lost
    assert twice == 0
    assert statuses == [ExecutionStatus.COMPLETED] * len(everything), [
        (e.id, e.status, e.result) for e in finished if e.status is not ExecutionStatus.COMPLETED
    ]
    chains = finished[len(submitted) :]
    assert all(c.result and "total" in c.result for c in chains)
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


@pytest.mark.timeout(400)
async def test_rabbitmq_restart_under_load(installation: tuple[Settings, dict[str, str]]) -> None:
    await _under_fault(installation, restart_rabbitmq, "RabbitMQ stopped (stop_app/start_app)")


@pytest.mark.timeout(400)
async def test_postgresql_restart_under_load(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    await _under_fault(installation, restart_postgresql, "PostgreSQL stopped (pg_ctlcluster)")
