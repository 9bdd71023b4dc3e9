"""Saving one cell safely, and the history of a cell.

Safety rules, in the order ``save_mark`` checks them: the exam is not finalised, the
form is not locked, the user may mark this exam, neither the user nor (for a judge
seat) the expert recorded in that seat is from the candidate's college, a judge seat is
written by the expert seated there (or by the chief expert, with a reason:
``rules.seat_refusal``), the candidate
is present, the value is valid, and the writer saw the current version of the cell
(optimistic concurrency: ``expected_version`` None means "I believe the cell is
empty"). Every change appends an entry to the exam's audit chain.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from app.messages import N_
from assessments.models import Aspect, AuditEntry, Enrolment, Exam, Mark
from assessments.services import audit, exams
from assessments.services.marks import rules
from assessments.services.marks.cells import (
    CellState,
    cell_target,
    form_for,
    format_value,
    seat_expert,
)
from assessments.services.marks.errors import MarkConflict, MarkInvalid, NotPresent


def save_mark(
    session: Session,
    *,
    exam: Exam,
    enrolment: Enrolment,
    aspect: Aspect,
    seat: int,
    value: object,
    user: User | None,
    expected_version: int | None,
    reason: str = "",
    today: date | None = None,
) -> Mark | None:
    """Save one cell and audit the change; return the stored mark (None when cleared).

    Rules: see the module docstring for the refusals. ``value`` None or blank clears the
    cell. Re-sending the value a cell already holds succeeds without a change (a retried
    request whose first answer was lost is not a conflict). A measurement mark below the
    maximum should carry a ``reason`` (a deduction); it is accepted without one and the
    grid flags it. ``today`` (the date in the exams' time zone) refuses marks before the
    exam's first day; None is the command line.
    """
    reason = (reason or "").strip()
    if enrolment.exam_id != exam.id:
        raise MarkInvalid(N_("the candidate is not enrolled in this exam"), "enrolment_id")
    if aspect.scheme_id != exam.scheme_id:
        raise MarkInvalid(N_("the aspect is not part of this exam's marking scheme"), "aspect")
    status = exams.lock_exam(session, exam.id)
    form = form_for(session, exam, aspect.sub_criterion_id)
    code = aspect.sub_criterion.code
    rules.check_open(exam, status, form, code)
    rules.check_started(exam, today)
    rules.check_can_mark(user, exam)
    rules.check_seat(aspect.kind, seat, exam.scheme.judges)
    problem = rules.exclusion(session, form, user, enrolment.candidate, seat) if form else None
    if problem is not None:
        raise problem
    holder = seat_expert(session, form, seat) if form is not None and seat else None
    refusal = rules.seat_refusal(user, exam, seat, holder, reason)
    if refusal is not None:
        raise refusal
    if enrolment.attendance != "present":
        raise NotPresent(
            N_("The candidate is %(attendance)s; only present candidates get marks."),
            "enrolment_id",
            attendance=enrolment.attendance,
        )
    blank = value is None or (isinstance(value, str) and not value.strip())
    new_value = None if blank else rules.parse_mark(aspect.kind, aspect.max_hundredths, value)

    current = session.scalars(
        select(Mark)
        .where(Mark.enrolment_id == enrolment.id, Mark.aspect_id == aspect.id, Mark.seat == seat)
        .execution_options(populate_existing=True)
    ).one_or_none()
    current_value = current.value if current is not None else None
    if new_value == current_value and (current is None or current.version != expected_version):
        return current  # already what the writer wants: an idempotent re-send
    seen = current.version if current is not None else None
    if expected_version != seen:
        raise MarkConflict(CellState.of(current, aspect.kind, session))
    if current is not None and new_value == current.value and reason == current.reason:
        return current

    address = f"{code}.{aspect.position}"
    old_text = format_value(aspect.kind, current_value)
    now = utcnow()
    if new_value is None:
        assert current is not None
        session.delete(current)
        action, mark = "mark.cleared", None
    elif current is None:
        mark = Mark(
            exam_id=exam.id,
            enrolment_id=enrolment.id,
            aspect_id=aspect.id,
            seat=seat,
            value=new_value,
            reason=reason,
            version=1,
            updated_by_id=user.id if user else None,
            updated_at=now,
        )
        session.add(mark)
        action = "mark.set"
    else:
        mark = current
        mark.value = new_value
        mark.reason = reason
        mark.version = current.version + 1
        mark.updated_by_id = user.id if user else None
        mark.updated_at = now
        action = "mark.set"
    session.flush()
    audit.append(
        session,
        exam,
        user,
        action,
        target=cell_target(enrolment.id, address, seat),
        old=old_text,
        new=format_value(aspect.kind, new_value),
        reason=reason,
    )
    exams.start_marking(session, exam)
    return mark


def cell_history(
    session: Session, exam: Exam, enrolment: Enrolment, aspect: Aspect, seat: int
) -> list[AuditEntry]:
    """Return the audit entries of one cell, oldest first (who, when, old, new, reason)."""
    address = f"{aspect.sub_criterion.code}.{aspect.position}"
    return audit.entries(session, exam.id, cell_target(enrolment.id, address, seat))
