"""passports no longer valid: a partial index for the status list's read

Revision ID: 0011_passports_no_longer_valid
Revises: 0010_trust_lists
Create Date: 2026-12-07 18:10:00

Every QR page and status-list request reads the revoked and superseded passports
(passports/services/status.py ``entries``). Without an index that is a scan of every passport
issued; this partial index holds only the few that are no longer valid.
"""

from alembic import op
import sqlalchemy as sa


revision = "0011_passports_no_longer_valid"
down_revision = "0010_trust_lists"
branch_labels = None
depends_on = None

WHERE = "revoked_at IS NOT NULL OR superseded_by_id IS NOT NULL"


def upgrade():
    op.create_index(
        "ix_passports_no_longer_valid",
        "passports",
        ["sequence"],
        unique=False,
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )


def downgrade():
    op.drop_index("ix_passports_no_longer_valid", table_name="passports")
