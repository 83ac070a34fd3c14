"""Custom sensor processes (docs/sensors.md): real processes, SQLite and PostgreSQL.

The fixture pack tests/fixtures/engine/sensors holds the two example sensors of the docs
(greeter.py, ticker.sh) and two misbehaving ones (noisy.sh, crashy.sh).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from attune_core.app import Attune
from attune_core.config import load_settings
from attune_core.engine._sensors import SENSOR_LOGIN, SensorState
from attune_core.errors import NotFound
from attune_core.model import Event, ExecutionStatus
from attune_core.security import Operation, Resource, Subject, TokenKind, is_allowed
from tests.integration.engine.conftest import _sql

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SENSORS_PACK = Path(__file__).resolve().parents[2] / "fixtures" / "engine" / "sensors"


@pytest.fixture
async def attune(backend: str, tmp_path: Path) -> AsyncIterator[Attune]:
    """An embedded Attune on the system clock with the sensors pack and quick restarts."""
    environ = {
        "ATTUNE__DATA_DIR": str(tmp_path / "data"),
        "HOME": str(tmp_path),
        "ATTUNE__SENSOR__RESTART_BACKOFF": "0.1",
        "ATTUNE__SENSOR__MAX_RESTART_BACKOFF": "0.4",
        "ATTUNE__SENSOR__MAX_RESTARTS": "3",
    }
    schema = None
    if backend != "sqlite":
        schema = f"attune_test_{secrets.token_hex(6)}"
        await _sql(f'CREATE SCHEMA "{schema}"')
        environ |= {"ATTUNE__DATABASE__URL": backend, "ATTUNE__DATABASE__SCHEMA": schema}
    settings = load_settings(env="test", environ=environ, base_dir=tmp_path)
    try:
        async with Attune.embedded(settings=settings, packs=[SENSORS_PACK]) as engine:
            yield engine
    finally:
        if schema is not None:
            await _sql(f'DROP SCHEMA "{schema}" CASCADE')


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    """Poll ``check`` until it returns something truthy; that value."""
    with anyio.fail_after(timeout):
        while True:
            value = await check()
            if value:
                return value
            await anyio.sleep(0.05)


async def events_of(attune: Attune, trigger_ref: str) -> list[Event]:
    return sorted(await attune.events(trigger_ref=trigger_ref), key=lambda e: e.id or 0)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_sensor_runs_only_while_an_enabled_rule_uses_its_trigger(attune: Attune) -> None:
    assert (await attune.sensor_status("sensors.greeter")).state is SensorState.STOPPED
    assert attune.sensor_host.running == []
    for unknown in (attune.sensor_status, attune.sensor_logs, attune.enable_sensor):
        with pytest.raises(NotFound):
            await unknown("sensors.nope")
    rule = await attune.create_rule(
        "sensors.on_greeting", trigger_ref="sensors.greeting", action_ref="core.noop"
    )

    async def greeted() -> list[Event]:
        return await events_of(attune, "sensors.greeting")

    [event] = await eventually(greeted)
    assert event.payload == {"greeting": "hello", "reason": "start", "rules": [rule.ref]}
    assert event.source_ref == "sensors.greeter"
    status = await attune.sensor_status("sensors.greeter")
    assert status.state is SensorState.RUNNING
    assert status.events == 1
    assert status.triggers == [
        {
            "rule_id": rule.id,
            "rule_ref": "sensors.on_greeting",
            "trigger_ref": "sensors.greeting",
            "trigger_params": {},
        }
    ]
    [execution] = await eventually(lambda: attune.executions(action_ref="core.noop"))
    finished = await attune.wait(execution.id or 0, timeout=15)
    assert finished.status is ExecutionStatus.COMPLETED
    assert finished.rule_ref == "sensors.on_greeting"
    assert finished.trigger_ref == "sensors.greeting"
    # Its stderr is its log.
    assert any(
        "[stderr] sensors.greeter: 1 rule(s)" in line
        for line in await attune.sensor_logs("sensors.greeter")
    )
    assert attune.sensor_host.running == ["sensors.greeter"]
    # Its API token (ATTUNE_API_TOKEN) is a sensor token of attune:sensors, which may create
    # events through the API.
    async with attune.store.read() as uow:
        identity = await uow.identities.find_by_login(SENSOR_LOGIN)
        assert identity is not None and identity.id is not None
        roles = await uow.permission_sets.list_for_identity(identity.id)
    subject = Subject(
        identity_id=identity.id,
        grants=[g for role in roles for g in role.grants],
        token_kind=TokenKind.SENSOR,
    )
    assert is_allowed(subject, Resource.EVENT, Operation.CREATE)
    assert not is_allowed(subject, Resource.ACTION, Operation.EXECUTE)

    pid = status.pid
    assert pid is not None and alive(pid)
    await attune.disable_rule("sensors.on_greeting")

    async def stopped() -> bool:
        return (await attune.sensor_status("sensors.greeter")).state is SensorState.STOPPED

    await eventually(stopped)
    assert not alive(pid)
    assert attune.sensor_host.running == []


async def test_a_new_rule_reaches_the_running_sensor_on_stdin(attune: Attune) -> None:
    await attune.create_rule(
        "sensors.first", trigger_ref="sensors.greeting", action_ref="core.noop"
    )
    await eventually(lambda: events_of(attune, "sensors.greeting"))
    pid = (await attune.sensor_status("sensors.greeter")).pid

    await attune.create_rule(
        "sensors.second", trigger_ref="sensors.greeting", action_ref="core.noop"
    )

    async def two_events() -> list[Event] | None:
        events = await events_of(attune, "sensors.greeting")
        return events if len(events) == 2 else None

    events = await eventually(two_events)
    assert events[1].payload == {
        "greeting": "hello",
        "reason": "triggers",
        "rules": ["sensors.first", "sensors.second"],
    }
    status = await attune.sensor_status("sensors.greeter")
    assert status.pid == pid  # the same process: no restart
    assert status.restarts == 0
    assert [t["rule_ref"] for t in status.triggers] == ["sensors.first", "sensors.second"]
    # Both rules fired for the second event (not pinned).
    enforcements = await attune.enforcements(event=events[1].id)
    assert sorted(e.rule_ref for e in enforcements) == ["sensors.first", "sensors.second"]


async def test_the_shell_example_emits_its_ticks(attune: Attune) -> None:
    await attune.create_rule("sensors.on_tick", trigger_ref="sensors.tick", action_ref="core.noop")

    async def three() -> list[Event] | None:
        events = await events_of(attune, "sensors.tick")
        return events if len(events) == 3 else None

    events = await eventually(three)
    assert [e.payload for e in events] == [{"tick": 1}, {"tick": 2}, {"tick": 3}]

    async def all_ran() -> bool:
        runs = await attune.executions(action_ref="core.noop")
        return len(runs) == 3 and all(r.status is ExecutionStatus.COMPLETED for r in runs)

    await eventually(all_ran)
    # A rule change is a line on its stdin, which it writes to its log.
    await attune.create_rule(
        "sensors.on_tick_2", trigger_ref="sensors.tick", action_ref="core.noop"
    )

    async def logged() -> bool:
        lines = await attune.sensor_logs("sensors.ticker")
        return any("[stderr] rules changed:" in line and "on_tick_2" in line for line in lines)

    await eventually(logged)
    assert len(await events_of(attune, "sensors.tick")) == 3


async def test_disabling_the_sensor_stops_it_and_enabling_starts_it(attune: Attune) -> None:
    await attune.create_rule("sensors.on_tick", trigger_ref="sensors.tick", action_ref="core.noop")

    async def running() -> bool:
        return (await attune.sensor_status("sensors.ticker")).state is SensorState.RUNNING

    await eventually(running)
    pid = (await attune.sensor_status("sensors.ticker")).pid
    assert pid is not None
    sensor = await attune.disable_sensor("sensors.ticker")
    assert sensor.enabled is False
    await eventually(lambda: _true(not alive(pid)))

    async def stopped() -> bool:
        # The host records it once its task has seen the process reaped, a moment after.
        return (await attune.sensor_status("sensors.ticker")).state is SensorState.STOPPED

    await eventually(stopped, timeout=5)
    await attune.enable_sensor("sensors.ticker")
    await eventually(running)
    assert (await attune.sensor_status("sensors.ticker")).pid != pid


async def test_native_and_node_sensors(attune: Attune) -> None:
    await attune.create_rule(
        "sensors.on_hello", trigger_ref="sensors.hello", action_ref="core.noop"
    )

    async def both() -> list[Event] | None:
        events = await events_of(attune, "sensors.hello")
        return events if len(events) == 2 else None

    events = await eventually(both)
    by_source = {e.source_ref: e.payload for e in events}
    assert by_source == {
        "sensors.native": {"runtime": "native"},
        "sensors.noder": {"runtime": "node", "rules": ["sensors.on_hello"]},
    }


async def test_malformed_lines_are_logged_and_dropped(attune: Attune) -> None:
    await attune.create_rule(
        "sensors.on_noise", trigger_ref="sensors.noise", action_ref="core.noop"
    )

    async def two() -> list[Event] | None:
        events = await events_of(attune, "sensors.noise")
        return events if len(events) == 2 else None

    events = await eventually(two)
    assert [e.payload for e in events] == [{"n": 1}, {"n": 2}]

    async def five_rejected() -> bool:
        # The line the engine refused (an unknown rule) is counted when its batch's outcome
        # comes back, a moment after the batch's events are visible.
        return (await attune.sensor_status("sensors.noisy")).rejected_lines == 5

    await eventually(five_rejected, timeout=5)
    status = await attune.sensor_status("sensors.noisy")
    assert status.state is SensorState.RUNNING
    assert status.rejected_lines == 5
    rejected = [
        line for line in await attune.sensor_logs("sensors.noisy") if "rejected stdout line" in line
    ]
    assert len(rejected) == 5
    assert "(not JSON:" in rejected[0] and "this is not JSON" in rejected[0]
    assert "an event is a JSON object, got list" in rejected[1]
    assert "'sensors.tick' is not one of this sensor's trigger_types" in rejected[2]
    assert '"payload" must be a JSON object, got str' in rejected[3]
    assert "rule 999999 not found" in rejected[4]


async def test_a_burst_of_events_is_stored_whole_even_when_the_sensor_exits_at_once(
    attune: Attune,
) -> None:
    """2,000 lines printed at once, then exit: each line is one event, in order, none lost
    (stored in batches by the engine's intake, after the process is gone); the line pinned to
    a missing rule is refused alone, with the reason in the sensor's log."""
    await attune.create_rule(
        "sensors.on_burst",
        trigger_ref="sensors.burst",
        action_ref="core.noop",
        conditions=[{"field": "payload.n", "operator": "equals", "value": -1}],  # no runs
    )
    first_run: dict[str, int] = {}

    async def first_run_stored() -> list[Event] | None:
        events = await events_of(attune, "sensors.burst")
        if not events:
            return None
        first_run.setdefault("pid", events[0].payload["run"])
        mine = [e for e in events if e.payload["run"] == first_run["pid"]]
        return mine if len(mine) >= 1999 else None

    events = await eventually(first_run_stored, timeout=120)
    assert [e.payload["n"] for e in events] == [n for n in range(1, 2001) if n != 1000]
    assert {e.source_ref for e in events} == {"sensors.burst"}
    refused = [
        line for line in await attune.sensor_logs("sensors.burst") if "rejected stdout line" in line
    ]
    assert refused and "rule 999999 not found" in refused[0]
    assert f'"run": {first_run["pid"]}, "n": 1000' in refused[0]


async def test_a_crashing_sensor_is_restarted_with_backoff_then_failed(attune: Attune) -> None:
    started = time.monotonic()
    await attune.create_rule(
        "sensors.on_crash", trigger_ref="sensors.crash", action_ref="core.noop"
    )

    async def failed() -> bool:
        return (await attune.sensor_status("sensors.crashy")).state is SensorState.FAILED

    await eventually(failed)
    # Backoff 0.1, 0.2, then capped at 0.4 (max_restart_backoff), three restarts at most.
    assert time.monotonic() - started >= 0.1 + 0.2 + 0.4
    status = await attune.sensor_status("sensors.crashy")
    assert status.restarts == 3
    assert status.crashes == 4
    assert status.last_exit_code == 3
    assert status.last_error == "exited with code 3"
    assert status.pid is None
    lines = await attune.sensor_logs("sensors.crashy")
    assert sum("[stderr] crashy: giving up" in line for line in lines) == 4
    assert [line.split("] ", 1)[1] for line in lines if "restart" in line] == [
        "exited with code 3; restart 1 in 0.1 s",
        "exited with code 3; restart 2 in 0.2 s",
        "exited with code 3; restart 3 in 0.4 s",
        "exited with code 3; restarted 3 times in a row: failed",
    ]
    # A change of its rules gives it a new chance.
    await attune.create_rule(
        "sensors.on_crash_2", trigger_ref="sensors.crash", action_ref="core.noop"
    )

    async def restarted() -> bool:
        return (await attune.sensor_status("sensors.crashy")).crashes > 4

    await eventually(restarted)


async def test_registering_the_pack_again_restarts_its_sensors(attune: Attune) -> None:
    await attune.create_rule("sensors.on_tick", trigger_ref="sensors.tick", action_ref="core.noop")

    async def running_pid() -> int | None:
        status = await attune.sensor_status("sensors.ticker")
        return status.pid if status.state is SensorState.RUNNING else None

    first = await eventually(running_pid)
    await attune.register_pack(SENSORS_PACK)

    async def new_pid() -> int | None:
        pid = await running_pid()
        return pid if pid not in (None, first) else None

    await eventually(new_pid)
    assert not alive(first)
    lines = await attune.sensor_logs("sensors.ticker")
    assert any("restarting: pack sensors was registered again" in line for line in lines)


def test_the_examples_in_the_docs_are_the_tested_files() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "sensors.md").read_text()
    blocks = re.findall(r"```(?:python|bash)\n(.*?)```", docs, flags=re.DOTALL)
    for name in ("greeter.py", "ticker.sh"):
        source = (SENSORS_PACK / "sensors" / name).read_text()
        body = source.split('"""\n\n', 1)[-1] if name.endswith(".py") else source
        if name.endswith(".sh"):
            # The file's header comment is not repeated in the docs.
            body = "\n".join(line for line in body.splitlines() if not line.startswith("# "))
            body += "\n"
        assert body in blocks, f"docs/sensors.md does not show {name} as it is"


