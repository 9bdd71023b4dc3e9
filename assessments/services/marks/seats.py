"""Which expert of the exam sits in which judge seat of a form."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.models import User
from app.messages import N_
from assessments import access
from assessments.models import MarkingForm
from assessments.services import audit, exams
from assessments.services.marks import rules
from assessments.services.marks.cells import exam_of, present_enrolments, seat_expert
from assessments.services.marks.errors import MarkInvalid


def assign_seat(
    session: Session,
    form: MarkingForm,
    seat: int,
    user_to_seat: User | None,
    acting_user: User,
) -> MarkingForm:
    """Record which expert sits in a judge seat of a form (chief expert only, audited).

    Rules: seats are 1 … ``scheme.judges``; the expert is the chief or an expert of the
    exam and sits in one seat of the form at most; an expert who may not judge a present
    candidate of the exam (``rules.seat_exclusion``: their own college) is refused before
    anything is saved, since that candidate's cells of the seat could never be filled;
    ``user_to_seat`` None empties the seat; a locked form or a finalised exam refuses.
    """
    exam = exam_of(session, form)
    rules.check_chief(acting_user, exam)
    judges = exam.scheme.judges
    rules.check_judge_seat(seat, judges)
    status = exams.lock_exam(session, exam.id)
    session.refresh(form)
    rules.check_open(exam, status, form, form.sub_criterion.code)
    seats = {str(k): v for k, v in (form.seats or {}).items()}
    if user_to_seat is not None:
        if not (
            access.is_chief(user_to_seat, exam) or access.is_assigned_expert(user_to_seat, exam)
        ):
            raise MarkInvalid(
                N_("%(name)s is not an expert of this exam."), "user_id", name=user_to_seat.name
            )
        for other, user_id in seats.items():
            if user_id == user_to_seat.id and other != str(seat):
                raise MarkInvalid(
                    N_("%(name)s already sits in judge seat %(seat)s."),
                    "user_id",
                    name=user_to_seat.name,
                    seat=other,
                )
        for enrolment in present_enrolments(session, exam):
            conflict = rules.seat_exclusion(user_to_seat, seat, enrolment.candidate)
            if conflict is not None:
                raise conflict
    old_user = seat_expert(session, form, seat)
    if (old_user.id if old_user else None) == (user_to_seat.id if user_to_seat else None):
        return form
    if user_to_seat is None:
        seats.pop(str(seat), None)
    else:
        seats[str(seat)] = user_to_seat.id
    form.seats = seats
    audit.append(
        session,
        exam,
        acting_user,
        "seat.assigned",
        target=f"form:{form.sub_criterion.code}/seat:{seat}",
        old=old_user.email if old_user else "",
        new=user_to_seat.email if user_to_seat else "",
    )
    session.flush()
    return form
