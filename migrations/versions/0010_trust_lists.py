"""trust lists: the installed trust lists (trust_lists), and the issuer of each signing key
(signing_keys.issuer_id, signing_keys.centre_id)

Revision ID: 0010_trust_lists
Revises: 0009_expert_invitations
Create Date: 2026-12-07 17:00:00

Existing keys keep issuer_id "" (the deployment's own issuer, the ISSUER_ID setting) and no
centre: they go on signing every passport, as before.
"""

from alembic import op
import sqlalchemy as sa

import app.db


revision = "0010_trust_lists"
down_revision = "0009_expert_invitations"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "trust_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.Column("development", sa.Boolean(), nullable=False),
        sa.Column("installed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_lists")),
    )
    with op.batch_alter_table("trust_lists", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trust_lists_seq"), ["seq"], unique=False)
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("issuer_id", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("centre_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_signing_keys_centre_id"), ["centre_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_signing_keys_centre_id_centres"),
            "centres",
            ["centre_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade():
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_signing_keys_centre_id_centres"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_signing_keys_centre_id"))
        batch_op.drop_column("centre_id")
        batch_op.drop_column("issuer_id")
    with op.batch_alter_table("trust_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_lists_seq"))
    op.drop_table("trust_lists")
