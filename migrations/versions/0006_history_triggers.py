"""history of executions and workers written by PostgreSQL triggers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 14:40:00

On PostgreSQL, ``execution_history`` and ``worker_history`` rows are written by AFTER row
triggers on ``execution`` and ``worker``, in the statement that changes the row, instead of
by the repositories in a separate INSERT before the commit (one round trip less per change;
see attune_core/storage/_history.py for the rules both implementations follow). SQLite keeps
the Python implementation: nothing changes there.

The tracked fields are listed here, not imported: a migration is a snapshot of the schema.

- A session (the retention purge) that sets ``attune.history`` to ``off`` records nothing.
- The database's own ``ON DELETE SET NULL`` (a deleted worker leaves its executions without
  ``executor``/``worker``, a deleted runtime its workers without ``runtime``) is not recorded,
  as the repositories never see it. Such a change is recognised by what it does: a reference
  becomes NULL while the row it pointed at no longer exists, which no other UPDATE can do.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, reference column, tracked fields with how each is recorded: "" as is, "time" as
# datetime.isoformat() text in UTC, "digest" as the digest summary; tracked foreign keys
# with ON DELETE SET NULL and the table they point at)
_TABLES: Sequence[tuple[str, str, Sequence[tuple[str, str]], Sequence[tuple[str, str]]]] = (
    (
        "execution",
        "action_ref",
        (
            ("status", ""),
            ("result", "digest"),
            ("executor", ""),
            ("worker", ""),
            ("workflow_task", ""),
            ("env_vars", ""),
            ("started_at", "time"),
        ),
        (("executor", "worker"), ("worker", "worker")),
    ),
    (
        "worker",
        "name",
        (
            ("name", ""),
            ("worker_type", ""),
            ("worker_role", ""),
            ("runtime", ""),
            ("host", ""),
            ("port", ""),
            ("status", ""),
            ("capabilities", ""),
            ("meta", ""),
            ("cordoned", ""),
        ),
        (("runtime", "runtime"),),
    ),
)

# Python's datetime.isoformat() of an aware UTC datetime: microseconds only when non-zero.
_TIME_FUNCTION = """
CREATE FUNCTION attune_history_time(value timestamptz) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
SELECT to_jsonb(
    to_char(value AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
    || CASE to_char(value AT TIME ZONE 'UTC', 'US') WHEN '000000' THEN ''
       ELSE '.' || to_char(value AT TIME ZONE 'UTC', 'US') END
    || '+00:00')
$$
"""

# The digest of a JSON value's jsonb text (SQL NULL counts as JSON null, as in Python).
_DIGEST_FUNCTION = """
CREATE FUNCTION attune_history_digest(value jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
SELECT jsonb_build_object(
    'digest', 'md5:' || md5(COALESCE(value, 'null')::text),
    'size', octet_length(COALESCE(value, 'null')::text),
    'type', jsonb_typeof(COALESCE(value, 'null')))
$$
"""


def _value(record: str, name: str, kind: str) -> str:
    if kind == "time":
        return f"attune_history_time({record}.{name})"
    if kind == "digest":
        return f"attune_history_digest({record}.{name})"
    return f"to_jsonb({record}.{name})"


def _all_values(record: str, fields: Sequence[tuple[str, str]]) -> str:
    pairs = ", ".join(f"'{name}', {_value(record, name, kind)}" for name, kind in fields)
    return f"jsonb_build_object({pairs})"


def _function(
    table: str,
    ref: str,
    fields: Sequence[tuple[str, str]],
    references: Sequence[tuple[str, str]],
) -> str:
    names = ", ".join(name for name, _ in fields)
    cascades = "\n".join(
        f"""    IF NEW.{name} IS NULL AND OLD.{name} IS NOT NULL THEN
      IF NOT EXISTS (SELECT 1 FROM {target} WHERE id = OLD.{name}) THEN
        RETURN NULL;
      END IF;
    END IF;"""
        for name, target in references
    )
    update = "\n".join(
        f"""    IF NEW.{name} IS DISTINCT FROM OLD.{name} THEN
      changed := changed || '{name}'::text;
      old_values := old_values || jsonb_build_object('{name}', {_value("OLD", name, kind)});
      new_values := new_values || jsonb_build_object('{name}', {_value("NEW", name, kind)});
    END IF;"""
        for name, kind in fields
    )
    inserted = "\n".join(
        f"    IF NEW.{name} IS NOT NULL THEN changed := changed || '{name}'::text; END IF;"
        for name, _ in fields
    )
    columns = "time, operation, entity_id, entity_ref, changed_fields, old_values, new_values"
    return f"""
CREATE FUNCTION attune_{table}_history() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
-- tracked fields: {names}
DECLARE
  changed text[] := '{{}}';
  old_values jsonb := '{{}}';
  new_values jsonb := '{{}}';
BEGIN
  IF current_setting('attune.history', true) = 'off' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' THEN
{cascades}
{update}
    IF cardinality(changed) > 0 THEN
      INSERT INTO {table}_history ({columns})
      VALUES (NEW.updated, 'UPDATE', NEW.id, NEW.{ref}, to_jsonb(changed), old_values,
              new_values);
    END IF;
  ELSIF TG_OP = 'INSERT' THEN
{inserted}
    INSERT INTO {table}_history ({columns})
    VALUES (NEW.updated, 'INSERT', NEW.id, NEW.{ref}, to_jsonb(changed), NULL,
            {_all_values("NEW", fields)});
  ELSE
    INSERT INTO {table}_history ({columns})
    VALUES (now(), 'DELETE', OLD.id, OLD.{ref}, '[]', {_all_values("OLD", fields)}, NULL);
  END IF;
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_TIME_FUNCTION)
    op.execute(_DIGEST_FUNCTION)
    for table, ref, fields, references in _TABLES:
        op.execute(_function(table, ref, fields, references))
        op.execute(
            f"CREATE TRIGGER {table}_history AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION attune_{table}_history()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, *_ in _TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_history ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS attune_{table}_history()")
    op.execute("DROP FUNCTION IF EXISTS attune_history_digest(jsonb)")
    op.execute("DROP FUNCTION IF EXISTS attune_history_time(timestamptz)")
