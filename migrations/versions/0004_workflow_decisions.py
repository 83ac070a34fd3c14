"""workflow decisions table

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 08:28:30.106849

The conductor's decisions move from a list inside ``workflow_execution.state`` (rewritten whole
on every event) to rows appended per event. Decisions of workflows started before this
revision stay in their state, where readers still find them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workflow_decision",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "workflow_execution",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "decision",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["workflow_execution"],
            ["workflow_execution.id"],
            name=op.f("fk_workflow_decision_workflow_execution_workflow_execution"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_decision")),
    )
    with op.batch_alter_table("workflow_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_decision_workflow_execution"),
            ["workflow_execution"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("workflow_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_decision_workflow_execution"))
    op.drop_table("workflow_decision")
