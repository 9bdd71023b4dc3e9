"""Marking schemes: import from files, versions, settings, freezing and export.

Services take a session, validate, change the models and raise domain errors; they never
commit. An import stores a whole scheme or nothing; a scheme in use by an exam is frozen,
and changing its settings makes a new version instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.db import utcnow
from app.messages import N_, TranslatableMessage
from assessments.models import (
    Aspect,
    Competence,
    Criterion,
    Exam,
    MarkingScheme,
    SubCriterion,
)
from assessments.models.schemes import DEFAULT_GRADE_BANDS
from assessments.scheme_files.export import export_scheme_xlsx
from assessments.scheme_files.parse import parse_scheme_files
from assessments.scheme_files.spec import (
    WEIGHT_TOLERANCE,
    AspectSpec,
    CompetenceSection,
    CriterionSpec,
    Problem,
    SchemeImportError,
    SchemeSpec,
    SubCriterionSpec,
)
from assessments.scoring import GradeBands

__all__ = [
    "DEFAULT_GRADE_BANDS",
    "MAX_ASPECT_MARK",
    "MAX_TOTAL_MARK",
    "WEIGHT_TOLERANCE",
    "SchemeCounts",
    "SchemeError",
    "SchemeImportError",
    "SectionRow",
    "SettingProblem",
    "export_filename",
    "export_xlsx",
    "freeze",
    "get_scheme",
    "import_scheme",
    "in_use",
    "list_schemes",
    "scheme_counts",
    "scheme_spec",
    "scoring_bands",
    "section_table",
    "summary",
    "two_places",
    "update_settings",
    "versions",
]

#: Bounds that keep every total within the database's integer columns (hundredths × judges).
MAX_ASPECT_MARK = Decimal(1000)
MAX_TOTAL_MARK = Decimal(10000)
MAX_DAY = 365

_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")
# Column sizes of assessments/models/schemes.py, checked before the database sees them.
_NAME_LEN = 200
_LETTER_LEN = 3
_CODE_LEN = 10
_SUB_NAME_LEN = 500
_CRITERION_NAME_LEN = 300
_FILE_LEN = 300
_CALC_LEN = 50


@dataclass(frozen=True)
class SettingProblem(TranslatableMessage):
    """Why one setting was refused: an English message with %(name)s parameters."""

    field: str
    message: str
    params: dict[str, Any]


class SchemeError(Exception):
    """A marking-scheme change that was refused; ``problems`` says why, field by field.

    Settings fields are ``judges``, ``allowed_spread``, ``grade_bands``, ``fallback_grade``
    and ``pass_min_grade`` (and ``version`` when a concurrent change took the version).
    """

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.text}" for p in self.problems))

    @property
    def errors(self) -> dict[str, str]:
        """Return {field: English message}, the first problem per field."""
        found: dict[str, str] = {}
        for problem in self.problems:
            found.setdefault(problem.field, problem.text)
        return found


# --------------------------------------------------------------------------- import


def _competence_sections(competence: Competence) -> list[CompetenceSection]:
    # The community JSON files name sections in English; compare with the English name.
    return [
        CompetenceSection(
            number=section.number,
            name=section.name_en or section.name_ru or section.name_kk,
            weight=Decimal(section.weight),
        )
        for section in competence.sections
    ]


def _too_long(value: str, limit: int) -> bool:
    return len(value) > limit


def _storage_problems(spec: SchemeSpec) -> list[Problem]:
    """Return what the parser accepts but the scheme tables cannot hold."""
    problems: list[Problem] = []
    total = Decimal(0)
    for criterion in spec.criteria:
        file = criterion.source_file
        if _too_long(criterion.letter, _LETTER_LEN):
            problems.append(
                Problem(
                    file,
                    "",
                    "Sub Criterion ID",
                    f"criterion letters have at most {_LETTER_LEN} letters, got {criterion.letter}",
                )
            )
        if _too_long(criterion.name, _CRITERION_NAME_LEN):
            problems.append(
                Problem(
                    file,
                    "",
                    "Criterion",
                    f"the name of criterion {criterion.letter} is longer than "
                    f"{_CRITERION_NAME_LEN} characters",
                )
            )
        for sub in criterion.sub_criteria:
            if _too_long(sub.id, _CODE_LEN):
                problems.append(
                    Problem(
                        file,
                        "",
                        "Sub Criterion ID",
                        f"{sub.id} is longer than {_CODE_LEN} characters",
                    )
                )
            if _too_long(sub.name, _SUB_NAME_LEN):
                problems.append(
                    Problem(
                        file,
                        "",
                        "Sub Criterion Name",
                        f"the name of {sub.id} is longer than {_SUB_NAME_LEN} characters",
                    )
                )
            if sub.day is not None and sub.day > MAX_DAY:
                problems.append(
                    Problem(
                        file,
                        "",
                        "Day of Marking",
                        f"{sub.id}: day {sub.day} is not a day of an exam (at most {MAX_DAY})",
                    )
                )
            for aspect in sub.aspects:
                total += aspect.max_mark
                if aspect.max_mark > MAX_ASPECT_MARK:
                    problems.append(
                        Problem(
                            file,
                            aspect.source,
                            "Max Mark",
                            f"must be at most {MAX_ASPECT_MARK}, got {aspect.max_mark}",
                        )
                    )
    if total > MAX_TOTAL_MARK:
        problems.append(
            Problem(
                "",
                "",
                "Max Mark",
                f"the marks add up to {total}; a scheme may have at most {MAX_TOTAL_MARK}",
            )
        )
    return problems


def _hundredths(mark: Decimal) -> int:
    return int(mark * _HUNDRED)


def _next_version(session: Session, competence_id: int, name: str) -> tuple[int, int | None]:
    """Return (next version number, id of the current latest version or None)."""
    latest = session.execute(
        select(MarkingScheme.version, MarkingScheme.id)
        .where(MarkingScheme.competence_id == competence_id, MarkingScheme.name == name)
        .order_by(MarkingScheme.version.desc())
        .limit(1)
    ).first()
    if latest is None:
        return 1, None
    return latest.version + 1, latest.id


def _add_rows(session: Session, scheme: MarkingScheme, spec: SchemeSpec) -> None:
    """Flush the scheme, then its criteria, sub-criteria and aspects built from ``spec``."""
    session.add(scheme)
    session.flush()  # the children carry scheme_id, so the scheme needs its id first
    for criterion_spec in spec.criteria:
        criterion = Criterion(
            letter=criterion_spec.letter,
            name=criterion_spec.name,
            source_file=criterion_spec.source_file[:_FILE_LEN],
        )
        scheme.criteria.append(criterion)
        for position, sub_spec in enumerate(criterion_spec.sub_criteria, start=1):
            sub = SubCriterion(
                scheme_id=scheme.id,
                code=sub_spec.id,
                name=sub_spec.name,
                day=sub_spec.day,
                position=position,
            )
            criterion.sub_criteria.append(sub)
            for aspect_position, aspect_spec in enumerate(sub_spec.aspects, start=1):
                sub.aspects.append(
                    Aspect(
                        scheme_id=scheme.id,
                        position=aspect_position,
                        kind=aspect_spec.kind,
                        description=aspect_spec.description,
                        extra_description=aspect_spec.extra_description,
                        requirement=aspect_spec.requirement,
                        wsos_section=aspect_spec.wsos_section,
                        max_hundredths=_hundredths(aspect_spec.max_mark),
                        levels=list(aspect_spec.levels),
                        calculation=aspect_spec.calculation[:_CALC_LEN],
                    )
                )
    session.flush()


def _store(session: Session, scheme: MarkingScheme, spec: SchemeSpec) -> bool:
    """Store the scheme and its rows in a savepoint; return False if its version was taken.

    Two imports of the same (competence, name) at the same moment compute the same next
    version; the unique constraint refuses the second, and the savepoint leaves nothing.
    """
    try:
        with session.begin_nested():
            _add_rows(session, scheme, spec)
    except IntegrityError:
        return False
    return True


def _version_taken(scheme: MarkingScheme) -> str:
    return (
        f"version {scheme.version} of '{scheme.name}' was stored by someone else at the "
        "same moment; try again"
    )


def import_scheme(
    session: Session,
    files: list[tuple[str, bytes]],
    competence_code: str,
    name: str,
    user: Any = None,
) -> MarkingScheme:
    """Store marking-scheme files (CIS XLSX and/or JSON) as the next version of a scheme.

    The version is one more than the highest stored for the same competence and name
    (``previous_id`` points at that one). Any problem — an unknown competence, a missing
    name, anything the parser rejects, or a value the tables cannot hold — raises
    SchemeImportError listing every problem, and nothing is stored. Warnings (marks per
    WSOS section off the competence's weights by more than 5 points, section names that
    differ) are kept on the scheme as text.
    """
    problems: list[Problem] = []
    code = (competence_code or "").strip()
    competence = session.scalar(select(Competence).where(Competence.code == code)) if code else None
    if not code:
        problems.append(Problem("", "", "competence", "is missing"))
    elif competence is None:
        problems.append(Problem("", "", "competence", f"no competence with code {code}"))
    elif not competence.sections:
        problems.append(
            Problem("", "", "competence", f"competence {code} has no WSOS sections yet")
        )
    name = " ".join((name or "").split())
    if not name:
        problems.append(Problem("", "", "name", "is missing"))
    elif len(name) > _NAME_LEN:
        problems.append(Problem("", "", "name", f"is longer than {_NAME_LEN} characters"))
    if problems:
        raise SchemeImportError(problems)

    spec = parse_scheme_files(files, sections=_competence_sections(competence))
    storage = _storage_problems(spec)
    if storage:
        raise SchemeImportError(storage)

    version, previous_id = _next_version(session, competence.id, name)
    scheme = MarkingScheme(
        competence=competence,
        name=name,
        version=version,
        previous_id=previous_id,
        judges=3,
        allowed_spread=1,
        grade_bands=[list(band) for band in DEFAULT_GRADE_BANDS],
        fallback_grade=2,
        pass_min_grade=3,
        warnings=[str(warning) for warning in spec.warnings],
        source_files=[_basename(file_name)[:_FILE_LEN] for file_name, _content in files],
        created_by_id=getattr(user, "id", None),
    )
    scheme.max_total_hundredths = sum(_hundredths(a.max_mark) for a in spec.aspects())
    if not _store(session, scheme, spec):
        raise SchemeImportError([Problem("", "", "name", _version_taken(scheme))])
    return scheme


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- reading


def get_scheme(session: Session, scheme_id: int) -> MarkingScheme | None:
    """Return the scheme with its criteria, sub-criteria and aspects loaded, or None."""
    return session.scalar(
        select(MarkingScheme)
        .where(MarkingScheme.id == scheme_id)
        .options(
            selectinload(MarkingScheme.criteria)
            .selectinload(Criterion.sub_criteria)
            .selectinload(SubCriterion.aspects)
        )
    )


def list_schemes(session: Session, competence_id: int | None = None) -> list[MarkingScheme]:
    """Return schemes ordered by competence code, name and newest version first."""
    query = (
        select(MarkingScheme)
        .join(MarkingScheme.competence)
        .order_by(Competence.code, MarkingScheme.name, MarkingScheme.version.desc())
    )
    if competence_id is not None:
        query = query.where(MarkingScheme.competence_id == competence_id)
    return list(session.scalars(query).unique())


def versions(session: Session, scheme: MarkingScheme) -> list[MarkingScheme]:
    """Return every version of the scheme's (competence, name), newest first."""
    return list(
        session.scalars(
            select(MarkingScheme)
            .where(
                MarkingScheme.competence_id == scheme.competence_id,
                MarkingScheme.name == scheme.name,
            )
            .order_by(MarkingScheme.version.desc())
        ).unique()
    )


