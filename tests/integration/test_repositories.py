"""Every repository on both backends: CRUD, constraints, conditional transitions, history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio
import pytest
import sqlalchemy as sa

from attune_core.clock import FakeClock
from attune_core.engine._notifier import notification_row
from attune_core.errors import BadRequest, Conflict, NotFound, ValidationError
from attune_core.model import (
    Action,
    Artifact,
    ArtifactType,
    ArtifactVersion,
    Enforcement,
    EnforcementStatus,
    Event,
    Execution,
    ExecutionStatus,
    Identity,
    Inquiry,
    InquiryStatus,
    Key,
    Notification,
    NotificationState,
    OwnerType,
    Pack,
    PackEnvironment,
    PackTestExecution,
    PermissionAssignment,
    PermissionSet,
    Policy,
    QueueStats,
    RetentionPolicy,
    Rule,
    Runtime,
    RuntimeVersion,
    Sensor,
    Trigger,
    Worker,
    WorkerStatus,
    WorkflowDefinition,
    WorkflowExecution,
)
from attune_core.storage import Store, UnitOfWork, digest_summary

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def seed_pack(uow: UnitOfWork, ref: str = "demo") -> Pack:
    return await uow.packs.create(Pack(ref=ref, label=ref.title(), version="1.0.0"))


async def seed_action(uow: UnitOfWork, pack: Pack, name: str = "hello") -> Action:
    return await uow.actions.create(
        Action(
            ref=f"{pack.ref}.{name}",
            pack=pack.id,
            pack_ref=pack.ref,
            label=name,
            entrypoint=f"{name}.sh",
        )
    )


async def seed_trigger(uow: UnitOfWork, pack: Pack, name: str = "tick") -> Trigger:
    return await uow.triggers.create(
        Trigger(ref=f"{pack.ref}.{name}", pack=pack.id, pack_ref=pack.ref, label=name)
    )


# -- one round trip per entity ---------------------------------------------------------------


async def _create_each(uow: UnitOfWork) -> dict[str, Any]:
    """Create one of every entity, returning them by repository name."""
    pack = await seed_pack(uow)
    runtime = await uow.runtimes.create(
        Runtime(ref="demo.shell", pack=pack.id, pack_ref="demo", name="Shell")
    )
    trigger = await seed_trigger(uow, pack)
    action = await seed_action(uow, pack)
    sensor = await uow.sensors.create(
        Sensor(ref="demo.watch", pack=pack.id, pack_ref="demo", label="Watch", entrypoint="w.py")
    )
    rule = await uow.rules.create(
        Rule(
            ref="demo.on_tick",
            pack=pack.id,
            pack_ref="demo",
            label="On tick",
            action=action.id,
            action_ref=action.ref,
            trigger=trigger.id,
            trigger_ref=trigger.ref,
        )
    )
    event = await uow.events.create(
        Event(trigger=trigger.id, trigger_ref=trigger.ref, payload={"n": 1})
    )
    enforcement = await uow.enforcements.create(
        Enforcement(rule=rule.id, rule_ref=rule.ref, trigger_ref=trigger.ref, event=event.id)
    )
    execution = await uow.executions.create(
        Execution(action=action.id, action_ref=action.ref, config={"x": 1})
    )
    workflow = await uow.workflow_definitions.create(
        WorkflowDefinition(
            ref="demo.flow", pack=pack.id, pack_ref="demo", label="Flow", version="1.0.0"
        )
    )
    identity = await uow.identities.create(Identity(login="alice"))
    permset = await uow.permission_sets.create(PermissionSet(ref="core.viewer", grants=[]))
    worker = await uow.workers.create(Worker(name="worker-1"))
    artifact = await uow.artifacts.create(Artifact(ref="report", type=ArtifactType.FILE_TEXT))
    return {
        "packs": pack,
        "runtimes": runtime,
        "runtime_versions": await uow.runtime_versions.create(
            RuntimeVersion(runtime=runtime.id, runtime_ref=runtime.ref, version="5.2")  # type: ignore[arg-type]
        ),
        "triggers": trigger,
        "sensors": sensor,
        "actions": action,
        "rules": rule,
        "policies": await uow.policies.create(
            Policy(
                ref="demo.one_at_a_time",
                action=action.id,
                action_ref=action.ref,
                threshold=1,
                name="one",
            )
        ),
        "events": event,
        "enforcements": enforcement,
        "executions": execution,
        "workflow_definitions": workflow,
        "workflow_executions": await uow.workflow_executions.create(
            WorkflowExecution(execution=execution.id, workflow_def=workflow.id)  # type: ignore[arg-type]
        ),
        "inquiries": await uow.inquiries.create(
            Inquiry(execution=execution.id, prompt="Deploy?")  # type: ignore[arg-type]
        ),
        "identities": identity,
        "permission_sets": permset,
        "permission_assignments": await uow.permission_assignments.create(
            PermissionAssignment(identity=identity.id, permset=permset.id)  # type: ignore[arg-type]
        ),
        "keys": await uow.keys.create(Key(ref="api_token", name="api_token", value='"s3cret"')),
        "artifacts": artifact,
        "workers": worker,
        "notifications": await uow.notifications.create(
            Notification(
                channel="executions", entity_type="execution", entity="1", activity="created"
            )
        ),
        "pack_environments": await uow.pack_environments.create(
            PackEnvironment(
                pack=pack.id,
                pack_ref="demo",
                runtime=runtime.id,  # type: ignore[arg-type]
                runtime_ref=runtime.ref,
                env_path="/tmp/env",
            )
        ),
        "pack_test_executions": await uow.pack_test_executions.create(
            PackTestExecution(pack_id=pack.id, pack_version="1.0.0", total_tests=3, passed=3)  # type: ignore[arg-type]
        ),
    }


async def test_every_entity_round_trips(store: Store, clock: FakeClock) -> None:
    async with store.transaction() as uow:
        created = await _create_each(uow)
    async with store.read() as uow:
        for repo_name, entity in created.items():
            repo = getattr(uow, repo_name)
            assert entity.id is not None, repo_name
            assert await repo.get(entity.id) == entity, repo_name
            assert entity in await repo.list(), repo_name
            assert await repo.count() >= 1, repo_name
            if hasattr(entity, "created"):
                assert entity.created == clock.now(), repo_name


async def test_updated_is_maintained_and_created_kept(store: Store, clock: FakeClock) -> None:
    async with store.transaction() as uow:
        pack = await seed_pack(uow)
    await clock.advance(60)
    async with store.transaction() as uow:
        changed = await uow.packs.update(pack.id, label="Renamed")  # type: ignore[arg-type]
    assert changed.label == "Renamed"
    assert changed.created == pack.created
    assert changed.updated == pack.created + timedelta(seconds=60)  # type: ignore[operator]


async def test_queue_stats_upsert(store: Store) -> None:
    async with store.transaction() as uow:
        action = await seed_action(uow, await seed_pack(uow))
        await uow.queue_stats.upsert(QueueStats(action_id=action.id, queue_length=2))  # type: ignore[arg-type]
        stats = await uow.queue_stats.upsert(
            QueueStats(action_id=action.id, queue_length=5, active_count=1)  # type: ignore[arg-type]
        )
    assert (stats.queue_length, stats.active_count) == (5, 1)
    async with store.read() as uow:
        assert await uow.queue_stats.count() == 1


# -- typed errors ---------------------------------------------------------------------------


async def test_duplicate_ref_is_a_conflict(store: Store) -> None:
    async with store.transaction() as uow:
        await seed_pack(uow)
    with pytest.raises(Conflict, match="pack already exists"):
        async with store.transaction() as uow:
            await seed_pack(uow)


async def test_missing_entity_is_not_found(store: Store) -> None:
    async with store.read() as uow:
        with pytest.raises(NotFound, match="execution 404 not found"):
            await uow.executions.get(404)
        with pytest.raises(NotFound, match=r"action 'x\.y' not found"):
            await uow.actions.get_by_ref("x.y")


async def test_reference_to_missing_row_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        async with store.transaction() as uow:
            await uow.runtime_versions.create(
                RuntimeVersion(runtime=999, runtime_ref="x.y", version="1")
            )


@pytest.mark.parametrize(("ref", "field"), [("Bad Ref", "ref"), ("x", "ref"), ("1pack", "ref")])
async def test_pack_ref_format_is_validated(store: Store, ref: str, field: str) -> None:
    async with store.transaction() as uow:
        with pytest.raises(ValidationError, match="invalid pack ref") as info:
            await uow.packs.create(Pack(ref=ref, label="L", version="1.0.0"))
    assert info.value.field == field


async def test_component_ref_and_unknown_field_are_validated(store: Store) -> None:
    async with store.transaction() as uow:
        pack = await seed_pack(uow)
        with pytest.raises(ValidationError, match=r"expected '<pack>\.<name>'"):
            await uow.actions.create(
                Action(ref="noDot", pack_ref=pack.ref, label="x", entrypoint="x")
            )
        with pytest.raises(ValidationError, match="has no field") as info:
            await uow.packs.update(pack.id, colour="red")  # type: ignore[arg-type]
        assert info.value.field == "colour"


# -- delete policy --------------------------------------------------------------------------


async def test_pack_components_cascade_history_survives(store: Store) -> None:
    async with store.transaction() as uow:
        created = await _create_each(uow)
    async with store.transaction() as uow:
        await uow.packs.delete_by_ref("demo")
    async with store.read() as uow:
        for repo in (
            "runtimes",
            "triggers",
            "actions",
            "sensors",
            "rules",
            "policies",
            "workflow_definitions",
            "pack_environments",
            "pack_test_executions",
        ):
            assert await getattr(uow, repo).count() == 0, repo
        execution = await uow.executions.get(created["executions"].id)
        assert (execution.action, execution.action_ref) == (None, "demo.hello")
        event = await uow.events.get(created["events"].id)
        assert (event.trigger, event.trigger_ref) == (None, "demo.tick")
        enforcement = await uow.enforcements.get(created["enforcements"].id)
        assert (enforcement.rule, enforcement.rule_ref) == (None, "demo.on_tick")
        # The workflow execution goes with its definition (the original's policy).
        assert await uow.workflow_executions.count() == 0


async def test_rule_survives_its_action_and_trigger(store: Store) -> None:
    async with store.transaction() as uow:
        pack = await seed_pack(uow)
        other = await seed_pack(uow, "other")
        action = await seed_action(uow, other)
        trigger = await seed_trigger(uow, other)
        rule = await uow.rules.create(
            Rule(
                ref="demo.cross",
                pack=pack.id,
                pack_ref="demo",
                label="Cross-pack",
                action=action.id,
                action_ref=action.ref,
                trigger=trigger.id,
                trigger_ref=trigger.ref,
            )
        )
    async with store.transaction() as uow:
        await uow.packs.delete_by_ref("other")
    async with store.read() as uow:
        kept = await uow.rules.get(rule.id)  # type: ignore[arg-type]
    assert (kept.action, kept.trigger) == (None, None)
    assert (kept.action_ref, kept.trigger_ref) == ("other.hello", "other.tick")


# -- events and enforcements ------------------------------------------------------------------


async def test_events_are_immutable(store: Store) -> None:
    async with store.transaction() as uow:
        event = await uow.events.create(Event(trigger_ref="core.webhook", payload={"a": 1}))
    async with store.transaction() as uow:
        with pytest.raises(ValidationError, match="immutable"):
            await uow.events.update(event.id, payload={})  # type: ignore[arg-type]
    # The database refuses it too, for anyone bypassing the repository.
    with pytest.raises(ValidationError, match="immutable"):
        async with store.transaction() as uow:
            await uow.events._execute(
                sa.text("UPDATE event SET trigger_ref = 'x.y' WHERE id = :id").bindparams(
                    id=event.id
                )
            )
    async with store.read() as uow:
        assert (await uow.events.get(event.id)).trigger_ref == "core.webhook"  # type: ignore[arg-type]


async def test_enforcement_resolves_once(store: Store, clock: FakeClock) -> None:
    async with store.transaction() as uow:
        enforcement = await uow.enforcements.create(
            Enforcement(rule_ref="demo.r", trigger_ref="demo.t")
        )
    assert (enforcement.status, enforcement.resolved_at) == (EnforcementStatus.CREATED, None)
    await clock.advance(1)
    async with store.transaction() as uow:
        resolved = await uow.enforcements.resolve(enforcement.id, EnforcementStatus.PROCESSED)  # type: ignore[arg-type]
        again = await uow.enforcements.resolve(enforcement.id, EnforcementStatus.DISABLED)  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            await uow.enforcements.update(enforcement.id, status=EnforcementStatus.CREATED)  # type: ignore[arg-type]
    assert resolved is not None and resolved.status is EnforcementStatus.PROCESSED
    assert resolved.resolved_at == clock.now()
    assert again is None


# -- executions: conditional transitions and history -------------------------------------------


async def test_execution_transition_is_conditional(store: Store, clock: FakeClock) -> None:
    async with store.transaction() as uow:
        execution = await uow.executions.create(Execution(action_ref="core.echo"))
    eid = execution.id
    assert eid is not None
    await clock.advance(2)
    async with store.transaction() as uow:
        scheduled = await uow.executions.transition(
            eid, expected=ExecutionStatus.REQUESTED, new=ExecutionStatus.SCHEDULED
        )
        late = await uow.executions.transition(
            eid, expected=ExecutionStatus.REQUESTED, new=ExecutionStatus.SCHEDULED
        )
        running = await uow.executions.transition(
            eid,
            expected=[ExecutionStatus.SCHEDULED, ExecutionStatus.SCHEDULING],
            new=ExecutionStatus.RUNNING,
        )
        missing = await uow.executions.transition(
            999, expected=ExecutionStatus.RUNNING, new=ExecutionStatus.FAILED
        )
    assert scheduled is not None and scheduled.status is ExecutionStatus.SCHEDULED
    assert late is None and missing is None
    assert running is not None and running.started_at == clock.now()
    assert running.updated == clock.now()


async def test_execution_history_records_changes_with_result_digest(store: Store) -> None:
    result = {"stdout": "x" * 5000, "exit_code": 0}
    async with store.transaction() as uow:
        execution = await uow.executions.create(Execution(action_ref="core.echo"))
        eid = execution.id
        assert eid is not None
        await uow.executions.transition(
            eid, expected=ExecutionStatus.REQUESTED, new=ExecutionStatus.RUNNING
        )
        await uow.executions.transition(
            eid, expected=ExecutionStatus.RUNNING, new=ExecutionStatus.COMPLETED, result=result
        )
        await uow.executions.update(eid, config={"not": "tracked"})  # untracked: no record
    async with store.read() as uow:
        records = await uow.execution_history.query(entity_id=eid)
        status_changes = await uow.execution_history.query(entity_id=eid, changed_field="result")
    assert [r.operation for r in records] == ["UPDATE", "UPDATE", "INSERT"]
    completed, running, inserted = records
    assert inserted.entity_ref == "core.echo"
    assert inserted.new_values["status"] == "requested"
    assert running.changed_fields == ["status", "started_at"]
    assert running.old_values == {"status": "requested", "started_at": None}
    assert completed.changed_fields == ["status", "result"]
    assert completed.new_values["result"] == digest_summary(result)
    assert completed.new_values["result"]["type"] == "object"
    assert completed.new_values["result"]["digest"].startswith("md5:")
    assert completed.old_values["result"] == {
        "digest": digest_summary(None)["digest"],
        "size": 4,
        "type": "null",
    }
    assert status_changes == [completed]


async def test_worker_history_skips_heartbeats(store: Store, clock: FakeClock) -> None:
    async with store.transaction() as uow:
        worker = await uow.workers.create(Worker(name="w1", capabilities={"runtimes": ["shell"]}))
        wid = worker.id
        assert wid is not None
        await clock.advance(5)
        assert await uow.workers.heartbeat(wid)
        await uow.workers.update(wid, last_heartbeat=clock.now())
        await uow.workers.transition(wid, expected=WorkerStatus.ACTIVE, new=WorkerStatus.BUSY)
    async with store.read() as uow:
        records = await uow.worker_history.query(entity_id=wid)
        stale = await uow.workers.list_stale(clock.now() + timedelta(seconds=1))
    assert [(r.operation, r.changed_fields) for r in records] == [
        ("UPDATE", ["status"]),
        (
            "INSERT",
            ["name", "worker_type", "worker_role", "status", "capabilities", "meta", "cordoned"],
        ),
    ]
    assert [w.name for w in stale] == ["w1"]


async def test_history_filters(store: Store, clock: FakeClock) -> None:
    async with store.transaction() as uow:
        first = await uow.executions.create(Execution(action_ref="a.one"))
        await clock.advance(10)
        second = await uow.executions.create(Execution(action_ref="a.two"))
    async with store.read() as uow:
        since = await uow.execution_history.query(since=clock.now())
        by_ref = await uow.execution_history.query(entity_ref="a.one")
        inserts = await uow.execution_history.query(operation="insert")
    assert [r.entity_id for r in since] == [second.id]
    assert [r.entity_id for r in by_ref] == [first.id]
    assert [r.entity_id for r in inserts] == [second.id, first.id]


# -- inquiries, keys, webhooks, artifacts -----------------------------------------------------


async def test_inquiry_overdue_and_transition(store: Store, clock: FakeClock) -> None:
    async with store.transaction() as uow:
        due = await uow.inquiries.create(
            Inquiry(execution=1, prompt="?", timeout_at=clock.now() + timedelta(seconds=30))
        )
        await uow.inquiries.create(Inquiry(execution=2, prompt="no timeout"))
    await clock.advance(31)
    async with store.transaction() as uow:
        overdue = await uow.inquiries.list_overdue(clock.now())
        timed_out = await uow.inquiries.transition(
            due.id,
            expected=InquiryStatus.PENDING,
            new=InquiryStatus.TIMEOUT,  # type: ignore[arg-type]
        )
        respond = await uow.inquiries.transition(
            due.id,
            expected=InquiryStatus.PENDING,
            new=InquiryStatus.RESPONDED,  # type: ignore[arg-type]
        )
    assert [i.id for i in overdue] == [due.id]
    assert timed_out is not None and timed_out.status is InquiryStatus.TIMEOUT
    assert respond is None


async def test_key_owner_rules(store: Store) -> None:
    async with store.transaction() as uow:
        pack = await seed_pack(uow)
        owned = await uow.keys.create(
            Key(
                ref="demo.token",
                name="token",
                value="x",
                owner_type=OwnerType.PACK,
                owner_pack=pack.id,
                owner_pack_ref="demo",
                owner="demo",
            )
        )
        with pytest.raises(ValidationError, match="system key has no owner"):
            await uow.keys.create(Key(ref="k1", name="k1", value="x", owner_pack=pack.id))
        with pytest.raises(ValidationError, match="needs exactly owner_identity") as info:
            await uow.keys.create(
                Key(ref="k2", name="k2", value="x", owner_type=OwnerType.IDENTITY)
            )
        assert info.value.field == "owner_identity"
        with pytest.raises(ValidationError, match="invalid key ref"):
            await uow.keys.create(Key(ref="Has Space", name="x", value="x"))
    assert [k.ref for k in await _keys_of(store, OwnerType.PACK)] == [owned.ref]
    # Keys owned by a pack go with it.
    async with store.transaction() as uow:
        await uow.packs.delete(pack.id)  # type: ignore[arg-type]
    assert await _keys_of(store, OwnerType.PACK) == []


async def _keys_of(store: Store, owner_type: OwnerType) -> list[Key]:
    async with store.read() as uow:
        return await uow.keys.list_for_owner(owner_type)


async def test_key_owner_check_is_enforced_by_the_database(store: Store) -> None:
    with pytest.raises(ValidationError):
        async with store.transaction() as uow:
            await uow.keys._execute(
                sa.text(
                    "INSERT INTO key (ref, owner_type, name, encrypted, value, created, updated,"
                    " owner_identity) VALUES ('k', 'system', 'k', false, 'v',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                )
            )


async def test_webhook_keys(store: Store) -> None:
    async with store.transaction() as uow:
        trigger = await seed_trigger(uow, await seed_pack(uow))
        tid = trigger.id
        assert tid is not None
        with pytest.raises(BadRequest, match="not enabled"):
            await uow.triggers.regenerate_webhook(tid)
        enabled = await uow.triggers.enable_webhook(tid)
        regenerated = await uow.triggers.regenerate_webhook(tid)
        found = await uow.triggers.find_by_webhook_key(regenerated.webhook_key)  # type: ignore[arg-type]
        disabled = await uow.triggers.disable_webhook(tid)
        revoked = await uow.triggers.find_by_webhook_key(regenerated.webhook_key)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="wh_"):
            await uow.triggers.update(tid, webhook_key="plain")
    assert enabled.webhook_enabled
    assert enabled.webhook_key is not None
    for key in (enabled.webhook_key, regenerated.webhook_key):
        assert key is not None and key.startswith("wh_") and len(key) == 35
        int(key[3:], 16)
    assert regenerated.webhook_key != enabled.webhook_key
    assert found == regenerated
    assert (disabled.webhook_enabled, disabled.webhook_key, revoked) == (False, None, None)


async def test_artifact_versions_are_numbered_and_retained_by_count(store: Store) -> None:
    async with store.transaction() as uow:
        artifact = await uow.artifacts.create(
            Artifact(
                ref="report",
                type=ArtifactType.FILE_TEXT,
                retention_policy=RetentionPolicy.VERSIONS,
                retention_limit=3,
            )
        )
        aid = artifact.id
        assert aid is not None
        for n in range(1, 6):
            await uow.artifact_versions.add(
                aid, content=f"v{n}".encode(), content_type="text/plain"
            )
        other = await uow.artifacts.create(Artifact(ref="other"))
        first_of_other = await uow.artifact_versions.create(
            ArtifactVersion(artifact=other.id, content_json={"a": 1})  # type: ignore[arg-type]
        )
    async with store.read() as uow:
        versions = await uow.artifact_versions.list_for_artifact(aid)
        latest = await uow.artifact_versions.latest(aid)
        parent = await uow.artifacts.get(aid)
    assert [v.version for v in versions] == [5, 4, 3]
    assert [v.content for v in versions] == [b"v5", b"v4", b"v3"]
    assert latest is not None and latest.size_bytes == 2
    assert parent.size_bytes == 2 and parent.content_type == "text/plain"
    assert first_of_other.version == 1


async def test_artifact_time_retention_and_progress(store: Store, clock: FakeClock) -> None:
    async with store.transaction() as uow:
        artifact = await uow.artifacts.create(
            Artifact(ref="log", retention_policy=RetentionPolicy.HOURS, retention_limit=1)
        )
        aid = artifact.id
        assert aid is not None
        await uow.artifact_versions.add(aid, content=b"old")
    await clock.advance(2 * 3600)
    async with store.transaction() as uow:
        await uow.artifact_versions.add(aid, content=b"new")
        removed = await uow.artifact_versions.purge_expired(clock.now())
        progress = await uow.artifacts.create(Artifact(ref="p", type=ArtifactType.PROGRESS))
        await uow.artifacts.append_progress(progress.id, {"pct": 10})  # type: ignore[arg-type]
        progress = await uow.artifacts.append_progress(progress.id, {"pct": 50})  # type: ignore[arg-type]
        versions = await uow.artifact_versions.list_for_artifact(aid)
    assert removed == 1
    assert [v.content for v in versions] == [b"new"]
    assert progress.data == [{"pct": 10}, {"pct": 50}]


# -- units of work --------------------------------------------------------------------------


async def test_transaction_rolls_back_on_error(store: Store) -> None:
    async def create_then_fail() -> None:
        async with store.transaction() as uow:
            await seed_pack(uow)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await create_then_fail()
    async with store.read() as uow:
        assert await uow.packs.count() == 0


async def test_list_filters_order_and_paging(store: Store, clock: FakeClock) -> None:
    async with store.transaction() as uow:
        pack = await seed_pack(uow)
        for name in ("zeta", "alpha", "mid"):
            await seed_action(uow, pack, name)
        ids = []
        for status in (ExecutionStatus.REQUESTED, ExecutionStatus.FAILED, ExecutionStatus.FAILED):
            await clock.advance(1)
            ids.append(
                (await uow.executions.create(Execution(action_ref="demo.x", status=status))).id
            )
    async with store.read() as uow:
        assert [a.ref for a in await uow.actions.list()] == ["demo.alpha", "demo.mid", "demo.zeta"]
        assert [a.ref for a in await uow.actions.list(limit=1, offset=1)] == ["demo.mid"]
        assert [e.id for e in await uow.executions.list()] == ids[::-1]
        failed = await uow.executions.list(status=ExecutionStatus.FAILED)
        assert [e.id for e in failed] == ids[:0:-1]
        assert await uow.executions.count(status=[ExecutionStatus.FAILED]) == 2


async def test_concurrent_transactions_on_one_store(store: Store) -> None:
    """Many writers at once: SQLite queues them, PostgreSQL runs them; none is lost."""
    async with store.transaction() as uow:
        pack = await seed_pack(uow)

    async def add(n: int) -> None:
        async with store.transaction() as uow:
            await seed_action(uow, pack, f"a{n}")

    async with anyio.create_task_group() as tg:
        for n in range(20):
            tg.start_soon(add, n)
    async with store.read() as uow:
        assert await uow.actions.count() == 20


async def test_notifications_added_in_one_batch_are_stored_whole_and_in_order(
    store: Store,
) -> None:
    frames = [
        {"notification_type": "execution_created", "entity_type": "execution", "entity_id": n}
        for n in range(3)
    ] + [{"notification_type": "key_deleted", "entity_type": "key", "text": "é \\u0000 ✓"}]
    async with store.transaction() as uow:
        added = await uow.notifications.add_many([notification_row(f) for f in frames])
        assert added == 4
    async with store.read() as uow:
        stored = sorted(await uow.notifications.list(), key=lambda n: n.id or 0)
    assert [n.content for n in stored] == frames
    assert [(n.channel, n.entity, n.activity) for n in stored] == [
        ("execution_created", "0", "created"),
        ("execution_created", "1", "created"),
        ("execution_created", "2", "created"),
        ("key_deleted", "None", "deleted"),
    ]
    assert all(n.state is NotificationState.CREATED and n.created for n in stored)
