"""Timer triggers driven by a FakeClock (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from attune_core.errors import ValidationError
from attune_core.model import ExecutionStatus
from attune_core.testing import AttuneTestEnvironment
from tests.integration.engine.conftest import START

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_interval_timer_fires_on_schedule_pinned_to_its_rule(
    env: AttuneTestEnvironment,
) -> None:
    noop = env.mock_action("core.noop", {"stdout": ""})
    rule = await env.attune.create_rule(
        "demo.every_ten",
        trigger_ref="core.intervaltimer",
        action_ref="core.noop",
        trigger_params={"unit": "seconds", "interval": 10},
    )
    await env.settle()
    await env.advance(35)
    events = sorted(await env.attune.events(rule_ref="demo.every_ten"), key=lambda e: e.id or 0)
    assert [e.payload["scheduled_at"] for e in events] == [
        (START + timedelta(seconds=s)).isoformat() for s in (10, 20, 30)
    ]
    assert [e.payload["execution_count"] for e in events] == [1, 2, 3]
    assert {e.rule for e in events} == {rule.id}
    assert events[0].payload["type"] == "interval"
    assert events[0].payload["interval_seconds"] == 10
    assert len(noop.calls) == 3
    runs = await env.attune.executions(action_ref="core.noop")
    assert {r.status for r in runs} == {ExecutionStatus.COMPLETED}
    assert {r.rule_ref for r in runs} == {"demo.every_ten"}


async def test_disable_stops_and_enable_restarts_a_timer(env: AttuneTestEnvironment) -> None:
    env.mock_action("core.noop", {})
    await env.attune.create_rule(
        "demo.minutely",
        trigger_ref="core.intervaltimer",
        action_ref="core.noop",
        trigger_params={"unit": "minutes", "interval": 1},
    )
    await env.settle()
    await env.advance(60)
    assert len(await env.attune.events(rule_ref="demo.minutely")) == 1
    await env.attune.disable_rule("demo.minutely")
    await env.advance(300)
    assert len(await env.attune.events(rule_ref="demo.minutely")) == 1
    await env.attune.enable_rule("demo.minutely")
    await env.settle()
    await env.advance(60)
    assert len(await env.attune.events(rule_ref="demo.minutely")) == 2
    await env.attune.delete_rule("demo.minutely")
    await env.advance(600)
    assert env.attune.timers.timers == {}


async def test_cron_timer_with_seconds_and_timezone(env: AttuneTestEnvironment) -> None:
    env.mock_action("core.noop", {})
    await env.attune.create_rule(
        "demo.cron",
        trigger_ref="core.crontimer",
        action_ref="core.noop",
        trigger_params={"expression": "*/15 * * * * *", "timezone": "Europe/Paris"},
    )
    await env.attune.create_rule(
        "demo.paris_one_am",
        trigger_ref="core.crontimer",
        action_ref="core.noop",
        # 01:00:00 in Paris is 00:00:00 UTC in January.
        trigger_params={"expression": "0 0 1 * * *", "timezone": "Europe/Paris"},
    )
    await env.settle()
    await env.advance(61)
    cron = sorted(await env.attune.events(rule_ref="demo.cron"), key=lambda e: e.id or 0)
    assert [e.payload["scheduled_at"] for e in cron] == [
        (START + timedelta(seconds=s)).isoformat() for s in (15, 30, 45, 60)
    ]
    assert cron[0].payload["timezone"] == "Europe/Paris"
    await env.advance(24 * 3600 - 61)
    [daily] = await env.attune.events(rule_ref="demo.paris_one_am")
    assert daily.payload["scheduled_at"] == (START + timedelta(days=1)).isoformat()


async def test_datetime_timer_fires_once_and_never_in_the_past(
    env: AttuneTestEnvironment,
) -> None:
    env.mock_action("core.noop", {})
    await env.attune.create_rule(
        "demo.once",
        trigger_ref="core.datetimetimer",
        action_ref="core.noop",
        trigger_params={"fire_at": "2026-01-01T01:00:00", "timezone": "Europe/Paris"},
    )
    await env.attune.create_rule(
        "demo.past",
        trigger_ref="core.datetimetimer",
        action_ref="core.noop",
        trigger_params={"fire_at": "2025-12-31T23:00:00Z"},
    )
    await env.attune.create_rule(
        "demo.later",
        trigger_ref="core.datetimetimer",
        action_ref="core.noop",
        trigger_params={"fire_at": "2026-01-01T00:30:00+00:00"},
    )
    await env.settle()
    await env.advance(3600)
    assert await env.attune.events(rule_ref="demo.past") == []
    [later] = await env.attune.events(rule_ref="demo.later")
    assert later.payload["type"] == "one_shot"
    # 01:00 in Paris is midnight UTC: already now when the timer started, so it never fires.
    assert await env.attune.events(rule_ref="demo.once") == []
    await env.advance(86400)
    assert len(await env.attune.events(rule_ref="demo.later")) == 1


async def test_bad_timer_parameters_are_refused(env: AttuneTestEnvironment) -> None:
    bad = [
        ("core.crontimer", {"expression": "* * * * *"}),
        ("core.crontimer", {"expression": "99 * * * * *"}),
        ("core.crontimer", {"expression": "* * * * * *", "timezone": "Mars/Olympus"}),
        ("core.intervaltimer", {"unit": "weeks", "interval": 1}),
        ("core.intervaltimer", {"interval": 0}),
        ("core.datetimetimer", {"fire_at": "tomorrow"}),
    ]
    for index, (trigger, params) in enumerate(bad):
        with pytest.raises(ValidationError):
            await env.attune.create_rule(
                f"demo.bad{index}",
                trigger_ref=trigger,
                action_ref="core.noop",
                trigger_params=params,
            )
    assert await env.attune.rules(trigger_ref="core.crontimer") == []


async def test_many_missed_slots_are_caught_up_without_drift(env: AttuneTestEnvironment) -> None:
    env.mock_action("core.noop", {})
    await env.attune.create_rule(
        "demo.fast",
        trigger_ref="core.intervaltimer",
        action_ref="core.noop",
        trigger_params={"interval": 1},
    )
    await env.settle()
    await env.advance(20)
    events = await env.attune.events(rule_ref="demo.fast")
    slots = sorted(datetime.fromisoformat(e.payload["scheduled_at"]) for e in events)
    assert slots == [START + timedelta(seconds=s) for s in range(1, 21)]
