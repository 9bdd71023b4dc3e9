"""Exam results: computed exactly from the marks, stored, read back and exported.

Results are computed once, when an exam is finalised (and again when a reopened exam is
corrected), and stored in ``results``; pages, exports, reports and passports read the stored
rows and never recompute from marks.

Arithmetic follows assessments/scoring.py: every mark is an integer number of *units* over the
scheme's denominator ``100 × 3 × judges``. The database adds the units with plain integer
``SUM`` (grouped by enrolment, criterion and WSOS section), so a 3,620-candidate exam is one
aggregate query, exact on SQLite and PostgreSQL alike. Percent, grade and pass are decided on
the exact fraction; rounding (two decimals, half up) happens only for display and export.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.orm import Session, lazyload

from app.db import utcnow
from app.messages import N_, DomainError
from app.spreadsheets import csv_text, write_only_cell
from assessments import scoring
from assessments.models import (
    Aspect,
    Candidate,
    CandidateAccess,
    Criterion,
    Enrolment,
    Exam,
    ExamStatus,
    Mark,
    Result,
    SubCriterion,
    WsosSection,
)

EXPORT_FORMATS = ("csv", "xlsx", "json")
BASE_COLUMNS = (
    "iin",
    "last_name",
    "first_name",
    "total",
    "max_total",
    "percent",
    "grade",
    "passed",
)


# every reason results cannot be computed or exported, by its code
MESSAGES = {
    "empty_scheme": N_("The marking scheme of exam %(exam)s has no aspects."),
    "above_maximum": N_(
        "Exam %(exam)s, enrolment %(enrolment)s: the total %(total)s exceeds the maximum %(max)s."
    ),
    "not_finalised": N_(
        "Exam %(exam)s is not finalised: results are exported only after finalisation."
    ),
    "format": N_("Unknown export format %(format)s."),
}


class ResultsError(DomainError):
    """Results cannot be computed or exported; ``code`` (a key of ``MESSAGES``) names why."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(MESSAGES[code], code=code, **params)


@dataclass(frozen=True)
class Part:
    """One bar of a skills profile: a criterion or a WSOS section with its maximum in units."""

    key: str  # criterion letter or section number as text
    label: str  # criterion name, or "" for a section (names are localised at display)
    max_units: int
    section: WsosSection | None = None


@dataclass(frozen=True)
class Layout:
    """The shape of an exam's results: denominator, maximum, criteria and sections."""

    denominator: int
    max_units: int
    criteria: tuple[Part, ...]
    sections: tuple[Part, ...]

    def mark(self, units: int) -> Fraction:
        """Return the exact mark that ``units`` stand for."""
        return Fraction(units, self.denominator)


def layout(session: Session, exam: Exam) -> Layout:
    """Return the exam's result layout from its scheme and competence.

    Rule: the criteria are the scheme's, in letter order; the sections are every section of
    the competence, in number order, plus any section the scheme uses that the competence
    lacks. Maxima are Σ max mark × 3 × judges units.
    """
    scheme = exam.scheme
    rows = session.execute(
        select(
            Criterion.letter, Criterion.name, Aspect.wsos_section, func.sum(Aspect.max_hundredths)
        )
        .join(SubCriterion, SubCriterion.criterion_id == Criterion.id)
        .join(Aspect, Aspect.sub_criterion_id == SubCriterion.id)
        .where(Criterion.scheme_id == scheme.id)
        .group_by(Criterion.letter, Criterion.name, Aspect.wsos_section)
    ).all()
    by_criterion: dict[str, int] = {}
    names: dict[str, str] = {}
    by_section: dict[int, int] = {}
    for letter, name, section, hundredths in rows:
        maximum = scoring.max_units(int(hundredths), scheme.judges)
        by_criterion[letter] = by_criterion.get(letter, 0) + maximum
        names[letter] = name or ""
        by_section[section] = by_section.get(section, 0) + maximum
    known = {s.number: s for s in exam.competence.sections}
    numbers = sorted(set(known) | set(by_section))
    return Layout(
        denominator=scoring.denominator(scheme.judges),
        max_units=sum(by_criterion.values()),
        criteria=tuple(
            Part(letter, names[letter], by_criterion[letter])
            for letter in sorted(by_criterion, key=lambda x: (len(x), x))
        ),
        sections=tuple(Part(str(n), "", by_section.get(n, 0), known.get(n)) for n in numbers),
    )


