"""One repository per entity, with the named statements the engine needs.

Common statements (create, get, find, list, count, update, transition, delete and the ref
variants) come from :mod:`attune_core.storage._repository`; this module adds each entity's own
rules (ref formats, immutability, owner checks, webhook keys, version numbering, retention).
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from attune_core.errors import BadRequest, NotFound, ValidationError
from attune_core.model import (
    Action,
    Artifact,
    ArtifactVersion,
    Enforcement,
    EnforcementStatus,
    Event,
    Execution,
    ExecutionHistory,
    ExecutionStatus,
    HistoryOperation,
    Identity,
    Inquiry,
    InquiryStatus,
    Key,
    Notification,
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
    WorkerHistory,
    WorkflowDefinition,
    WorkflowExecution,
)
from attune_core.storage import tables as t
from attune_core.storage._history import HistorySpec
from attune_core.storage._repository import MAX_PAGE, Change, RefRepository, Repository

__all__ = [
    "ActionRepository",
    "ArtifactRepository",
    "ArtifactVersionRepository",
    "EnforcementRepository",
    "EventRepository",
    "ExecutionHistoryRepository",
    "ExecutionRepository",
    "IdentityRepository",
    "InquiryRepository",
    "KeyRepository",
    "NotificationRepository",
    "PackEnvironmentRepository",
    "PackRepository",
    "PackTestExecutionRepository",
    "PermissionAssignmentRepository",
    "PermissionSetRepository",
    "PolicyRepository",
    "QueueStatsRepository",
    "RuleRepository",
    "RuntimeRepository",
    "RuntimeVersionRepository",
    "SensorRepository",
    "TriggerRepository",
    "WorkerHistoryRepository",
    "WorkerRepository",
    "WorkflowDefinitionRepository",
    "WorkflowExecutionRepository",
    "validate_component_ref",
    "validate_key_ref",
    "validate_pack_ref",
]

# Ids per IN (...) list of a batched statement: well below SQLite's limit of bound parameters.
_IN_CHUNK = 500
PACK_REF = re.compile(r"^[a-z][a-z0-9_-]+$")
# "<pack>.<name>"; the name part may itself contain dots ("core.python.3_12" is fine).
COMPONENT_REF = re.compile(r"^[a-z][a-z0-9_-]*\.[A-Za-z0-9_][A-Za-z0-9_.-]*$")
KEY_REF = re.compile(r"^[a-z0-9_][a-z0-9_.-]*$")
VERSION = re.compile(r"^\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]+)?$")
WEBHOOK_KEY = re.compile(r"^wh_[0-9a-f]{32}$")
NEWEST_FIRST: Sequence[tuple[str, bool]] = (("created", True), ("id", True))


def validate_pack_ref(ref: Any, field: str = "ref") -> None:
    """Pack refs: lowercase, start with a letter, at least two characters."""
    if not isinstance(ref, str) or not PACK_REF.match(ref):
        raise ValidationError(
            f"invalid pack ref {ref!r}: use lowercase letters, digits, '_' or '-', "
            "starting with a letter (e.g. 'my_pack')",
            field=field,
        )


def validate_component_ref(ref: Any, field: str = "ref") -> None:
    """Component refs: ``<pack>.<name>``."""
    if not isinstance(ref, str) or not COMPONENT_REF.match(ref):
        raise ValidationError(
            f"invalid ref {ref!r}: expected '<pack>.<name>' (e.g. 'core.echo')", field=field
        )


def validate_key_ref(ref: Any, field: str = "ref") -> None:
    """Key refs: lowercase and dotted."""
    if not isinstance(ref, str) or not KEY_REF.match(ref):
        raise ValidationError(
            f"invalid key ref {ref!r}: use lowercase letters, digits, '_', '-' and '.'",
            field=field,
        )


def _require_text(values: Mapping[str, Any], field: str, entity: str) -> None:
    if field in values and (not isinstance(values[field], str) or not values[field].strip()):
        raise ValidationError(f"{entity} {field} must be a non-empty string", field=field)


class _ComponentRepository(RefRepository[Any]):
    """Pack components addressed by ``<pack>.<name>`` refs."""

    def validate(self, values: Mapping[str, Any], *, partial: bool = False) -> None:
        if "ref" in values:
            validate_component_ref(values["ref"])
        if "label" in values and "label" in self._columns:
            _require_text(values, "label", self.name)


class PackRepository(RefRepository[Pack]):
    table = t.pack
    entity = Pack
    name = "pack"

    def validate(self, values: Mapping[str, Any], *, partial: bool = False) -> None:
        if "ref" in values:
            validate_pack_ref(values["ref"])
        _require_text(values, "label", self.name)
        if "version" in values and not (
            isinstance(values["version"], str) and VERSION.match(values["version"])
        ):
            raise ValidationError(
                f"invalid pack version {values['version']!r}: expected semver like '1.2.0'",
                field="version",
            )


class RuntimeRepository(_ComponentRepository):
    table = t.runtime
    entity = Runtime
    name = "runtime"


class RuntimeVersionRepository(Repository[RuntimeVersion]):
    table = t.runtime_version
    entity = RuntimeVersion
    name = "runtime version"
    order = (("version_major", True), ("version_minor", True), ("version_patch", True))

    async def list_for_runtime(self, runtime_id: int) -> list[RuntimeVersion]:
        """The versions of one runtime, newest version first."""
        return await self.list(runtime=runtime_id)

    async def list_for_runtime_cached(self, runtime_id: int) -> list[RuntimeVersion]:
        """:meth:`list_for_runtime` through the catalogue cache."""

        async def load() -> tuple[RuntimeVersion, ...]:
            return tuple(await self.list_for_runtime(runtime_id))

        return list(await self._cached(("runtime", runtime_id), load))

    async def find_version(self, runtime_id: int, version: str) -> RuntimeVersion | None:
        """The row for ``version`` of the runtime, or ``None``."""
        c = self.table.c
        return await self._one_or_none(
            sa.select(self.table).where(c.runtime == runtime_id, c.version == version)
        )


class TriggerRepository(_ComponentRepository):
    table = t.trigger
    entity = Trigger
    name = "trigger"

    def validate(self, values: Mapping[str, Any], *, partial: bool = False) -> None:
        super().validate(values, partial=partial)
        key = values.get("webhook_key")
        if key is not None and not WEBHOOK_KEY.match(str(key)):
            raise ValidationError("webhook_key must be 'wh_' + 32 hex digits", field="webhook_key")

    async def list_enabled(self) -> list[Trigger]:
        """Enabled triggers, by ref."""
        return await self.list(enabled=True)

    async def find_by_webhook_key(self, key: str) -> Trigger | None:
        """The trigger whose (unrevoked) webhook key is ``key``."""
        return await self._one_or_none(sa.select(self.table).where(self.table.c.webhook_key == key))

    async def enable_webhook(self, id: int) -> Trigger:
        """Turn webhooks on; a key is generated unless one is already active."""
        current: Trigger = await self.get(id)
        if current.webhook_enabled and current.webhook_key:
            return current
        updated: Trigger = await self.update(
            id, webhook_enabled=True, webhook_key=new_webhook_key()
        )
        return updated

    async def disable_webhook(self, id: int) -> Trigger:
        """Turn webhooks off and revoke the key."""
        updated: Trigger = await self.update(id, webhook_enabled=False, webhook_key=None)
        return updated

    async def regenerate_webhook(self, id: int) -> Trigger:
        """Replace the key; :class:`BadRequest` when webhooks are not enabled."""
        current: Trigger = await self.get(id)
        if not current.webhook_enabled:
            raise BadRequest(f"webhooks are not enabled for trigger {current.ref!r}")
        updated: Trigger = await self.update(id, webhook_key=new_webhook_key())
        return updated


def new_webhook_key() -> str:
    """A fresh webhook key: ``wh_`` + 32 hex digits (128 random bits)."""
    return "wh_" + secrets.token_hex(16)


class SensorRepository(_ComponentRepository):
    table = t.sensor
    entity = Sensor
    name = "sensor"

    async def list_enabled(self) -> list[Sensor]:
        """Enabled sensors, by ref."""
        return await self.list(enabled=True)


class ActionRepository(_ComponentRepository):
    table = t.action
    entity = Action
    name = "action"

    async def lock(self, id: int) -> None:
        """Lock the action row until the transaction ends (serialises policy decisions).

        PostgreSQL takes a row lock (``FOR UPDATE``); SQLite write transactions are already
        exclusive.
        """
        await self._execute(
            sa.select(self.table.c.id).where(self.table.c.id == id).with_for_update()
        )

    async def find_by_workflow(self, workflow_def_id: int) -> Action | None:
        """The companion action of a workflow definition."""
        return await self._one_or_none(
            sa.select(self.table).where(self.table.c.workflow_def == workflow_def_id)
        )


class RuleRepository(_ComponentRepository):
    table = t.rule
    entity = Rule
    name = "rule"

    def validate(self, values: Mapping[str, Any], *, partial: bool = False) -> None:
        super().validate(values, partial=partial)
        for field in ("action_ref", "trigger_ref"):
            if field in values:
                validate_component_ref(values[field], field)
        for field in ("action_params", "trigger_params"):
            if field in values and not isinstance(values[field], dict):
                raise ValidationError(f"rule {field} must be an object", field=field)

    async def list_enabled(self) -> list[Rule]:
        """Enabled rules, by ref."""
        return await self.list(enabled=True)

    async def list_enabled_for_trigger(self, trigger_ref: str) -> list[Rule]:
        """The enabled rules an event of ``trigger_ref`` must be evaluated against."""
        return await self.list(enabled=True, trigger_ref=trigger_ref)

    async def list_enabled_for_trigger_cached(self, trigger_ref: str) -> list[Rule]:
        """:meth:`list_enabled_for_trigger` through the catalogue cache (what every event
        reads; a rule created, changed, enabled or disabled clears the cache on commit)."""

        async def load() -> tuple[Rule, ...]:
            return tuple(await self.list_enabled_for_trigger(trigger_ref))

        return list(await self._cached(("enabled_for_trigger", trigger_ref), load))


class PolicyRepository(_ComponentRepository):
    table = t.policy
    entity = Policy
    name = "policy"

    async def list_for_action(self, action_ref: str) -> list[Policy]:
        """The policies that apply to an action."""
        return await self.list(action_ref=action_ref)

    async def list_for_action_cached(self, action_ref: str) -> list[Policy]:
        """:meth:`list_for_action` through the catalogue cache."""

        async def load() -> tuple[Policy, ...]:
            return tuple(await self.list_for_action(action_ref))

        return list(await self._cached(("action", action_ref), load))


class WorkflowDefinitionRepository(_ComponentRepository):
    table = t.workflow_definition
    entity = WorkflowDefinition
    name = "workflow"


class EventRepository(Repository[Event]):
    """Events are immutable: created, read, purged; never updated."""

    table = t.event
    entity = Event
    name = "event"
    order = NEWEST_FIRST
    announce = "event"

    async def update(self, id: int, **changes: Any) -> Event:
        raise ValidationError("events are immutable")

    async def list_unenforced(
        self, *, since: datetime, before: datetime, limit: int = MAX_PAGE
    ) -> list[Event]:
        """Events created in [since, before) that no enforcement refers to, oldest first."""
        e, f = self.table, t.enforcement
        return await self._all(
            sa.select(e)
            .where(
                e.c.created >= since,
                e.c.created < before,
                ~sa.exists(sa.select(f.c.id).where(f.c.event == e.c.id)),
            )
            .order_by(e.c.created, e.c.id)
            .limit(limit)
        )

    async def count_webhook_events(self, trigger_ref: str, *, since: datetime) -> int:
        """Events of ``trigger_ref`` received through its webhook (``config.source`` is
        ``webhook``) created after ``since``: the shared counter of webhook rate limits."""
        c = self.table.c
        statement = (
            sa.select(sa.func.count())
            .select_from(self.table)
            .where(
                c.trigger_ref == trigger_ref,
                c.created > since,
                c.config["source"].as_string() == "webhook",
            )
        )
        return int((await self._execute(statement)).scalar_one())

    async def purge_before(self, before: datetime) -> int:
        """Delete events created before ``before`` (retention); returns how many."""
        result = await self._execute(sa.delete(self.table).where(self.table.c.created < before))
        return int(result.rowcount or 0)


class EnforcementRepository(Repository[Enforcement]):
    """Enforcements change once: ``created`` -> ``processed`` | ``disabled``, with resolved_at."""

    table = t.enforcement
    entity = Enforcement
    name = "enforcement"
    order = NEWEST_FIRST
    announce = "enforcement"

    async def update(self, id: int, **changes: Any) -> Enforcement:
        raise ValidationError("enforcements change only through resolve()")

    async def resolve(self, id: int, status: EnforcementStatus) -> Enforcement | None:
        """Record the outcome; ``None`` when the enforcement was already resolved."""
        if status is EnforcementStatus.CREATED:
            raise ValidationError("an enforcement resolves to processed or disabled")
        return await self.transition(
            id, expected=EnforcementStatus.CREATED, new=status, resolved_at=self._now()
        )

    async def create_resolved_many(self, entities: Sequence[Enforcement]) -> list[Enforcement]:
        """Insert enforcements already resolved (``status`` processed or disabled, with
        ``resolved_at``): one statement where :meth:`create_many` + :meth:`resolve_many` take
        two. Their creation is announced as it was (status ``created``); the caller announces
        the resolution with :meth:`announce_resolved` where :meth:`resolve_many` would have
        run (after the executions they created)."""
        for entity in entities:
            if entity.status is EnforcementStatus.CREATED or entity.resolved_at is None:
                raise ValidationError("a resolved enforcement needs its status and resolved_at")
        stored = await self.create_many(entities, announce=False)
        for entity in stored:
            created = attrs.evolve(entity, status=EnforcementStatus.CREATED, resolved_at=None)
            self._uow.record_change(Change(self.announce, "created", created, None))
        return stored

    def announce_resolved(self, entities: Sequence[Enforcement]) -> None:
        """Announce the resolution of enforcements stored by :meth:`create_resolved_many`."""
        for entity in entities:
            self._announce_status(entity, EnforcementStatus.CREATED)

    async def resolve_many(
        self, ids: Sequence[int], status: EnforcementStatus
    ) -> list[Enforcement]:
        """:meth:`resolve` for several enforcements in one statement (batched ingestion);
        returns those that were still ``created``."""
        if status is EnforcementStatus.CREATED:
            raise ValidationError("an enforcement resolves to processed or disabled")
        resolved: list[Enforcement] = []
        c = self.table.c
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = list(ids[start : start + _IN_CHUNK])
            statement = (
                sa.update(self.table)
                .where(c.id.in_(chunk), c.status == EnforcementStatus.CREATED)
                .values(status=status, resolved_at=self._now())
                .returning(self.table)
            )
            for entity in await self._all(statement):
                self._announce_status(entity, EnforcementStatus.CREATED)
                resolved.append(entity)
        return resolved


_EXECUTION_HISTORY = HistorySpec(
    table_name="execution_history",
    tracked=("status", "result", "executor", "worker", "workflow_task", "env_vars", "started_at"),
    ref_field="action_ref",
    digested=frozenset({"result"}),
)


class ExecutionRepository(Repository[Execution]):
    """Executions, with their field-level history recorded on every change."""

    table = t.execution
    entity = Execution
    name = "execution"
    order = NEWEST_FIRST
    announce = "execution"
    history = _EXECUTION_HISTORY
    # started_at marks the first time the execution ran; it is never moved afterwards.
    set_once = {"started_at": ExecutionStatus.RUNNING}

    async def list_children(self, parent: int) -> list[Execution]:
        """Direct children of a (workflow) execution, oldest first."""
        c = self.table.c
        return await self._all(
            sa.select(self.table).where(c.parent == parent).order_by(c.created, c.id)
        )

    async def list_in_status(
        self, statuses: Sequence[ExecutionStatus], *, limit: int | None = None
    ) -> list[Execution]:
        """Executions in any of ``statuses``, oldest first (work queues, recovery)."""
        c = self.table.c
        statement = (
            sa.select(self.table)
            .where(c.status.in_(list(statuses)))
            .order_by(c.created, c.id)
            .limit(limit)
        )
        return await self._all(statement)

    async def count_by_worker(
        self, workers: Sequence[int], statuses: Sequence[ExecutionStatus]
    ) -> dict[int, int]:
        """How many executions in ``statuses`` each of ``workers`` holds (one statement)."""
        c = self.table.c
        statement = (
            sa.select(c.worker, sa.func.count().label("n"))
            .where(c.worker.in_(list(workers)), c.status.in_(list(statuses)))
            .group_by(c.worker)
        )
        result = await self._execute(statement)
        counted = {int(row["worker"]): int(row["n"]) for row in result.mappings()}
        return {worker: counted.get(worker, 0) for worker in workers}

    async def list_unchanged(
        self, statuses: Sequence[ExecutionStatus], *, since: datetime, limit: int
    ) -> list[Execution]:
        """Executions in any of ``statuses`` not changed since ``since``, oldest first
        (the executor's reconcile: work whose message may have been lost)."""
        c = self.table.c
        statement = (
            sa.select(self.table)
            .where(c.status.in_(list(statuses)), c.updated < since)
            .order_by(c.created, c.id)
            .limit(limit)
        )
        return await self._all(statement)

    async def list_unhandled_children(self, *, since: datetime, limit: int) -> list[Execution]:
        """Children that ended before ``since`` while their workflow, still unfinished, has not
        changed since: their completion was not handled (its message was lost)."""
        c = self.table.c
        w = t.workflow_execution.c
        finished = [s for s in ExecutionStatus if s.is_terminal]
        statement = (
            sa.select(self.table)
            .join(t.workflow_execution, w.execution == c.parent)
            .where(
                c.status.in_(finished),
                c.updated < since,
                w.updated < c.updated,
                w.status.not_in(finished),
            )
            .order_by(c.updated, c.id)
            .limit(limit)
        )
        return await self._all(statement)


class WorkflowExecutionRepository(Repository[WorkflowExecution]):
    table = t.workflow_execution
    entity = WorkflowExecution
    name = "workflow execution"
    order = NEWEST_FIRST
    announce = "workflow_execution"

    async def find_by_execution(
        self, execution_id: int, *, lock: bool = False
    ) -> WorkflowExecution | None:
        """The workflow state of the (parent) execution ``execution_id``.

        With ``lock``, the row is locked until the transaction ends (PostgreSQL ``FOR
        UPDATE``; SQLite write transactions are exclusive anyway), so two children finishing
        at once advance the workflow one after the other.
        """
        statement = sa.select(self.table).where(self.table.c.execution == execution_id)
        if lock:
            statement = statement.with_for_update()
        return await self._one_or_none(statement)

    async def lock_of_execution(self, execution_id: int) -> None:
        """Lock the workflow state of execution ``execution_id`` without reading it (see
        :meth:`find_by_execution`)."""
        c = self.table.c
        await self._execute(sa.select(c.id).where(c.execution == execution_id).with_for_update())

    async def add_decisions(self, id: int, decisions: Sequence[Mapping[str, Any]]) -> None:
        """Append the conductor's ``decisions`` to the log of workflow execution ``id``."""
        if decisions:
            await self._execute(
                sa.insert(t.workflow_decision),
                [{"workflow_execution": id, "decision": dict(d)} for d in decisions],  # type: ignore[arg-type]
            )

    async def decisions(self, record: WorkflowExecution) -> list[dict[str, Any]]:
        """The decisions of workflow execution ``record``, oldest first (``add_decisions``).

        A workflow started by a version that kept its log in ``state["decisions"]`` has it
        there: that part comes first.
        """
        assert record.id is not None
        d = t.workflow_decision.c
        rows = await self._execute(
            sa.select(d.decision).where(d.workflow_execution == record.id).order_by(d.id)
        )
        state = record.state if isinstance(record.state, Mapping) else {}
        return [*(state.get("decisions") or ()), *(row[0] for row in rows.all())]


class InquiryRepository(Repository[Inquiry]):
    table = t.inquiry
    entity = Inquiry
    name = "inquiry"
    order = NEWEST_FIRST
    announce = "inquiry"

    async def list_overdue(self, now: datetime) -> list[Inquiry]:
        """Pending inquiries whose ``timeout_at`` has passed."""
        c = self.table.c
        return await self._all(
            sa.select(self.table)
            .where(c.status == InquiryStatus.PENDING, c.timeout_at <= now)
            .order_by(c.timeout_at)
        )


class IdentityRepository(Repository[Identity]):
    table = t.identity
    entity = Identity
    name = "identity"
    order = (("login", False),)

    def validate(self, values: Mapping[str, Any], *, partial: bool = False) -> None:
        _require_text(values, "login", self.name)

    async def find_by_login(self, login: str) -> Identity | None:
        """The identity with this login, or ``None``."""
        return await self._one_or_none(sa.select(self.table).where(self.table.c.login == login))

    async def get_by_login(self, login: str) -> Identity:
        """The identity with this login; :class:`NotFound` otherwise."""
        found = await self.find_by_login(login)
        if found is None:
            raise NotFound(f"identity {login!r} not found")
        return found


class PermissionSetRepository(RefRepository[PermissionSet]):
    table = t.permission_set
    entity = PermissionSet
    name = "permission set"

    def validate(self, values: Mapping[str, Any], *, partial: bool = False) -> None:
        if "ref" in values:
            validate_component_ref(values["ref"])

    async def list_for_identity(self, identity_id: int) -> list[PermissionSet]:
        """The permission sets assigned to an identity, by ref."""
        ps, pa = self.table, t.permission_assignment
        return await self._all(
            sa.select(ps)
            .join(pa, pa.c.permset == ps.c.id)
            .where(pa.c.identity == identity_id)
            .order_by(ps.c.ref)
        )


class PermissionAssignmentRepository(Repository[PermissionAssignment]):
    table = t.permission_assignment
    entity = PermissionAssignment
    name = "permission assignment"

    async def list_for_identity(self, identity_id: int) -> list[PermissionAssignment]:
        """An identity's assignments."""
        return await self.list(identity=identity_id)


_OWNER_COLUMNS = {
    OwnerType.IDENTITY: "owner_identity",
    OwnerType.PACK: "owner_pack",
    OwnerType.ACTION: "owner_action",
    OwnerType.SENSOR: "owner_sensor",
}


class KeyRepository(RefRepository[Key]):
    """Keys: the system owns unowned keys; any other owner type names exactly one owner."""

    table = t.key
    entity = Key
    name = "key"

    def validate(self, values: Mapping[str, Any], *, partial: bool = False) -> None:
        if "ref" in values:
            validate_key_ref(values["ref"])
        _require_text(values, "name", self.name)
        if partial and not (set(values) & {"owner_type", *_OWNER_COLUMNS.values()}):
            return
        owner_type = OwnerType(values.get("owner_type", OwnerType.SYSTEM))
        present = [column for column in _OWNER_COLUMNS.values() if values.get(column) is not None]
        if owner_type is OwnerType.SYSTEM:
            if present:
                raise ValidationError(
                    f"a system key has no owner, but {', '.join(present)} is set", field=present[0]
                )
            return
        wanted = _OWNER_COLUMNS[owner_type]
        if present != [wanted]:
            raise ValidationError(
                f"a key owned by a {owner_type.value} needs exactly {wanted} set"
                + (f" (got {', '.join(present)})" if present else ""),
                field=wanted,
            )

    async def list_for_action(self, pack_id: int | None, action_id: int | None) -> list[Key]:
        """The keys an action may use: system-owned, its pack's and its own (one query)."""
        c = self.table.c
        scopes = [c.owner_type == OwnerType.SYSTEM]
        if pack_id is not None:
            scopes.append(sa.and_(c.owner_type == OwnerType.PACK, c.owner_pack == pack_id))
        if action_id is not None:
            scopes.append(sa.and_(c.owner_type == OwnerType.ACTION, c.owner_action == action_id))
        return await self._all(sa.select(self.table).where(sa.or_(*scopes)).order_by(c.ref))

    async def list_for_action_cached(self, pack_id: int | None, action_id: int | None) -> list[Key]:
        """:meth:`list_for_action` through the catalogue cache."""

        async def load() -> tuple[Key, ...]:
            return tuple(await self.list_for_action(pack_id, action_id))

        return list(await self._cached(("action", pack_id, action_id), load))

    async def list_for_owner(self, owner_type: OwnerType, owner: str | None = None) -> list[Key]:
        """Keys of one owner type (and one owner, by its textual id/ref, if given)."""
        if owner is None:
            return await self.list(owner_type=owner_type)
        return await self.list(owner_type=owner_type, owner=owner)


class ArtifactRepository(Repository[Artifact]):
    table = t.artifact
    entity = Artifact
    name = "artifact"
    order = NEWEST_FIRST

    async def find_by_ref(self, ref: str) -> Artifact | None:
        """The newest artifact with this ref (refs repeat across executions)."""
        c = self.table.c
        return await self._one_or_none(
            sa.select(self.table)
            .where(c.ref == ref)
            .order_by(c.created.desc(), c.id.desc())
            .limit(1)
        )

    async def append_progress(self, id: int, entry: Any) -> Artifact:
        """Append ``entry`` to a progress artifact's ``data`` array."""
        locked = (
            await self._execute(
                sa.select(self.table.c.data).where(self.table.c.id == id).with_for_update()
            )
        ).one_or_none()
        if locked is None:
            raise NotFound(f"artifact {id} not found")
        data = locked.data if isinstance(locked.data, list) else []
        return await self.update(id, data=[*data, entry])


class ArtifactVersionRepository(Repository[ArtifactVersion]):
    """Immutable content snapshots, numbered 1, 2, ... per artifact, pruned by retention."""

    table = t.artifact_version
    entity = ArtifactVersion
    name = "artifact version"
    order = (("version", True),)

    async def create(self, entity: ArtifactVersion) -> ArtifactVersion:
        """Store a new version of ``entity.artifact`` (its ``version`` is assigned here)."""
        return await self.add(
            entity.artifact,
            content=entity.content,
            content_json=entity.content_json,
            content_type=entity.content_type,
            meta=entity.meta,
            created_by=entity.created_by,
        )

    async def add(
        self,
        artifact_id: int,
        *,
        content: bytes | None = None,
        content_json: Any = None,
        content_type: str | None = None,
        meta: dict[str, Any] | None = None,
        created_by: str | None = None,
    ) -> ArtifactVersion:
        """Store the next version of an artifact and apply its count-based retention."""
        a, v = t.artifact, self.table
        # Lock the artifact so concurrent uploads number their versions one after another.
        parent = (
            await self._execute(sa.select(a).where(a.c.id == artifact_id).with_for_update())
        ).one_or_none()
        if parent is None:
            raise NotFound(f"artifact {artifact_id} not found")
        latest = (
            await self._execute(
                sa.select(sa.func.coalesce(sa.func.max(v.c.version), 0)).where(
                    v.c.artifact == artifact_id
                )
            )
        ).scalar_one()
        size = len(content) if content is not None else None
        now = self._now()
        values = {
            "artifact": artifact_id,
            "version": int(latest) + 1,
            "content_type": content_type,
            "size_bytes": size,
            "content": content,
            "content_json": content_json,
            "meta": meta,
            "created_by": created_by,
            "created": now,
        }
        stored = await self._one_or_none(sa.insert(v).values(values).returning(v))
        assert stored is not None
        await self._execute(
            sa.update(a)
            .where(a.c.id == artifact_id)
            .values(updated=now, size_bytes=size, content_type=content_type or parent.content_type)
        )
        if RetentionPolicy(parent.retention_policy) is RetentionPolicy.VERSIONS:
            keep_from = stored.version - int(parent.retention_limit) + 1
            await self._execute(
                sa.delete(v).where(v.c.artifact == artifact_id, v.c.version < keep_from)
            )
        return stored

    async def list_for_artifact(self, artifact_id: int) -> list[ArtifactVersion]:
        """Versions of an artifact, newest first."""
        return await self.list(artifact=artifact_id)

    async def find_version(self, artifact_id: int, version: int) -> ArtifactVersion | None:
        """Version ``version`` of the artifact, or ``None``."""
        c = self.table.c
        return await self._one_or_none(
            sa.select(self.table).where(c.artifact == artifact_id, c.version == version)
        )

    async def latest(self, artifact_id: int) -> ArtifactVersion | None:
        """The newest version of the artifact, or ``None`` when it has none."""
        found = await self.list(artifact=artifact_id, limit=1)
        return found[0] if found else None

    async def delete_version(self, artifact_id: int, version: int) -> None:
        """Delete one version; :class:`NotFound` when it does not exist."""
        c = self.table.c
        gone = await self._delete_returning(
            sa.delete(self.table).where(c.artifact == artifact_id, c.version == version)
        )
        if gone is None:
            raise NotFound(f"artifact {artifact_id} has no version {version}")

    async def purge_expired(self, now: datetime) -> int:
        """Apply time-based retention (days/hours/minutes) to every artifact; returns count."""
        a, v = t.artifact, self.table
        removed = 0
        units = {
            RetentionPolicy.DAYS: timedelta(days=1),
            RetentionPolicy.HOURS: timedelta(hours=1),
            RetentionPolicy.MINUTES: timedelta(minutes=1),
        }
        for policy, unit in units.items():
            rows = (
                await self._execute(
                    sa.select(a.c.id, a.c.retention_limit).where(a.c.retention_policy == policy)
                )
            ).all()
            for row in rows:
                cutoff = now - unit * int(row.retention_limit)
                result = await self._execute(
                    sa.delete(v).where(v.c.artifact == row.id, v.c.created < cutoff)
                )
                removed += int(result.rowcount or 0)
        return removed


_WORKER_HISTORY = HistorySpec(
    table_name="worker_history",
    tracked=(
        "name",
        "worker_type",
        "worker_role",
        "runtime",
        "host",
        "port",
        "status",
        "capabilities",
        "meta",
        "cordoned",
    ),
    ref_field="name",
)


class WorkerRepository(Repository[Worker]):
    """Workers, with history of everything but heartbeats."""

    table = t.worker
    entity = Worker
    name = "worker"
    order = (("name", False),)
    history = _WORKER_HISTORY

    async def find_by_name(self, name: str) -> Worker | None:
        """The worker registered under ``name``, or ``None``."""
        return await self._one_or_none(sa.select(self.table).where(self.table.c.name == name))

    async def heartbeat(self, id: int) -> bool:
        """Record that the worker is alive; returns whether it exists."""
        now = self._now()
        result = await self._execute(
            sa.update(self.table)
            .where(self.table.c.id == id)
            .values(last_heartbeat=now, updated=now)
        )
        return bool(result.rowcount)

    async def list_stale(self, before: datetime) -> list[Worker]:
        """Active or busy workers whose last heartbeat is older than ``before``."""
        c = self.table.c
        return await self._all(
            sa.select(self.table)
            .where(c.status.in_(["active", "busy"]), c.last_heartbeat < before)
            .order_by(c.name)
        )


class NotificationRepository(Repository[Notification]):
    table = t.notification
    entity = Notification
    name = "notification"
    order = NEWEST_FIRST

    async def add_many(self, notifications: Sequence[Notification]) -> int:
        """Insert ``notifications`` in one statement (the recorder's batches); returns how many.

        On PostgreSQL one statement of the same text for any number of rows (``INSERT ...
        SELECT unnest(:column) ...``, a bound array per column): the server runs it once and
        SQLAlchemy finds it compiled, where an ``executemany`` costs an execution per row and
        the processing of every row's parameters, and a multi-row VALUES a new statement for
        every batch size."""
        if not notifications:
            return 0
        rows = [self._values_for_insert(n) for n in notifications]
        for row in rows:
            self.validate(row)
        if self.dialect != "postgresql":
            await self._execute(sa.insert(self.table), rows)  # type: ignore[arg-type]
            return len(rows)
        columns = _notification_columns()
        await self._execute(
            _notification_unnest(), {name: [row.get(name) for row in rows] for name in columns}
        )
        return len(rows)


class QueueStatsRepository(Repository[QueueStats]):
    """Per-action queue figures, keyed by ``action_id`` (no id column)."""

    table = t.queue_stats
    entity = QueueStats
    name = "queue stats"
    order = (("action_id", False),)

    async def find(self, id: int) -> QueueStats | None:
        return await self._one_or_none(sa.select(self.table).where(self.table.c.action_id == id))

    async def create(self, entity: QueueStats) -> QueueStats:
        return await self.upsert(entity)

    async def upsert(self, stats: QueueStats) -> QueueStats:
        """Insert or replace the figures of ``stats.action_id``."""
        values = {
            **{name: getattr(stats, name) for name in self._columns},
            "last_updated": self._now(),
        }
        existing = await self.find(stats.action_id)
        if existing is None:
            statement: sa.Insert | sa.Update = sa.insert(self.table).values(values)
        else:
            statement = (
                sa.update(self.table)
                .where(self.table.c.action_id == stats.action_id)
                .values(values)
            )
        stored = await self._one_or_none(statement.returning(self.table))
        assert stored is not None
        return stored

    async def update(self, id: int, **changes: Any) -> QueueStats:
        self._check_columns(changes)
        stored = await self._one_or_none(
            sa.update(self.table)
            .where(self.table.c.action_id == id)
            .values({**changes, "last_updated": self._now()})
            .returning(self.table)
        )
        if stored is None:
            raise NotFound(f"queue stats of action {id} not found")
        return stored

    async def delete(self, id: int) -> None:
        gone = await self._delete_returning(
            sa.delete(self.table).where(self.table.c.action_id == id)
        )
        if gone is None:
            raise NotFound(f"queue stats of action {id} not found")


class PackEnvironmentRepository(Repository[PackEnvironment]):
    table = t.pack_environment
    entity = PackEnvironment
    name = "pack environment"
    order = (("pack_ref", False), ("runtime_ref", False))

    async def find_for(self, pack_id: int, runtime_id: int) -> PackEnvironment | None:
        """The environment of one pack for one runtime, or ``None``."""
        c = self.table.c
        return await self._one_or_none(
            sa.select(self.table).where(c.pack == pack_id, c.runtime == runtime_id)
        )


class PackTestExecutionRepository(Repository[PackTestExecution]):
    table = t.pack_test_execution
    entity = PackTestExecution
    name = "pack test execution"
    order = NEWEST_FIRST

    def _values_for_insert(self, entity: PackTestExecution) -> dict[str, Any]:
        values = super()._values_for_insert(entity)
        if values.get("execution_time") is None:
            values["execution_time"] = values["created"]
        return values

    async def latest_for_pack(self, pack_id: int) -> PackTestExecution | None:
        """The most recent test run of a pack."""
        found = await self.list(pack_id=pack_id, limit=1)
        return found[0] if found else None


class _HistoryRepository(Repository[Any]):
    order: ClassVar[Sequence[tuple[str, bool]]] = (("time", True), ("id", True))

    def _to_entity(self, row: sa.Row[Any]) -> Any:
        # ``operation`` is stored as text (INSERT/UPDATE/DELETE); entities carry the enum.
        values = dict(row._mapping)
        values["operation"] = HistoryOperation(values["operation"])
        return self.entity(**values)

    async def query(
        self,
        *,
        entity_id: int | None = None,
        entity_ref: str | None = None,
        operation: str | None = None,
        changed_field: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Any]:
        """History records matching every given filter, newest first."""
        await self._uow.flush_history()
        c = self.table.c
        clauses: list[sa.ColumnElement[bool]] = []
        if entity_id is not None:
            clauses.append(c.entity_id == entity_id)
        if entity_ref is not None:
            clauses.append(c.entity_ref == entity_ref)
        if operation is not None:
            clauses.append(c.operation == operation.upper())
        if since is not None:
            clauses.append(c.time >= since)
        if until is not None:
            clauses.append(c.time <= until)
        if changed_field is not None:
            clauses.append(self._contains(c.changed_fields, changed_field))
        statement = (
            sa.select(self.table)
            .where(*clauses)
            .order_by(*self._order_by())
            .limit(limit)
            .offset(offset)
        )
        return await self._all(statement)

    def _contains(self, column: sa.Column[Any], value: str) -> sa.ColumnElement[bool]:
        if self.dialect == "postgresql":
            return column.op("@>")(sa.func.jsonb_build_array(value))
        each = sa.func.json_each(column).table_valued("value")
        return sa.exists(sa.select(1).select_from(each).where(each.c.value == value))


class ExecutionHistoryRepository(_HistoryRepository):
    table = t.execution_history
    entity = ExecutionHistory
    name = "execution history"


class WorkerHistoryRepository(_HistoryRepository):
    table = t.worker_history
    entity = WorkerHistory
    name = "worker history"


@functools.cache
def _notification_columns() -> tuple[str, ...]:
    return tuple(c.name for c in t.notification.columns if c.name != "id")


@functools.cache
def _notification_unnest() -> sa.Insert:
    """``NotificationRepository.add_many``'s statement on PostgreSQL, built once."""
    table = t.notification
    columns = _notification_columns()
    arrays = [
        sa.func.unnest(sa.bindparam(name, type_=postgresql.ARRAY(table.c[name].type)))
        for name in columns
    ]
    return sa.insert(table).from_select(columns, sa.select(*arrays))
