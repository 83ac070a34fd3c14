"""History, analytics in hourly buckets and retention, on a FakeClock (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attune_core.errors import ValidationError
from attune_core.model import ExecutionStatus
from attune_core.testing import AttuneTestEnvironment
from tests.integration.engine.conftest import START

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_hourly_series_and_failure_rate(env: AttuneTestEnvironment) -> None:
    attune = env.attune
    env.mock_action("core.noop", {})
    env.mock_action("core.echo", {}, status="failed")
    await attune.create_rule("demo.a", trigger_ref="core.webhook", action_ref="core.noop")
    await attune.fire("core.webhook", {})
    await attune.fire("core.webhook", {})
    await env.settle()
    await env.advance(3600)
    await attune.fire("core.webhook", {})
    await attune.run("core.echo", {"message": "x"})
    await env.settle()

    hour0, hour1 = START.isoformat(), (START + timedelta(hours=1)).isoformat()
    volume = await attune.analytics_series("events/volume", hours=2)
    assert volume == [
        {"bucket": hour0, "label": "core.webhook", "value": 2},
        {"bucket": hour1, "label": "core.webhook", "value": 1},
    ]
    enforcements = await attune.analytics_series("enforcements/volume")
    assert [p["value"] for p in enforcements] == [2, 1]
    status = await attune.analytics_series("executions/status", hours=2)
    assert {(p["bucket"], p["label"], p["value"]) for p in status} == {
        (hour0, "completed", 2),
        (hour1, "completed", 1),
        (hour1, "failed", 1),
    }
    rate = await attune.analytics_series("executions/failure-rate", hours=2)
    assert rate == {
        "total_terminal": 4,
        "failed_count": 1,
        "timeout_count": 0,
        "completed_count": 3,
        "failure_rate_pct": 25.0,
    }
    dashboard = await attune.analytics_series("dashboard", hours=2)
    assert dashboard["events"]["total"] == 3
    assert dashboard["executions"]["by_status"] == {"completed": 3, "failed": 1}
    assert (
        await attune.analytics_series(
            "events/volume", since=START - timedelta(hours=5), until=START - timedelta(hours=1)
        )
        == []
    )
    for bad in ({"hours": 0}, {"hours": 9000}):
        with pytest.raises(ValidationError):
            await attune.analytics_series("events/volume", **bad)
    with pytest.raises(ValidationError):
        await attune.analytics_series("nope")


async def test_execution_history_filters(env: AttuneTestEnvironment) -> None:
    env.mock_action("core.noop", {})
    execution = await env.run("core.noop")
    records = await env.attune.history("execution", entity_id=execution.id)
    assert records[-1].operation == "INSERT"
    changes = await env.attune.history(
        "execution", entity_id=execution.id, changed_field="status", operation="update"
    )
    assert [r.new_values["status"] for r in reversed(changes)] == [
        "scheduled",
        "running",
        "completed",
    ]
    assert await env.attune.history("worker", entity_ref="nobody") == []


async def test_retention_purges_old_rows_in_batches_and_keeps_unfinished_ones(
    env: AttuneTestEnvironment,
) -> None:
    attune = env.attune
    env.mock_action("core.noop", {})
    await attune.create_rule("demo.r", trigger_ref="core.webhook", action_ref="core.noop")
    for _ in range(5):
        await attune.fire("core.webhook", {})
    asking = await attune.execute("core.ask", {"prompt": "still there?"})
    await env.settle()
    await env.advance(89 * 86400)
    assert len(await attune.events()) == 5
    recent = await attune.fire("core.webhook", {})
    await env.settle()
    await env.advance(2 * 86400)
    await env.advance(3600)  # the hourly job runs on the fake clock, now past 90 days
    events = await attune.events()
    assert [e.id for e in events] == [recent.id]
    assert len(await attune.enforcements()) == 1
    remaining = await attune.executions()
    assert {e.id for e in remaining if e.action_ref == "core.ask"} == {asking.id}
    assert [e.status for e in remaining if e.rule_ref] == [ExecutionStatus.COMPLETED]
    removed = await attune.retention.purge()
    assert removed["events"] == 0