def _aggregate(
    session: Session, exam: Exam, shape: Layout
) -> Iterator[tuple[int, dict[str, int], dict[str, int]]]:
    """Yield (enrolment id, units per criterion, units per section) summed in the database.

    Only rows that ``scoring.counts`` are added, each worth ``scoring.mark_units``; both rules
    run here as the SQL expressions scoring builds beside them. One pass over the exam's marks
    grouped by enrolment, with a conditional sum per criterion and per section (the covering
    index ``ix_marks_exam_totals`` makes it an index-only scan in enrolment order on SQLite).
    """
    judges = exam.scheme.judges
    units = scoring.mark_units_sql(Aspect.kind, Mark.value, Aspect.max_hundredths, judges)
    counted = scoring.counts_sql(Aspect.kind, Mark.seat, judges)
    letters = [p.key for p in shape.criteria]
    numbers = [p.key for p in shape.sections if p.max_units > 0]
    columns = [func.sum(case((Criterion.letter == letter, units), else_=0)) for letter in letters]
    columns += [
        func.sum(case((Aspect.wsos_section == int(number), units), else_=0)) for number in numbers
    ]
    statement = (
        select(Mark.enrolment_id, *columns)
        .join(Aspect, Aspect.id == Mark.aspect_id)
        .join(SubCriterion, SubCriterion.id == Aspect.sub_criterion_id)
        .join(Criterion, Criterion.id == SubCriterion.criterion_id)
        .where(Mark.exam_id == exam.id, Aspect.scheme_id == exam.scheme_id, counted)
        .group_by(Mark.enrolment_id)
    )
    split = len(letters)
    for enrolment_id, *sums in session.execute(statement):
        values = [int(v or 0) for v in sums]
        yield (
            enrolment_id,
            dict(zip(letters, values[:split], strict=True)),
            dict(zip(numbers, values[split:], strict=True)),
        )


def grade_bands(exam: Exam) -> scoring.GradeBands:
    """Return the grade bands of the exam's scheme (a scheme setting)."""
    from assessments.services.schemes.settings import scoring_bands

    return scoring_bands(exam.scheme)


def compute_results(session: Session, exam: Exam) -> list[Result]:
    """Compute and store the results of every present candidate; return them in rank order.

    Rule: total = Σ M marks (hundredths × 3 × judges) + Σ J (sum of the judges' scores ×
    max hundredths), in units over 100 × 3 × judges; percent = 100 × total / maximum; grade
    from the scheme's bands and pass from its minimum grade, both on the exact fraction;
    competition ranking ("1224") over exact totals, ties listed in Kazakh alphabetical order.
    Absent, withdrawn and disqualified candidates get no result. Earlier results of the exam
    are replaced (updated in place, so their ids stay stable; rows of candidates no longer
    present are deleted).
    """
    shape = layout(session, exam)
    if shape.max_units <= 0:
        raise ResultsError("empty_scheme", exam=exam.id)
    scheme = exam.scheme
    bands = grade_bands(exam)

    present = session.execute(
        select(Enrolment.id, Enrolment.candidate_id)
        .join(Candidate, Candidate.id == Enrolment.candidate_id)
        .where(Enrolment.exam_id == exam.id, Enrolment.attendance == "present")
        .order_by(Candidate.sort_key, Candidate.id)
    ).all()
    candidate_of = {enrolment_id: candidate_id for enrolment_id, candidate_id in present}
    empty_criteria = dict.fromkeys((p.key for p in shape.criteria), 0)
    empty_sections = dict.fromkeys((p.key for p in shape.sections), 0)
    criteria = dict.fromkeys(candidate_of, empty_criteria)
    sections = dict.fromkeys(candidate_of, empty_sections)
    for enrolment_id, by_criterion, by_section in _aggregate(session, exam, shape):
        if enrolment_id in candidate_of:  # marks of a candidate no longer present do not count
            criteria[enrolment_id] = {**empty_criteria, **by_criterion}
            sections[enrolment_id] = {**empty_sections, **by_section}

    totals = {enrolment_id: sum(criteria[enrolment_id].values()) for enrolment_id in candidate_of}
    for enrolment_id, total in totals.items():
        if total > shape.max_units:
            raise ResultsError(
                "above_maximum",
                exam=exam.id,
                enrolment=enrolment_id,
                total=scoring.two_decimals(total, shape.denominator),
                max=scoring.two_decimals(shape.max_units, shape.denominator),
            )
    ranks = scoring.rank(totals)

    existing = dict(
        session.execute(
            select(Result.enrolment_id, Result.id).where(Result.exam_id == exam.id)
        ).all()
    )
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for enrolment_id in ranks:
        total = totals[enrolment_id]
        earned = scoring.outcome(total, shape.max_units, bands, scheme.pass_min_grade)
        values = {
            "exam_id": exam.id,
            "enrolment_id": enrolment_id,
            "candidate_id": candidate_of[enrolment_id],
            "total_units": total,
            "max_units": shape.max_units,
            "denominator": shape.denominator,
            "percent_hundredths": earned.percent_hundredths,
            "grade": earned.grade,
            "passed": earned.passed,
            "rank": ranks[enrolment_id],
            "by_criterion": dict(criteria[enrolment_id]),
            "by_section": dict(sections[enrolment_id]),
            "computed_at": now,
        }
        result_id = existing.pop(enrolment_id, None)
        if result_id is None:
            inserts.append(values)
        else:
            updates.append({"id": result_id, **values})
    # bulk statements (executemany), not one ORM object per candidate: a big exam stays fast
    session.flush()
    if existing:
        session.execute(delete(Result).where(Result.id.in_(list(existing.values()))))
    if updates:
        session.execute(update(Result), updates)
    if inserts:
        session.execute(insert(Result), inserts)
    stored = session.scalars(
        select(Result)
        .where(Result.exam_id == exam.id)
        .options(lazyload("*"))
        .execution_options(populate_existing=True)
    ).all()
    order = {enrolment_id: position for position, enrolment_id in enumerate(ranks)}
    return sorted(stored, key=lambda r: order[r.enrolment_id])


