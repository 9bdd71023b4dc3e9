"""Mark entry: saving one cell safely, completeness, sign-off, judge seats and bulk import.

A *cell* is one value of one present candidate (enrolment) for one aspect: seat 0 holds
a measurement mark in hundredths, seats 1 … ``scheme.judges`` hold the judges' 0–3
scores of a judgement aspect.

Safety rules, in the order ``save_mark`` checks them: the exam is not finalised, the
form is not locked, the user may mark this exam, neither the user nor (for a judge
seat) the expert recorded in that seat is from the candidate's college, the candidate
is present, the value is valid, and the writer saw the current version of the cell
(optimistic concurrency: ``expected_version`` None means "I believe the cell is
empty"). Every change appends an entry to the exam's audit chain.

Writers of one exam are serialised by the exam row lock (``audit.lock_exam``), so a
read-compare-write of a cell cannot interleave with another one; on SQLite the write
transaction is opened with ``BEGIN IMMEDIATE`` (``begin_write``), so it waits for the
write lock instead of failing on a stale snapshot.

Error messages are English with ``%(name)s`` placeholders, marked ``N_`` for Babel: the
command line prints ``str(error)``, pages and the API show ``error.translated()``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from app.messages import N_, TranslatableError
from assessments import access
from assessments.iin import InvalidIIN, validate_iin
from assessments.models import (
    Aspect,
    AuditEntry,
    Candidate,
    Criterion,
    Enrolment,
    Exam,
    Mark,
    MarkingForm,
    SubCriterion,
)
from assessments.personal_data import iin_lookup_hash
from assessments.scoring import MarkError, validate_judgement, validate_measurement
from assessments.services import audit
from assessments.tabular import Problem, Rejected, Row, read_table, sniff_delimiter

IMPORT_COLUMNS = ("iin", "aspect", "judge", "score")
MARK_COLUMNS = (
    "exam_id",
    "enrolment_id",
    "aspect_id",
    "seat",
    "value",
    "reason",
    "version",
    "updated_by_id",
    "updated_at",
)
UPDATE_COLUMNS = ("value", "reason", "version", "updated_by_id", "updated_at")
IMPORT_OPTIONAL = ("reason",)
BULK_CHUNK = 5000
MAX_PROBLEMS = 1000

MARK_MESSAGES = {
    "not_a_number": N_("is not a number"),
    "too_many_decimals": N_("has more than two decimal places"),
    "below_zero": N_("is below 0"),
    "above_maximum": N_("is above the maximum %(max)s"),
    "not_whole": N_("must be a whole number 0, 1, 2 or 3"),
    "out_of_range": N_("must be 0, 1, 2 or 3"),
}


# --- errors -----------------------------------------------------------------------


class MarkingError(TranslatableError):
    """A marking operation refused; ``code`` names the rule, ``field`` the input at fault."""

    code = "refused"


class ExamClosed(MarkingError):
    code = "exam_finalised"


class FormLocked(MarkingError):
    code = "form_locked"


class NotAllowed(MarkingError):
    code = "not_allowed"


class ConflictOfInterest(NotAllowed):
    code = "conflict_of_interest"


class NotPresent(MarkingError):
    code = "not_present"


class MarkInvalid(MarkingError):
    code = "invalid"


class MarkConflict(MarkingError):
    """The cell changed since the writer read it; ``current`` is what it holds now."""

    code = "conflict"

    def __init__(self, current: CellState) -> None:
        self.current = current
        if current.value is None:
            super().__init__(N_("Someone cleared this cell in the meantime."), "expected_version")
        else:
            super().__init__(
                N_("%(who)s changed this to %(value)s in the meantime."),
                "expected_version",
                who=current.updated_by or "?",
                value=current.value,
            )


class FormIncomplete(MarkingError):
    """Locking refused: ``items`` lists the cells missing or needing re-scoring."""

    code = "incomplete"

    def __init__(self, items: Sequence[Incomplete]) -> None:
        self.items = list(items)
        super().__init__(
            N_("%(count)s marks are missing or need re-scoring."), "form", count=len(self.items)
        )

    def lines(self) -> list[str]:
        return [str(item) for item in self.items]


# --- value objects ------------------------------------------------------------------


def format_value(kind: str, value: int | None) -> str:
    """Show a stored value: hundredths as ``1.25`` for M, the score for J, "" for none."""
    if value is None:
        return ""
    if kind == "M":
        return f"{value // 100}.{value % 100:02d}"
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
        what = "missing" if self.kind == "missing" else "needs re-scoring"
        if self.kind == "missing" and self.seats:
            what += " (judge " + ", ".join(str(s) for s in self.seats) + ")"
        return f"{name} (ws {self.enrolment.workstation}): {self.address}: {what}"


@dataclass
class ImportSummary:
    """What ``import_marks`` did: rows read, cells created, changed and left as they were."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    audit_head: str = audit.GENESIS
    audit_seq: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "audit_head": self.audit_head,
            "audit_seq": self.audit_seq,
        }


