"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 02:09:43.301588
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from attune_core.storage._types import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Events are immutable: the database itself refuses an UPDATE, on both backends. The one change
# allowed is the foreign keys' ON DELETE SET NULL (trigger, source, rule becoming NULL when
# what they point at is deleted); the text refs keep the names.
_EVENT_CHANGED = (
    "NEW.id {ne} OLD.id OR NEW.trigger_ref {ne} OLD.trigger_ref OR NEW.config {ne} OLD.config"
    " OR NEW.payload {ne} OLD.payload OR NEW.source_ref {ne} OLD.source_ref"
    " OR NEW.rule_ref {ne} OLD.rule_ref OR NEW.created {ne} OLD.created"
    " OR (NEW.trigger IS NOT NULL AND NEW.trigger {ne} OLD.trigger)"
    " OR (NEW.source IS NOT NULL AND NEW.source {ne} OLD.source)"
    " OR (NEW.rule IS NOT NULL AND NEW.rule {ne} OLD.rule)"
)
_EXTRAS_UP = {
    "sqlite": [
        "CREATE TRIGGER event_immutable BEFORE UPDATE ON event WHEN "
        + _EVENT_CHANGED.format(ne="IS NOT")
        + " BEGIN SELECT RAISE(ABORT, 'events are immutable'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION attune_event_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF "
        + _EVENT_CHANGED.format(ne="IS DISTINCT FROM")
        + " THEN RAISE EXCEPTION 'events are immutable' USING ERRCODE = 'restrict_violation';"
        " END IF; RETURN NEW; END $$",
        "CREATE TRIGGER event_immutable BEFORE UPDATE ON event "
        "FOR EACH ROW EXECUTE FUNCTION attune_event_immutable()",
        # PostgreSQL only: every new notification row is announced on the channel
        # 'attune_notifications' (payload: the row id), the notifier's LISTEN source.
        "CREATE FUNCTION attune_notify_notification() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('attune_notifications', NEW.id::text); RETURN NEW; END $$",
        "CREATE TRIGGER notification_notify AFTER INSERT ON notification "
        "FOR EACH ROW EXECUTE FUNCTION attune_notify_notification()",
    ],
}
_EXTRAS_DOWN = {
    "sqlite": ["DROP TRIGGER IF EXISTS event_immutable"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS event_immutable ON event",
        "DROP FUNCTION IF EXISTS attune_event_immutable()",
        "DROP TRIGGER IF EXISTS notification_notify ON notification",
        "DROP FUNCTION IF EXISTS attune_notify_notification()",
    ],
}
# drop_table does not drop PostgreSQL enum types; the downgrade does.
_ENUM_TYPES = [
    "execution_status_enum",
    "enforcement_status_enum",
    "enforcement_condition_enum",
    "inquiry_status_enum",
    "owner_type_enum",
    "artifact_type_enum",
    "artifact_retention_enum",
    "worker_type_enum",
    "worker_role_enum",
    "worker_status_enum",
    "policy_method_enum",
    "pack_environment_status_enum",
    "notification_status_enum",
    "parameter_delivery_enum",
    "parameter_format_enum",
    "output_format_enum",
]