async def test_a_sensor_that_ignores_sigterm_is_killed(attune: Attune) -> None:
    await attune.create_rule(
        "sensors.on_stubborn", trigger_ref="sensors.stubborn", action_ref="core.noop"
    )
    await eventually(lambda: events_of(attune, "sensors.stubborn"))
    pid = (await attune.sensor_status("sensors.stubborn")).pid
    assert pid is not None
    started = time.monotonic()
    await attune.delete_rule("sensors.on_stubborn")
    await eventually(lambda: _true(not alive(pid)))
    assert time.monotonic() - started >= 1.5  # SIGTERM was ignored: SIGKILL after the grace

    async def stopped() -> bool:  # recorded once the host has reaped the killed process
        return (await attune.sensor_status("sensors.stubborn")).state is SensorState.STOPPED

    await eventually(stopped, timeout=5)


async def test_sensors_are_stopped_when_the_engine_stops(tmp_path: Path) -> None:
    settings = load_settings(
        env="test",
        environ={"ATTUNE__DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)},
        base_dir=tmp_path,
    )
    async with Attune.embedded(settings=settings, packs=[SENSORS_PACK]) as attune:
        await attune.create_rule(
            "sensors.on_greeting", trigger_ref="sensors.greeting", action_ref="core.noop"
        )
        await eventually(lambda: events_of(attune, "sensors.greeting"))
        pid = (await attune.sensor_status("sensors.greeter")).pid
        assert pid is not None and alive(pid)
    assert not alive(pid)


async def _true(value: bool) -> bool:
    return value
