"""The marking rules that the single-cell save, the bulk import and the grid all call."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.models import User
from app.i18n import LocalizedName
from app.messages import N_
from assessments import access
from assessments.models import Aspect, Candidate, Exam, ExamStatus, MarkingForm
from assessments.scoring import MarkError, validate_judgement, validate_measurement
from assessments.services.marks.cells import format_value, seat_expert
from assessments.services.marks.errors import (
    ConflictOfInterest,
    ExamClosed,
    FormLocked,
    MarkInvalid,
    NotAllowed,
)

MARK_MESSAGES = {
    "not_a_number": N_("is not a number"),
    "too_many_decimals": N_("has more than two decimal places"),
    "below_zero": N_("is below 0"),
    "above_maximum": N_("is above the maximum %(max)s"),
    "not_whole": N_("must be a whole number 0, 1, 2 or 3"),
    "out_of_range": N_("must be 0, 1, 2 or 3"),
}


def _college_name(candidate: Candidate) -> LocalizedName | str:
    college = candidate.college
    return LocalizedName(college) if college is not None else str(candidate.college_id)


def exclusion(
    session: Session, form: MarkingForm, user: User | None, candidate: Candidate, seat: int
) -> ConflictOfInterest | None:
    """Return why ``user`` may not enter this cell for a conflict of interest, or None.

    Rule (no compatriot marking): neither the user entering the mark nor, for a judge
    seat, the expert recorded in that seat may come from the candidate's college.
    """
    if user is not None and access.conflict_of_interest(user, candidate):
        return ConflictOfInterest(
            N_("%(expert)s is from the candidate's college (%(college)s) and may not mark them."),
            "enrolment_id",
            expert=user.name,
            college=_college_name(candidate),
        )
    if seat:
        judge = seat_expert(session, form, seat)
        if judge is not None and access.conflict_of_interest(judge, candidate):
            return ConflictOfInterest(
                N_(
                    "Judge seat %(seat)s is %(expert)s, from the candidate's college "
                    "(%(college)s): another expert must sit in this seat for them."
                ),
                "seat",
                seat=seat,
                expert=judge.name,
                college=_college_name(candidate),
            )
    return None


def parse_value(aspect: Aspect, value: object) -> int:
    """Parse a typed value for the aspect: hundredths for M, a 0–3 score for J."""
    try:
        if aspect.kind == "M":
            return validate_measurement(value, aspect.max_hundredths)
        return validate_judgement(value)
    except MarkError as exc:
        message = MARK_MESSAGES.get(exc.code, N_("is not a valid mark"))
        raise MarkInvalid(message, "value", max=format_value("M", aspect.max_hundredths)) from None


def check_seat(aspect: Aspect, seat: int, judges: int) -> None:
    if aspect.kind == "M" and seat != 0:
        raise MarkInvalid(N_("a measurement aspect has only seat 0"), "seat")
    if aspect.kind == "J" and not 1 <= seat <= judges:
        raise MarkInvalid(N_("must be a judge seat from 1 to %(judges)s"), "seat", judges=judges)


def check_open(exam: Exam, status: str | None, form: MarkingForm | None, code: str) -> None:
    if status == ExamStatus.FINALISED:
        raise ExamClosed(N_("The exam is finalised; an administrator must reopen it first."))
    if form is not None and form.locked:
        raise FormLocked(
            N_("Form %(form)s is locked; the chief expert must unlock it first."), form=code
        )


def check_can_mark(user: User | None, exam: Exam) -> None:
    if user is not None and not access.can_mark(user, exam):
        raise NotAllowed(N_("Only the chief expert and the experts of this exam enter marks."))


def check_chief(user: User | None, exam: Exam, allow_system: bool = False) -> None:
    if user is None and allow_system:
        return
    if user is None or not access.is_chief(user, exam):
        raise NotAllowed(N_("Only the chief expert of this exam can do this."))
