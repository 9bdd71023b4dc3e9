"""Marking settings of a scheme (judges, spread, grade bands, pass rule), freezing, and
the new version a change to a scheme in use makes."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.messages import N_
from assessments.models import Exam, MarkingScheme
from assessments.scoring import GradeBands
from assessments.services.schemes.errors import SchemeError, SettingProblem
from assessments.services.schemes.export import scheme_spec
from assessments.services.schemes.storage import next_version, store, version_taken

_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


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
    version, _latest_id = next_version(session, scheme.competence_id, scheme.name)
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
    if not store(session, copy, scheme_spec(scheme)):
        taken = version_taken(copy)
        raise SchemeError([SettingProblem("version", taken.template, dict(taken.params))])
    return copy


def scoring_bands(scheme: MarkingScheme) -> GradeBands:
    """Return the scheme's grade bands for ``scoring.grade`` (exact Decimal thresholds)."""
    return GradeBands(
        thresholds=tuple((Decimal(str(t)), int(g)) for t, g in scheme.grade_bands),
        fallback=scheme.fallback_grade,
    )
