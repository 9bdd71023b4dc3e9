"""Reports: the one query layer behind the dashboard, the public statistics, exports and CLI.

Every figure is an SQL aggregate (``COUNT``/``SUM`` with ``GROUP BY``) over the stored
results (``results``) of *finalised* exams whose start date lies in the period, both ends
inclusive. Arithmetic is on integers; means and pass rates are exact Fractions, rounded only
for display. Definitions:

- ``exams``: finalised exams in the period;
- ``sat``: present candidates, i.e. stored results (one per present candidate);
- ``passed``: stored results with ``passed``;
- ``pass_rate``: passed ÷ sat;
- ``mean_percent``: mean of the stored half-up percents (``percent_hundredths``);
- ``median_percent``: exact median of the same (mean of the two middle values for an even
  count): on PostgreSQL ``percentile_cont(0.5)`` in the same aggregate (the mean of two
  integers up to 10,000 is exact in a double), elsewhere from a per-value histogram
  (``GROUP BY percent_hundredths``) — the identical figure on both databases;
- ``passports_issued``: passports of the period's exams that were not superseded by a
  re-issue (each certified result counts once, revoked ones included);
- ``passports_revoked``: those of them that are revoked.

A ``centre_id`` scope restricts every figure to one centre's exams (centre managers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from assessments.models import (
    Candidate,
    Centre,
    College,
    Competence,
    Enterprise,
    Exam,
    ExamStatus,
    Result,
)
from assessments.services.results import layout
from passports.models import Passport

SMALL_GROUP = 5  # public figures for fewer candidates than this are suppressed
DIMENSIONS = ("centre", "competence", "college", "enterprise")


@dataclass(frozen=True)
class Period:
    """Exams whose start date lies between ``start`` and ``end``, both inclusive (None: open)."""

    start: date | None = None
    end: date | None = None

    @classmethod
    def calendar_year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def academic_year(cls, year: int) -> Period:
        """The academic year starting in September of ``year`` and ending in August after."""
        return cls(date(year, 9, 1), date(year + 1, 8, 31))


@dataclass
class Figures:
    """Counts of one group (or of everything), from which rates and means follow exactly."""

    sat: int = 0
    passed: int = 0
    percent_sum: int = 0  # Σ percent_hundredths
    histogram: dict[int, int] = field(default_factory=dict)  # percent_hundredths -> count
    median_twice: int | None = None  # 2 × median in hundredths (PostgreSQL's percentile_cont)

    @property
    def pass_rate(self) -> Fraction | None:
        return Fraction(self.passed, self.sat) if self.sat else None

    @property
    def mean_percent(self) -> Fraction | None:
        return Fraction(self.percent_sum, 100 * self.sat) if self.sat else None

    @property
    def median_percent(self) -> Fraction | None:
        if self.median_twice is not None:
            return Fraction(self.median_twice, 200)
        return median_of_histogram(self.histogram)

    def add(self, other: Figures) -> None:
        self.sat += other.sat
        self.passed += other.passed
        self.percent_sum += other.percent_sum
        for value, count in other.histogram.items():
            self.histogram[value] = self.histogram.get(value, 0) + count


@dataclass
class Summary:
    """The headline numbers of a period."""

    exams: int
    figures: Figures
    passports_issued: int
    passports_revoked: int
    by_grade: dict[int, int]

    @property
    def sat(self) -> int:
        return self.figures.sat

    @property
    def passed(self) -> int:
        return self.figures.passed

    def as_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` object: integers, and ``pass_rate`` as a number 0–1."""
        rate = self.figures.pass_rate
        return {
            "exams": self.exams,
            "sat": self.sat,
            "passed": self.passed,
            "passports_issued": self.passports_issued,
            "passports_revoked": self.passports_revoked,
            "pass_rate": float(rate) if rate is not None else 0,
        }


@dataclass
class Row:
    """One line of a breakdown table: the group's id, code, display object and figures."""

    key: Any
    code: str
    obj: Any
    figures: Figures


