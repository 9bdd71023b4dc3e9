"""candidate numbers: each enrolment numbered within its exam (enrolments.candidate_number)

Revision ID: 0004_candidate_numbers
Revises: 0003_login_throttles
Create Date: 2026-12-07 14:50:00

Existing enrolments are numbered 1, 2, 3 … within each exam in enrolment order (the
order of their ids); new ones get the next number when they are added.
"""

from alembic import op
import sqlalchemy as sa


revision = "0004_candidate_numbers"
down_revision = "0003_login_throttles"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("candidate_number", sa.Integer(), nullable=True))
    # the number of enrolments of the same exam up to this one: portable and deterministic
    op.execute(
        "UPDATE enrolments SET candidate_number = ("
        " SELECT COUNT(*) FROM enrolments AS earlier"
        " WHERE earlier.exam_id = enrolments.exam_id AND earlier.id <= enrolments.id)"
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.alter_column("candidate_number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_enrolments_exam_id_candidate_number"), ["exam_id", "candidate_number"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_enrolments_candidate_number_positive"), "candidate_number > 0"
        )


def downgrade():
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_enrolments_candidate_number_positive"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("uq_enrolments_exam_id_candidate_number"), type_="unique"
        )
        batch_op.drop_column("candidate_number")
