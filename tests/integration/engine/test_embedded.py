"""The embedded engine runs real actions and workflows end to end (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import anyio
import pytest

from attune_core.app import Attune
from attune_core.errors import NotFound
from attune_core.model import Execution, ExecutionStatus

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T = TypeVar("T")
COMPLETED, FAILED = ExecutionStatus.COMPLETED, ExecutionStatus.FAILED


async def until(
    fetch: Callable[[], Awaitable[T]], ready: Callable[[T], bool], timeout: float = 30
) -> T:
    """Poll ``fetch`` until ``ready`` holds (the database is the truth; there is no event)."""
    with anyio.fail_after(timeout):
        while not ready(found := await fetch()):  # noqa: ASYNC110
            await anyio.sleep(0.05)
    return found


def tasks_of(children: list[Execution]) -> list[tuple[str, str]]:
    return [(c.workflow_task["task_name"], c.status.value) for c in children]  # type: ignore[index]


async def test_shell_action_with_dotenv_parameters_and_defaults(attune: Attune) -> None:
    execution = await attune.run("demo.greet", {"name": "Ada"}, timeout=30)
    assert execution.status is COMPLETED
    assert execution.result["stdout"] == "Hello, Ada!\n"
    assert execution.result["exit_code"] == 0
    assert execution.config == {"name": "Ada", "punctuation": "!"}
    assert execution.started_at is not None


async def test_python_action_json_output_is_parsed(attune: Attune) -> None:
    execution = await attune.run("demo.add", {"a": 2, "b": 40}, timeout=30)
    assert execution.status is COMPLETED
    assert execution.result["data"] == {"sum": 42}


async def test_failing_action_reports_exit_code_and_stderr(attune: Attune) -> None:
    execution = await attune.run("demo.fail", {"code": 7}, timeout=30)
    assert execution.status is FAILED
    assert execution.result["exit_code"] == 7
    assert execution.result["succeeded"] is False
    assert execution.result["error"] in ("something broke", "Command exited with code 7")
    assert await anyio.Path(execution.result["stderr_log"]).read_text() == "something broke\n"


async def test_invalid_parameters_fail_with_the_reason(attune: Attune) -> None:
    missing = await attune.run("demo.add", {"b": 1}, timeout=30)
    wrong = await attune.run("demo.add", {"a": "two"}, timeout=30)
    assert (missing.status, wrong.status) == (FAILED, FAILED)
    assert "a" in missing.result["error"] and "required" in missing.result["error"]
    assert "a" in wrong.result["error"] and "integer" in wrong.result["error"]


async def test_unknown_action_is_not_found(attune: Attune) -> None:
    with pytest.raises(NotFound, match=r"demo\.nope"):
        await attune.execute("demo.nope")


async def test_sequential_workflow_publishes_and_renders_output(attune: Attune) -> None:
    execution = await attune.run("demo.chain", {"a": 5, "who": "Bob"}, timeout=60)
    assert execution.status is COMPLETED, execution.result
    assert execution.result == {"total": 15, "greeting": "Hello, Bob (15)!\n"}
    assert execution.id is not None
    children = await attune.executions(parent=execution.id)
    assert tasks_of(children) == [("add", "completed"), ("greet", "completed")]
    add, greet = children
    assert add.config == {"a": 5, "b": 10}
    assert greet.config == {"name": "Bob (15)", "punctuation": "!"}
    assert add.workflow_task["why"]["message"]  # type: ignore[index]
    assert greet.workflow_task["why"]["transition"] == "next[0]"  # type: ignore[index]


async def test_with_items_runs_every_item_and_keeps_item_order(attune: Attune) -> None:
    execution = await attune.run("demo.items", {"numbers": [1, 2, 3, 4, 5]}, timeout=60)
    assert execution.status is COMPLETED, execution.result
    sums = [item["data"]["sum"] for item in execution.result["sums"]]
    assert sums == [1, 3, 5, 7, 9]
    assert execution.id is not None
    children = await attune.executions(parent=execution.id)
    assert sorted(c.workflow_task["task_index"] for c in children) == [0, 1, 2, 3, 4]  # type: ignore[index]


async def test_with_items_children_exist_up_front_and_start_as_slots_free(
    attune: Attune,
) -> None:
    tags = ["a", "b", "c", "d"]
    started = await attune.execute("demo.held_items", {"tags": tags})
    assert started.id is not None
    parent = started.id

    async def all_children() -> list[Execution]:
        return await attune.executions(parent=parent)

    # All four children exist while the first item is still running, with rendered inputs.
    children = await until(all_children, lambda found: len(found) == len(tags))
    by_index = sorted(children, key=lambda c: c.workflow_task["task_index"])  # type: ignore[index]
    assert [c.config["tag"] for c in by_index] == ["a-0", "b-1", "c-2", "d-3"]  # type: ignore[index]
    assert by_index[-1].status is ExecutionStatus.REQUESTED
    assert by_index[-1].workflow_task["held"] is True  # type: ignore[index]
    # Never more than `concurrency` (1) of them past `requested` and unfinished at once.
    seen_active = 0
    while True:
        children = await attune.executions(parent=parent)
        active = [
            c for c in children if c.status in (ExecutionStatus.SCHEDULED, ExecutionStatus.RUNNING)
        ]
        seen_active = max(seen_active, len(active))
        if all(c.status.is_terminal for c in children):
            break
        await anyio.sleep(0.05)
    assert seen_active == 1
    done = await attune.wait(parent, timeout=60)
    assert done.status is COMPLETED, done.result
    children = sorted(
        await attune.executions(parent=parent),
        key=lambda c: c.workflow_task["task_index"],  # type: ignore[index]
    )
    assert [c.status for c in children] == [COMPLETED] * 4
    assert [c.result["stdout"].strip() for c in children] == [  # type: ignore[index]
        "done a-0",
        "done b-1",
        "done c-2",
        "done d-3",
    ]
    starts = [c.started_at for c in children]
    assert starts == sorted(starts)  # type: ignore[type-var]


async def test_with_items_items_never_started_end_cancelled_when_an_item_fails(
    attune: Attune,
) -> None:
    execution = await attune.run("demo.failing_items", timeout=60)
    assert execution.status is FAILED
    assert execution.id is not None
    children = sorted(
        await attune.executions(parent=execution.id),
        key=lambda c: c.workflow_task["task_index"],  # type: ignore[index]
    )
    assert [c.status for c in children] == [
        COMPLETED,
        FAILED,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.CANCELLED,
    ]
    assert "not started" in children[2].result["error"]  # type: ignore[index]
    assert children[2].started_at is None


async def test_handled_failure_completes_the_workflow(attune: Attune) -> None:
    execution = await attune.run("demo.recover", timeout=60)
    assert execution.status is COMPLETED, execution.result
    assert execution.result["error"]
    assert execution.id is not None
    assert tasks_of(await attune.executions(parent=execution.id)) == [
        ("break_it", "failed"),
        ("cleanup", "completed"),
    ]


async def test_unhandled_failure_fails_the_workflow_with_the_reason(attune: Attune) -> None:
    execution = await attune.run("demo.unhandled", timeout=60)
    assert execution.status is FAILED
    assert "broken" in execution.result["error"]
    assert execution.id is not None
    assert sorted(tasks_of(await attune.executions(parent=execution.id))) == [
        ("broken", "failed"),
        ("ok", "completed"),
    ]


async def test_retry_makes_each_attempt_its_own_child(attune: Attune, tmp_path: Path) -> None:
    counter = tmp_path / "calls"
    execution = await attune.run("demo.retrying", {"counter_file": str(counter)}, timeout=60)
    assert execution.status is COMPLETED, execution.result
    assert execution.result == {"calls": 3}
    assert execution.id is not None
    attempts = await attune.executions(parent=execution.id)
    assert [(a.status.value, a.workflow_task["retry_count"]) for a in attempts] == [  # type: ignore[index]
        ("failed", 0),
        ("failed", 1),
        ("completed", 2),
    ]
    first = attempts[0].id
    assert [a.original_execution for a in attempts] == [None, first, first]


async def test_nested_workflow(attune: Attune) -> None:
    execution = await attune.run("demo.nested", timeout=60)
    assert execution.status is COMPLETED, execution.result
    assert execution.result == {"inner_total": 15}


async def test_cancel_a_running_workflow_cancels_its_children(attune: Attune) -> None:
    execution = await attune.execute("demo.long")
    assert execution.id is not None
    running = await until(
        lambda: attune.executions(parent=execution.id, status=ExecutionStatus.RUNNING),
        lambda found: len(found) == 2,
    )
    await attune.cancel(execution.id)
    done = await attune.wait(execution.id, timeout=30)
    assert done.status is ExecutionStatus.CANCELLED
    children = await attune.executions(parent=execution.id)
    assert {c.status for c in children} == {ExecutionStatus.CANCELLED}
    assert len(running) == 2


async def test_cancel_before_and_while_running(attune: Attune) -> None:
    running = await attune.execute("demo.slow", {"seconds": 20})
    queued = await attune.execute("demo.slow", {"seconds": 20})  # waits: policy threshold 1
    assert running.id is not None and queued.id is not None
    await until(
        lambda: attune.get_execution(running.id),  # type: ignore[arg-type]
        lambda found: found.status is ExecutionStatus.RUNNING,
    )
    assert (await attune.get_execution(queued.id)).status is ExecutionStatus.REQUESTED
    cancelled_early = await attune.cancel(queued.id)
    canceling = await attune.cancel(running.id)
    assert cancelled_early.status is ExecutionStatus.CANCELLED
    assert canceling.status is ExecutionStatus.CANCELING
    finished = await attune.wait(running.id, timeout=30)
    assert finished.status is ExecutionStatus.CANCELLED


async def test_concurrency_policy_queues_in_fifo_order(attune: Attune) -> None:
    requested = [
        await attune.execute("demo.slow", {"seconds": 0.1, "tag": str(n)}) for n in range(4)
    ]
    finished = [await attune.wait(e.id, timeout=60) for e in requested if e.id is not None]
    assert [e.status for e in finished] == [COMPLETED] * 4
    starts = [e.started_at for e in finished]
    ends = [e.updated for e in finished]
    assert starts == sorted(starts)  # type: ignore[type-var]
    for previous_end, next_start in zip(ends, starts[1:], strict=False):
        assert next_start >= previous_end  # type: ignore[operator]


async def test_rerun_repeats_with_the_same_parameters(attune: Attune) -> None:
    first = await attune.run("demo.add", {"a": 1, "b": 2}, timeout=30)
    assert first.id is not None
    again = await attune.rerun(first.id)
    assert again.id is not None
    done = await attune.wait(again.id, timeout=30)
    assert done.result["data"] == {"sum": 3}
    assert done.original_execution == first.id


async def test_pause_holds_the_next_task_until_resume(attune: Attune) -> None:
    execution = await attune.execute("demo.two_steps")
    assert execution.id is not None
    await until(
        lambda: attune.executions(parent=execution.id, status=ExecutionStatus.RUNNING),  # type: ignore[arg-type]
        lambda found: len(found) == 1,
    )
    await attune.pause(execution.id)
    first = (await attune.executions(parent=execution.id))[0]
    assert first.id is not None
    await attune.wait(first.id, timeout=30)
    await anyio.sleep(0.5)  # time enough for the second task to start, were it not paused
    assert tasks_of(await attune.executions(parent=execution.id)) == [("first", "completed")]
    async with attune.store.read() as uow:
        record = await uow.workflow_executions.find_by_execution(execution.id)
    assert record is not None and record.paused
    assert (await attune.get_execution(execution.id)).status is ExecutionStatus.RUNNING

    await attune.resume(execution.id)
    done = await attune.wait(execution.id, timeout=30)
    assert done.status is COMPLETED
    assert tasks_of(await attune.executions(parent=execution.id)) == [
        ("first", "completed"),
        ("second", "completed"),
    ]


async def test_broken_workflow_definition_fails_the_execution_with_the_reason(
    attune: Attune,
) -> None:
    async with attune.store.transaction() as uow:
        workflow = await uow.workflow_definitions.get_by_ref("demo.chain")
        assert workflow.id is not None
        await uow.workflow_definitions.update(
            workflow.id,
            definition={
                "tasks": [{"name": "a", "action": "demo.add", "next": [{"do": "missing"}]}]
            },
        )
    execution = await attune.run("demo.chain", {"a": 1}, timeout=30)
    assert execution.status is FAILED
    assert "missing" in execution.result["error"]


async def test_action_environment_and_execution_token(attune: Attune) -> None:
    from attune_core.security import TokenKind, TokenService

    execution = await attune.run("demo.env", timeout=30)
    assert execution.status is COMPLETED, execution.result
    env = execution.result["data"]["env"]
    assert env["ATTUNE_ACTION"] == "demo.env"
    assert env["ATTUNE_EXEC_ID"] == str(execution.id)
    assert env["ATTUNE_API_URL"] == attune.settings.server.public_url
    assert execution.result["data"]["secret_param_reversed"] == "neddih"  # on stdin...
    assert execution.result["data"]["secret_param"] == "********"  # ...masked when printed
    assert execution.result["data"]["secret_in_env"] is False  # ...never in the environment
    claims = TokenService(secret=attune.settings.security.jwt_secret).decode(
        env["ATTUNE_API_TOKEN"], [TokenKind.EXECUTION]
    )
    assert claims.metadata["execution_id"] == execution.id


async def test_files_in_the_artifacts_dir_become_artifacts_of_the_execution(
    attune: Attune,
) -> None:
    from attune_core.model import ArtifactType

    execution = await attune.run("demo.report", timeout=30)
    assert execution.status is COMPLETED, execution.result
    artifacts = await until(
        lambda: attune.artifacts(execution=execution.id), lambda found: len(found) == 2
    )
    by_name = {a.name: a for a in artifacts}
    assert by_name["report.txt"].type is ArtifactType.FILE_TEXT
    assert by_name["hosts.csv"].type is ArtifactType.FILE_DATATABLE
    assert by_name["report.txt"].ref == "demo.report.report.txt"
    report = by_name["report.txt"].id
    assert report is not None
    assert await attune.artifact_content(report) == b"all good\n"