def median_of_histogram(histogram: dict[int, int]) -> Fraction | None:
    """Return the exact median percent of a {percent_hundredths: count} histogram.

    Rule: the middle value of the sorted list, or the mean of the two middle values when the
    count is even; None when empty.
    """
    total = sum(histogram.values())
    if total == 0:
        return None
    lower_index, upper_index = (total - 1) // 2, total // 2
    lower = upper = None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if lower is None and seen > lower_index:
            lower = value
        if seen > upper_index:
            upper = value
            break
    return Fraction(lower + upper, 200)


def _exam_filter(statement: Select, period: Period, centre_id: int | None) -> Select:
    statement = statement.where(Exam.status == ExamStatus.FINALISED)
    if period.start is not None:
        statement = statement.where(Exam.start_date >= period.start)
    if period.end is not None:
        statement = statement.where(Exam.start_date <= period.end)
    if centre_id is not None:
        statement = statement.where(Exam.centre_id == centre_id)
    return statement


_PASSED = func.coalesce(func.sum(case((Result.passed, 1), else_=0)), 0)


def _figures_by(
    session: Session,
    keys: Iterable[Any],
    period: Period,
    centre_id: int | None,
    *,
    median: bool = True,
) -> dict[tuple, Figures]:
    """Aggregate results grouped by ``keys`` (column expressions); {key tuple: Figures}."""
    keys = list(keys)
    needs_candidate = any(getattr(k, "table", None) is Candidate.__table__ for k in keys)
    in_sql = median and session.get_bind().dialect.name == "postgresql"
    columns = [
        func.count(Result.id),
        _PASSED,
        func.coalesce(func.sum(Result.percent_hundredths), 0),
    ]
    if in_sql:
        columns.append(func.percentile_cont(0.5).within_group(Result.percent_hundredths))
    base = select(*keys, *columns).join(Exam, Exam.id == Result.exam_id)
    if needs_candidate:
        base = base.join(Candidate, Candidate.id == Result.candidate_id)
    base = _exam_filter(base, period, centre_id)
    if keys:
        base = base.group_by(*keys)
    out: dict[tuple, Figures] = {}
    n = len(keys)
    for row in session.execute(base):
        count = int(row[n])
        if count == 0:
            continue
        figures = Figures(count, int(row[n + 1]), int(row[n + 2]))
        if in_sql:
            figures.median_twice = round(2 * row[n + 3])
        out[tuple(row[:n])] = figures
    if median and not in_sql and out:
        hist = select(*keys, Result.percent_hundredths, func.count(Result.id)).join(
            Exam, Exam.id == Result.exam_id
        )
        if needs_candidate:
            hist = hist.join(Candidate, Candidate.id == Result.candidate_id)
        hist = _exam_filter(hist, period, centre_id).group_by(*keys, Result.percent_hundredths)
        for row in session.execute(hist):
            figures = out.get(tuple(row[:n]))
            if figures is not None:
                figures.histogram[int(row[n])] = int(row[n + 1])
    return out


def summary(session: Session, period: Period, centre_id: int | None = None) -> Summary:
    """Return the headline numbers of ``period`` (one centre's when ``centre_id`` is given)."""
    figures = _figures_by(session, [], period, centre_id).get((), Figures())
    exams = session.scalar(_exam_filter(select(func.count(Exam.id)), period, centre_id))
    issued, revoked = session.execute(
        _exam_filter(
            select(
                func.count(Passport.id),
                func.coalesce(func.sum(case((Passport.revoked_at.is_not(None), 1), else_=0)), 0),
            )
            .join(Exam, Exam.id == Passport.exam_id)
            .where(Passport.superseded_by_id.is_(None)),
            period,
            centre_id,
        )
    ).one()
    by_grade = {
        int(k[0]): f.sat
        for k, f in _figures_by(session, [Result.grade], period, centre_id, median=False).items()
    }
    return Summary(
        exams=int(exams or 0),
        figures=figures,
        passports_issued=int(issued),
        passports_revoked=int(revoked),
        by_grade=dict(sorted(by_grade.items(), reverse=True)),
    )


