"""Demonstration exams: enrolments, experts, judge seats, marks, audit log and results."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm import Session as OrmSession

from app.auth.models import User
from app.db import StrEnumType, UTCDateTime, utcnow
from app.extensions import db
from assessments.models.candidates import Candidate
from assessments.models.reference import Centre, Competence
from assessments.models.schemes import Aspect, MarkingScheme, SubCriterion


class ExamStatus(StrEnum):
    """Where an exam stands: planned → marking (first mark) → finalised (reopen: → marking).

    Members are the strings stored in ``exams.status`` and compare equal to them.
    """

    PLANNED = "planned"
    MARKING = "marking"
    FINALISED = "finalised"


EXAM_STATUSES = tuple(ExamStatus)
# "registered": enrolled, not yet marked present on the day (only present candidates are marked)
ATTENDANCE = ("registered", "present", "absent", "withdrawn", "disqualified")


class Exam(db.Model):
    """A demonstration exam at a competence centre, marked with one frozen scheme."""

    __tablename__ = "exams"
    __table_args__ = (
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{status}'" for status in ExamStatus)), "status"
        ),
        CheckConstraint("end_date >= start_date", "dates_ordered"),
        Index("ix_exams_start_date_centre", "start_date", "centre_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("marking_schemes.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[ExamStatus] = mapped_column(
        StrEnumType(ExamStatus, 12), default=ExamStatus.PLANNED
    )
    chief_expert_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # head of the audit hash chain, recorded when the exam is finalised
    audit_head: Mapped[str | None] = mapped_column(String(64))
    audit_count: Mapped[int | None]
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # an administrator's override: marks may be saved before the first day (set → allowed)
    early_marking_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    early_marking_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    early_marking_reason: Mapped[str] = mapped_column(Text, default="")

    centre: Mapped[Centre] = relationship(lazy="joined")
    competence: Mapped[Competence] = relationship(lazy="joined")
    scheme: Mapped[MarkingScheme] = relationship(lazy="joined")
    chief_expert: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[chief_expert_id])
    early_marking_by: Mapped[User | None] = relationship(foreign_keys=[early_marking_by_id])
    experts: Mapped[list[ExamExpert]] = relationship(
        back_populates="exam", cascade="all, delete-orphan"
    )
    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="exam", cascade="all, delete-orphan"
    )

    @property
    def early_marking(self) -> bool:
        """Whether an administrator allowed marks before the first day."""
        return self.early_marking_at is not None


class ExamExpert(db.Model):
    __tablename__ = "exam_experts"

    exam_id: Mapped[int] = mapped_column(
        ForeignKey("exams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)

    exam: Mapped[Exam] = relationship(back_populates="experts")
    user: Mapped[User] = relationship(lazy="joined")


class Enrolment(db.Model):
    """A candidate sitting an exam at a workstation, with their attendance.

    ``candidate_number`` names the candidate within the exam (1, 2, 3 … in enrolment
    order) wherever their IIN must not travel: the marking grid, the blank forms, the
    protocol and the experts' marks imports.
    """

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("exam_id", "candidate_id"),
        UniqueConstraint("exam_id", "candidate_number"),
        CheckConstraint("candidate_number > 0", "candidate_number_positive"),
        CheckConstraint(
            "attendance IN ('registered', 'present', 'absent', 'withdrawn', 'disqualified')",
            "attendance",
        ),
        CheckConstraint("workstation > 0", "workstation_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    workstation: Mapped[int]
    # given by number_new_enrolments when the enrolment is first flushed
    candidate_number: Mapped[int]
    attendance: Mapped[str] = mapped_column(String(14), default="registered")
    attendance_reason: Mapped[str] = mapped_column(Text, default="")

    exam: Mapped[Exam] = relationship(back_populates="enrolments")
    candidate: Mapped[Candidate] = relationship(lazy="joined")


@event.listens_for(OrmSession, "before_flush")
def number_new_enrolments(session: OrmSession, _context: object, _instances: object) -> None:
    """Give each new enrolment the next candidate number of its exam.

    Rule: one more than the exam's highest number so far (numbers of removed enrolments
    are not reused), in the order the enrolments were added. Every way of enrolling
    (the enrolment service, the demo, fixtures) passes here, so the rule lives once.
    PostgreSQL: the exam row is locked first, so concurrent enrolments queue.
    """
    new = [
        obj for obj in session.new if isinstance(obj, Enrolment) and obj.candidate_number is None
    ]
    if not new:
        return
    following: dict[object, int] = {}
    with session.no_autoflush:
        for enrolment in new:
            exam_id = enrolment.exam_id
            if exam_id is None and enrolment.exam is not None:
                exam_id = enrolment.exam.id
            key: object = exam_id if exam_id is not None else enrolment.exam
            if key is None:
                continue  # no exam: the NOT NULL exam_id refuses the flush
            if key not in following:
                highest = 0
                if exam_id is not None:
                    session.execute(select(Exam.id).where(Exam.id == exam_id).with_for_update())
                    highest = (
                        session.scalar(
                            select(func.max(Enrolment.candidate_number)).where(
                                Enrolment.exam_id == exam_id
                            )
                        )
                        or 0
                    )
                following[key] = highest
            following[key] += 1
            enrolment.candidate_number = following[key]


class MarkingForm(db.Model):
    """The state of one sub-criterion's form in one exam: judge seats and the lock."""

    __tablename__ = "marking_forms"
    __table_args__ = (UniqueConstraint("exam_id", "sub_criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    sub_criterion_id: Mapped[int] = mapped_column(ForeignKey("sub_criteria.id"))
    # {"1": user_id, "2": user_id, …}: which expert sits in which judge seat
    seats: Mapped[dict] = mapped_column(JSON, default=dict)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # the chief's note acknowledging deductions without a reason when the form was locked
    deductions_note: Mapped[str] = mapped_column(Text, default="")

    sub_criterion: Mapped[SubCriterion] = relationship(lazy="joined")

    @property
    def locked(self) -> bool:
        return self.locked_at is not None


class Mark(db.Model):
    """One value: a measurement mark in hundredths (seat 0) or a judge's 0–3 score.

    ``version`` grows with every change; a write carrying an older version is a
    conflict (optimistic concurrency).
    """

    __tablename__ = "marks"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "aspect_id", "seat"),
        CheckConstraint("value >= 0", "value_non_negative"),
        CheckConstraint("seat >= 0", "seat_non_negative"),
        Index("ix_marks_exam_aspect", "exam_id", "aspect_id"),
        # covers the results aggregate: an index-only scan of an exam's marks, by enrolment
        Index("ix_marks_exam_totals", "exam_id", "enrolment_id", "aspect_id", "seat", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    aspect_id: Mapped[int] = mapped_column(ForeignKey("aspects.id"))
    seat: Mapped[int] = mapped_column(default=0)
    value: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    aspect: Mapped[Aspect] = relationship()


class AuditEntry(db.Model):
    """Append-only, hash-chained log of changes, one chain per exam.

    ``hash`` = SHA-256 over the previous entry's hash and this entry's content,
    so altering or removing an entry breaks the chain.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("exam_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"))
    seq: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    old_value: Mapped[str] = mapped_column(String(100), default="")
    new_value: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Result(db.Model):
    """A present candidate's stored result, written at finalisation (never recomputed by reports).

    Marks are in units over ``denominator`` (100 × 3 × judges) so the database
    can aggregate exactly; ``percent_hundredths`` is the half-up rounded percent
    for display and fast aggregates.
    """

    __tablename__ = "results"
    __table_args__ = (
        Index("ix_results_exam_rank", "exam_id", "rank"),
        CheckConstraint("total_units <= max_units", "total_within_max"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), unique=True
    )
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    total_units: Mapped[int] = mapped_column(BigInteger)
    max_units: Mapped[int] = mapped_column(BigInteger)
    denominator: Mapped[int]
    percent_hundredths: Mapped[int]
    grade: Mapped[int]
    passed: Mapped[bool]
    rank: Mapped[int]
    by_criterion: Mapped[dict] = mapped_column(JSON, default=dict)
    by_section: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolment: Mapped[Enrolment] = relationship(lazy="joined")
    candidate: Mapped[Candidate] = relationship(lazy="joined")
