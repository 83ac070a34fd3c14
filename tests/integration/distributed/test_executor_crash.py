"""Fault test: kill -9 an executor in the middle of workflows while a second one runs, then start
it again. Every workflow reaches a terminal state, no task runs twice, none hangs."""

from __future__ import annotations

import collections

import pytest

from attune_core.config import Settings
from attune_core.model import Execution, ExecutionStatus
from attune_core.packs import register_pack
from tests.integration.distributed.cluster import Cluster, all_terminal, until_true

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.slow,
    pytest.mark.anyio,
]

STEPS = 6
STEPS_WORKFLOW = "label: Steps\nversion: 1.0.0\ntasks:\n" + "".join(
    f"  - name: s{n}\n    action: demo.wait\n    input: {{seconds: 0.05, tag: s{n}}}\n"
    + (f"    next: [{{when: '{{{{ succeeded() }}}}', do: s{n + 1}}}]\n" if n < STEPS - 1 else "")
    for n in range(STEPS)
)


@pytest.mark.timeout(300)
async def test_executor_killed_mid_workflows(
    installation: tuple[Settings, dict[str, str]],
) -> None:
    settings, environ = installation
    # No worker dies here: a heartbeat late under load (the cluster's 3 s limit) must not
    # abandon runs and blur what the executor's death does.
    environ = {**environ, "ATTUNE__WORKER__HEARTBEAT_STALE_AFTER": "60"}
    demo = settings.packs_base_dir / "demo"
    (demo / "actions" / "workflows" / "steps.workflow.yaml").write_text(STEPS_WORKFLOW)
    async with Cluster(settings, environ) as cluster:
        await register_pack(cluster.store, demo)
        victim = cluster.start("executor")
        cluster.start("executor")
        await cluster.start_workers("worker-a", "worker-b")
        workflows = await cluster.request(*(Execution(action_ref="demo.steps") for _ in range(30)))
        plain = await cluster.request(
            *(Execution(action_ref="demo.add", config={"a": n, "b": 2}) for n in range(20))
        )

        async def children_done(at_least: int) -> bool:
            async with cluster.store.read() as uow:
                done = await uow.executions.count(
                    action_ref="demo.wait", status=ExecutionStatus.COMPLETED
                )
            return done >= at_least

        # A third of the way through, the first executor dies without a goodbye.
        await until_true(lambda: children_done(len(workflows) * STEPS // 3), 120)
        cluster.kill(victim)
        await until_true(lambda: children_done(len(workflows) * STEPS * 2 // 3), 120)
        cluster.start("executor")  # and comes back
        everything = [*workflows, *plain]
        await until_true(lambda: all_terminal(cluster.store, everything), 180)
        async with cluster.store.read() as uow:
            parents = [await uow.executions.get(i) for i in everything]
            children = await uow.executions.list(parent=workflows, limit=1000)
            histories = {
                i: await uow.execution_history.query(entity_id=i, changed_field="status")
                for i in everything
            }
    runs = collections.Counter(
        (c.parent, (c.workflow_task or {}).get("task_name")) for c in children
    )
    duplicates = sum(n - 1 for n in runs.values() if n > 1)
    missing = sum(1 for w in workflows for n in range(STEPS) if runs.get((w, f"s{n}"), 0) == 0)
    completed = [p for p in parents if p.status is ExecutionStatus.COMPLETED]
    twice = [
        i
        for i, history in histories.items()
        if sum(ExecutionStatus(h.new_values["status"]).is_terminal for h in history) > 1
    ]
    print(
        f"\nexecutors 2 (one killed with kill -9 and restarted): submitted {len(workflows)} "
        f"workflows x {STEPS} tasks + {len(plain)} actions, completed {len(completed)}, "
        f"task runs {sum(runs.values())}, duplicates {duplicates}, lost {missing}, "
        f"finished twice {len(twice)}"
    )
    assert duplicates == 0, [k for k, n in runs.items() if n > 1]
    assert missing == 0
    assert not twice
    assert [p.status for p in parents] == [ExecutionStatus.COMPLETED] * len(everything)
    assert cluster.stopped_cleanly(), "\n".join(cluster.outputs)
