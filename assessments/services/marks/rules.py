"""The marking rules: the single-cell save, the bulk import, sign-off and the grid call these.

Each rule is written once here. Where the callers word a refusal differently (a sentence on
the page, a ``FILE:ROW: field: message`` line for an import file), the decision is still
taken by the function here and only the wording is the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy.orm import Session

from app.auth.models import User
from app.i18n import LocalizedName
from app.messages import N_
from assessments import access
from assessments.models import Candidate, Exam, ExamStatus, MarkingForm
from assessments.scoring import (
    MarkError,
    needs_rescoring,
    validate_judgement,
    validate_measurement,
)
from assessments.services.marks.cells import format_value, seat_expert
from assessments.services.marks.errors import (
    ConflictOfInterest,
    ExamClosed,
    FormLocked,
    MarkingError,
    MarkInvalid,
    NotAllowed,
    NotStarted,
    NotYourSeat,
    SeatReasonNeeded,
)

# who may name candidates by IIN in a marks import (None, the server's command line, too)
IIN_IMPORT_ROLES = frozenset({"admin", "centre_manager"})

MARK_MESSAGES = {
    "not_a_number": N_("is not a number"),
    "too_many_decimals": N_("has more than two decimal places"),
    "below_zero": N_("is below 0"),
    "above_maximum": N_("is above the maximum %(max)s"),
    "not_whole": N_("must be a whole number 0, 1, 2 or 3"),
    "out_of_range": N_("must be 0, 1, 2 or 3"),
}


# --- the value of a cell ---------------------------------------------------------------


def parse_mark(kind: str, max_hundredths: int, value: object) -> int:
    """Parse a typed mark: hundredths for an M aspect, a 0–3 score for a J aspect.

    Rule: ``scoring.validate_measurement`` and ``scoring.validate_judgement``; a refusal
    is ``MarkInvalid`` on the field ``value`` whose message names what is wrong (with the
    aspect's maximum as ``max``).
    """
    try:
        if kind == "M":
            return validate_measurement(value, max_hundredths)
        return validate_judgement(value)
    except MarkError as exc:
        message = MARK_MESSAGES.get(exc.code, N_("is not a valid mark"))
        raise MarkInvalid(message, "value", max=format_value("M", max_hundredths)) from None


def unexplained_deduction(kind: str, max_hundredths: int, value: int, reason: str) -> bool:
    """Tell whether a mark is a deduction that still needs its reason.

    Rule: a measurement mark below the aspect's maximum should say why; it is accepted
    without a reason and flagged.
    """
    return kind == "M" and value < max_hundredths and not reason


# --- seats -------------------------------------------------------------------------------


def check_judge_seat(seat: int, judges: int) -> None:
    """Refuse a judge seat outside 1 … ``judges`` (``MarkInvalid`` on the field ``seat``)."""
    if not 1 <= seat <= judges:
        raise MarkInvalid(N_("must be a judge seat from 1 to %(judges)s"), "seat", judges=judges)


def check_seat(kind: str, seat: int, judges: int) -> None:
    """Refuse a seat the aspect does not have: an M aspect has seat 0, a J aspect 1 … judges."""
    if kind == "M" and seat != 0:
        raise MarkInvalid(N_("a measurement aspect has only seat 0"), "seat")
    if kind == "J":
        check_judge_seat(seat, judges)


def judge_seats_state(
    scores: Mapping[int, int], judges: int, allowed_spread: int
) -> tuple[tuple[int, ...], bool]:
    """Return a J aspect's empty judge seats and whether its scores need re-scoring.

    Rule: every seat 1 … ``judges`` needs a score; once all are there,
    ``scoring.needs_rescoring`` decides (spread above the scheme's ``allowed_spread``).
    ``scores`` maps seats to the scores entered so far.
    """
    empty = tuple(seat for seat in range(1, judges + 1) if seat not in scores)
    if empty:
        return empty, False
    values = [scores[seat] for seat in range(1, judges + 1)]
    return (), needs_rescoring(values, allowed_spread)


def seat_refusal(
    user: User | None, exam: Exam, seat: int, holder: User | None, reason: str
) -> MarkingError | None:
    """Return why ``user`` may not write judge seat ``seat``, held by ``holder``, or None.

    Rule (a judge seat belongs to the expert seated there): only that expert writes it —
    one cell, a paste or an import alike. The exam's chief expert may write any judge seat,
    another expert's or one with nobody seated (e.g. typing in a judge's paper form), with
    a written ``reason``, which the audit log keeps with the change; without one the
    refusal is ``SeatReasonNeeded``. A seat with no expert is written by the chief only.
    Seat 0 (a measurement mark) belongs to no judge; ``user`` None is the command line.
    """
    if seat == 0 or user is None or (holder is not None and holder.id == user.id):
        return None
    if access.is_chief(user, exam):
        if reason.strip():
            return None
        if holder is None:
            return SeatReasonNeeded(
                N_(
                    "Nobody sits in judge seat %(seat)s: give the reason for entering its "
                    "score (for example, typed from the judge's paper form)."
                ),
                "reason",
                seat=seat,
            )
        return SeatReasonNeeded(
            N_(
                "Judge seat %(seat)s is %(expert)s's: give the reason for entering their "
                "score (for example, typed from their paper form)."
            ),
            "reason",
            seat=seat,
            expert=holder.name,
        )
    if holder is None:
        return NotYourSeat(
            N_(
                "Nobody sits in judge seat %(seat)s yet: only the chief expert writes it, or "
                "seats an expert there first."
            ),
            "seat",
            seat=seat,
        )
    return NotYourSeat(
        N_(
            "Judge seat %(seat)s is %(expert)s's: only they, or the chief expert, write its scores."
        ),
        "seat",
        seat=seat,
        expert=holder.name,
    )


# --- conflict of interest -----------------------------------------------------------------


def conflict_of_interest(expert_college_id: int | None, candidate_college_id: int | None) -> bool:
    """Tell whether an expert may not mark a candidate.

    Rule (no compatriot marking): an expert from the candidate's own college never marks
    them — neither entering the mark nor sitting in the judge seat it is entered for.
    Experts without a college have no conflict.
    """
    return expert_college_id is not None and expert_college_id == candidate_college_id


def _college_name(candidate: Candidate) -> LocalizedName | str:
    college = candidate.college
    return LocalizedName(college) if college is not None else str(candidate.college_id)


def user_exclusion(user: User | None, candidate: Candidate) -> ConflictOfInterest | None:
    """Return why ``user`` may not enter marks for ``candidate`` (``conflict_of_interest``)."""
    if user is None or not conflict_of_interest(user.college_id, candidate.college_id):
        return None
    return ConflictOfInterest(
        N_("%(expert)s is from the candidate's college (%(college)s) and may not mark them."),
        "enrolment_id",
        expert=user.name,
        college=_college_name(candidate),
    )


def seat_exclusion(
    judge: User | None, seat: int, candidate: Candidate
) -> ConflictOfInterest | None:
    """Return why judge seat ``seat``, held by ``judge``, may not score ``candidate``."""
    if judge is None or not conflict_of_interest(judge.college_id, candidate.college_id):
        return None
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


def exclusion(
    session: Session, form: MarkingForm, user: User | None, candidate: Candidate, seat: int
) -> ConflictOfInterest | None:
    """Return why ``user`` may not enter this cell for a conflict of interest, or None.

    Rule: ``conflict_of_interest`` for the user entering the mark and, for a judge seat,
    for the expert recorded in that seat.
    """
    found = user_exclusion(user, candidate)
    if found is None and seat:
        found = seat_exclusion(seat_expert(session, form, seat), seat, candidate)
    return found


# --- who may do what, and when ----------------------------------------------------------


def check_open(exam: Exam, status: str | None, form: MarkingForm | None, code: str) -> None:
    """Refuse changes to a finalised exam, or to a locked form when ``form`` is given."""
    if status == ExamStatus.FINALISED:
        raise ExamClosed(N_("The exam is finalised; an administrator must reopen it first."))
    if form is not None and form.locked:
        raise FormLocked(
            N_("Form %(form)s is locked; the chief expert must unlock it first."), form=code
        )


def check_started(exam: Exam, today: date | None) -> None:
    """Refuse marks before the exam's first day; ``today`` is the date in the exams' time
    zone (Asia/Almaty), from the application's clock. None: the server's command line,
    which the operator may use to load marks recorded on paper at any time. An
    administrator's override for the exam (``exam.early_marking``) lifts the rule.
    """
    if today is not None and today < exam.start_date and not exam.early_marking:
        raise NotStarted(
            N_("The exam starts on %(day)s; marks can be saved from that day."),
            "date",
            day=exam.start_date.isoformat(),
        )


def check_can_mark(user: User | None, exam: Exam) -> None:
    """Refuse anyone but the exam's chief expert and experts (None: the command line)."""
    if user is not None and not access.can_mark(user, exam):
        raise NotAllowed(N_("Only the chief expert and the experts of this exam enter marks."))


def check_iin_import(user: User | None) -> None:
    """Refuse a marks import naming candidates by IIN unless ``user`` may use IINs.

    Rule: administrators, centre managers and the command line (None) may name candidates
    by IIN; experts and chief experts name them by candidate number, so that no import
    answers them whether an IIN is enrolled. The refusal does not look at the rows.
    """
    if user is not None and user.role not in IIN_IMPORT_ROLES:
        raise NotAllowed(
            N_(
                "Experts name candidates by candidate number: replace the column iin with the "
                "column candidate (the number shown in the marking grid)."
            ),
            "iin",
        )


def check_chief(user: User | None, exam: Exam, allow_system: bool = False) -> None:
    """Refuse anyone but the exam's chief expert (and None unless ``allow_system``)."""
    if user is None and allow_system:
        return
    if user is None or not access.is_chief(user, exam):
        raise NotAllowed(N_("Only the chief expert of this exam can do this."))
