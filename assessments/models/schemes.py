"""Marking schemes: criteria (modules), sub-criteria (marking forms) and aspects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db
from assessments.models.reference import Competence

DEFAULT_GRADE_BANDS = [["70", 5], ["40", 4], ["20", 3]]


class MarkingScheme(db.Model):
    """One version of a competence's marking scheme with its marking settings.

    A scheme used by an exam is frozen (``frozen_at`` set); changing it makes a
    new version whose ``previous_id`` points here.
    """

    __tablename__ = "marking_schemes"
    __table_args__ = (
        UniqueConstraint("competence_id", "name", "version"),
        CheckConstraint("judges BETWEEN 1 AND 9", "judges_range"),
        CheckConstraint("allowed_spread BETWEEN 0 AND 3", "spread_range"),
        CheckConstraint("pass_min_grade BETWEEN 2 AND 5", "pass_grade_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("marking_schemes.id"))
    judges: Mapped[int] = mapped_column(default=3)
    allowed_spread: Mapped[int] = mapped_column(default=1)
    # [[percent threshold as a decimal string, grade], …] from the highest down; else fallback
    grade_bands: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_GRADE_BANDS))
    fallback_grade: Mapped[int] = mapped_column(default=2)
    pass_min_grade: Mapped[int] = mapped_column(default=3)
    max_total_hundredths: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    source_files: Mapped[list] = mapped_column(JSON, default=list)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    competence: Mapped[Competence] = relationship(lazy="joined")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="scheme", order_by="Criterion.letter", cascade="all, delete-orphan"
    )

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None


class Criterion(db.Model):
    """A module of the scheme (A, B, C …)."""

    __tablename__ = "criteria"
    __table_args__ = (UniqueConstraint("scheme_id", "letter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("marking_schemes.id", ondelete="CASCADE"))
    letter: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(300), default="")
    source_file: Mapped[str] = mapped_column(String(300), default="")

    scheme: Mapped[MarkingScheme] = relationship(back_populates="criteria")
    sub_criteria: Mapped[list[SubCriterion]] = relationship(
        back_populates="criterion", order_by="SubCriterion.position", cascade="all, delete-orphan"
    )


class SubCriterion(db.Model):
    """A marking form, e.g. ``C4``, marked on one day."""

    __tablename__ = "sub_criteria"
    __table_args__ = (UniqueConstraint("scheme_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(
        ForeignKey("marking_schemes.id", ondelete="CASCADE"), index=True
    )
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(500))
    day: Mapped[int | None]
    position: Mapped[int]

    criterion: Mapped[Criterion] = relationship(back_populates="sub_criteria")
    aspects: Mapped[list[Aspect]] = relationship(
        back_populates="sub_criterion", order_by="Aspect.position", cascade="all, delete-orphan"
    )


class Aspect(db.Model):
    """One marked aspect, addressed as ``<sub-criterion code>.<position>`` (e.g. ``C4.2``)."""

    __tablename__ = "aspects"
    __table_args__ = (
        UniqueConstraint("sub_criterion_id", "position"),
        CheckConstraint("kind IN ('M', 'J')", "kind"),
        CheckConstraint("max_hundredths > 0", "max_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(
        ForeignKey("marking_schemes.id", ondelete="CASCADE"), index=True
    )
    sub_criterion_id: Mapped[int] = mapped_column(
        ForeignKey("sub_criteria.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(1))
    description: Mapped[str] = mapped_column(Text)
    extra_description: Mapped[str] = mapped_column(Text, default="")
    requirement: Mapped[str] = mapped_column(Text, default="")
    wsos_section: Mapped[int]
    max_hundredths: Mapped[int]
    # judgement: four level descriptions for scores 0, 1, 2, 3
    levels: Mapped[list] = mapped_column(JSON, default=list)
    calculation: Mapped[str] = mapped_column(String(50), default="")

    sub_criterion: Mapped[SubCriterion] = relationship(back_populates="aspects")

    @property
    def address(self) -> str:
        return f"{self.sub_criterion.code}.{self.position}"
