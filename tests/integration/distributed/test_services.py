"""Distributed mode: an executor and two workers as separate processes on PostgreSQL and
RabbitMQ run actions and a workflow submitted from a third process, and stop gracefully."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from attune_core.config import Settings
from attune_core.model import (
    Action,
    Execution,
    ExecutionStatus,
    Runtime,
    RuntimeVersion,
    WorkerStatus,
)
from tests.integration.distributed.cluster import (
    Cluster,
    all_terminal,
    count_is,
    free_port,
    until_true,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.anyio,
]


async def test_executor_and_two_workers_in_separate_processes(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    async with Cluster(*installation) as cluster:
        cluster.start("executor")
        worker_ids = await cluster.start_workers("worker-a", "worker-b")
        *requested, workflow = await cluster.request(
            *(Execution(action_ref="demo.add", config={"a": n, "b": 1}) for n in range(20)),
            Execution(action_ref="demo.chain", config={"a": 5, "who": "cluster"}),
        )
        await until_true(lambda: all_terminal(cluster.store, [*requested, workflow]), 120)
        async with cluster.store.read() as uow:
            results = [await uow.executions.get(i) for i in requested]
            chain = await uow.executions.get(workflow)
        assert [r.status for r in results] == [ExecutionStatus.COMPLETED] * 20
        assert [r.result["data"]["sum"] for r in results] == [n + 1 for n in range(20)]
        assert chain.status is ExecutionStatus.COMPLETED, chain.result
        assert chain.result == {"total": 15, "greeting": "Hello, cluster (15)!\n"}
        # Both workers take work: dispatch goes to the least loaded worker with the runtime,
        # which shows once runs overlap (1 s each, all requested at once).
        overlapping = await cluster.request(
            *(Execution(action_ref="demo.wait", config={"seconds": 1}) for _ in range(6))
        )
        await until_true(lambda: all_terminal(cluster.store, overlapping), 60)
        async with cluster.store.read() as uow:
            spread = {(await uow.executions.get(i)).worker for i in overlapping}
        assert spread == set(worker_ids)
    # SIGTERM is a graceful stop: every service exits 0.
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


async def test_each_execution_goes_to_a_worker_offering_its_runtime(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    """``worker.runtimes`` as the documentation writes it (``shell``, ``python``: runner
    types and their aliases, not only runtime refs)."""
    async with Cluster(*installation) as cluster:
        cluster.start("executor")
        cluster.start("worker", "worker-sh", env={"ATTUNE__WORKER__RUNTIMES": "bash"})
        cluster.start("worker", "worker-py", env={"ATTUNE__WORKER__RUNTIMES": "Python,node"})
        await until_true(lambda: count_is(cluster.active_workers(), 2))
        async with cluster.store.read() as uow:
            by_name = {w.name: w for w in await uow.workers.list()}
        assert by_name["worker-sh"].capabilities["runtimes"] == ["core.shell"]
        assert by_name["worker-py"].capabilities["runtimes"] == ["core.python", "core.nodejs"]
        shell = await cluster.request(
            *(Execution(action_ref="demo.greet", config={"name": str(n)}) for n in range(4))
        )
        python = await cluster.request(
            *(Execution(action_ref="demo.add", config={"a": n}) for n in range(4))
        )
        await until_true(lambda: all_terminal(cluster.store, [*shell, *python]), 60)
        async with cluster.store.read() as uow:
            ran = {i: await uow.executions.get(i) for i in [*shell, *python]}
        assert {ran[i].status for i in ran} == {ExecutionStatus.COMPLETED}
        assert {ran[i].worker for i in shell} == {by_name["worker-sh"].id}
        assert {ran[i].worker for i in python} == {by_name["worker-py"].id}
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


async def test_an_action_needing_a_runtime_version_goes_to_a_worker_that_verified_it(
    installation: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    """Workers on machines with different runtime versions installed (here: different
    ``PATH``s): each verifies the versions on its own machine and advertises those it has;
    an action with a ``runtime_version`` constraint runs where a matching one is installed,
    and fails at once, naming what each worker has, when none is."""
    settings, _ = installation
    machines = {"a": tmp_path / "bin-a", "b": tmp_path / "bin-b"}
    for machine, programs in (("a", ["fakelang1"]), ("b", ["fakelang1", "fakelang2"])):
        machines[machine].mkdir()
        for program in programs:
            path = machines[machine] / program
            path.write_text(f"#!/bin/sh\necho {program}\n")
            path.chmod(0o755)
    (settings.packs_base_dir / "demo" / "actions" / "fake.sh").write_text("echo ran\n")
    interpreter = {"interpreter": {"binary": "/bin/sh", "args": [], "file_extension": ".sh"}}
    async with Cluster(*installation) as cluster:
        async with cluster.store.transaction() as uow:
            pack = await uow.packs.get_by_ref("demo")
            runtime = await uow.runtimes.create(
                Runtime(
                    ref="demo.fakelang",
                    pack=pack.id,
                    pack_ref="demo",
                    name="fakelang",
                    execution_config=interpreter,
                )
            )
            assert runtime.id is not None
            for major in (1, 2):
                verify = {"commands": [{"binary": f"fakelang{major}", "exit_code": 0}]}
                await uow.runtime_versions.create(
                    RuntimeVersion(
                        runtime=runtime.id,
                        runtime_ref=runtime.ref,
                        version=f"{major}.0",
                        version_major=major,
                        version_minor=0,
                        execution_config=interpreter,
                        distributions={"verification": verify},
                    )
                )
            for name, constraint in (("fake1", "1.0"), ("fake2", ">=2.0"), ("fake3", ">=3.0")):
                await uow.actions.create(
                    Action(
                        ref=f"demo.{name}",
                        pack=pack.id,
                        pack_ref="demo",
                        label=name,
                        entrypoint="fake.sh",
                        runtime=runtime.id,
                        runtime_version_constraint=constraint,
                    )
                )
        cluster.start("executor")
        for machine, directory in machines.items():
            path = f"{directory}:{os.environ.get('PATH', '/usr/bin:/bin')}"
            cluster.start("worker", f"worker-{machine}", env={"PATH": path})

        async def versions() -> dict[str, Any]:
            async with cluster.store.read() as uow:
                return {
                    w.name: w.capabilities.get("runtime_versions", {}).get("demo.fakelang")
                    for w in await uow.workers.list(status=WorkerStatus.ACTIVE)
                }

        async def verified() -> bool:
            return await versions() == {"worker-a": ["1.0"], "worker-b": ["1.0", "2.0"]}

        await until_true(verified, 60)
        await anyio.sleep(1.5)  # executors read the workers at most once a second
        async with cluster.store.read() as uow:
            worker_b = (await uow.workers.find_by_name("worker-b")).id  # type: ignore[union-attr]
        needs_two = await cluster.request(*(Execution(action_ref="demo.fake2") for _ in range(4)))
        any_one = await cluster.request(*(Execution(action_ref="demo.fake1") for _ in range(2)))
        [needs_three] = await cluster.request(Execution(action_ref="demo.fake3"))
        everything = [*needs_two, *any_one, needs_three]
        await until_true(lambda: all_terminal(cluster.store, everything), 60)
        async with cluster.store.read() as uow:
            ran = {i: await uow.executions.get(i) for i in everything}
        assert [ran[i].status for i in [*needs_two, *any_one]] == [ExecutionStatus.COMPLETED] * 6
        assert {ran[i].worker for i in needs_two} == {worker_b}
        failed = ran[needs_three]
        assert failed.status is ExecutionStatus.FAILED
        assert failed.worker is None
        assert failed.result["error"] == (
            "no active worker has a version of runtime 'demo.fakelang' satisfying '>=3.0' "
            "(versions registered: 1.0, 2.0; verified on worker-a 1.0; worker-b 1.0, 2.0)"
        )
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


async def test_executor_worker_and_sensor_answer_health_probes(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    ports = {"executor": free_port(), "worker": free_port(), "sensor": free_port()}
    async with Cluster(*installation) as cluster:
        for service, port in ports.items():
            address = {"ATTUNE__SERVER__HEALTH_ADDRESS": f"127.0.0.1:{port}"}
            cluster.start(service, "worker-probed" if service == "worker" else None, address)

        async def all_ready() -> bool:
            async with httpx.AsyncClient() as http:
                for port in ports.values():
                    try:
                        answer = await http.get(f"http://127.0.0.1:{port}/health/ready")
                    except httpx.TransportError:
                        return False  # not listening yet
                    if answer.status_code != 200:
                        return False
            return True

        await until_true(all_ready, 60)
        async with httpx.AsyncClient() as http:
            bodies = {
                service: (await http.get(f"http://127.0.0.1:{port}/health/ready")).json()
                for service, port in ports.items()
            }
            live = (await http.get(f"http://127.0.0.1:{ports['executor']}/health/live")).json()
        assert live == {"status": "ok", "service": "executor"}
        for service, body in bodies.items():
            assert (body["service"], body["database"], body["message_queue"]) == (
                service,
                "connected",
                "connected",
            )
        async with cluster.store.read() as uow:
            registered = await uow.workers.find_by_name("worker-probed")
        assert registered is not None
        assert bodies["worker"]["worker"] == {"id": registered.id, "name": "worker-probed"}
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


async def test_services_write_one_json_object_per_log_line(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    json_logs = {"ATTUNE__LOG__FORMAT": "json"}
    async with Cluster(*installation) as cluster:
        executor = cluster.start("executor", env=json_logs)
        worker = cluster.start("worker", "worker-json", env=json_logs)
        await until_true(lambda: count_is(cluster.active_workers(), 1))
        ids = await cluster.request(Execution(action_ref="demo.add", config={"a": 1, "b": 2}))
        await until_true(lambda: all_terminal(cluster.store, ids), 60)
        worker.send_signal(signal.SIGUSR1)  # logs the traffic line

        async def traffic_logged() -> bool:
            return "attune.traffic worker" in cluster.output(worker)

        await until_true(traffic_logged, 30)
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)
    for process, service in ((executor, "executor"), (worker, "worker")):
        lines = [line for line in cluster.output(process).splitlines() if line.strip()]
        assert lines
        records = [json.loads(line) for line in lines]  # every line is one JSON object
        assert {r["service"] for r in records} == {service}
        assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    traffic = [r for r in records if r["message"].startswith("attune.traffic worker")]
    assert traffic and traffic[0]["logger"] == "attune_services.services"


async def test_a_cordoned_worker_finishes_its_runs_and_gets_no_new_work_until_uncordoned(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    async with Cluster(*installation) as cluster:
        cluster.start("executor")
        await cluster.start_workers("worker-a", "worker-b")
        async with cluster.store.read() as uow:
            by_name = {w.name: w.id for w in await uow.workers.list()}
        cordoned, other = by_name["worker-a"], by_name["worker-b"]

        async def placed(ids: list[int]) -> list[int | None]:
            async with cluster.store.read() as uow:
                return [(await uow.executions.get(i)).worker for i in ids]

        async def cordon(worker_id: int, value: bool) -> None:
            async with cluster.store.transaction() as uow:
                await uow.workers.update(worker_id, cordoned=value)

        # Work running on worker-a when it is cordoned runs to its end there (worker-b is
        # cordoned first, so that it goes to worker-a).
        await cordon(other, True)
        await anyio.sleep(1.5)  # executors see a cordon within a second (docs/deployment.md)
        [long] = await cluster.request(Execution(action_ref="demo.wait", config={"seconds": 3}))

        async def long_runs() -> bool:
            async with cluster.store.read() as uow:
                return (await uow.executions.get(long)).status is ExecutionStatus.RUNNING

        await until_true(long_runs)
        assert await placed([long]) == [cordoned]
        await cordon(cordoned, True)
        await cordon(other, False)
        await anyio.sleep(1.5)
        while_cordoned = await cluster.request(
            *(Execution(action_ref="demo.wait", config={"seconds": 1}) for _ in range(6))
        )
        await until_true(lambda: all_terminal(cluster.store, [long, *while_cordoned]), 60)
        assert await placed(while_cordoned) == [other] * 6
        async with cluster.store.read() as uow:
            finished = await uow.executions.get(long)
        assert (finished.status, finished.worker) == (ExecutionStatus.COMPLETED, cordoned)

        # Every worker cordoned (maintenance): new work waits, it does not fail.
        await cordon(other, True)
        await anyio.sleep(1.5)
        [waiting] = await cluster.request(Execution(action_ref="demo.add", config={"a": 1}))
        await anyio.sleep(3)  # the executor looked at it at least twice (every 2 s)
        async with cluster.store.read() as uow:
            assert (await uow.executions.get(waiting)).status is ExecutionStatus.REQUESTED

        await cordon(cordoned, False)
        await cordon(other, False)
        await until_true(lambda: all_terminal(cluster.store, [waiting]), 30)
        async with cluster.store.read() as uow:
            assert (await uow.executions.get(waiting)).status is ExecutionStatus.COMPLETED
        await anyio.sleep(1.5)
        after = await cluster.request(
            *(Execution(action_ref="demo.wait", config={"seconds": 1}) for _ in range(6))
        )
        await until_true(lambda: all_terminal(cluster.store, after), 60)
        assert set(await placed(after)) == {cordoned, other}
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


async def test_a_worker_killed_mid_run_has_its_executions_settled(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    async with Cluster(*installation) as cluster:
        cluster.start("executor")
        victim = cluster.start("worker", "worker-victim")
        await until_true(lambda: count_is(cluster.active_workers(), 1))
        ids = await cluster.request(
            *(
                Execution(action_ref="demo.wait", config={"seconds": 8, "tag": str(n)})
                for n in range(6)
            )
        )

        async def some_running() -> bool:
            async with cluster.store.read() as uow:
                return await uow.executions.count(status=ExecutionStatus.RUNNING) > 0

        await until_true(some_running)
        cluster.kill(victim)
        cluster.start("worker", "worker-survivor")

        async def survivor_registered() -> bool:
            async with cluster.store.read() as uow:
                return any(w.name == "worker-survivor" for w in await uow.workers.list())

        # Running before the end: a process stopped while it starts up has nothing to show.
        await until_true(survivor_registered, 60)
        # The runs on the dead worker are abandoned once its heartbeat is stale (3 s); what it
        # had not started goes back to the queue and runs on the survivor (8 s each, 10 at
        # once).
        await until_true(lambda: all_terminal(cluster.store, ids), 90)
        async with cluster.store.read() as uow:
            finished = [await uow.executions.get(i) for i in ids]
            histories = [
                await uow.execution_history.query(entity_id=i, changed_field="status") for i in ids
            ]
            workers = await uow.workers.list()
        statuses = [e.status for e in finished]
        abandoned = [e for e in finished if e.status is ExecutionStatus.ABANDONED]
        assert set(statuses) <= {ExecutionStatus.ABANDONED, ExecutionStatus.COMPLETED}
        assert abandoned, statuses
        assert all("stopped responding" in e.result["error"] for e in abandoned)
        # None finished twice: exactly one transition into a terminal status each.
        for history in histories:
            terminal = [h for h in history if ExecutionStatus(h.new_values["status"]).is_terminal]
            assert len(terminal) == 1
        by_name = {w.name: w.status for w in workers}
        assert by_name["worker-victim"] is WorkerStatus.INACTIVE
        print(
            f"\nsubmitted {len(ids)}, completed {statuses.count(ExecutionStatus.COMPLETED)}, "
            f"abandoned {len(abandoned)}, duplicates 0, lost 0"
        )
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


async def test_api_service_runs_actions_through_the_distributed_engine(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    import httpx

    settings, environ = installation
    port = free_port()
    environ = {**environ, "ATTUNE__SERVER__PORT": str(port)}
    created = await anyio.run_process(
        [
            sys.executable,
            "-m",
            "attune_cli",
            "identity",
            "create",
            "ops@example.com",
            "--password",
            "Sup3r-secret!",
        ],
        env=environ,
        check=False,
    )
    assert created.returncode == 0, created.stderr.decode()
    async with (
        Cluster(settings, environ) as cluster,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
    ):
        for service in ("api", "executor", "worker"):
            cluster.start(service)

        async def api_up() -> bool:
            try:
                return (await http.get("/health")).status_code == 200
            except httpx.TransportError:
                return False

        await until_true(api_up)
        login = await http.post(
            "/auth/login", json={"login": "ops@example.com", "password": "Sup3r-secret!"}
        )
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['data']['access_token']}"
        requested = await http.post(
            "/api/v1/executions/execute",
            json={"action_ref": "demo.add", "parameters": {"a": 40, "b": 2}},
        )
        assert requested.status_code == 201, requested.text
        execution_id = requested.json()["data"]["id"]
        body: dict[str, Any] = {}

        async def finished() -> bool:
            nonlocal body
            body = (await http.get(f"/api/v1/executions/{execution_id}")).json()["data"]
            return body["status"] in ("completed", "failed")

        await until_true(finished, timeout=60)
        assert body["status"] == "completed", body
        assert body["result"]["data"] == {"sum": 42}
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


async def test_timer_rule_fires_through_the_sensor_service(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    from attune_core.model import Rule

    settings, environ = installation
    environ = {**environ, "ATTUNE__SENSOR__POLL_INTERVAL": "1"}
    async with Cluster(settings, environ) as cluster:
        cluster.start("sensor")
        cluster.start("executor")
        cluster.start("worker", "w")
        async with cluster.store.transaction() as uow:
            await uow.rules.create(
                Rule(
                    ref="demo.every_second",
                    pack_ref="demo",
                    label="Every second",
                    trigger_ref="core.intervaltimer",
                    trigger=(await uow.triggers.get_by_ref("core.intervaltimer")).id,
                    action_ref="demo.add",
                    action=(await uow.actions.get_by_ref("demo.add")).id,
                    trigger_params={"unit": "seconds", "interval": 1},
                    action_params={"a": 1, "b": 2},
                )
            )

        async def fired_twice() -> bool:
            async with cluster.store.read() as uow:
                done = await uow.executions.list(
                    rule_ref="demo.every_second", status=ExecutionStatus.COMPLETED
                )
            return len(done) >= 2

        await until_true(fired_twice, timeout=60)
        async with cluster.store.read() as uow:
            events = await uow.events.list(rule_ref="demo.every_second")
            runs = await uow.executions.list(rule_ref="demo.every_second")
        assert events and all(e.trigger_ref == "core.intervaltimer" for e in events)
        assert all(e.trigger_ref == "core.intervaltimer" for e in runs)
        completed = [e for e in runs if e.status is ExecutionStatus.COMPLETED]
        assert all(e.result["data"] == {"sum": 3} for e in completed)
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)
