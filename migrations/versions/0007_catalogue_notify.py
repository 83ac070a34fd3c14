"""catalogue changes are announced on the channel attune_catalogue

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 14:40:00

PostgreSQL only. Every statement that inserts, updates, deletes or truncates rows of a
catalogue table (``CATALOGUE_TABLES`` of attune_core/storage/_catalogue.py) sends
``pg_notify('attune_catalogue', <schema>)``; PostgreSQL delivers it when the transaction
commits, once per transaction and schema however many statements sent it. Each process's
catalogue cache LISTENs on the channel (attune_core/storage/_catalogue_listener.py) instead of
reading the catalogue stamp in every unit of work. The channel is shared by every schema of a
database: listeners ignore the other schemas' announcements.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The catalogue tables as of this revision (a later table needs a migration of its own).
_TABLES = (
    "action",
    "key",
    "pack",
    "policy",
    "rule",
    "runtime",
    "runtime_version",
    "sensor",
    "trigger",
    "workflow_definition",
)
_TRIGGER = "attune_catalogue_changed"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE FUNCTION {_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('attune_catalogue', TG_TABLE_SCHEMA); RETURN NULL; END $$"
    )
    for table in _TABLES:
        op.execute(
            f'CREATE TRIGGER {_TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}" '
            f"FOR EACH STATEMENT EXECUTE FUNCTION {_TRIGGER}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f'DROP TRIGGER IF EXISTS {_TRIGGER} ON "{table}"')
    op.execute(f"DROP FUNCTION IF EXISTS {_TRIGGER}()")
