"""Every table of Attune's schema, in one module (SQLAlchemy Core).

Rules of this file:

1. Table and column names are the original system's; each table matches an entity of
   :mod:`attune_core.model` field for field.
2. This metadata is the schema's single description: the Alembic migrations must produce
   exactly it on both SQLite and PostgreSQL (``tests/integration/test_migrations.py`` runs
   ``alembic check`` against it). Change a table here, then add a migration.
3. Foreign keys follow the reference's delete policy: pack-owned components cascade with their
   pack; history-like rows (events, enforcements, executions, inquiries, artifacts) survive the
   deletion of what they point at and keep their text refs (``ON DELETE SET NULL``, or a plain
   BIGINT where the original has no constraint).
4. No column defaults: repositories write every value (``created``/``updated`` included), so
   what the database holds is exactly what the entity said.
"""

from __future__ import annotations

import sqlalchemy as sa

from attune_core.model import (
    ArtifactType,
    EnforcementCondition,
    EnforcementStatus,
    ExecutionStatus,
    InquiryStatus,
    NotificationState,
    OutputFormat,
    OwnerType,
    PackEnvironmentStatus,
    ParameterDelivery,
    ParameterFormat,
    PolicyMethod,
    RetentionPolicy,
    WorkerRole,
    WorkerStatus,
    WorkerType,
)
from attune_core.storage._types import Id, Json, UtcDateTime, enum_type

__all__ = ["metadata"]

# Deterministic constraint names: Alembic needs them to alter or drop constraints later, and
# SQLite's batch mode recreates tables by name.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

execution_status = enum_type(ExecutionStatus, "execution_status_enum")
enforcement_status = enum_type(EnforcementStatus, "enforcement_status_enum")
enforcement_condition = enum_type(EnforcementCondition, "enforcement_condition_enum")
inquiry_status = enum_type(InquiryStatus, "inquiry_status_enum")
owner_type = enum_type(OwnerType, "owner_type_enum")
artifact_type = enum_type(ArtifactType, "artifact_type_enum")
retention_policy = enum_type(RetentionPolicy, "artifact_retention_enum")
worker_type = enum_type(WorkerType, "worker_type_enum")
worker_role = enum_type(WorkerRole, "worker_role_enum")
worker_status = enum_type(WorkerStatus, "worker_status_enum")
policy_method = enum_type(PolicyMethod, "policy_method_enum")
pack_environment_status = enum_type(PackEnvironmentStatus, "pack_environment_status_enum")
notification_state = enum_type(NotificationState, "notification_status_enum")
parameter_delivery = enum_type(ParameterDelivery, "parameter_delivery_enum")
parameter_format = enum_type(ParameterFormat, "parameter_format_enum")
output_format = enum_type(OutputFormat, "output_format_enum")


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
    ]


def _owned_by_pack(*, ref_required: bool = False) -> list[sa.Column[object]]:
    """``pack`` cascades: a pack's components go with it. ``pack_ref`` keeps the name."""
    return [
        sa.Column("pack", Id, sa.ForeignKey("pack.id", ondelete="CASCADE"), index=True),
        sa.Column("pack_ref", sa.Text, nullable=not ref_required),
    ]


