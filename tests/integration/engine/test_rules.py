"""Events, rules and enforcements end to end (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import pytest

from attune_core.app import Attune
from attune_core.errors import NotFound, ValidationError
from attune_core.model import EnforcementStatus, Execution, ExecutionStatus, Notification
from attune_core.storage import Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T = TypeVar("T")


async def until(
    fetch: Callable[[], Awaitable[T]], ready: Callable[[T], bool], timeout: float = 30
) -> T:
    with anyio.fail_after(timeout):
        while not ready(found := await fetch()):  # noqa: ASYNC110
            await anyio.sleep(0.02)
    return found


async def finished(attune: Attune, rule_ref: str, count: int = 1) -> list[Execution]:
    async def fetch() -> list[Execution]:
        return [e for e in await attune.executions() if e.rule_ref == rule_ref and e.parent is None]

    runs = await until(fetch, lambda es: len(es) >= count and all(e.status.is_terminal for e in es))
    return sorted(runs, key=lambda e: e.id or 0)


async def test_a_matching_rule_runs_its_action_with_rendered_parameters(attune: Attune) -> None:
    await attune.create_rule(
        "demo.greet_on_alert",
        trigger_ref="core.webhook",
        action_ref="demo.greet",
        conditions=[{"field": "payload.severity", "operator": "equals", "value": "critical"}],
        action_params={"name": "{{ event.payload.host }}", "punctuation": "{{ pack.config.p }}"},
    )
    event = await attune.fire("core.webhook", {"severity": "critical", "host": "web-1"})
    [execution] = await finished(attune, "demo.greet_on_alert")
    assert execution.status is ExecutionStatus.COMPLETED
    assert execution.config == {"name": "web-1", "punctuation": "!"}  # missing path -> default
    assert execution.trigger_ref == "core.webhook"
    [enforcement] = await attune.enforcements(event=event.id)
    assert enforcement.status is EnforcementStatus.PROCESSED
    assert enforcement.resolved_at is not None
    assert enforcement.rule_ref == "demo.greet_on_alert"
    assert enforcement.payload == {"severity": "critical", "host": "web-1"}
    assert execution.enforcement == enforcement.id


async def test_non_matching_event_creates_no_enforcement(attune: Attune) -> None:
    await attune.create_rule(
        "demo.only_critical",
        trigger_ref="core.webhook",
        action_ref="core.noop",
        conditions={"expression": "{{ event.payload.severity == 'critical' }}"},
    )
    event = await attune.fire("core.webhook", {"severity": "info"})
    matching = await attune.fire("core.webhook", {"severity": "critical"})
    await finished(attune, "demo.only_critical")
    assert await attune.enforcements(event=event.id) == []
    assert len(await attune.enforcements(event=matching.id)) == 1


async def test_a_broken_rule_is_recorded_and_never_stops_the_others(attune: Attune) -> None:
    await attune.create_rule(
        "demo.broken_regex",
        trigger_ref="core.webhook",
        action_ref="core.noop",
        conditions=[{"field": "payload.x", "operator": "regex", "value": "(unclosed"}],
    )
    await attune.create_rule(
        "demo.broken_template",
        trigger_ref="core.webhook",
        action_ref="core.noop",
        action_params={"n": "{{ event.payload.x + 1 }}"},
    )
    await attune.create_rule("demo.fine", trigger_ref="core.webhook", action_ref="core.noop")
    event = await attune.fire("core.webhook", {"x": "text"})
    await finished(attune, "demo.fine")
    enforcements = {e.rule_ref: e for e in await attune.enforcements(event=event.id)}
    assert enforcements["demo.fine"].status is EnforcementStatus.PROCESSED
    regex = enforcements["demo.broken_regex"]
    assert regex.status is EnforcementStatus.DISABLED
    assert regex.config is not None and "invalid regular expression" in regex.config["error"]
    template = enforcements["demo.broken_template"]
    assert template.status is EnforcementStatus.DISABLED
    assert template.config is not None and template.config["stage"] == "action_params"
    runs = [e for e in await attune.executions() if e.enforcement is not None]
    assert {e.rule_ref for e in runs} == {"demo.fine"}


async def test_disabled_and_deleted_rules_stop_at_once(attune: Attune) -> None:
    await attune.create_rule("demo.toggle", trigger_ref="core.webhook", action_ref="core.noop")
    await attune.disable_rule("demo.toggle")
    off = await attune.fire("core.webhook", {})
    await attune.enable_rule("demo.toggle")
    on = await attune.fire("core.webhook", {})
    await finished(attune, "demo.toggle")
    await attune.delete_rule("demo.toggle")
    gone = await attune.fire("core.webhook", {})
    await anyio.sleep(0.3)
    assert await attune.enforcements(event=off.id) == []
    assert len(await attune.enforcements(event=on.id)) == 1
    assert await attune.enforcements(event=gone.id) == []


async def test_a_rule_change_applies_to_the_next_event(attune: Attune, backend: str) -> None:
    """Rules are cached between events; a change made here, or (PostgreSQL) by another
    process, applies to the very next event."""
    low = [{"field": "payload.level", "operator": "equals", "value": "low"}]
    await attune.create_rule(
        "demo.watch",
        trigger_ref="core.webhook",
        action_ref="core.noop",
        conditions=[{"field": "payload.level", "operator": "equals", "value": "high"}],
    )
    before = await attune.fire("core.webhook", {"level": "low"})  # the rule is cached now
    await attune.update_rule("demo.watch", conditions=low)
    after = await attune.fire("core.webhook", {"level": "low"})
    assert await attune.enforcements(event=before.id) == []
    assert [e.rule_ref for e in await attune.enforcements(event=after.id)] == ["demo.watch"]
    if backend == "sqlite":
        return  # one process per SQLite database
    other = await Store.from_settings(attune.settings.database)  # another process's view
    try:
        async with other.transaction() as uow:
            rule = await uow.rules.get_by_ref("demo.watch")
            assert rule.id is not None
            await uow.rules.update(rule.id, enabled=False)
    finally:
        await other.close()
    elsewhere = await attune.fire("core.webhook", {"level": "low"})
    assert await attune.enforcements(event=elsewhere.id) == []


async def test_a_pinned_event_fires_only_its_rule(attune: Attune) -> None:
    first = await attune.create_rule("demo.one", trigger_ref="core.webhook", action_ref="core.noop")
    await attune.create_rule("demo.two", trigger_ref="core.webhook", action_ref="core.noop")
    event = await attune.fire("core.webhook", {"n": 1}, trigger_instance_id=f"rule_{first.id}")
    assert event.rule == first.id and event.rule_ref == "demo.one"
    await finished(attune, "demo.one")
    assert [e.rule_ref for e in await attune.enforcements(event=event.id)] == ["demo.one"]
    with pytest.raises(ValidationError):
        await attune.fire("core.webhook", {}, trigger_instance_id="bogus")


async def test_a_rule_starts_a_workflow_with_the_rendered_parameters(attune: Attune) -> None:
    await attune.create_rule(
        "demo.chain_on_event",
        trigger_ref="core.webhook",
        action_ref="demo.chain",
        action_params={"a": "{{ event.payload.n }}", "who": "rules"},
    )
    await attune.fire("core.webhook", {"n": 5})
    [workflow] = await finished(attune, "demo.chain_on_event")
    assert workflow.status is ExecutionStatus.COMPLETED
    assert workflow.config == {"a": 5, "who": "rules"}
    assert workflow.result["total"] == 15
    children = await attune.executions(parent=workflow.id)
    assert {c.rule_ref for c in children} == {"demo.chain_on_event"}
    assert {c.trigger_ref for c in children} == {"core.webhook"}


async def test_rule_and_trigger_reach_the_action_environment(attune: Attune) -> None:
    await attune.create_rule(
        "demo.env",
        trigger_ref="core.webhook",
        action_ref="core.local",
        action_params={"cmd": 'echo "$ATTUNE_RULE $ATTUNE_TRIGGER"'},
    )
    await attune.fire("core.webhook", {})
    [execution] = await finished(attune, "demo.env")
    assert execution.status is ExecutionStatus.COMPLETED, execution.result
    assert "demo.env core.webhook" in str(execution.result)


async def test_bad_rules_are_refused_up_front(attune: Attune) -> None:
    with pytest.raises(ValidationError, match="unknown operator"):
        await attune.create_rule(
            "demo.bad_op",
            trigger_ref="core.webhook",
            action_ref="core.noop",
            conditions=[{"field": "x", "operator": "resembles", "value": 1}],
        )
    with pytest.raises(NotFound):
        await attune.create_rule("demo.nope", trigger_ref="core.nope", action_ref="core.noop")
    with pytest.raises(NotFound):
        await attune.fire("core.nope", {})


async def test_notifications_follow_the_event_flow(attune: Attune) -> None:
    await attune.create_rule("demo.notify", trigger_ref="core.webhook", action_ref="core.noop")
    async with attune.subscribe("all") as notifications:
        event = await attune.fire("core.webhook", {"k": 1})
        await finished(attune, "demo.notify")
        seen: list[dict] = []
        with anyio.move_on_after(2):
            while not any(
                n["notification_type"] == "execution_status_changed"
                and n["payload"]["status"] == "completed"
                for n in seen
            ):
                seen.append(await notifications.get())
    types = [n["notification_type"] for n in seen]
    assert types[:3] == ["event_created", "enforcement_created", "execution_created"]
    assert "enforcement_status_changed" in types
    created = next(n for n in seen if n["notification_type"] == "event_created")
    assert created["entity_id"] == event.id and created["entity_type"] == "event"
    changed = [n for n in seen if n["notification_type"] == "execution_status_changed"]
    assert changed[-1]["payload"]["status"] == "completed"
    assert all("old_status" in n["payload"] for n in changed)


async def test_notifications_are_stored_in_the_notification_table(attune: Attune) -> None:
    await attune.create_rule("demo.stored", trigger_ref="core.webhook", action_ref="core.noop")
    event = await attune.fire("core.webhook", {"k": 2})
    [execution] = await finished(attune, "demo.stored")

    async def stored_for_execution() -> list[Notification]:
        return await attune.notifications(entity_type="execution", entity=execution.id)

    rows = await until(
        stored_for_execution,
        lambda found: any(
            n.content is not None and n.content["payload"].get("status") == "completed"
            for n in found
        ),
    )
    # Newest first; each change once, with the frame the WebSocket sends as content.
    channels = [n.channel for n in reversed(rows)]
    assert channels[0] == "execution_created"
    assert set(channels[1:]) == {"execution_status_changed"}
    statuses = [n.content["payload"]["status"] for n in reversed(rows) if n.content]
    assert statuses[-1] == "completed"
    assert len(statuses) == len(set(statuses))
    assert {n.activity for n in rows} == {"created", "status_changed"}
    assert all(n.entity == str(execution.id) and n.state.value == "created" for n in rows)
    [event_row] = await attune.notifications(entity_type="event", entity=event.id)
    assert event_row.channel == "event_created" and event_row.content is not None
    assert event_row.content["payload"]["trigger_ref"] == "core.webhook"


async def test_fire_many_stores_each_event_as_fire_would(attune: Attune) -> None:
    await attune.create_rule(
        "demo.batch_greet",
        trigger_ref="core.webhook",
        action_ref="demo.greet",
        conditions=[{"field": "payload.severity", "operator": "equals", "value": "critical"}],
        action_params={"name": "{{ event.payload.host }}"},
    )
    await attune.create_rule(
        "demo.batch_broken",
        trigger_ref="core.webhook",
        action_ref="core.noop",
        action_params={"n": "{{ event.payload.host + 1 }}"},
    )
    payloads = [
        {"severity": "critical", "host": "web-1"},
        {"severity": "info", "host": "web-2"},
        {"severity": "critical", "host": "web-3"},
    ]
    async with attune.subscribe("entity_type:enforcement") as notifications:
        events = await attune.fire_many("core.webhook", payloads)
        assert [e.payload for e in events] == payloads
        assert len({e.id for e in events}) == 3
        runs = await finished(attune, "demo.batch_greet", 2)
        seen = []
        with anyio.move_on_after(2):
            while len(seen) < 10:  # 5 enforcements, created and resolved
                seen.append(await notifications.get())
    assert [(r.config or {})["name"] for r in runs] == ["web-1", "web-3"]
    assert all(r.status is ExecutionStatus.COMPLETED for r in runs)
    for event, payload in zip(events, payloads, strict=True):
        by_rule = {e.rule_ref: e for e in await attune.enforcements(event=event.id)}
        broken = by_rule.pop("demo.batch_broken")
        assert broken.status is EnforcementStatus.DISABLED
        assert broken.config is not None and broken.config["stage"] == "action_params"
        if payload["severity"] == "critical":
            [greet] = by_rule.values()
            assert greet.status is EnforcementStatus.PROCESSED and greet.resolved_at
            [run] = [r for r in runs if (r.config or {})["name"] == payload["host"]]
            assert run.enforcement == greet.id
        else:
            assert by_rule == {}
    types = sorted(n["notification_type"] for n in seen)
    assert types == ["enforcement_created"] * 5 + ["enforcement_status_changed"] * 5
    assert await attune.fire_many("core.webhook", []) == []
    with pytest.raises(NotFound):
        await attune.fire_many("demo.no_such_trigger", [{}])


async def test_concurrent_fires_share_transactions_and_keep_their_own_errors(
    attune: Attune,
) -> None:
    await attune.create_rule("demo.concurrent", trigger_ref="core.webhook", action_ref="core.noop")
    before = attune.intake.transactions
    results: dict[int, Any] = {}

    async def fire(n: int) -> None:
        trigger = "demo.no_such_trigger" if n % 10 == 3 else "core.webhook"
        try:
            results[n] = await attune.fire(trigger, {"n": n})
        except NotFound as exc:
            results[n] = exc

    async with anyio.create_task_group() as tg:
        for n in range(40):
            tg.start_soon(fire, n)
    transactions = attune.intake.transactions - before
    failed = sorted(n for n, r in results.items() if isinstance(r, NotFound))
    assert failed == [3, 13, 23, 33]
    events = {n: r for n, r in results.items() if n not in failed}
    assert all(e.payload == {"n": n} for n, e in events.items())
    assert len({e.id for e in events.values()}) == 36
    # Far fewer transactions than events: the fires that waited were stored together (the
    # failing ones cost a retry of their batch, group by group).
    assert transactions < 30
    for event in events.values():
        [enforcement] = await attune.enforcements(event=event.id)
        assert enforcement.status is EnforcementStatus.PROCESSED