# --- transactions -------------------------------------------------------------------


# --- rules --------------------------------------------------------------------------


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


def _college_name(candidate: Candidate) -> str:
    from app.i18n import localized

    college = candidate.college
    return localized(college) if college is not None else str(candidate.college_id)


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


def _check_seat(aspect: Aspect, seat: int, judges: int) -> None:
    if aspect.kind == "M" and seat != 0:
        raise MarkInvalid(N_("a measurement aspect has only seat 0"), "seat")
    if aspect.kind == "J" and not 1 <= seat <= judges:
        raise MarkInvalid(N_("must be a judge seat from 1 to %(judges)s"), "seat", judges=judges)


def _check_open(exam: Exam, status: str | None, form: MarkingForm | None, code: str) -> None:
    if status == "finalised":
        raise ExamClosed(N_("The exam is finalised; an administrator must reopen it first."))
    if form is not None and form.locked:
        raise FormLocked(
            N_("Form %(form)s is locked; the chief expert must unlock it first."), form=code
        )


def _check_can_mark(user: User | None, exam: Exam) -> None:
    if user is not None and not access.can_mark(user, exam):
        raise NotAllowed(N_("Only the chief expert and the experts of this exam enter marks."))


def _check_chief(user: User | None, exam: Exam, allow_system: bool = False) -> None:
    if user is None and allow_system:
        return
    if user is None or not access.is_chief(user, exam):
        raise NotAllowed(N_("Only the chief expert of this exam can do this."))


# --- one cell -----------------------------------------------------------------------


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
) -> Mark | None:
    """Save one cell and audit the change; return the stored mark (None when cleared).

    Rules: see the module docstring for the refusals. ``value`` None or blank clears the
    cell. Re-sending the value a cell already holds succeeds without a change (a retried
    request whose first answer was lost is not a conflict). A measurement mark below the
    maximum should carry a ``reason`` (a deduction); it is accepted without one and the
    grid flags it.
    """
    reason = (reason or "").strip()
    if enrolment.exam_id != exam.id:
        raise MarkInvalid(N_("the candidate is not enrolled in this exam"), "enrolment_id")
    if aspect.scheme_id != exam.scheme_id:
        raise MarkInvalid(N_("the aspect is not part of this exam's marking scheme"), "aspect")
    status = audit.lock_exam(session, exam.id)
    form = form_for(session, exam, aspect.sub_criterion_id)
    code = aspect.sub_criterion.code
    _check_open(exam, status, form, code)
    _check_can_mark(user, exam)
    _check_seat(aspect, seat, exam.scheme.judges)
    problem = exclusion(session, form, user, enrolment.candidate, seat) if form else None
    if problem is not None:
        raise problem
    if enrolment.attendance != "present":
        raise NotPresent(
            N_("The candidate is %(attendance)s; only present candidates get marks."),
            "enrolment_id",
            attendance=enrolment.attendance,
        )
    blank = value is None or (isinstance(value, str) and not value.strip())
    new_value = None if blank else parse_value(aspect, value)

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
    if status == "planned":
        _start_marking(session, exam)
    return mark


def _start_marking(session: Session, exam: Exam) -> None:
    from assessments.services.exams import start_marking

    start_marking(session, exam)


