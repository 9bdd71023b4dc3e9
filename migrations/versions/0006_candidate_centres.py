"""candidate centres: a person is one candidate nationally, linked to every centre that
registered them (candidate_centres)

Revision ID: 0006_candidate_centres
Revises: 0005_attendance_registered
Create Date: 2026-12-07 15:10:00

Each existing candidate's registering centre (candidates.centre_id) becomes its first link.
"""

from alembic import op
import sqlalchemy as sa

import app.db


revision = "0006_candidate_centres"
down_revision = "0005_attendance_registered"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "candidate_centres",
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name=op.f("fk_candidate_centres_candidate_id_candidates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_candidate_centres_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("candidate_id", "centre_id", name=op.f("pk_candidate_centres")),
    )
    with op.batch_alter_table("candidate_centres", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_candidate_centres_centre_id"), ["centre_id"], unique=False
        )
    op.execute(
        "INSERT INTO candidate_centres (candidate_id, centre_id, linked_at)"
        " SELECT id, centre_id, created_at FROM candidates WHERE centre_id IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("candidate_centres", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidate_centres_centre_id"))
    op.drop_table("candidate_centres")
