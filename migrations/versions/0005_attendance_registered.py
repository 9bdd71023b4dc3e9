"""attendance "registered": an enrolled candidate not yet marked present

Revision ID: 0005_attendance_registered
Revises: 0004_candidate_numbers
Create Date: 2026-12-07 15:05:00

The attendance check gains the value "registered", which new enrolments start with;
existing rows keep the attendance they have. Downgrading turns "registered" back into
"present", the value such rows had before this revision existed.
"""

from alembic import op


revision = "0005_attendance_registered"
down_revision = "0004_candidate_numbers"
branch_labels = None
depends_on = None

OLD = "attendance IN ('present', 'absent', 'withdrawn', 'disqualified')"
NEW = "attendance IN ('registered', 'present', 'absent', 'withdrawn', 'disqualified')"


def upgrade():
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_enrolments_attendance"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_enrolments_attendance"), NEW)


def downgrade():
    op.execute("UPDATE enrolments SET attendance = 'present' WHERE attendance = 'registered'")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_enrolments_attendance"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_enrolments_attendance"), OLD)