pack = sa.Table(
    "pack",
    metadata,
    _id(),
    sa.Column("ref", sa.Text, nullable=False, unique=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("conf_schema", Json, nullable=False),
    sa.Column("config", Json, nullable=False),
    sa.Column("meta", Json, nullable=False),
    sa.Column("tags", Json, nullable=False),
    sa.Column("runtime_deps", Json, nullable=False),
    sa.Column("dependencies", Json, nullable=False),
    sa.Column("is_standard", sa.Boolean, nullable=False),
    *_timestamps(),
)

runtime = sa.Table(
    "runtime",
    metadata,
    _id(),
    sa.Column("ref", sa.Text, nullable=False, unique=True),
    *_owned_by_pack(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("distributions", Json, nullable=False),
    sa.Column("installation", Json),
    sa.Column("execution_config", Json, nullable=False),
    *_timestamps(),
)

runtime_version = sa.Table(
    "runtime_version",
    metadata,
    _id(),
    sa.Column(
        "runtime", Id, sa.ForeignKey("runtime.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("runtime_ref", sa.Text, nullable=False),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("version_major", sa.Integer),
    sa.Column("version_minor", sa.Integer),
    sa.Column("version_patch", sa.Integer),
    sa.Column("execution_config", Json, nullable=False),
    sa.Column("distributions", Json, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("available", sa.Boolean, nullable=False),
    sa.Column("verified_at", UtcDateTime()),
    sa.Column("meta", Json, nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("runtime", "version"),
)

trigger = sa.Table(
    "trigger",
    metadata,
    _id(),
    sa.Column("ref", sa.Text, nullable=False, unique=True),
    *_owned_by_pack(),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("is_adhoc", sa.Boolean, nullable=False),
    sa.Column("param_schema", Json),
    sa.Column("out_schema", Json),
    sa.Column("webhook_enabled", sa.Boolean, nullable=False),
    sa.Column("webhook_key", sa.Text, unique=True),
    sa.Column("webhook_config", Json),
    *_timestamps(),
)

sensor = sa.Table(
    "sensor",
    metadata,
    _id(),
    sa.Column("ref", sa.Text, nullable=False, unique=True),
    *_owned_by_pack(),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("entrypoint", sa.Text, nullable=False),
    sa.Column("runtime", Id, sa.ForeignKey("runtime.id", ondelete="SET NULL")),
    sa.Column("runtime_ref", sa.Text),
    sa.Column("runtime_version_constraint", sa.Text),
    sa.Column("trigger", Id, sa.ForeignKey("trigger.id", ondelete="SET NULL")),
    sa.Column("trigger_ref", sa.Text),
    sa.Column("trigger_types", Json, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("is_adhoc", sa.Boolean, nullable=False),
    sa.Column("param_schema", Json),
    sa.Column("config", Json, nullable=False),
    sa.Column("poll_interval", sa.Integer),
    *_timestamps(),
)

workflow_definition = sa.Table(
    "workflow_definition",
    metadata,
    _id(),
    sa.Column("ref", sa.Text, nullable=False, unique=True),
    *_owned_by_pack(ref_required=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("param_schema", Json),
    sa.Column("out_schema", Json),
    sa.Column("definition", Json, nullable=False),
    sa.Column("tags", Json, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    *_timestamps(),
)

action = sa.Table(
    "action",
    metadata,
    _id(),
    sa.Column("ref", sa.Text, nullable=False, unique=True),
    *_owned_by_pack(ref_required=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("entrypoint", sa.Text, nullable=False),
    sa.Column("runtime", Id, sa.ForeignKey("runtime.id", ondelete="SET NULL")),
    sa.Column("runtime_version_constraint", sa.Text),
    sa.Column("param_schema", Json),
    sa.Column("out_schema", Json),
    sa.Column(
        "workflow_def",
        Id,
        sa.ForeignKey("workflow_definition.id", ondelete="CASCADE"),
        index=True,
    ),
    sa.Column("is_adhoc", sa.Boolean, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("parameter_delivery", parameter_delivery, nullable=False),
    sa.Column("parameter_format", parameter_format, nullable=False),
    sa.Column("output_format", output_format, nullable=False),
    sa.Column("timeout", sa.Integer),
    sa.Column("tags", Json, nullable=False),
    *_timestamps(),
)

rule = sa.Table(
    "rule",
    metadata,
    _id(),
    sa.Column("ref", sa.Text, nullable=False, unique=True),
    *_owned_by_pack(ref_required=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("action", Id, sa.ForeignKey("action.id", ondelete="SET NULL"), index=True),
    sa.Column("action_ref", sa.Text, nullable=False),
    sa.Column("trigger", Id, sa.ForeignKey("trigger.id", ondelete="SET NULL"), index=True),
    sa.Column("trigger_ref", sa.Text, nullable=False, index=True),
    sa.Column("conditions", Json, nullable=False),
    sa.Column("action_params", Json, nullable=False),
    sa.Column("trigger_params", Json, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("is_adhoc", sa.Boolean, nullable=False),
    *_timestamps(),
)

policy = sa.Table(
    "policy",
    metadata,
    _id(),
    sa.Column("ref", sa.Text, nullable=False, unique=True),
    *_owned_by_pack(),
    sa.Column("action", Id, sa.ForeignKey("action.id", ondelete="CASCADE"), index=True),
    sa.Column("action_ref", sa.Text),
    sa.Column("parameters", Json, nullable=False),
    sa.Column("method", policy_method, nullable=False),
    sa.Column("threshold", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("tags", Json, nullable=False),
    *_timestamps(),
    sa.CheckConstraint("threshold >= 0", name="threshold_non_negative"),
)

event = sa.Table(
    "event",
    metadata,
    _id(),
    sa.Column("trigger", Id, sa.ForeignKey("trigger.id", ondelete="SET NULL")),
    sa.Column("trigger_ref", sa.Text, nullable=False),
    sa.Column("config", Json),
    sa.Column("payload", Json, nullable=False),
    sa.Column("source", Id, sa.ForeignKey("sensor.id", ondelete="SET NULL")),
    sa.Column("source_ref", sa.Text),
    sa.Column("rule", Id, sa.ForeignKey("rule.id", ondelete="SET NULL")),
    sa.Column("rule_ref", sa.Text),
    sa.Column("created", UtcDateTime(), nullable=False, index=True),
    sa.Index(None, "trigger_ref", "created"),
)

enforcement = sa.Table(
    "enforcement",
    metadata,
    _id(),
    sa.Column("rule", Id, sa.ForeignKey("rule.id", ondelete="SET NULL")),
    sa.Column("rule_ref", sa.Text, nullable=False),
    sa.Column("trigger_ref", sa.Text, nullable=False),
    sa.Column("config", Json),
    sa.Column("event", Id, index=True),  # plain BIGINT, as in the original (no FK)
    sa.Column("status", enforcement_status, nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("condition", enforcement_condition, nullable=False),
    sa.Column("conditions", Json, nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False, index=True),
    sa.Column("resolved_at", UtcDateTime()),
    sa.Index(None, "rule_ref", "created"),
    # Updated exactly once: resolved_at is set if and only if the status left 'created'.
    sa.CheckConstraint(
        "(status = 'created' AND resolved_at IS NULL) "
        "OR (status <> 'created' AND resolved_at IS NOT NULL)",
        name="resolved_with_status",
    ),
)

worker = sa.Table(
    "worker",
    metadata,
    _id(),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("worker_type", worker_type, nullable=False),
    sa.Column("worker_role", worker_role, nullable=False),
    sa.Column("runtime", Id, sa.ForeignKey("runtime.id", ondelete="SET NULL")),
    sa.Column("host", sa.Text),
    sa.Column("port", sa.Integer),
    sa.Column("status", worker_status, nullable=False),
    sa.Column("capabilities", Json, nullable=False),
    sa.Column("meta", Json, nullable=False),
    sa.Column("cordoned", sa.Boolean, nullable=False),
    sa.Column("last_heartbeat", UtcDateTime()),
    *_timestamps(),
)

execution = sa.Table(
    "execution",
    metadata,
    _id(),
    sa.Column("action", Id, sa.ForeignKey("action.id", ondelete="SET NULL"), index=True),
    sa.Column("action_ref", sa.Text, nullable=False, index=True),
    sa.Column("config", Json),
    sa.Column("env_vars", Json),
    sa.Column("parent", Id, index=True),  # plain BIGINT: a child survives its parent's purge
    sa.Column("enforcement", Id, index=True),
    sa.Column("rule_ref", sa.Text),
    sa.Column("trigger_ref", sa.Text),
    sa.Column("executor", Id, sa.ForeignKey("worker.id", ondelete="SET NULL")),
    sa.Column("worker", Id, sa.ForeignKey("worker.id", ondelete="SET NULL"), index=True),
    sa.Column("status", execution_status, nullable=False),
    sa.Column("result", Json),
    sa.Column("started_at", UtcDateTime()),
    sa.Column("workflow_task", Json),
    sa.Column("original_execution", Id),
    sa.Column("workflow_def", Id),
    *_timestamps(),
    sa.Index(None, "created"),
    sa.Index(None, "status", "created"),
)

workflow_execution = sa.Table(
    "workflow_execution",
    metadata,
    _id(),
    sa.Column("execution", Id, nullable=False, unique=True),
    sa.Column(
        "workflow_def", Id, sa.ForeignKey("workflow_definition.id", ondelete="CASCADE"), index=True
    ),
    sa.Column("current_tasks", Json, nullable=False),
    sa.Column("completed_tasks", Json, nullable=False),
    sa.Column("failed_tasks", Json, nullable=False),
    sa.Column("skipped_tasks", Json, nullable=False),
    sa.Column("variables", Json, nullable=False),
    sa.Column("task_graph", Json, nullable=False),
    sa.Column("state", Json, nullable=False),
    sa.Column("status", execution_status, nullable=False),
    sa.Column("error_message", sa.Text),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("pause_reason", sa.Text),
    *_timestamps(),
)

# The conductor's decisions for a workflow execution, in order (append-only: a long workflow
# adds rows instead of rewriting a growing log inside ``workflow_execution.state``).
workflow_decision = sa.Table(
    "workflow_decision",
    metadata,
    _id(),
    sa.Column(
        "workflow_execution",
        Id,
        sa.ForeignKey("workflow_execution.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("decision", Json, nullable=False),
)

identity = sa.Table(
    "identity",
    metadata,
    _id(),
    sa.Column("login", sa.Text, nullable=False, unique=True),
    sa.Column("display_name", sa.Text),
    sa.Column("password_hash", sa.Text),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("frozen", sa.Boolean, nullable=False),
    *_timestamps(),
)

inquiry = sa.Table(
    "inquiry",
    metadata,
    _id(),
    sa.Column("execution", Id, nullable=False, index=True),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("response_schema", Json),
    sa.Column("assigned_to", Id, sa.ForeignKey("identity.id", ondelete="SET NULL")),
    sa.Column("status", inquiry_status, nullable=False),
    sa.Column("response", Json),
    sa.Column("timeout_at", UtcDateTime()),
    sa.Column("responded_at", UtcDateTime()),
    *_timestamps(),
    sa.Index(None, "status", "timeout_at"),
)

permission_set = sa.Table(
    "permission_set",
    metadata,
    _id(),
    sa.Column("ref", sa.Text, nullable=False, unique=True),
    *_owned_by_pack(),
    sa.Column("label", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("grants", Json, nullable=False),
    *_timestamps(),
)

permission_assignment = sa.Table(
    "permission_assignment",
    metadata,
    _id(),
    sa.Column("identity", Id, sa.ForeignKey("identity.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "permset",
        Id,
        sa.ForeignKey("permission_set.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("identity", "permset"),
)

key = sa.Table(
    "key",
    metadata,
    _id(),
    sa.Column("ref", sa.Text, nullable=False, unique=True),
    sa.Column("owner_type", owner_type, nullable=False),
    sa.Column("owner", sa.Text),
    sa.Column("owner_identity", Id, sa.ForeignKey("identity.id", ondelete="CASCADE")),
    sa.Column("owner_pack", Id, sa.ForeignKey("pack.id", ondelete="CASCADE")),
    sa.Column("owner_pack_ref", sa.Text),
    sa.Column("owner_action", Id, sa.ForeignKey("action.id", ondelete="CASCADE")),
    sa.Column("owner_action_ref", sa.Text),
    sa.Column("owner_sensor", Id, sa.ForeignKey("sensor.id", ondelete="CASCADE")),
    sa.Column("owner_sensor_ref", sa.Text),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("encrypted", sa.Boolean, nullable=False),
    sa.Column("encryption_key_hash", sa.Text),
    sa.Column("value", sa.Text, nullable=False),
    *_timestamps(),
    # The system owns unowned keys; every other owner type names exactly its own owner column.
    sa.CheckConstraint(
        "(owner_type = 'system' AND owner_identity IS NULL AND owner_pack IS NULL"
        " AND owner_action IS NULL AND owner_sensor IS NULL)"
        " OR (owner_type = 'identity' AND owner_identity IS NOT NULL AND owner_pack IS NULL"
        " AND owner_action IS NULL AND owner_sensor IS NULL)"
        " OR (owner_type = 'pack' AND owner_identity IS NULL AND owner_pack IS NOT NULL"
        " AND owner_action IS NULL AND owner_sensor IS NULL)"
        " OR (owner_type = 'action' AND owner_identity IS NULL AND owner_pack IS NULL"
        " AND owner_action IS NOT NULL AND owner_sensor IS NULL)"
        " OR (owner_type = 'sensor' AND owner_identity IS NULL AND owner_pack IS NULL"
        " AND owner_action IS NULL AND owner_sensor IS NOT NULL)",
        name="one_owner",
    ),
)

artifact = sa.Table(
    "artifact",
    metadata,
    _id(),
    sa.Column("ref", sa.Text, nullable=False, index=True),
    sa.Column("scope", owner_type, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("type", artifact_type, nullable=False),
    sa.Column("retention_policy", retention_policy, nullable=False),
    sa.Column("retention_limit", sa.Integer, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("content_type", sa.Text),
    sa.Column("size_bytes", sa.BigInteger),
    sa.Column("execution", Id, index=True),  # plain BIGINT, as in the original
    sa.Column("data", Json),
    *_timestamps(),
    sa.CheckConstraint("retention_limit >= 1", name="retention_limit_positive"),
)

artifact_version = sa.Table(
    "artifact_version",
    metadata,
    _id(),
    sa.Column("artifact", Id, sa.ForeignKey("artifact.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content_type", sa.Text),
    sa.Column("size_bytes", sa.BigInteger),
    sa.Column("content", sa.LargeBinary),
    sa.Column("content_json", Json),
    sa.Column("meta", Json),
    sa.Column("created_by", sa.Text),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("artifact", "version"),
)

notification = sa.Table(
    "notification",
    metadata,
    _id(),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("entity_type", sa.Text, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("activity", sa.Text, nullable=False),
    sa.Column("state", notification_state, nullable=False),
    sa.Column("content", Json),
    *_timestamps(),
    sa.Index(None, "created"),
)

queue_stats = sa.Table(
    "queue_stats",
    metadata,
    sa.Column("action_id", Id, sa.ForeignKey("action.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("queue_length", sa.Integer, nullable=False),
    sa.Column("active_count", sa.Integer, nullable=False),
    sa.Column("max_concurrent", sa.Integer, nullable=False),
    sa.Column("oldest_enqueued_at", UtcDateTime()),
    sa.Column("total_enqueued", sa.BigInteger, nullable=False),
    sa.Column("total_completed", sa.BigInteger, nullable=False),
    sa.Column("last_updated", UtcDateTime(), nullable=False),
)

pack_environment = sa.Table(
    "pack_environment",
    metadata,
    _id(),
    sa.Column("pack", Id, sa.ForeignKey("pack.id", ondelete="CASCADE"), nullable=False),
    sa.Column("pack_ref", sa.Text, nullable=False),
    sa.Column("runtime", Id, sa.ForeignKey("runtime.id", ondelete="CASCADE"), nullable=False),
    sa.Column("runtime_ref", sa.Text, nullable=False),
    sa.Column("env_path", sa.Text, nullable=False),
    sa.Column("status", pack_environment_status, nullable=False),
    sa.Column("installed_at", UtcDateTime()),
    sa.Column("last_verified", UtcDateTime()),
    sa.Column("install_log", sa.Text),
    sa.Column("install_error", sa.Text),
    sa.Column("metadata", Json, nullable=False),
    *_timestamps(),
    sa.UniqueConstraint("pack", "runtime"),
)

pack_test_execution = sa.Table(
    "pack_test_execution",
    metadata,
    _id(),
    sa.Column(
        "pack_id", Id, sa.ForeignKey("pack.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("pack_version", sa.Text, nullable=False),
    sa.Column("execution_time", UtcDateTime(), nullable=False),
    sa.Column("trigger_reason", sa.Text, nullable=False),
    sa.Column("total_tests", sa.Integer, nullable=False),
    sa.Column("passed", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("skipped", sa.Integer, nullable=False),
    sa.Column("pass_rate", sa.Float, nullable=False),
    sa.Column("duration_ms", sa.BigInteger, nullable=False),
    sa.Column("result", Json, nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False),
)


# Who runs what among several sensor hosts: one row per timer ("timer:<rule id>") or custom
# sensor ("sensor:<ref>"). A host owns a lease while ``expires`` is in the future and renews it
# with heartbeats; an expired lease is taken over by the next host that asks. ``state`` is what
# the holder needs to hand over (a timer's last fired slot).
lease = sa.Table(
    "lease",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("holder", sa.Text, nullable=False, index=True),
    sa.Column("expires", UtcDateTime(), nullable=False),
    sa.Column("acquired", UtcDateTime(), nullable=False),
    sa.Column("state", Json),
)

# The output of running executions, as the worker streams it (docs/api.md "Logs while an
# execution runs"): masked text chunks, ``position`` being the offset of the chunk's first
# character in the stream's text. Rows live while the execution runs; the worker deletes them
# once the outcome is recorded (the result and the log files then hold the whole output), and
# they go with their execution when it is purged.
execution_log = sa.Table(
    "execution_log",
    metadata,
    _id(),
    sa.Column("execution", Id, sa.ForeignKey("execution.id", ondelete="CASCADE"), nullable=False),
    sa.Column("stream", sa.Text, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("execution", "stream", "position"),
)


def _history_table(name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        _id(),
        sa.Column("time", UtcDateTime(), nullable=False, index=True),
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("entity_id", Id, nullable=False),
        sa.Column("entity_ref", sa.Text),
        sa.Column("changed_fields", Json, nullable=False),
        sa.Column("old_values", Json),
        sa.Column("new_values", Json),
        sa.Index(None, "entity_id", "time"),
    )


execution_history = _history_table("execution_history")
worker_history = _history_table("worker_history")
