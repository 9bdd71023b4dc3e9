"""an administrator's early-marking override per exam; the chief's note on unexplained deductions

Revision ID: 0008_early_marking_notes
Revises: 0007_signing_key_types
Create Date: 2026-12-07 16:55:00

``exams.early_marking_at/by_id/reason``: set while an administrator allows marks before
the exam's first day. ``marking_forms.deductions_note``: the chief expert's note
acknowledging deductions without a reason, kept with the lock. Existing rows get no
override and an empty note.
"""

from alembic import op
import sqlalchemy as sa

import app.db


revision = "0008_early_marking_notes"
down_revision = "0007_signing_key_types"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("exams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("early_marking_at", app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("early_marking_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("early_marking_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_exams_early_marking_by_id_users"),
            "users",
            ["early_marking_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("marking_forms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deductions_note", sa.Text(), nullable=False, server_default="")
        )


def downgrade():
    with op.batch_alter_table("marking_forms", schema=None) as batch_op:
        batch_op.drop_column("deductions_note")
    with op.batch_alter_table("exams", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_exams_early_marking_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("early_marking_reason")
        batch_op.drop_column("early_marking_by_id")
        batch_op.drop_column("early_marking_at")
