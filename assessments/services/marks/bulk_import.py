"""Marks recorded elsewhere, imported from CSV/XLSX (or JSON rows), all or nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from app.messages import N_
from assessments.iin import InvalidIIN, iin_problem, validate_iin
from assessments.models import Aspect, Candidate, Enrolment, Exam, Mark, MarkingForm, SubCriterion
from assessments.personal_data import iin_lookup_hash
from assessments.services import audit, exams
from assessments.services.marks import rules
from assessments.services.marks.cells import cell_target, format_value
from assessments.services.marks.errors import MarkInvalid, NotAllowed
from assessments.tabular import Problem, Rejected, Row, read_table, sniff_delimiter

IMPORT_COLUMNS = ("aspect", "judge", "score")
# a file names its candidates by one of these: the candidate number, or (administrators,
# centre managers and the command line only: rules.check_iin_import) the IIN
CANDIDATE_COLUMNS = ("candidate", "iin")
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
IMPORT_OPTIONAL = (*CANDIDATE_COLUMNS, "reason")
BULK_CHUNK = 5000
MAX_PROBLEMS = 1000


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


def import_marks(
    session: Session,
    exam: Exam,
    filename: str,
    data: bytes,
    user: User | None,
    *,
    today: date | None = None,
) -> ImportSummary:
    """Import marks recorded elsewhere from a CSV/XLSX file, all or nothing.

    Headers ``candidate,aspect,judge,score[,reason]``: ``candidate`` the candidate number in
    this exam (administrators, centre managers and the command line may give the column
    ``iin`` instead: ``rules.check_iin_import``); ``aspect`` an address such as ``C4.2``;
    ``judge`` empty for M aspects and the seat 1 … n for J aspects; ``score`` the mark for
    M (decimal comma or point, two decimals at most), 0–3 for J. Any problem refuses the
    whole file with ``Rejected``, whose lines read ``FILE:ROW: field: message`` (header =
    row 1). An imported value replaces an earlier one; the audit reason is the row's
    ``reason`` or else the file name; a judge seat is written by the expert seated there or
    by the chief expert with the row's ``reason`` (``rules.seat_refusal``). ``user`` None
    is the server's command line.
    """
    rows = read_import_table(filename, data)
    return import_rows(session, exam, rows, user, source=filename, today=today)


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
    session: Session,
    exam: Exam,
    rows: Sequence[Row],
    user: User | None,
    *,
    source: str,
    today: date | None = None,
) -> ImportSummary:
    """Import already-read rows (``tabular.Row``); the JSON API uses it with list positions.

    Designed for bulk: aspects, candidates and existing marks are loaded once into hash
    maps (one keyed hash per distinct IIN), every row is validated in Python, then marks
    and audit entries are written with multi-row INSERT/UPDATE statements in chunks.
    """
    rules.check_can_mark(user, exam)
    status = exams.lock_exam(session, exam.id)
    rules.check_open(exam, status, None, "")
    rules.check_started(exam, today)  # before the first day (None: the command line)
    if not rows:
        raise Rejected([Problem(None, None, N_("has no mark rows"))], source)
    column = _candidate_column(rows, source)
    if column == "iin":
        try:
            rules.check_iin_import(user)
        except NotAllowed as exc:
            raise Rejected([Problem(None, "iin", exc.message, exc.params)], source) from None
    prepared = _validate_rows(session, exam, rows, user, source, column)

    writer = audit.BulkWriter(session, Mark.__table__, MARK_COLUMNS)
    stored_now = writer.bind("updated_at", prepared.now)
    creates = [(*row[:-1], stored_now) for row in prepared.creates]
    for start in range(0, len(creates), BULK_CHUNK):
        writer.insert(creates[start : start + BULK_CHUNK])
    updates = [(*row[:-2], stored_now, row[-1]) for row in prepared.updates]
    for start in range(0, len(updates), BULK_CHUNK):
        writer.update(UPDATE_COLUMNS, "id", updates[start : start + BULK_CHUNK])
    head, seq = audit.append_many(session, exam, user, prepared.changes)
    if prepared.changes:
        exams.start_marking(session, exam)
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


def _candidate_column(rows: Sequence[Row], source: str) -> str:
    """Return the column that names the candidates, ``candidate`` or ``iin`` (not both)."""
    given = [name for name in CANDIDATE_COLUMNS if any(name in row.values for row in rows)]
    if len(given) == 1:
        return given[0]
    if not given:
        message = N_("needs the column candidate (the candidate number in this exam)")
    else:
        message = N_("names candidates both by candidate and by iin; keep one of the two")
    raise Rejected([Problem(None, "candidate", message)], source)


def _load_enrolments(session: Session, exam: Exam, column: str) -> dict[str | int, _EnrolmentInfo]:
    """Return the exam's enrolments by candidate number, or by IIN lookup hash."""
    key = Enrolment.candidate_number if column == "candidate" else Candidate.iin_hash
    rows = session.execute(
        select(
            Enrolment.id,
            Enrolment.attendance,
            Enrolment.candidate_id,
            Candidate.college_id,
            key.label("key"),
        )
        .join(Candidate, Enrolment.candidate_id == Candidate.id)
        .where(Enrolment.exam_id == exam.id)
    )
    return {
        row.key: _EnrolmentInfo(row.id, row.attendance, row.college_id, row.candidate_id)
        for row in rows
    }