@dataclass(frozen=True)
class SchemeCounts:
    """How big a scheme is: counts and the maximum total in hundredths."""

    criteria: int = 0
    sub_criteria: int = 0
    aspects: int = 0
    measurement: int = 0
    judgement: int = 0
    max_total_hundredths: int = 0

    @property
    def max_total(self) -> Decimal:
        return Decimal(self.max_total_hundredths) / _HUNDRED


def scheme_counts(session: Session, schemes: Iterable[MarkingScheme]) -> dict[int, SchemeCounts]:
    """Return the counts of many schemes at once (three grouped queries), keyed by scheme id."""
    by_id = {scheme.id: scheme for scheme in schemes}
    if not by_id:
        return {}
    ids = list(by_id)
    criteria = dict(
        session.execute(
            select(Criterion.scheme_id, func.count())
            .where(Criterion.scheme_id.in_(ids))
            .group_by(Criterion.scheme_id)
        ).all()
    )
    subs = dict(
        session.execute(
            select(SubCriterion.scheme_id, func.count())
            .where(SubCriterion.scheme_id.in_(ids))
            .group_by(SubCriterion.scheme_id)
        ).all()
    )
    kinds: dict[int, dict[str, int]] = {}
    for scheme_id, kind, count in session.execute(
        select(Aspect.scheme_id, Aspect.kind, func.count())
        .where(Aspect.scheme_id.in_(ids))
        .group_by(Aspect.scheme_id, Aspect.kind)
    ):
        kinds.setdefault(scheme_id, {})[kind] = count
    result = {}
    for scheme_id, scheme in by_id.items():
        measurement = kinds.get(scheme_id, {}).get("M", 0)
        judgement = kinds.get(scheme_id, {}).get("J", 0)
        result[scheme_id] = SchemeCounts(
            criteria=criteria.get(scheme_id, 0),
            sub_criteria=subs.get(scheme_id, 0),
            aspects=measurement + judgement,
            measurement=measurement,
            judgement=judgement,
            max_total_hundredths=scheme.max_total_hundredths,
        )
    return result


