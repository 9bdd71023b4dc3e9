"""Cells: what one holds, how it is named in the audit log and shown, and whose they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from assessments.models import Candidate, Enrolment, Exam, Mark, MarkingForm
from assessments.scoring import hundredths_text


def format_value(kind: str, value: int | None) -> str:
    """Show a stored value: hundredths as ``1.25`` for M, the score for J, "" for none."""
    if value is None:
        return ""
    if kind == "M":
        return hundredths_text(value)
    return str(value)


def cell_target(enrolment_id: int, address: str, seat: int) -> str:
    """Name a cell in the audit log: ``enrolment:17/C4.2`` or ``enrolment:17/C4.2/seat:2``."""
    base = f"enrolment:{enrolment_id}/{address}"
    return f"{base}/seat:{seat}" if seat else base


@dataclass(frozen=True)
class CellState:
    """What a cell holds now (for conflicts and the grid)."""

    value: str | None
    raw: int | None
    version: int | None
    reason: str = ""
    updated_by: str = ""
    updated_at: datetime | None = None

    @classmethod
    def of(cls, mark: Mark | None, kind: str, session: Session) -> CellState:
        if mark is None:
            return cls(None, None, None)
        who = session.get(User, mark.updated_by_id) if mark.updated_by_id else None
        return cls(
            format_value(kind, mark.value),
            mark.value,
            mark.version,
            mark.reason,
            who.name if who else "",
            mark.updated_at,
        )


@dataclass(frozen=True)
class Incomplete:
    """One cell group that blocks sign-off: ``kind`` is "missing" or "rescore"."""

    candidate: Candidate
    enrolment: Enrolment
    address: str
    kind: str
    seats: tuple[int, ...] = ()

    def __str__(self) -> str:
        name = f"{self.candidate.last_name} {self.candidate.first_name}"
        what = {"missing": "missing", "deduction": "deduction without a reason"}.get(
            self.kind, "needs re-scoring"
        )
        if self.kind == "missing" and self.seats:
            what += " (judge " + ", ".join(str(s) for s in self.seats) + ")"
        return f"{name} (ws {self.enrolment.workstation}): {self.address}: {what}"


def form_for(session: Session, exam: Exam, sub_criterion_id: int) -> MarkingForm | None:
    """Return the exam's form for a sub-criterion, freshly read (lock and seats)."""
    return session.scalar(
        select(MarkingForm)
        .where(MarkingForm.exam_id == exam.id, MarkingForm.sub_criterion_id == sub_criterion_id)
        .execution_options(populate_existing=True)
    )


def seat_expert(session: Session, form: MarkingForm, seat: int) -> User | None:
    user_id = (form.seats or {}).get(str(seat))
    return session.get(User, user_id) if user_id else None


def present_enrolments(session: Session, exam: Exam) -> list[Enrolment]:
    """Return the exam's present candidates by workstation, then Kazakh name order."""
    return list(
        session.scalars(
            select(Enrolment)
            .join(Candidate, Enrolment.candidate_id == Candidate.id)
            .where(Enrolment.exam_id == exam.id, Enrolment.attendance == "present")
            .order_by(Enrolment.workstation, Candidate.sort_key, Enrolment.id)
        )
    )


def exam_of(session: Session, form: MarkingForm) -> Exam:
    exam = session.get(Exam, form.exam_id)
    assert exam is not None
    return exam
