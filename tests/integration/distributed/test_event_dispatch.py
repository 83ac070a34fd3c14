"""An event posted to a distributed API: the execution it requests that needs only a worker is
dispatched from the event's transaction (no executor involved), while a workflow it requests
waits for an executor; ``event.created`` and ``enforcement.created`` are not published unless
``message_queue.announce_events`` is set."""

from __future__ import annotations

import json
import re
import signal
from typing import Any

import pytest

from attune_core.config import Settings
from attune_core.model import ExecutionStatus, Rule
from tests.integration.distributed.cluster import (
    Cluster,
    api_client,
    create_identity,
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

TRAFFIC = re.compile(r"attune\.traffic api: .* published=\d+ (\{.*\})")


async def _rule(cluster: Cluster, ref: str, action_ref: str, params: dict[str, Any]) -> None:
    async with cluster.store.transaction() as uow:
        trigger = await uow.triggers.get_by_ref("core.webhook")
        action = await uow.actions.get_by_ref(action_ref)
        await uow.rules.create(
            Rule(
                ref=ref,
                pack_ref="demo",
                label=ref,
                trigger_ref="core.webhook",
                trigger=trigger.id,
                action_ref=action_ref,
                action=action.id,
                action_params=params,
            )
        )


async def _published_by_api(cluster: Cluster) -> dict[str, int]:
    """The API's bus messages so far, by routing key (its ``attune.traffic`` line)."""
    api = cluster.processes[0]
    before = len(TRAFFIC.findall(cluster.output(api)))
    api.send_signal(signal.SIGUSR1)
    found: list[str] = []

    async def logged() -> bool:
        nonlocal found
        found = TRAFFIC.findall(cluster.output(api))
        return len(found) > before

    await until_true(logged, 30)
    published: dict[str, int] = json.loads(found[-1])
    return published


@pytest.mark.timeout(240)
async def test_an_event_dispatches_a_plain_action_without_an_executor(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    settings, environ = installation
    await create_identity(environ)
    port = free_port()
    async with Cluster(settings, environ) as cluster:
        await _rule(cluster, "demo.on_add", "demo.add", {"a": "{{ event.payload.n }}", "b": 1})
        await _rule(cluster, "demo.on_chain", "demo.chain", {"a": 5, "who": "event"})
        cluster.environ = {**environ, "ATTUNE__SERVER__PORT": str(port)}
        cluster.start("api")
        cluster.environ = environ
        cluster.start("worker", "w")
        async with api_client(f"http://127.0.0.1:{port}") as http:
            await until_true(lambda: _has_active_worker(cluster), 90)
            posted = await http.post(
                "/api/v1/events", json={"trigger_ref": "core.webhook", "payload": {"n": 41}}
            )
            assert posted.status_code == 201, posted.text

            async def executions() -> dict[str, Any]:
                async with cluster.store.read() as uow:
                    found = await uow.executions.list(trigger_ref="core.webhook", parent=None)
                return {e.action_ref: e for e in found}

            async def added() -> bool:
                found = (await executions()).get("demo.add")
                return found is not None and found.status.is_terminal

            # No executor runs: the API scheduled it, the worker ran it.
            await until_true(added, 60)
            found = await executions()
            assert found["demo.add"].status is ExecutionStatus.COMPLETED
            assert found["demo.add"].result["data"] == {"sum": 42}
            # A workflow is the executor's: it waits, requested.
            assert found["demo.chain"].status is ExecutionStatus.REQUESTED
            published = await _published_by_api(cluster)
            assert "event.created" not in published and "enforcement.created" not in published
            assert published["execution.requested"] == 1  # the workflow's
            assert sum(n for k, n in published.items() if k.startswith("execution.dispatch")) == 1

            cluster.start("executor")

            async def chained() -> bool:
                return (await executions())["demo.chain"].status.is_terminal

            await until_true(chained, 90)
            chain = (await executions())["demo.chain"]
            assert chain.status is ExecutionStatus.COMPLETED, chain.result
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)


async def _has_active_worker(cluster: Cluster) -> bool:
    return len(await cluster.active_workers()) == 1