_DIMENSION_COLUMNS = {
    "centre": (Exam.centre_id, Centre),
    "competence": (Exam.competence_id, Competence),
    "college": (Candidate.college_id, College),
    "enterprise": (Candidate.enterprise_id, Enterprise),
}


def breakdown(
    session: Session, dimension: str, period: Period, centre_id: int | None = None
) -> list[Row]:
    """Return the figures per centre, competence, college or enterprise, ordered by code.

    Candidates without a dual-training enterprise form one row with key None.
    """
    column, model = _DIMENSION_COLUMNS[dimension]
    groups = _figures_by(session, [column], period, centre_id)
    ids = [k[0] for k in groups if k[0] is not None]
    objects = {o.id: o for o in session.scalars(select(model).where(model.id.in_(ids)))}
    rows = []
    for (key,), figures in groups.items():
        obj = objects.get(key)
        code = "" if obj is None else (getattr(obj, "code", None) or getattr(obj, "bin", ""))
        rows.append(Row(key, code, obj, figures))
    rows.sort(key=lambda r: (r.obj is None, r.code))
    return rows


def exams_per_month(
    session: Session, period: Period, centre_id: int | None = None
) -> dict[tuple[int, int], int]:
    """Return {(year, month): finalised exams starting then}, in date order."""
    rows = session.execute(
        _exam_filter(
            select(Exam.start_date, func.count(Exam.id)).group_by(Exam.start_date),
            period,
            centre_id,
        )
    ).all()
    months: dict[tuple[int, int], int] = defaultdict(int)
    for day, count in rows:
        months[(day.year, day.month)] += int(count)
    return dict(sorted(months.items()))


# --- skills profile ---------------------------------------------------------------------


@dataclass
class ProfilePart:
    """Mean mark and mean maximum of one WSOS section or criterion across candidates."""

    key: str
    label: str
    mean: Fraction
    maximum: Fraction
    section: Any = None


def skills_profile(
    session: Session, competence: Competence, period: Period, centre_id: int | None = None
) -> tuple[int, list[ProfilePart], list[ProfilePart]]:
    """Return (candidates, sections, criteria): mean marks of a competence's stored results.

    Aggregated in Python over the stored ``by_section``/``by_criterion`` JSON of the
    competence's results in the period (JSON is not portably summable in SQL); one layout per
    marking scheme gives the maxima. Rule: mean mark = Σ (units ÷ denominator) ÷ candidates,
    and likewise the mean maximum, so exams marked with different schemes combine fairly.
    """
    exams = session.scalars(
        _exam_filter(select(Exam), period, centre_id).where(Exam.competence_id == competence.id)
    ).all()
    layouts: dict[int, Any] = {}
    for exam in exams:
        if exam.scheme_id not in layouts:
            layouts[exam.scheme_id] = layout(session, exam)
    scheme_of = {e.id: e.scheme_id for e in exams}
    section_sum: dict[str, Fraction] = defaultdict(Fraction)
    section_max: dict[str, Fraction] = defaultdict(Fraction)
    criterion_sum: dict[str, Fraction] = defaultdict(Fraction)
    criterion_max: dict[str, Fraction] = defaultdict(Fraction)
    names: dict[str, str] = {}
    sections_by_key: dict[str, Any] = {}
    count = 0
    if scheme_of:
        rows = session.execute(
            select(
                Result.exam_id, Result.denominator, Result.by_section, Result.by_criterion
            ).where(Result.exam_id.in_(list(scheme_of)))
        )
        for exam_id, denominator, by_section, by_criterion in rows:
            shape = layouts[scheme_of[exam_id]]
            count += 1
            for part in shape.sections:
                section_sum[part.key] += Fraction(by_section.get(part.key, 0), denominator)
                section_max[part.key] += Fraction(part.max_units, shape.denominator)
                sections_by_key.setdefault(part.key, part.section)
            for part in shape.criteria:
                criterion_sum[part.key] += Fraction(by_criterion.get(part.key, 0), denominator)
                criterion_max[part.key] += Fraction(part.max_units, shape.denominator)
                names.setdefault(part.key, part.label)
    if count == 0:
        return 0, [], []
    sections = [
        ProfilePart(k, "", section_sum[k] / count, section_max[k] / count, sections_by_key.get(k))
        for k in sorted(section_max, key=int)
        if section_max[k] > 0
    ]
    criteria = [
        ProfilePart(k, names.get(k, ""), criterion_sum[k] / count, criterion_max[k] / count)
        for k in sorted(criterion_max, key=lambda x: (len(x), x))
    ]
    return count, sections, criteria