def two_places(value: Decimal) -> str:
    """Return value rounded half-up to two decimals, as text ('100.00')."""
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def summary(session: Session, scheme: MarkingScheme) -> dict[str, Any]:
    """Return the machine-readable summary printed by ``flask schemes import --json``.

    ``id`` and the counts are integers; ``max_total`` is a string with two decimals.
    """
    counts = scheme_counts(session, [scheme])[scheme.id]
    return {
        "id": scheme.id,
        "criteria": counts.criteria,
        "sub_criteria": counts.sub_criteria,
        "aspects": counts.aspects,
        "measurement": counts.measurement,
        "judgement": counts.judgement,
        "max_total": two_places(counts.max_total),
    }


@dataclass(frozen=True)
class SectionRow:
    """One WSOS section: the scheme's marks on it against the competence's weight."""

    number: int
    section: Any  # the WsosSection row, or None for a section the competence no longer has
    marks: Decimal
    share: Decimal  # percent of the scheme's total, exact
    weight: Decimal | None
    difference: Decimal | None  # share − weight, in percentage points

    @property
    def flagged(self) -> bool:
        return self.difference is None or abs(self.difference) > WEIGHT_TOLERANCE


def section_table(scheme: MarkingScheme) -> list[SectionRow]:
    """Return the marks per WSOS section against the competence's weights, by section number.

    Every section of the competence is listed (with 0 marks if no aspect uses it), and so is
    any section the scheme uses that the competence no longer has (flagged, no weight).
    A row is flagged when its share differs from the weight by more than 5 points.
    """
    marks: dict[int, int] = {}
    for criterion in scheme.criteria:
        for sub in criterion.sub_criteria:
            for aspect in sub.aspects:
                marks[aspect.wsos_section] = (
                    marks.get(aspect.wsos_section, 0) + aspect.max_hundredths
                )
    total = sum(marks.values())
    sections = {section.number: section for section in scheme.competence.sections}
    rows = []
    for number in sorted(set(marks) | set(sections)):
        section = sections.get(number)
        hundredths = marks.get(number, 0)
        share = Decimal(hundredths) * _HUNDRED / Decimal(total) if total else Decimal(0)
        weight = Decimal(section.weight) if section is not None else None
        rows.append(
            SectionRow(
                number=number,
                section=section,
                marks=Decimal(hundredths) / _HUNDRED,
                share=share,
                weight=weight,
                difference=share - weight if weight is not None else None,
            )
        )
    return rows


