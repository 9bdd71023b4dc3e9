"""Passport models: the issuer's signing keys and the passports signed with them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db

STATUSES = ("genuine", "revoked", "superseded", "expired")
# why a passport was replaced by a new one (shown, translated, on the old passport)
SUPERSEDE_REASONS = ("result_changed", "name_changed", "reissued")
# why it was revoked: an administrator's written reason, or the result no longer qualifying
REVOCATION_KINDS = ("manual", "not_passing", "not_present")
NO_LONGER_VALID = "revoked_at IS NOT NULL OR superseded_by_id IS NOT NULL"


# the key types the issuer holds: ES256 signs passport tokens and status lists, RS256 signs
# the Open Badges credential (RS256 is the algorithm 1EdTech's conformance suite requires)
KEY_ALGORITHMS = {"ES256": "EC", "RS256": "RSA"}


class SigningKey(db.Model):
    """A signing key of the issuer: ES256 (P-256) or RS256 (RSA 2048).

    The private key is PKCS#8 PEM sealed with AES-GCM under a key derived from the
    ``KEY_ENCRYPTION_SECRET`` setting (the kid is the associated data), so a database dump
    alone signs nothing. Exactly one key of each algorithm and issuer is ``active`` (the ES256
    one signs new passports and status lists, the RS256 one the Open Badges credentials);
    retired keys stay published in the JWK Set so everything they signed keeps verifying.

    ``issuer_id`` names the issuer the key signs for in the trust list ("" = the
    deployment's ``ISSUER_ID``). An ES256 key with a ``centre_id`` signs that competence
    centre's passports; the deployment's default keys (no centre) sign every other passport.
    """

    __tablename__ = "signing_keys"
    __table_args__ = (
        CheckConstraint(
            "(kty = 'EC' AND alg = 'ES256') OR (kty = 'RSA' AND alg = 'RS256')", "key_type"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    kty: Mapped[str] = mapped_column(String(8), default="EC", server_default="EC")
    alg: Mapped[str] = mapped_column(String(8), default="ES256", server_default="ES256")
    public_jwk: Mapped[dict] = mapped_column(JSON)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issuer_id: Mapped[str] = mapped_column(String(100), default="")
    centre_id: Mapped[int | None] = mapped_column(
        ForeignKey("centres.id", ondelete="RESTRICT"), index=True
    )

    @property
    def state(self) -> str:
        if self.active:
            return "active"
        return "retired" if self.retired_at else "published"


class TrustList(db.Model):
    """A trust list installed on this deployment (a compact JWS signed by the trust anchor).

    The newest row (highest id) is the current list (an older ``seq`` is installed only on
    purpose, ``--force``); older rows stay as the record of what was installed when.
    ``issued_at``/``expires_at`` repeat the signed payload's ``iat``/``exp`` so readiness
    and status read them without parsing the JWS.
    """

    __tablename__ = "trust_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(index=True)
    jws: Mapped[str] = mapped_column(Text)
    development: Mapped[bool] = mapped_column(default=False)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Passport(db.Model):
    """A signed Skills Passport: one per candidate who passed a finalised exam.

    ``snapshot`` freezes what the passport certifies (holder names, competence, centre,
    college, exam dates, total, percent, grade, profile by criterion and WSOS section); pages,
    PDFs and credentials read it and never the live records. ``basis_hash`` fingerprints the
    certified result and names, so re-issuing finds what changed. ``sequence`` is the
    passport's position in the signed status list and the middle part of its number.

    The verification code and the graduate's private link are derived from secret nonces
    (services/secrets.py); only hashes of them are stored for look-ups.
    """

    __tablename__ = "passports"
    __table_args__ = (
        Index("ix_passports_exam_candidate", "exam_id", "candidate_id"),
        # the status list's read (services/status.py entries): only passports no longer valid
        Index(
            "ix_passports_no_longer_valid",
            "sequence",
            sqlite_where=text(NO_LONGER_VALID),
            postgresql_where=text(NO_LONGER_VALID),
        ),
        CheckConstraint(
            "revocation_kind IS NULL OR revocation_kind IN ('manual', 'not_passing', "
            "'not_present')",
            "revocation_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    sequence: Mapped[int] = mapped_column(unique=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    result_id: Mapped[int | None] = mapped_column(ForeignKey("results.id", ondelete="SET NULL"))
    holder_name: Mapped[str] = mapped_column(String(320))
    snapshot: Mapped[dict] = mapped_column(JSON)
    basis_hash: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)
    kid: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    code_nonce: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    link_nonce: Mapped[str | None] = mapped_column(String(32))
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    share_slug: Mapped[str] = mapped_column(String(32), unique=True)
    # the holder's choices: public share page, and look-up by number + code
    share_enabled: Mapped[bool] = mapped_column(default=True)
    lookup_enabled: Mapped[bool] = mapped_column(default=True)

    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_kind: Mapped[str | None] = mapped_column(String(12))
    revocation_reason: Mapped[str] = mapped_column(Text, default="")
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("passports.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    supersede_reason: Mapped[str | None] = mapped_column(String(20))

    superseded_by: Mapped[Passport | None] = relationship(remote_side="Passport.id")

    def status(self, now: datetime | None = None) -> str:
        """Return the live status (see ``live_status``)."""
        return live_status(self, now)

    @property
    def current(self) -> bool:
        """Neither revoked nor superseded (an expired passport is still the current one)."""
        return self.revoked_at is None and self.superseded_by_id is None


def live_status(passport: Any, now: datetime | None = None) -> str:
    """Return the status of a passport (model or row with the same columns).

    Rule: revoked, else superseded, else expired (now ≥ expiry), else genuine.
    """
    if passport.revoked_at is not None:
        return "revoked"
    if passport.superseded_by_id is not None:
        return "superseded"
    if passport.expires_at is not None and (now or utcnow()) >= passport.expires_at:
        return "expired"
    return "genuine"