# --- public statistics ------------------------------------------------------------------


@dataclass
class PublicRow:
    """One public line: a year and optionally a competence or centre; figures or suppressed.

    ``suppression`` is "" (shown), "small_group" (fewer than ``SMALL_GROUP`` candidates) or
    "complementary" (hidden so the year's total cannot reveal a small group by subtraction).
    """

    year: int
    code: str
    obj: Any
    figures: Figures
    suppression: str = ""

    @property
    def suppressed(self) -> bool:
        return bool(self.suppression)


def suppress(rows: list[PublicRow], *, complementary: bool) -> None:
    """Mark small groups suppressed; with ``complementary``, hide more until they are safe.

    Rule: a group of fewer than ``SMALL_GROUP`` candidates is suppressed. When a year's
    total is published elsewhere, the suppressed groups of that year together must hold at
    least ``SMALL_GROUP`` candidates (or be all of them); otherwise the smallest shown group
    is hidden too, repeatedly — so no small group follows from total minus the others.
    """
    for row in rows:
        if row.figures.sat < SMALL_GROUP:
            row.suppression = "small_group"
    if not complementary:
        return
    by_year: dict[int, list[PublicRow]] = defaultdict(list)
    for row in rows:
        by_year[row.year].append(row)
    for year_rows in by_year.values():
        while True:
            hidden = sum(r.figures.sat for r in year_rows if r.suppressed)
            shown = sorted(
                (r for r in year_rows if not r.suppressed), key=lambda r: (r.figures.sat, r.code)
            )
            if hidden == 0 or hidden >= SMALL_GROUP or not shown:
                break
            shown[0].suppression = "complementary"


def public_statistics(session: Session) -> dict[str, list[PublicRow]]:
    """Return public tables by year, by year × competence and by year × centre.

    Rule: see ``suppress`` — callers show none of a suppressed group's figures. Years are
    calendar years of the exams' start dates. Groups are summed from per-start-date
    aggregates, so no database-specific date functions.
    """
    everything = Period()
    tables: dict[str, list[PublicRow]] = {}
    for name, column, model in (
        ("years", None, None),
        ("competences", Exam.competence_id, Competence),
        ("centres", Exam.centre_id, Centre),
    ):
        keys = [Exam.start_date] + ([column] if column is not None else [])
        groups: dict[tuple, Figures] = defaultdict(Figures)
        for key, figures in _figures_by(session, keys, everything, None, median=False).items():
            groups[(key[0].year, key[1] if column is not None else None)].add(figures)
        objects = {}
        if model is not None:
            ids = [k[1] for k in groups]
            objects = {o.id: o for o in session.scalars(select(model).where(model.id.in_(ids)))}
        rows = []
        for (year, key), figures in groups.items():
            obj = objects.get(key)
            rows.append(PublicRow(year, getattr(obj, "code", ""), obj, figures))
        rows.sort(key=lambda r: (-r.year, r.code))
        suppress(rows, complementary=model is not None)
        tables[name] = rows
    return tables