# --------------------------------------------------------------------------- export


def _mark(hundredths: int) -> Decimal:
    """Return hundredths as the Decimal the parser would read (1 not 1.00, 0.5 not 0.50)."""
    value = Decimal(hundredths) / _HUNDRED
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def scheme_spec(scheme: MarkingScheme) -> SchemeSpec:
    """Return the stored scheme as a SchemeSpec, the form the file writer and parser share."""
    criteria = []
    for criterion in scheme.criteria:
        subs = []
        for sub in criterion.sub_criteria:
            aspects = [
                AspectSpec(
                    kind=aspect.kind,
                    description=aspect.description,
                    extra_description=aspect.extra_description,
                    requirement=aspect.requirement,
                    wsos_section=aspect.wsos_section,
                    max_mark=_mark(aspect.max_hundredths),
                    levels=list(aspect.levels or []),
                    calculation=aspect.calculation,
                    source=aspect.address,
                )
                for aspect in sub.aspects
            ]
            subs.append(SubCriterionSpec(id=sub.code, name=sub.name, day=sub.day, aspects=aspects))
        criteria.append(
            CriterionSpec(
                letter=criterion.letter,
                name=criterion.name,
                sub_criteria=subs,
                source_file=criterion.source_file,
            )
        )
    criteria.sort(key=lambda c: (len(c.letter), c.letter))
    return SchemeSpec(criteria=criteria)