def cell_history(
    session: Session, exam: Exam, enrolment: Enrolment, aspect: Aspect, seat: int
) -> list[AuditEntry]:
    """Return the audit entries of one cell, oldest first (who, when, old, new, reason)."""
    address = f"{aspect.sub_criterion.code}.{aspect.position}"
    return audit.entries(session, exam.id, cell_target(enrolment.id, address, seat))


# --- completeness and sign-off -----------------------------------------------------


def completeness(
    session: Session, exam: Exam, sub_criterion_id: int | None = None
) -> list[Incomplete]:
    """List what blocks sign-off, by candidate (workstation, name) then aspect order.

    Rules: only present candidates count. An M aspect needs its seat-0 mark. A J aspect
    needs a score in every seat 1 … ``scheme.judges`` ("missing" names the empty seats);
    when all are there, a spread (highest − lowest) above ``scheme.allowed_spread`` needs
    re-scoring.
    """
    scheme = exam.scheme
    aspect_query = (
        select(Aspect.id, Aspect.kind, Aspect.position, SubCriterion.code)
        .join(SubCriterion, Aspect.sub_criterion_id == SubCriterion.id)
        .join(Criterion, SubCriterion.criterion_id == Criterion.id)
        .where(Aspect.scheme_id == scheme.id)
        .order_by(Criterion.letter, SubCriterion.position, Aspect.position)
    )
    if sub_criterion_id is not None:
        aspect_query = aspect_query.where(Aspect.sub_criterion_id == sub_criterion_id)
    aspects = session.execute(aspect_query).all()
    enrolments = present_enrolments(session, exam)
    if not aspects or not enrolments:
        return []
    aspect_ids = [a.id for a in aspects]
    mark_query = select(Mark.enrolment_id, Mark.aspect_id, Mark.seat, Mark.value).where(
        Mark.exam_id == exam.id
    )
    if sub_criterion_id is not None:
        mark_query = mark_query.where(Mark.aspect_id.in_(aspect_ids))
    values: dict[tuple[int, int], dict[int, int]] = {}
    for row in session.execute(mark_query):
        values.setdefault((row.enrolment_id, row.aspect_id), {})[row.seat] = row.value
    judges = scheme.judges
    all_seats = tuple(range(1, judges + 1))
    items: list[Incomplete] = []
    for enrolment in enrolments:
        for aspect in aspects:
            cell = values.get((enrolment.id, aspect.id), {})
            address = f"{aspect.code}.{aspect.position}"
            if aspect.kind == "M":
                if 0 not in cell:
                    items.append(Incomplete(enrolment.candidate, enrolment, address, "missing"))
                continue
            empty = tuple(s for s in all_seats if s not in cell)
            if empty:
                items.append(Incomplete(enrolment.candidate, enrolment, address, "missing", empty))
            else:
                scores = [cell[s] for s in all_seats]
                if max(scores) - min(scores) > scheme.allowed_spread:
                    items.append(
                        Incomplete(enrolment.candidate, enrolment, address, "rescore", all_seats)
                    )
    return items


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


def _exam_of(session: Session, form: MarkingForm) -> Exam:
    exam = session.get(Exam, form.exam_id)
    assert exam is not None
    return exam


def lock_form(session: Session, form: MarkingForm, user: User) -> MarkingForm:
    """Sign off and lock a complete form (chief expert of the exam only).

    Rules: refused for anyone but the exam's chief expert, for a finalised exam, and
    while any present candidate's cell is missing or needs re-scoring (``FormIncomplete``
    lists them). Locking a locked form changes nothing.
    """
    exam = _exam_of(session, form)
    _check_chief(user, exam)
    status = audit.lock_exam(session, exam.id)
    session.refresh(form)
    if status == "finalised":
        raise ExamClosed(N_("The exam is finalised; an administrator must reopen it first."))
    if form.locked:
        return form
    items = completeness(session, exam, form.sub_criterion_id)
    if items:
        raise FormIncomplete(items)
    form.locked_at = utcnow()
    form.locked_by_id = user.id
    audit.append(session, exam, user, "form.locked", target=f"form:{form.sub_criterion.code}")
    session.flush()
    return form


