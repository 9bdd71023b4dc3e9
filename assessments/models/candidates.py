"""Candidates (students and graduates) and the log of who looked at their records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db
from assessments.models.reference import Centre, College, Enterprise

LEGAL_BASES = ("education", "consent", "contract")


class Candidate(db.Model):
    """A person who sits demonstration exams.

    The IIN is never stored in plain text: ``iin_hash`` is a keyed hash for
    look-ups and uniqueness, ``iin_encrypted`` the AES-GCM ciphertext.
    """

    __tablename__ = "candidates"
    __table_args__ = (
        CheckConstraint("legal_basis IN ('education', 'consent', 'contract')", "legal_basis"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    iin_hash: Mapped[str] = mapped_column(String(64), unique=True)
    iin_encrypted: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    last_name_latin: Mapped[str] = mapped_column(String(100))
    first_name_latin: Mapped[str] = mapped_column(String(100))
    # ASCII key that sorts in Kazakh alphabetical order on every database
    sort_key: Mapped[str] = mapped_column(String(700), index=True)
    # lower-cased Cyrillic and Latin names, for case-insensitive search on every database
    search_text: Mapped[str] = mapped_column(String(500), default="")
    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id"), index=True)
    specialty: Mapped[str] = mapped_column(String(200))
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), default="")
    # the competence centre that registered the candidate first; which centres' staff see
    # the record is the link table ``candidate_centres`` (a person is one candidate
    # nationally, linked to every centre that registered them)
    centre_id: Mapped[int | None] = mapped_column(
        ForeignKey("centres.id", ondelete="SET NULL"), index=True
    )
    legal_basis: Mapped[str] = mapped_column(String(20), default="education")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    college: Mapped[College] = relationship(lazy="joined")
    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")
    centre: Mapped[Centre | None] = relationship(lazy="joined")
    centre_links: Mapped[list[CandidateCentre]] = relationship(cascade="all, delete-orphan")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def latin_name(self) -> str:
        return f"{self.last_name_latin} {self.first_name_latin}"


class CandidateCentre(db.Model):
    """A link between a candidate and a competence centre that registered them.

    Staff of a centre see the candidates linked to it (and those enrolled in its exams);
    a candidate's first link is the centre that registered them first.
    """

    __tablename__ = "candidate_centres"

    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), primary_key=True
    )
    centre_id: Mapped[int] = mapped_column(
        ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    centre: Mapped[Centre] = relationship()


class CandidateAccess(db.Model):
    """Who opened or exported which candidate's record, and when (personal-data log)."""

    __tablename__ = "candidate_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidates.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