def export_xlsx(scheme: MarkingScheme) -> bytes:
    """Return the scheme as one CIS-template workbook; re-importing it gives the same scheme."""
    return export_scheme_xlsx(scheme_spec(scheme))


def export_filename(scheme: MarkingScheme) -> str:
    """Return a safe download name such as ``WT17-web-technologies-v2.xlsx``."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", scheme.name).strip("-").lower()[:60] or "scheme"
    code = re.sub(r"[^A-Za-z0-9]+", "-", scheme.competence.code).strip("-") or "scheme"
    return f"{code}-{slug}-v{scheme.version}.xlsx"


# --------------------------------------------------------------------------- settings


def in_use(session: Session, scheme: MarkingScheme) -> bool:
    """Return True when the scheme is frozen or any exam refers to it."""
    if scheme.frozen:
        return True
    if scheme.id is None:
        return False
    return bool(session.scalar(select(exists().where(Exam.scheme_id == scheme.id))))


def freeze(scheme: MarkingScheme) -> MarkingScheme:
    """Mark the scheme as used by an exam: from now on settings changes make a new version.

    Freezing twice keeps the first moment. Call it when an exam is given the scheme.
    """
    if scheme.frozen_at is None:
        scheme.frozen_at = utcnow()
    return scheme


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return None


def _percent(value: Any) -> Decimal | None:
    if isinstance(value, (bool, float)):
        return None  # thresholds are exact: give text, an int or a Decimal
    try:
        number = Decimal(value.strip().replace(",", ".")) if isinstance(value, str) else value
        number = Decimal(number)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite():
        return None
    return number


def _threshold_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return str(value.normalize())


class _Problems(list):
    def add(self, field: str, message: str, **params: Any) -> None:
        self.append(SettingProblem(field, message, params))

    def has(self, field: str) -> bool:
        return any(problem.field == field for problem in self)


def _check_range(problems: _Problems, field: str, value: Any, low: int, high: int) -> int:
    number = _whole(value)
    if number is None or not low <= number <= high:
        problems.add(
            field,
            N_("must be a whole number from %(low)s to %(high)s, got %(value)s"),
            low=low,
            high=high,
            value=str(value).strip() or "—",
        )
        return low
    return number


def _check_bands(problems: _Problems, raw: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Return bands as stored ([["70", 5], …]) or record why they are wrong."""
    field = "grade_bands"
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence) or not raw:
        problems.add(field, N_("give at least one band: a percent threshold and its grade"))
        return []
    bands: list[list[Any]] = []
    previous: Decimal | None = None
    previous_grade: int | None = None
    for band_number, band in enumerate(raw, start=1):
        if isinstance(band, (str, bytes)) or not isinstance(band, Sequence) or len(band) != 2:
            problems.add(
                field, N_("band %(band)s must be a percent threshold and a grade"), band=band_number
            )
            return []
        threshold = _percent(band[0])
        grade = _whole(band[1])
        if threshold is None or not Decimal(0) <= threshold <= _HUNDRED:
            problems.add(
                field,
                N_("band %(band)s: the threshold must be a percent from 0 to 100"),
                band=band_number,
            )
            return []
        if threshold != threshold.quantize(_CENT):
            problems.add(
                field,
                N_("band %(band)s: the threshold may have at most 2 decimals"),
                band=band_number,
            )
            return []
        if grade is None or not 2 <= grade <= 5:
            problems.add(
                field, N_("band %(band)s: the grade must be 2, 3, 4 or 5"), band=band_number
            )
            return []
        if previous is not None and threshold >= previous:
            problems.add(
                field,
                N_(
                    "band %(band)s: thresholds must go strictly down, "
                    "but %(threshold)s comes after %(previous)s"
                ),
                band=band_number,
                threshold=_threshold_text(threshold),
                previous=_threshold_text(previous),
            )
            return []
        if previous_grade is not None and grade > previous_grade:
            problems.add(
                field,
                N_(
                    "band %(band)s: a lower threshold must not give a higher grade "
                    "(%(grade)s after %(previous)s)"
                ),
                band=band_number,
                grade=grade,
                previous=previous_grade,
            )
            return []
        bands.append([_threshold_text(threshold), grade])
        previous, previous_grade = threshold, grade
    return bands