def unlock_form(session: Session, form: MarkingForm, user: User, reason: str) -> MarkingForm:
    """Unlock a locked form for a correction (chief expert and a written reason, audited)."""
    exam = _exam_of(session, form)
    _check_chief(user, exam)
    reason = (reason or "").strip()
    if not reason:
        raise MarkInvalid(N_("Give the reason for unlocking the form."), "reason")
    status = audit.lock_exam(session, exam.id)
    session.refresh(form)
    if status == "finalised":
        raise ExamClosed(N_("The exam is finalised; an administrator must reopen it first."))
    if not form.locked:
        return form
    form.locked_at = None
    form.locked_by_id = None
    audit.append(
        session,
        exam,
        user,
        "form.unlocked",
        target=f"form:{form.sub_criterion.code}",
        reason=reason,
    )
    session.flush()
    return form


def lock_all_forms(session: Session, exam: Exam, user: User | None) -> list[MarkingForm]:
    """Lock every form of the exam, or none when anything is incomplete.

    Rules: the chief expert of the exam, or ``user`` None for the server's command
    line; ``FormIncomplete`` lists every missing or to-be-re-scored cell of the exam.
    """
    _check_chief(user, exam, allow_system=True)
    status = audit.lock_exam(session, exam.id)
    if status == "finalised":
        raise ExamClosed(N_("The exam is finalised; an administrator must reopen it first."))
    items = completeness(session, exam)
    if items:
        raise FormIncomplete(items)
    forms = list(session.scalars(select(MarkingForm).where(MarkingForm.exam_id == exam.id)))
    now = utcnow()
    for form in forms:
        if form.locked:
            continue
        form.locked_at = now
        form.locked_by_id = user.id if user else None
        audit.append(session, exam, user, "form.locked", target=f"form:{form.sub_criterion.code}")
    session.flush()
    return forms


def assign_seat(
    session: Session,
    form: MarkingForm,
    seat: int,
    user_to_seat: User | None,
    acting_user: User,
) -> MarkingForm:
    """Record which expert sits in a judge seat of a form (chief expert only, audited).

    Rules: seats are 1 … ``scheme.judges``; the expert is the chief or an expert of the
    exam and sits in one seat of the form at most; ``user_to_seat`` None empties the
    seat; a locked form or a finalised exam refuses.
    """
    exam = _exam_of(session, form)
    _check_chief(acting_user, exam)
    judges = exam.scheme.judges
    if not 1 <= seat <= judges:
        raise MarkInvalid(N_("must be a judge seat from 1 to %(judges)s"), "seat", judges=judges)
    status = audit.lock_exam(session, exam.id)
    session.refresh(form)
    _check_open(exam, status, form, form.sub_criterion.code)
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


# --- bulk import --------------------------------------------------------------------


@dataclass
class _AspectInfo:
    id: int
    kind: str
    max_hundredths: int
    sub_criterion_id: int
    code: str
    address: str


@dataclass
class _EnrolmentInfo:
    id: int
    attendance: str
    college_id: int
    candidate_id: int


@dataclass
class _Prepared:
    # rows in MARK_COLUMNS order (updated_at last, filled in when written)
    creates: list[tuple] = field(default_factory=list)
    # (value, reason, version, updated_by_id, updated_at, id)
    updates: list[tuple] = field(default_factory=list)
    changes: list[audit.Change] = field(default_factory=list)
    unchanged: int = 0
    now: datetime = field(default_factory=utcnow)


IIN_MESSAGES = {
    "not_text": N_("must be 12 digits"),
    "not_digits": N_("must contain digits only"),
    "length": N_("must be 12 digits"),
    "century": N_("has an invalid century digit"),
    "birth_date": N_("holds a birth date that does not exist"),
    "never_issued": N_("is not a valid IIN (never issued)"),
    "check_digit": N_("has a wrong check digit"),
}