# --- reading stored results -------------------------------------------------------------


def stored_results(session: Session, exam: Exam) -> list[Result]:
    """Return the exam's stored results in rank order (ties in Kazakh alphabetical order)."""
    return list(
        session.scalars(
            select(Result)
            .join(Candidate, Candidate.id == Result.candidate_id)
            .where(Result.exam_id == exam.id)
            .order_by(Result.rank, Candidate.sort_key, Candidate.id)
        )
    )


def result_of(session: Session, exam: Exam, enrolment_id: int) -> Result | None:
    """Return the stored result of one enrolment of the exam, or None."""
    return session.scalar(
        select(Result).where(Result.exam_id == exam.id, Result.enrolment_id == enrolment_id)
    )


@dataclass(frozen=True)
class Summary:
    """Figures for the top of an exam's results page."""

    enrolled: int
    present: int
    results: int
    passed: int
    mean_percent: Fraction | None
    by_grade: dict[int, int]


def summary(session: Session, exam: Exam) -> Summary:
    """Count enrolments, present candidates, results and passes; the mean percent of results.

    Rule: the mean is over exact totals (Σ total ÷ Σ maximum × 100), not over rounded percents.
    """
    attendance = dict(
        session.execute(
            select(Enrolment.attendance, func.count())
            .where(Enrolment.exam_id == exam.id)
            .group_by(Enrolment.attendance)
        ).all()
    )
    count, passed, total, maximum = session.execute(
        select(
            func.count(Result.id),
            func.coalesce(func.sum(case((Result.passed, 1), else_=0)), 0),
            func.coalesce(func.sum(Result.total_units), 0),
            func.coalesce(func.sum(Result.max_units), 0),
        ).where(Result.exam_id == exam.id)
    ).one()
    by_grade = dict(
        session.execute(
            select(Result.grade, func.count())
            .where(Result.exam_id == exam.id)
            .group_by(Result.grade)
            .order_by(Result.grade.desc())
        ).all()
    )
    return Summary(
        enrolled=sum(attendance.values()),
        present=attendance.get("present", 0),
        results=count,
        passed=int(passed),
        mean_percent=Fraction(100 * int(total), int(maximum)) if maximum else None,
        by_grade=by_grade,
    )


def mean_profile(session: Session, exam: Exam, shape: Layout) -> tuple[dict, dict]:
    """Return the mean units per criterion and per section over the exam's stored results.

    Rule: exact means (Fractions of units); empty dicts when there are no results.
    """
    rows = session.execute(
        select(Result.by_criterion, Result.by_section).where(Result.exam_id == exam.id)
    ).all()
    if not rows:
        return {}, {}
    criteria = {
        p.key: Fraction(sum(r[0].get(p.key, 0) for r in rows), len(rows)) for p in shape.criteria
    }
    sections = {
        p.key: Fraction(sum(r[1].get(p.key, 0) for r in rows), len(rows)) for p in shape.sections
    }
    return criteria, sections


# --- export -----------------------------------------------------------------------------


def export_columns(shape: Layout, *, include_iin: bool) -> list[str]:
    """Return the export header: base columns, ``crit_<letter>``, ``wsos_<n>``."""
    base = list(BASE_COLUMNS) if include_iin else list(BASE_COLUMNS[1:])
    return (
        base + [f"crit_{p.key}" for p in shape.criteria] + [f"wsos_{p.key}" for p in shape.sections]
    )