_UNSET: Any = object()


def update_settings(
    session: Session,
    scheme: MarkingScheme,
    *,
    judges: int = _UNSET,
    allowed_spread: int = _UNSET,
    grade_bands: Sequence[Sequence[Any]] = _UNSET,
    fallback_grade: int = _UNSET,
    pass_min_grade: int = _UNSET,
    user: Any = None,
) -> MarkingScheme:
    """Change the marking settings of a scheme; return the scheme that now holds them.

    Rules: judges per J aspect 1–9; allowed judge spread 0–3; grade bands are pairs
    (percent threshold, grade) with thresholds strictly descending within 0–100 (at most
    two decimals) and grades 2–5 that never rise as the threshold falls; the fallback grade
    (below every threshold) is 2–5 and not above the last band's grade; the pass rule's
    minimum grade is 2–5. Only the settings given are changed. Anything invalid raises
    SchemeError and changes nothing. When the scheme is in use by an exam (frozen), the
    old version stays untouched and a new version — a deep copy with the new settings,
    ``previous_id`` pointing at the old one — is created and returned; a change that
    changes nothing returns the scheme itself.
    """
    problems = _Problems()
    new = {
        "judges": scheme.judges,
        "allowed_spread": scheme.allowed_spread,
        "grade_bands": [[_threshold_text(Decimal(str(t))), g] for t, g in scheme.grade_bands],
        "fallback_grade": scheme.fallback_grade,
        "pass_min_grade": scheme.pass_min_grade,
    }
    current = {key: value for key, value in new.items()}
    if judges is not _UNSET:
        new["judges"] = _check_range(problems, "judges", judges, 1, 9)
    if allowed_spread is not _UNSET:
        new["allowed_spread"] = _check_range(problems, "allowed_spread", allowed_spread, 0, 3)
    if grade_bands is not _UNSET:
        new["grade_bands"] = _check_bands(problems, grade_bands)
    if fallback_grade is not _UNSET:
        new["fallback_grade"] = _check_range(problems, "fallback_grade", fallback_grade, 2, 5)
    if pass_min_grade is not _UNSET:
        new["pass_min_grade"] = _check_range(problems, "pass_min_grade", pass_min_grade, 2, 5)
    if (
        not problems.has("grade_bands")
        and not problems.has("fallback_grade")
        and new["grade_bands"]
        and new["fallback_grade"] > new["grade_bands"][-1][1]
    ):
        problems.add(
            "fallback_grade",
            N_(
                "the grade below every band (%(fallback)s) must not be above "
                "the last band's grade (%(last)s)"
            ),
            fallback=new["fallback_grade"],
            last=new["grade_bands"][-1][1],
        )
    if problems:
        raise SchemeError(problems)
    if new == current:
        return scheme
    target = scheme
    if in_use(session, scheme):
        target = new_version(session, scheme, user=user)
    for field, value in new.items():
        setattr(target, field, value)
    session.flush()
    return target


def new_version(session: Session, scheme: MarkingScheme, user: Any = None) -> MarkingScheme:
    """Store a deep copy of the scheme as the next version (not frozen) and return it."""
    version, _latest_id = _next_version(session, scheme.competence_id, scheme.name)
    copy = MarkingScheme(
        competence_id=scheme.competence_id,
        name=scheme.name,
        version=version,
        previous_id=scheme.id,
        judges=scheme.judges,
        allowed_spread=scheme.allowed_spread,
        grade_bands=[list(band) for band in scheme.grade_bands],
        fallback_grade=scheme.fallback_grade,
        pass_min_grade=scheme.pass_min_grade,
        max_total_hundredths=scheme.max_total_hundredths,
        warnings=list(scheme.warnings or []),
        source_files=list(scheme.source_files or []),
        created_by_id=getattr(user, "id", None),
    )
    # the copy keeps criteria letters, sub-criterion codes and aspect positions, so every
    # aspect address (C4.2) means the same in both versions
    if not _store(session, copy, scheme_spec(scheme)):
        raise SchemeError([SettingProblem("version", _version_taken(copy), {})])
    return copy


def scoring_bands(scheme: MarkingScheme) -> GradeBands:
    """Return the scheme's grade bands for ``scoring.grade`` (exact Decimal thresholds)."""
    return GradeBands(
        thresholds=tuple((Decimal(str(t)), int(g)) for t, g in scheme.grade_bands),
        fallback=scheme.fallback_grade,
    )