def import_marks(
    session: Session, exam: Exam, filename: str, data: bytes, user: User | None
) -> ImportSummary:
    """Import marks recorded elsewhere from a CSV/XLSX file, all or nothing.

    Headers ``iin,aspect,judge,score[,reason]``: ``aspect`` an address such as ``C4.2``;
    ``judge`` empty for M aspects and the seat 1 … n for J aspects; ``score`` the mark for
    M (decimal comma or point, two decimals at most), 0–3 for J. Any problem refuses the
    whole file with ``Rejected``, whose lines read ``FILE:ROW: field: message`` (header =
    row 1). An imported value replaces an earlier one; the audit reason is the row's
    ``reason`` or else the file name. ``user`` None is the server's command line.
    """
    rows = read_import_table(filename, data)
    return import_rows(session, exam, rows, user, source=filename)


def read_import_table(filename: str, data: bytes) -> list[Row]:
    """Read a marks file: a fast path for plain CSV, ``tabular.read_table`` for the rest.

    The fast path reads exactly what ``read_table`` would (UTF-8 with or without BOM,
    delimiter sniffed from the header, case-insensitive headers, trimmed cells, empty rows
    skipped but counted); whenever the file is anything but a well-formed CSV with the
    required columns it hands over to ``read_table``, which names the problem.
    """
    if not data.startswith(b"PK\x03\x04") and not filename.lower().endswith((".xlsx", ".xls")):
        rows = _fast_csv(data)
        if rows is not None:
            return rows
    return read_table(filename, data, IMPORT_COLUMNS, IMPORT_OPTIONAL)


