"""notification announcements name their schema

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 11:55:00

The PostgreSQL trigger announcing each new ``notification`` row now sends ``schema:id`` on
the channel ``attune_notifications``, not the bare id. The channel is shared by every schema
of a database: two Attune installations in one database (or the test suite's schemas) no
longer make a listener re-read one of its own old rows under an id announced by the other.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = (
    "CREATE OR REPLACE FUNCTION attune_notify_notification() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('attune_notifications', {payload}); "
    "RETURN NEW; END $$"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION.format(payload="TG_TABLE_SCHEMA || ':' || NEW.id::text"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION.format(payload="NEW.id::text"))