def _run_extras(extras: dict[str, list[str]]) -> None:
    for statement in extras.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "artifact",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum("system", "identity", "pack", "action", "sensor", name="owner_type_enum"),
            nullable=False,
        ),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "file_binary",
                "file_datatable",
                "file_image",
                "file_text",
                "other",
                "progress",
                "url",
                name="artifact_type_enum",
            ),
            nullable=False,
        ),
        sa.Column(
            "retention_policy",
            sa.Enum("versions", "days", "hours", "minutes", name="artifact_retention_enum"),
            nullable=False,
        ),
        sa.Column("retention_limit", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("execution", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "data",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "retention_limit >= 1", name=op.f("ck_artifact_retention_limit_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifact")),
    )
    with op.batch_alter_table("artifact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_artifact_execution"), ["execution"], unique=False)
        batch_op.create_index(batch_op.f("ix_artifact_ref"), ["ref"], unique=False)

    op.create_table(
        "execution_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column(
            "entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("entity_ref", sa.Text(), nullable=True),
        sa.Column(
            "changed_fields",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "old_values",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "new_values",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_history")),
    )
    with op.batch_alter_table("execution_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_execution_history_entity_id_time"), ["entity_id", "time"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_execution_history_time"), ["time"], unique=False)

    op.create_table(
        "identity",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("login", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity")),
        sa.UniqueConstraint("login", name=op.f("uq_identity_login")),
    )
    op.create_table(
        "notification",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("activity", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("created", "queued", "processing", "error", name="notification_status_enum"),
            nullable=False,
        ),
        sa.Column(
            "content",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_created"), ["created"], unique=False)

    op.create_table(
        "pack",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column(
            "conf_schema",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "config",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "meta",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "tags",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "runtime_deps",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "dependencies",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("is_standard", sa.Boolean(), nullable=False),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack")),
        sa.UniqueConstraint("ref", name=op.f("uq_pack_ref")),
    )
    op.create_table(
        "worker_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column(
            "entity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("entity_ref", sa.Text(), nullable=True),
        sa.Column(
            "changed_fields",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "old_values",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "new_values",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_history")),
    )
    with op.batch_alter_table("worker_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_worker_history_entity_id_time"), ["entity_id", "time"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_worker_history_time"), ["time"], unique=False)

    op.create_table(
        "artifact_version",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("artifact", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column(
            "content_json",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "meta",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact"],
            ["artifact.id"],
            name=op.f("fk_artifact_version_artifact_artifact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifact_version")),
        sa.UniqueConstraint(
            "artifact", "version", name=op.f("uq_artifact_version_artifact_version")
        ),
    )
    op.create_table(
        "inquiry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "execution", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column(
            "response_schema",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "assigned_to", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "status",
            sa.Enum("pending", "responded", "timeout", "cancelled", name="inquiry_status_enum"),
            nullable=False,
        ),
        sa.Column(
            "response",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("timeout_at", UtcDateTime(), nullable=True),
        sa.Column("responded_at", UtcDateTime(), nullable=True),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_to"],
            ["identity.id"],
            name=op.f("fk_inquiry_assigned_to_identity"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry")),
    )
    with op.batch_alter_table("inquiry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inquiry_execution"), ["execution"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inquiry_status_timeout_at"), ["status", "timeout_at"], unique=False
        )

    op.create_table(
        "pack_test_execution",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pack_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pack_version", sa.Text(), nullable=False),
        sa.Column("execution_time", UtcDateTime(), nullable=False),
        sa.Column("trigger_reason", sa.Text(), nullable=False),
        sa.Column("total_tests", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("pass_rate", sa.Float(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column(
            "result",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack_id"],
            ["pack.id"],
            name=op.f("fk_pack_test_execution_pack_id_pack"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_test_execution")),
    )
    with op.batch_alter_table("pack_test_execution", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pack_test_execution_pack_id"), ["pack_id"], unique=False
        )

    op.create_table(
        "permission_set",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("pack_ref", sa.Text(), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "grants",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack"], ["pack.id"], name=op.f("fk_permission_set_pack_pack"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permission_set")),
        sa.UniqueConstraint("ref", name=op.f("uq_permission_set_ref")),
    )
    with op.batch_alter_table("permission_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_permission_set_pack"), ["pack"], unique=False)

    op.create_table(
        "runtime",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("pack_ref", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "distributions",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "installation",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "execution_config",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack"], ["pack.id"], name=op.f("fk_runtime_pack_pack"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runtime")),
        sa.UniqueConstraint("ref", name=op.f("uq_runtime_ref")),
    )
    with op.batch_alter_table("runtime", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runtime_pack"), ["pack"], unique=False)

    op.create_table(
        "trigger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("pack_ref", sa.Text(), nullable=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("is_adhoc", sa.Boolean(), nullable=False),
        sa.Column(
            "param_schema",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "out_schema",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("webhook_enabled", sa.Boolean(), nullable=False),
        sa.Column("webhook_key", sa.Text(), nullable=True),
        sa.Column(
            "webhook_config",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack"], ["pack.id"], name=op.f("fk_trigger_pack_pack"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger")),
        sa.UniqueConstraint("ref", name=op.f("uq_trigger_ref")),
        sa.UniqueConstraint("webhook_key", name=op.f("uq_trigger_webhook_key")),
    )
    with op.batch_alter_table("trigger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trigger_pack"), ["pack"], unique=False)

    op.create_table(
        "workflow_definition",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("pack_ref", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column(
            "param_schema",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "out_schema",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "definition",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "tags",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack"], ["pack.id"], name=op.f("fk_workflow_definition_pack_pack"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_definition")),
        sa.UniqueConstraint("ref", name=op.f("uq_workflow_definition_ref")),
    )
    with op.batch_alter_table("workflow_definition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflow_definition_pack"), ["pack"], unique=False)

    op.create_table(
        "action",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("pack_ref", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("entrypoint", sa.Text(), nullable=False),
        sa.Column("runtime", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("runtime_version_constraint", sa.Text(), nullable=True),
        sa.Column(
            "param_schema",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "out_schema",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "workflow_def", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("is_adhoc", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "parameter_delivery",
            sa.Enum("stdin", "file", name="parameter_delivery_enum"),
            nullable=False,
        ),
        sa.Column(
            "parameter_format",
            sa.Enum("json", "dotenv", "yaml", name="parameter_format_enum"),
            nullable=False,
        ),
        sa.Column(
            "output_format",
            sa.Enum("text", "json", "yaml", "jsonl", name="output_format_enum"),
            nullable=False,
        ),
        sa.Column("timeout", sa.Integer(), nullable=True),
        sa.Column(
            "tags",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack"], ["pack.id"], name=op.f("fk_action_pack_pack"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["runtime"], ["runtime.id"], name=op.f("fk_action_runtime_runtime"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["workflow_def"],
            ["workflow_definition.id"],
            name=op.f("fk_action_workflow_def_workflow_definition"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action")),
        sa.UniqueConstraint("ref", name=op.f("uq_action_ref")),
    )
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_pack"), ["pack"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_workflow_def"), ["workflow_def"], unique=False)

    op.create_table(
        "pack_environment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pack_ref", sa.Text(), nullable=False),
        sa.Column("runtime", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("runtime_ref", sa.Text(), nullable=False),
        sa.Column("env_path", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "installing",
                "ready",
                "failed",
                "outdated",
                name="pack_environment_status_enum",
            ),
            nullable=False,
        ),
        sa.Column("installed_at", UtcDateTime(), nullable=True),
        sa.Column("last_verified", UtcDateTime(), nullable=True),
        sa.Column("install_log", sa.Text(), nullable=True),
        sa.Column("install_error", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack"], ["pack.id"], name=op.f("fk_pack_environment_pack_pack"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["runtime"],
            ["runtime.id"],
            name=op.f("fk_pack_environment_runtime_runtime"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_environment")),
        sa.UniqueConstraint("pack", "runtime", name=op.f("uq_pack_environment_pack_runtime")),
    )
    op.create_table(
        "permission_assignment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("identity", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("permset", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity"],
            ["identity.id"],
            name=op.f("fk_permission_assignment_identity_identity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["permset"],
            ["permission_set.id"],
            name=op.f("fk_permission_assignment_permset_permission_set"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permission_assignment")),
        sa.UniqueConstraint(
            "identity", "permset", name=op.f("uq_permission_assignment_identity_permset")
        ),
    )
    with op.batch_alter_table("permission_assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_permission_assignment_permset"), ["permset"], unique=False
        )

    op.create_table(
        "runtime_version",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("runtime", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("runtime_ref", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("version_major", sa.Integer(), nullable=True),
        sa.Column("version_minor", sa.Integer(), nullable=True),
        sa.Column("version_patch", sa.Integer(), nullable=True),
        sa.Column(
            "execution_config",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "distributions",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("verified_at", UtcDateTime(), nullable=True),
        sa.Column(
            "meta",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["runtime"],
            ["runtime.id"],
            name=op.f("fk_runtime_version_runtime_runtime"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runtime_version")),
        sa.UniqueConstraint("runtime", "version", name=op.f("uq_runtime_version_runtime_version")),
    )
    with op.batch_alter_table("runtime_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runtime_version_runtime"), ["runtime"], unique=False)

    op.create_table(
        "sensor",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("pack_ref", sa.Text(), nullable=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("entrypoint", sa.Text(), nullable=False),
        sa.Column("runtime", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("runtime_ref", sa.Text(), nullable=True),
        sa.Column("runtime_version_constraint", sa.Text(), nullable=True),
        sa.Column("trigger", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("trigger_ref", sa.Text(), nullable=True),
        sa.Column(
            "trigger_types",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("is_adhoc", sa.Boolean(), nullable=False),
        sa.Column(
            "param_schema",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "config",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("poll_interval", sa.Integer(), nullable=True),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack"], ["pack.id"], name=op.f("fk_sensor_pack_pack"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["runtime"], ["runtime.id"], name=op.f("fk_sensor_runtime_runtime"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["trigger"], ["trigger.id"], name=op.f("fk_sensor_trigger_trigger"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor")),
        sa.UniqueConstraint("ref", name=op.f("uq_sensor_ref")),
    )
    with op.batch_alter_table("sensor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sensor_pack"), ["pack"], unique=False)

    op.create_table(
        "worker",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "worker_type",
            sa.Enum("local", "remote", "container", name="worker_type_enum"),
            nullable=False,
        ),
        sa.Column(
            "worker_role",
            sa.Enum("action", "sensor", "hybrid", name="worker_role_enum"),
            nullable=False,
        ),
        sa.Column("runtime", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("host", sa.Text(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("active", "inactive", "busy", "error", name="worker_status_enum"),
            nullable=False,
        ),
        sa.Column(
            "capabilities",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "meta",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("cordoned", sa.Boolean(), nullable=False),
        sa.Column("last_heartbeat", UtcDateTime(), nullable=True),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["runtime"], ["runtime.id"], name=op.f("fk_worker_runtime_runtime"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker")),
        sa.UniqueConstraint("name", name=op.f("uq_worker_name")),
    )
    op.create_table(
        "workflow_execution",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "execution", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "workflow_def", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "current_tasks",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "completed_tasks",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "failed_tasks",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "skipped_tasks",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "variables",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "task_graph",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "scheduling",
                "scheduled",
                "running",
                "completed",
                "failed",
                "canceling",
                "cancelled",
                "timeout",
                "abandoned",
                name="execution_status_enum",
            ),
            nullable=False,
        ),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_def"],
            ["workflow_definition.id"],
            name=op.f("fk_workflow_execution_workflow_def_workflow_definition"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_execution")),
        sa.UniqueConstraint("execution", name=op.f("uq_workflow_execution_execution")),
    )
    with op.batch_alter_table("workflow_execution", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_execution_workflow_def"), ["workflow_def"], unique=False
        )

    op.create_table(
        "execution",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("action", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("action_ref", sa.Text(), nullable=False),
        sa.Column(
            "config",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "env_vars",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("parent", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "enforcement", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("rule_ref", sa.Text(), nullable=True),
        sa.Column("trigger_ref", sa.Text(), nullable=True),
        sa.Column("executor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("worker", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "scheduling",
                "scheduled",
                "running",
                "completed",
                "failed",
                "canceling",
                "cancelled",
                "timeout",
                "abandoned",
                name="execution_status_enum",
            ),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column(
            "workflow_task",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "original_execution",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "workflow_def", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action"], ["action.id"], name=op.f("fk_execution_action_action"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["executor"],
            ["worker.id"],
            name=op.f("fk_execution_executor_worker"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["worker"], ["worker.id"], name=op.f("fk_execution_worker_worker"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution")),
    )
    with op.batch_alter_table("execution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_execution_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_execution_action_ref"), ["action_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_execution_created"), ["created"], unique=False)
        batch_op.create_index(batch_op.f("ix_execution_enforcement"), ["enforcement"], unique=False)
        batch_op.create_index(batch_op.f("ix_execution_parent"), ["parent"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_execution_status_created"), ["status", "created"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_execution_worker"), ["worker"], unique=False)

    op.create_table(
        "key",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column(
            "owner_type",
            sa.Enum("system", "identity", "pack", "action", "sensor", name="owner_type_enum"),
            nullable=False,
        ),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column(
            "owner_identity", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "owner_pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("owner_pack_ref", sa.Text(), nullable=True),
        sa.Column(
            "owner_action", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("owner_action_ref", sa.Text(), nullable=True),
        sa.Column(
            "owner_sensor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("owner_sensor_ref", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("encryption_key_hash", sa.Text(), nullable=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "(owner_type = 'system' AND owner_identity IS NULL AND owner_pack IS NULL AND owner_action IS NULL AND owner_sensor IS NULL) OR (owner_type = 'identity' AND owner_identity IS NOT NULL AND owner_pack IS NULL AND owner_action IS NULL AND owner_sensor IS NULL) OR (owner_type = 'pack' AND owner_identity IS NULL AND owner_pack IS NOT NULL AND owner_action IS NULL AND owner_sensor IS NULL) OR (owner_type = 'action' AND owner_identity IS NULL AND owner_pack IS NULL AND owner_action IS NOT NULL AND owner_sensor IS NULL) OR (owner_type = 'sensor' AND owner_identity IS NULL AND owner_pack IS NULL AND owner_action IS NULL AND owner_sensor IS NOT NULL)",
            name=op.f("ck_key_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_action"],
            ["action.id"],
            name=op.f("fk_key_owner_action_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_identity"],
            ["identity.id"],
            name=op.f("fk_key_owner_identity_identity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_pack"], ["pack.id"], name=op.f("fk_key_owner_pack_pack"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_sensor"],
            ["sensor.id"],
            name=op.f("fk_key_owner_sensor_sensor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key")),
        sa.UniqueConstraint("ref", name=op.f("uq_key_ref")),
    )
    op.create_table(
        "policy",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("pack_ref", sa.Text(), nullable=True),
        sa.Column("action", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("action_ref", sa.Text(), nullable=True),
        sa.Column(
            "parameters",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "method", sa.Enum("cancel", "enqueue", name="policy_method_enum"), nullable=False
        ),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "tags",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.CheckConstraint("threshold >= 0", name=op.f("ck_policy_threshold_non_negative")),
        sa.ForeignKeyConstraint(
            ["action"], ["action.id"], name=op.f("fk_policy_action_action"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pack"], ["pack.id"], name=op.f("fk_policy_pack_pack"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy")),
        sa.UniqueConstraint("ref", name=op.f("uq_policy_ref")),
    )
    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_policy_pack"), ["pack"], unique=False)

    op.create_table(
        "queue_stats",
        sa.Column(
            "action_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("queue_length", sa.Integer(), nullable=False),
        sa.Column("active_count", sa.Integer(), nullable=False),
        sa.Column("max_concurrent", sa.Integer(), nullable=False),
        sa.Column("oldest_enqueued_at", UtcDateTime(), nullable=True),
        sa.Column("total_enqueued", sa.BigInteger(), nullable=False),
        sa.Column("total_completed", sa.BigInteger(), nullable=False),
        sa.Column("last_updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["action.id"],
            name=op.f("fk_queue_stats_action_id_action"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_id", name=op.f("pk_queue_stats")),
    )
    op.create_table(
        "rule",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("pack", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("pack_ref", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("action", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("action_ref", sa.Text(), nullable=False),
        sa.Column("trigger", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("trigger_ref", sa.Text(), nullable=False),
        sa.Column(
            "conditions",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "action_params",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "trigger_params",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("is_adhoc", sa.Boolean(), nullable=False),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("updated", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action"], ["action.id"], name=op.f("fk_rule_action_action"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["pack"], ["pack.id"], name=op.f("fk_rule_pack_pack"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["trigger"], ["trigger.id"], name=op.f("fk_rule_trigger_trigger"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule")),
        sa.UniqueConstraint("ref", name=op.f("uq_rule_ref")),
    )
    with op.batch_alter_table("rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rule_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_rule_pack"), ["pack"], unique=False)
        batch_op.create_index(batch_op.f("ix_rule_trigger"), ["trigger"], unique=False)
        batch_op.create_index(batch_op.f("ix_rule_trigger_ref"), ["trigger_ref"], unique=False)

    op.create_table(
        "enforcement",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("rule", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("rule_ref", sa.Text(), nullable=False),
        sa.Column("trigger_ref", sa.Text(), nullable=False),
        sa.Column(
            "config",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("event", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "status",
            sa.Enum("created", "processed", "disabled", name="enforcement_status_enum"),
            nullable=False,
        ),
        sa.Column(
            "payload",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "condition", sa.Enum("all", "any", name="enforcement_condition_enum"), nullable=False
        ),
        sa.Column(
            "conditions",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "(status = 'created' AND resolved_at IS NULL) OR (status <> 'created' AND resolved_at IS NOT NULL)",
            name=op.f("ck_enforcement_resolved_with_status"),
        ),
        sa.ForeignKeyConstraint(
            ["rule"], ["rule.id"], name=op.f("fk_enforcement_rule_rule"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement")),
    )
    with op.batch_alter_table("enforcement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enforcement_created"), ["created"], unique=False)
        batch_op.create_index(batch_op.f("ix_enforcement_event"), ["event"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_enforcement_rule_ref_created"), ["rule_ref", "created"], unique=False
        )

    op.create_table(
        "event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("trigger", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("trigger_ref", sa.Text(), nullable=False),
        sa.Column(
            "config",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "payload",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("source", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("source_ref", sa.Text(), nullable=True),
        sa.Column("rule", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("rule_ref", sa.Text(), nullable=True),
        sa.Column("created", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule"], ["rule.id"], name=op.f("fk_event_rule_rule"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["source"], ["sensor.id"], name=op.f("fk_event_source_sensor"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["trigger"], ["trigger.id"], name=op.f("fk_event_trigger_trigger"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_created"), ["created"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_event_trigger_ref_created"), ["trigger_ref", "created"], unique=False
        )

    _run_extras(_EXTRAS_UP)


def downgrade() -> None:
    _run_extras(_EXTRAS_DOWN)
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_trigger_ref_created"))
        batch_op.drop_index(batch_op.f("ix_event_created"))

    op.drop_table("event")
    with op.batch_alter_table("enforcement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enforcement_rule_ref_created"))
        batch_op.drop_index(batch_op.f("ix_enforcement_event"))
        batch_op.drop_index(batch_op.f("ix_enforcement_created"))

    op.drop_table("enforcement")
    with op.batch_alter_table("rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_trigger_ref"))
        batch_op.drop_index(batch_op.f("ix_rule_trigger"))
        batch_op.drop_index(batch_op.f("ix_rule_pack"))
        batch_op.drop_index(batch_op.f("ix_rule_action"))

    op.drop_table("rule")
    op.drop_table("queue_stats")
    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_pack"))
        batch_op.drop_index(batch_op.f("ix_policy_action"))

    op.drop_table("policy")
    op.drop_table("key")
    with op.batch_alter_table("execution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_execution_worker"))
        batch_op.drop_index(batch_op.f("ix_execution_status_created"))
        batch_op.drop_index(batch_op.f("ix_execution_parent"))
        batch_op.drop_index(batch_op.f("ix_execution_enforcement"))
        batch_op.drop_index(batch_op.f("ix_execution_created"))
        batch_op.drop_index(batch_op.f("ix_execution_action_ref"))
        batch_op.drop_index(batch_op.f("ix_execution_action"))

    op.drop_table("execution")
    with op.batch_alter_table("workflow_execution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_execution_workflow_def"))

    op.drop_table("workflow_execution")
    op.drop_table("worker")
    with op.batch_alter_table("sensor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensor_pack"))

    op.drop_table("sensor")
    with op.batch_alter_table("runtime_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runtime_version_runtime"))

    op.drop_table("runtime_version")
    with op.batch_alter_table("permission_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_permission_assignment_permset"))

    op.drop_table("permission_assignment")
    op.drop_table("pack_environment")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_workflow_def"))
        batch_op.drop_index(batch_op.f("ix_action_pack"))

    op.drop_table("action")
    with op.batch_alter_table("workflow_definition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_definition_pack"))

    op.drop_table("workflow_definition")
    with op.batch_alter_table("trigger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trigger_pack"))

    op.drop_table("trigger")
    with op.batch_alter_table("runtime", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runtime_pack"))

    op.drop_table("runtime")
    with op.batch_alter_table("permission_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_permission_set_pack"))

    op.drop_table("permission_set")
    with op.batch_alter_table("pack_test_execution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pack_test_execution_pack_id"))

    op.drop_table("pack_test_execution")
    with op.batch_alter_table("inquiry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inquiry_status_timeout_at"))
        batch_op.drop_index(batch_op.f("ix_inquiry_execution"))

    op.drop_table("inquiry")
    op.drop_table("artifact_version")
    with op.batch_alter_table("worker_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_history_time"))
        batch_op.drop_index(batch_op.f("ix_worker_history_entity_id_time"))

    op.drop_table("worker_history")
    op.drop_table("pack")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_created"))

    op.drop_table("notification")
    op.drop_table("identity")
    with op.batch_alter_table("execution_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_execution_history_time"))
        batch_op.drop_index(batch_op.f("ix_execution_history_entity_id_time"))

    op.drop_table("execution_history")
    with op.batch_alter_table("artifact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_artifact_ref"))
        batch_op.drop_index(batch_op.f("ix_artifact_execution"))

    op.drop_table("artifact")
    if op.get_bind().dialect.name == "postgresql":
        for name in _ENUM_TYPES:
            op.execute(f"DROP TYPE IF EXISTS {name}")