def _fast_csv(data: bytes) -> list[Row] | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        header = [h.lstrip("\ufeff").strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        return None
    known = (*IMPORT_COLUMNS, *IMPORT_OPTIONAL)
    if any(header.count(name) > 1 for name in known) or any(
        name not in header for name in IMPORT_COLUMNS
    ):
        return None
    positions = [(name, header.index(name)) for name in known if name in header]
    width = max(index for _name, index in positions) + 1
    rows: list[Row] = []
    try:
        for number, cells in enumerate(reader, start=2):
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            values = {
                name: cells[index].replace("\u00a0", " ").strip() for name, index in positions
            }
            if any(values.values()):
                rows.append(Row(number, values))
    except csv.Error:
        return None
    return rows


def import_rows(
    session: Session, exam: Exam, rows: Sequence[Row], user: User | None, *, source: str
) -> ImportSummary:
    """Import already-read rows (``tabular.Row``); the JSON API uses it with list positions.

    Designed for bulk: aspects, candidates and existing marks are loaded once into hash
    maps (one keyed hash per distinct IIN), every row is validated in Python, then marks
    and audit entries are written with multi-row INSERT/UPDATE statements in chunks.
    """
    _check_can_mark(user, exam)
    status = audit.lock_exam(session, exam.id)
    _check_open(exam, status, None, "")
    if not rows:
        raise Rejected([Problem(None, None, N_("has no mark rows"))], source)
    prepared = _validate_rows(session, exam, rows, user, source)

    writer = audit.BulkWriter(session, Mark.__table__, MARK_COLUMNS)
    stored_now = writer.bind("updated_at", prepared.now)
    creates = [(*row[:-1], stored_now) for row in prepared.creates]
    for start in range(0, len(creates), BULK_CHUNK):
        writer.insert(creates[start : start + BULK_CHUNK])
    updates = [(*row[:-2], stored_now, row[-1]) for row in prepared.updates]
    for start in range(0, len(updates), BULK_CHUNK):
        writer.update(UPDATE_COLUMNS, "id", updates[start : start + BULK_CHUNK])
    head, seq = audit.append_many(session, exam, user, prepared.changes)
    if prepared.changes and status == "planned":
        _start_marking(session, exam)
    # ORM objects loaded before the bulk statements must not shadow the new values
    session.expire_all()
    return ImportSummary(
        rows=len(rows),
        created=len(prepared.creates),
        updated=len(prepared.updates),
        unchanged=prepared.unchanged,
        audit_head=head,
        audit_seq=seq,
    )


def _load_aspects(session: Session, exam: Exam) -> dict[str, _AspectInfo]:
    rows = session.execute(
        select(
            Aspect.id,
            Aspect.kind,
            Aspect.max_hundredths,
            Aspect.position,
            Aspect.sub_criterion_id,
            SubCriterion.code,
        )
        .join(SubCriterion, Aspect.sub_criterion_id == SubCriterion.id)
        .where(Aspect.scheme_id == exam.scheme_id)
    )
    found = {}
    for row in rows:
        address = f"{row.code}.{row.position}"
        found[address.upper()] = _AspectInfo(
            row.id, row.kind, row.max_hundredths, row.sub_criterion_id, row.code, address
        )
    return found


def _load_enrolments(session: Session, exam: Exam) -> dict[str, _EnrolmentInfo]:
    rows = session.execute(
        select(
            Enrolment.id,
            Enrolment.attendance,
            Enrolment.candidate_id,
            Candidate.college_id,
            Candidate.iin_hash,
        )
        .join(Candidate, Enrolment.candidate_id == Candidate.id)
        .where(Enrolment.exam_id == exam.id)
    )
    return {
        row.iin_hash: _EnrolmentInfo(row.id, row.attendance, row.college_id, row.candidate_id)
        for row in rows
    }


def _seat_number(text: str, judges: int) -> int | None:
    """The judge seat typed as ``text`` (1 … ``judges``), else None."""
    if not text.isdigit() or len(text) > 3:  # int() refuses 4300+ digits
        return None
    try:
        seat = int(text)
    except ValueError:  # digits int() cannot read, such as "²"
        return None
    return seat if 1 <= seat <= judges else None


def _validate_rows(
    session: Session, exam: Exam, rows: Sequence[Row], user: User | None, source: str
) -> _Prepared:
    aspects = _load_aspects(session, exam)
    enrolments = _load_enrolments(session, exam)
    forms = {
        f.sub_criterion_id: f
        for f in session.scalars(select(MarkingForm).where(MarkingForm.exam_id == exam.id))
    }
    locked = {sub_id for sub_id, form in forms.items() if form.locked}
    seat_colleges: dict[tuple[int, int], tuple[int | None, str]] = {}
    for form in forms.values():
        for seat, user_id in (form.seats or {}).items():
            judge = session.get(User, user_id)
            if judge is not None:
                seat_colleges[(form.sub_criterion_id, int(seat))] = (judge.college_id, judge.name)
    existing: dict[tuple[int, int, int], tuple[int, int, int, str]] = {
        (r.enrolment_id, r.aspect_id, r.seat): (r.id, r.value, r.version, r.reason)
        for r in session.execute(
            select(
                Mark.id,
                Mark.enrolment_id,
                Mark.aspect_id,
                Mark.seat,
                Mark.value,
                Mark.version,
                Mark.reason,
            ).where(Mark.exam_id == exam.id)
        )
    }
    judges = exam.scheme.judges
    user_college = user.college_id if user is not None else None
    user_id = user.id if user is not None else None
    exam_id = exam.id
    formatted: dict[tuple[str, int], str] = {}

    def shown(kind: str, value: int) -> str:
        text = formatted.get((kind, value))
        if text is None:
            text = formatted[(kind, value)] = format_value(kind, value)
        return text

    problems: list[Problem] = []
    hashes: dict[str, str | Problem] = {}
    parsed: dict[tuple[str, int, str], int | Problem] = {}
    seen: dict[tuple[int, int, int], int] = {}
    prepared = _Prepared()

    def fail(at: int, column: str, message: str, **params: Any) -> None:
        problems.append(Problem(at, column, message, params))

    for row in rows:
        if len(problems) >= MAX_PROBLEMS:
            break
        number = row.number
        values = row.values
        ok = True
        # candidate ----------------------------------------------------------
        iin_text = values.get("iin", "").strip()
        enrolment = None
        if not iin_text:
            fail(number, "iin", N_("is required"))
            ok = False
        else:
            key = hashes.get(iin_text)
            if key is None:
                try:
                    key = iin_lookup_hash(validate_iin(iin_text))
                except InvalidIIN as exc:
                    key = Problem(0, "iin", IIN_MESSAGES.get(exc.code, N_("is not a valid IIN")))
                hashes[iin_text] = key
            if isinstance(key, Problem):
                fail(number, "iin", key.message)
                ok = False
            else:
                enrolment = enrolments.get(key)
                if enrolment is None:
                    fail(number, "iin", N_("no candidate with this IIN is enrolled in this exam"))
                    ok = False
                elif enrolment.attendance != "present":
                    fail(
                        number,
                        "iin",
                        N_("the candidate is %(attendance)s; only present candidates get marks"),
                        attendance=enrolment.attendance,
                    )
                    ok = False
                elif user_college is not None and enrolment.college_id == user_college:
                    fail(
                        number,
                        "iin",
                        N_("conflict of interest: you are from the candidate's college"),
                    )
                    ok = False
        # aspect -------------------------------------------------------------
        address_text = values.get("aspect", "").strip()
        aspect = aspects.get(address_text.upper()) if address_text else None
        if not address_text:
            fail(number, "aspect", N_("is required"))
            ok = False
        elif aspect is None:
            fail(
                number,
                "aspect",
                N_("%(address)s is not an aspect of this exam's scheme (write it like C4.2)"),
                address=address_text,
            )
            ok = False
        else:
            if aspect.sub_criterion_id in locked:
                fail(
                    number,
                    "aspect",
                    N_("form %(form)s is locked; the chief expert must unlock it first"),
                    form=aspect.code,
                )
                ok = False
        # seat ---------------------------------------------------------------
        judge_text = values.get("judge", "").strip()
        seat = 0
        if aspect is not None:
            if aspect.kind == "M":
                if judge_text:
                    fail(number, "judge", N_("must be empty for a measurement aspect"))
                    ok = False
            elif (seat := _seat_number(judge_text, judges)) is None:
                fail(
                    number, "judge", N_("must be a judge seat from 1 to %(judges)s"), judges=judges
                )
                ok = False
            else:
                judge = seat_colleges.get((aspect.sub_criterion_id, seat))
                if (
                    judge is not None
                    and enrolment is not None
                    and judge[0] is not None
                    and judge[0] == enrolment.college_id
                ):
                    fail(
                        number,
                        "judge",
                        N_(
                            "conflict of interest: the expert in this seat (%(expert)s) is from "
                            "the candidate's college"
                        ),
                        expert=judge[1],
                    )
                    ok = False
        # score --------------------------------------------------------------
        score_text = values.get("score", "").strip()
        new_value = None
        if not score_text:
            fail(number, "score", N_("is required"))
            ok = False
        elif aspect is not None:
            cache_key = (aspect.kind, aspect.max_hundredths, score_text)
            result = parsed.get(cache_key)
            if result is None:
                try:
                    if aspect.kind == "M":
                        result = validate_measurement(score_text, aspect.max_hundredths)
                    else:
                        result = validate_judgement(score_text)
                except MarkError as exc:
                    result = Problem(
                        0,
                        "score",
                        MARK_MESSAGES.get(exc.code, N_("is not a valid mark")),
                        {"max": format_value("M", aspect.max_hundredths)},
                    )
                parsed[cache_key] = result
            if isinstance(result, Problem):
                problems.append(Problem(number, "score", result.message, result.params))
                ok = False
            else:
                new_value = result
        if not ok or enrolment is None or aspect is None or new_value is None:
            continue
        cell = (enrolment.id, aspect.id, seat)
        if cell in seen:
            fail(
                number,
                "aspect",
                N_("the same cell is already given in row %(row)s"),
                row=seen[cell],
            )
            continue
        seen[cell] = number
        reason = values.get("reason", "").strip()
        target = cell_target(enrolment.id, aspect.address, seat)
        old = existing.get(cell)
        if old is None:
            prepared.creates.append(
                (exam_id, enrolment.id, aspect.id, seat, new_value, reason, 1, user_id, None)
            )
            old_text = ""
        elif old[1] == new_value:
            prepared.unchanged += 1
            continue
        else:
            prepared.updates.append((new_value, reason, old[2] + 1, user_id, None, old[0]))
            old_text = shown(aspect.kind, old[1])
        prepared.changes.append(
            audit.Change(
                "mark.imported", target, old_text, shown(aspect.kind, new_value), reason or source
            )
        )
    if problems:
        if len(problems) >= MAX_PROBLEMS:
            problems.append(
                Problem(None, None, N_("too many problems; the rest of the file was not checked"))
            )
        raise Rejected(problems, source)
    return prepared


# --- the grid of one form -----------------------------------------------------------


@dataclass(frozen=True)
class GridColumn:
    """One column of the grid: an M aspect (seat 0) or one judge seat of a J aspect."""

    aspect: Aspect
    address: str
    seat: int


@dataclass
class GridRow:
    """One present candidate: their marks by (aspect id, seat) and why cells are closed."""

    enrolment: Enrolment
    candidate: Candidate
    marks: dict[tuple[int, int], Mark]
    # the acting user's own conflict (closes the whole row) and conflicts by judge seat
    user_conflict: ConflictOfInterest | None
    seat_conflicts: dict[int, ConflictOfInterest]
    rescore: set[int]

    def conflict_for(self, seat: int) -> ConflictOfInterest | None:
        return self.user_conflict or self.seat_conflicts.get(seat)


@dataclass
class Grid:
    """Everything a marking form shows: columns, rows, seats and what blocks sign-off."""

    exam: Exam
    form: MarkingForm
    columns: list[GridColumn]
    aspects: list[Aspect]
    rows: list[GridRow]
    seat_experts: dict[int, User | None]
    can_mark: bool
    is_chief: bool
    missing: int = 0
    rescore: int = 0
    unexplained_deductions: int = 0


def form_grid(session: Session, exam: Exam, form: MarkingForm, user: User | None) -> Grid:
    """Build the grid of one form for ``user``: present candidates × aspect columns.

    Rows are ordered by workstation, then Kazakh name order; a J aspect has one column per
    judge seat 1 … ``scheme.judges``. ``missing`` counts empty cells, ``rescore`` the J
    aspects (per candidate) whose spread exceeds ``scheme.allowed_spread``.
    """
    scheme = exam.scheme
    aspects = list(form.sub_criterion.aspects)
    code = form.sub_criterion.code
    columns: list[GridColumn] = []
    for aspect in aspects:
        address = f"{code}.{aspect.position}"
        seats = range(1, scheme.judges + 1) if aspect.kind == "J" else (0,)
        columns.extend(GridColumn(aspect, address, seat) for seat in seats)
    seat_experts = {seat: seat_expert(session, form, seat) for seat in range(1, scheme.judges + 1)}
    enrolments = present_enrolments(session, exam)
    marks_by_enrolment: dict[int, dict[tuple[int, int], Mark]] = {}
    if enrolments and aspects:
        query = select(Mark).where(
            Mark.exam_id == exam.id, Mark.aspect_id.in_([a.id for a in aspects])
        )
        for mark in session.scalars(query):
            marks_by_enrolment.setdefault(mark.enrolment_id, {})[(mark.aspect_id, mark.seat)] = mark
    grid = Grid(
        exam=exam,
        form=form,
        columns=columns,
        aspects=aspects,
        rows=[],
        seat_experts=seat_experts,
        can_mark=user is not None and access.can_mark(user, exam),
        is_chief=user is not None and access.is_chief(user, exam),
    )
    for enrolment in enrolments:
        candidate = enrolment.candidate
        marks = marks_by_enrolment.get(enrolment.id, {})
        user_conflict = exclusion(session, form, user, candidate, 0)
        seat_conflicts = {}
        for seat, judge in seat_experts.items():
            if judge is not None and access.conflict_of_interest(judge, candidate):
                found = exclusion(session, form, None, candidate, seat)
                if found is not None:
                    seat_conflicts[seat] = found
        row = GridRow(enrolment, candidate, marks, user_conflict, seat_conflicts, set())
        for aspect in aspects:
            if aspect.kind == "M":
                mark = marks.get((aspect.id, 0))
                if mark is None:
                    grid.missing += 1
                elif mark.value < aspect.max_hundredths and not mark.reason:
                    grid.unexplained_deductions += 1
                continue
            scores = [marks.get((aspect.id, s)) for s in range(1, scheme.judges + 1)]
            grid.missing += sum(1 for s in scores if s is None)
            if all(s is not None for s in scores):
                values = [s.value for s in scores if s is not None]
                if max(values) - min(values) > scheme.allowed_spread:
                    row.rescore.add(aspect.id)
                    grid.rescore += 1
        grid.rows.append(row)
    return grid
