"""signing key types: signing_keys.kty/alg, so the issuer holds RS256 keys beside ES256 ones

Revision ID: 0007_signing_key_types
Revises: 0006_candidate_centres
Create Date: 2026-12-07 17:00:00

Every existing key is an ES256 (P-256) key; the server defaults say so.
"""

from alembic import op
import sqlalchemy as sa


revision = "0007_signing_key_types"
down_revision = "0006_candidate_centres"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kty", sa.String(length=8), server_default="EC", nullable=False)
        )
        batch_op.add_column(
            sa.Column("alg", sa.String(length=8), server_default="ES256", nullable=False)
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_signing_keys_key_type"),
            "(kty = 'EC' AND alg = 'ES256') OR (kty = 'RSA' AND alg = 'RS256')",
        )


def downgrade():
    op.execute("DELETE FROM signing_keys WHERE alg <> 'ES256'")
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_signing_keys_key_type"), type_="check")
        batch_op.drop_column("alg")
        batch_op.drop_column("kty")