def export_rows(
    session: Session, exam: Exam, *, include_iin: bool
) -> tuple[list[str], list[list[Any]]]:
    """Return the header and the rows of an export, read from the stored results.

    Rule: one row per stored result in rank order (ties in Kazakh alphabetical order); marks
    as Decimals with two places, ``grade`` an int, ``passed`` a bool. Refused for an exam that
    is not finalised. The IIN is decrypted only when ``include_iin`` is set (the
    administrators' export at the server).
    """
    if exam.status != ExamStatus.FINALISED:
        raise ResultsError("not_finalised", exam=exam.id)
    shape = layout(session, exam)
    header = export_columns(shape, include_iin=include_iin)
    statement = (
        select(
            Candidate.iin_encrypted,
            Candidate.last_name,
            Candidate.first_name,
            Result.total_units,
            Result.max_units,
            Result.denominator,
            Result.percent_hundredths,
            Result.grade,
            Result.passed,
            Result.by_criterion,
            Result.by_section,
        )
        .join(Candidate, Candidate.id == Result.candidate_id)
        .where(Result.exam_id == exam.id)
        .order_by(Result.rank, Candidate.sort_key, Candidate.id)
    )
    if include_iin:
        from assessments.personal_data import decrypt_iin
    rows: list[list[Any]] = []
    for (
        iin_encrypted,
        last_name,
        first_name,
        total,
        maximum,
        denominator,
        percent_hundredths,
        grade,
        passed,
        by_criterion,
        by_section,
    ) in session.execute(statement):
        row: list[Any] = [decrypt_iin(iin_encrypted)] if include_iin else []
        row += [
            last_name,
            first_name,
            scoring.two_decimals(total, denominator),
            scoring.two_decimals(maximum, denominator),
            scoring.hundredths_decimal(percent_hundredths),
            grade,
            bool(passed),
        ]
        row += [
            scoring.two_decimals(by_criterion.get(p.key, 0), denominator) for p in shape.criteria
        ]
        row += [scoring.two_decimals(by_section.get(p.key, 0), denominator) for p in shape.sections]
        rows.append(row)
    return header, rows


def _machine(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def to_csv(header: list[str], rows: list[list[Any]]) -> str:
    """Write an export as CSV text (RFC 4180: commas, CRLF line ends); marks with a dot.

    Text that a spreadsheet would run as a formula gets a leading apostrophe
    (app/spreadsheets.py).
    """
    return csv_text(header, ([_machine(v) for v in row] for row in rows))


def to_json(header: list[str], rows: list[list[Any]]) -> str:
    """Write an export as a JSON list of objects; marks are strings with two decimals."""
    items = [
        {key: (str(v) if isinstance(v, Decimal) else v) for key, v in zip(header, row, strict=True)}
        for row in rows
    ]
    return json.dumps(items, ensure_ascii=False, indent=1) + "\n"


def to_xlsx(header: list[str], rows: list[list[Any]], *, title: str = "Results") -> bytes:
    """Write an export as XLSX: marks as numbers shown with two decimals, the IIN as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    bold = Font(bold=True)
    heading = []
    for name in header:
        cell = write_only_cell(sheet, name)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    for row in rows:
        cells = []
        for value in row:
            # text is always a string cell: a name like "=HYPERLINK(…)" never becomes a formula
            cell = write_only_cell(sheet, value)
            if isinstance(value, Decimal):
                cell.number_format = "0.00"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_results(session: Session, exam: Exam, fmt: str, *, include_iin: bool) -> bytes:
    """Return the exam's stored results exported as ``csv``, ``xlsx`` or ``json`` bytes.

    Rule: CSV and JSON are UTF-8 without a byte-order mark.
    """
    if fmt not in EXPORT_FORMATS:
        raise ResultsError("format", format=fmt)
    header, rows = export_rows(session, exam, include_iin=include_iin)
    if fmt == "csv":
        return to_csv(header, rows).encode("utf-8")
    if fmt == "json":
        return to_json(header, rows).encode("utf-8")
    return to_xlsx(header, rows, title=f"Exam {exam.id}")


def record_personal_data_export(
    session: Session, exam: Exam, user_id: int | None = None, action: str = "export"
) -> int:
    """Log, per candidate, that an export revealed their IIN; return the number of entries."""
    candidate_ids = session.scalars(
        select(Result.candidate_id).where(Result.exam_id == exam.id)
    ).all()
    if candidate_ids:
        now = utcnow()
        session.execute(
            CandidateAccess.__table__.insert(),
            [
                {"candidate_id": c, "user_id": user_id, "action": action, "at": now}
                for c in candidate_ids
            ],
        )
    return len(candidate_ids)