def _candidate_key(column: str, text: str) -> str | int | Problem:
    """Return the key of ``_load_enrolments`` for a candidate cell, or what is wrong with it."""
    if column == "iin":
        try:
            return iin_lookup_hash(validate_iin(text))
        except InvalidIIN as exc:
            message, params = iin_problem(exc, text)
            return Problem(0, "iin", message, params)
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return Problem(0, "candidate", N_("must be a candidate number (digits only)"))
    return int(text)


def _judge_seat(text: str, judges: int) -> int | Problem:
    """Return the judge seat typed as ``text``, or what is wrong with it.

    Rule: ``rules.check_judge_seat``; anything but plain digits is no seat at all.
    """
    seat = 0
    if text.isdigit() and len(text) <= 3:  # int() refuses 4300+ digits
        try:
            seat = int(text)
        except ValueError:  # digits int() cannot read, such as "²"
            seat = 0
    try:
        rules.check_judge_seat(seat, judges)
    except MarkInvalid as exc:
        return Problem(0, "judge", exc.message, exc.params)
    return seat


def _validate_rows(
    session: Session,
    exam: Exam,
    rows: Sequence[Row],
    user: User | None,
    source: str,
    column: str,
) -> _Prepared:
    aspects = _load_aspects(session, exam)
    enrolments = _load_enrolments(session, exam, column)
    forms = {
        f.sub_criterion_id: f
        for f in session.scalars(select(MarkingForm).where(MarkingForm.exam_id == exam.id))
    }
    locked = {sub_id for sub_id, form in forms.items() if form.locked}
    # conflicts of interest decided once per college (rules.conflict_of_interest), not per row
    colleges = {enrolment.college_id for enrolment in enrolments.values()}
    user_college = user.college_id if user is not None else None
    user_excluded = {c for c in colleges if rules.conflict_of_interest(user_college, c)}
    seat_judges: dict[tuple[int, int], tuple[User, set[int]]] = {}
    for form in forms.values():
        for seat, user_id in (form.seats or {}).items():
            judge = session.get(User, user_id)
            if judge is not None:
                excluded = {c for c in colleges if rules.conflict_of_interest(judge.college_id, c)}
                seat_judges[(form.sub_criterion_id, int(seat))] = (judge, excluded)
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
    user_id = user.id if user is not None else None
    exam_id = exam.id
    formatted: dict[tuple[str, int], str] = {}

    def shown(kind: str, value: int) -> str:
        text = formatted.get((kind, value))
        if text is None:
            text = formatted[(kind, value)] = format_value(kind, value)
        return text

    problems: list[Problem] = []
    hashes: dict[str, str | int | Problem] = {}
    parsed: dict[tuple[str, int, str], int | Problem] = {}
    judge_seats: dict[str, int | Problem] = {}
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
        candidate_text = values.get(column, "").strip()
        enrolment = None
        if not candidate_text:
            fail(number, column, N_("is required"))
            ok = False
        else:
            key = hashes.get(candidate_text)
            if key is None:
                key = hashes[candidate_text] = _candidate_key(column, candidate_text)
            if isinstance(key, Problem):
                problems.append(Problem(number, column, key.message, key.params))
                ok = False
            else:
                enrolment = enrolments.get(key)
                if enrolment is None:
                    if column == "iin":
                        fail(
                            number, "iin", N_("no candidate with this IIN is enrolled in this exam")
                        )
                    else:
                        fail(
                            number,
                            "candidate",
                            N_("no candidate has the number %(number)s in this exam"),
                            number=key,
                        )
                    ok = False
                elif enrolment.attendance != "present":
                    fail(
                        number,
                        column,
                        N_("the candidate is %(attendance)s; only present candidates get marks"),
                        attendance=enrolment.attendance,
                    )
                    ok = False
                elif enrolment.college_id in user_excluded:
                    fail(
                        number,
                        column,
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
            else:
                found = judge_seats.get(judge_text)
                if found is None:
                    found = judge_seats[judge_text] = _judge_seat(judge_text, judges)
                if isinstance(found, Problem):
                    problems.append(Problem(number, "judge", found.message, found.params))
                    ok = False
                else:
                    seat = found
                    judge = seat_judges.get((aspect.sub_criterion_id, seat))
                    refusal = rules.seat_refusal(
                        user,
                        exam,
                        seat,
                        judge[0] if judge is not None else None,
                        values.get("reason", ""),
                    )
                    if (
                        judge is not None
                        and enrolment is not None
                        and enrolment.college_id in judge[1]
                    ):
                        fail(
                            number,
                            "judge",
                            N_(
                                "conflict of interest: the expert in this seat (%(expert)s) is "
                                "from the candidate's college"
                            ),
                            expert=judge[0].name,
                        )
                        ok = False
                    elif refusal is not None:
                        fail(number, "judge", refusal.message, **refusal.params)
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
                    result = rules.parse_mark(aspect.kind, aspect.max_hundredths, score_text)
                except MarkInvalid as exc:
                    result = Problem(0, "score", exc.message, exc.params)
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
