"""What a passport certifies, frozen at issue: the snapshot of holder, exam, college and
result, the hash that tells a changed result or name, the expiry, the issuer, and the
signed token's claims. Pages, PDF and verification show the snapshot, never live records."""

from __future__ import annotations

import calendar
import hashlib
import json
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from assessments import scoring
from assessments.models import Exam
from assessments.services import results as results_service
from passports.models import Passport
from passports.settings import PassportSettings
from passports.token import MAX_PROFILE_SECTIONS, PassportClaims

SNAPSHOT_VERSION = 1


def _two(units: int, denominator: int) -> str:
    return str(scoring.two_decimals(units, denominator))


def _names(obj: Any) -> dict[str, str]:
    return {"kk": obj.name_kk or "", "ru": obj.name_ru or "", "en": obj.name_en or ""}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join((text or "").split()))


def holder_names(candidate: Any) -> dict[str, str]:
    """The holder's names as printed: Cyrillic parts, full name, Latin transliteration."""
    last, first, middle = (
        _nfc(candidate.last_name),
        _nfc(candidate.first_name),
        _nfc(candidate.middle_name or ""),
    )
    last_latin, first_latin = _nfc(candidate.last_name_latin), _nfc(candidate.first_name_latin)
    return {
        "last_name": last,
        "first_name": first,
        "middle_name": middle,
        "name": " ".join(p for p in (last, first, middle) if p),
        "last_name_latin": last_latin,
        "first_name_latin": first_latin,
        "name_latin": " ".join(p for p in (last_latin, first_latin) if p),
    }


@dataclass(frozen=True)
class ExamFacts:
    """What every passport of one exam shares: competence, centre, dates, result layout."""

    exam: Exam
    shape: results_service.Layout
    common: dict[str, Any]


def exam_facts(session: Session, exam: Exam, settings: PassportSettings) -> ExamFacts:
    shape = results_service.layout(session, exam)
    competence, centre = exam.competence, exam.centre
    common = {
        "competence": {"code": competence.code, "name": _names(competence)},
        "centre": {"code": centre.code, "name": _names(centre), "city": centre.city},
        "exam": {
            "id": exam.id,
            "start_date": exam.start_date.isoformat(),
            "end_date": exam.end_date.isoformat(),
        },
        "issuer": issuer(settings),
    }
    return ExamFacts(exam, shape, common)


def issuer(settings: PassportSettings) -> dict[str, Any]:
    """The issuer as configured: names in kk/ru/en and URL."""
    return {"name": dict(settings.issuer_name), "url": settings.issuer_url}


def certified(holder: dict[str, str], result: Any) -> dict[str, Any]:
    """The part of a passport whose change calls for a new one: names and the exact result."""
    return {
        "holder": holder,
        "total_units": result.total_units,
        "max_units": result.max_units,
        "denominator": result.denominator,
        "grade": result.grade,
        "by_criterion": {str(k): int(v) for k, v in result.by_criterion.items()},
        "by_section": {str(k): int(v) for k, v in result.by_section.items()},
    }


def basis_hash(content: dict[str, Any]) -> str:
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def build_snapshot(
    facts: ExamFacts, holder: dict[str, str], college: dict[str, Any], result: Any, pass_grade: int
) -> dict[str, Any]:
    """Freeze what the passport certifies (no IIN, birth date or contacts: it is public)."""
    denominator = result.denominator
    criteria = [
        {
            "key": part.key,
            "name": part.label,
            "units": int(result.by_criterion.get(part.key, 0)),
            "max_units": part.max_units,
            "mark": _two(int(result.by_criterion.get(part.key, 0)), denominator),
            "max": _two(part.max_units, denominator),
        }
        for part in facts.shape.criteria
    ]
    sections = [
        {
            "key": part.key,
            "name": _names(part.section) if part.section is not None else {},
            "weight": str(part.section.weight) if part.section is not None else "",
            "units": int(result.by_section.get(part.key, 0)),
            "max_units": part.max_units,
            "mark": _two(int(result.by_section.get(part.key, 0)), denominator),
            "max": _two(part.max_units, denominator),
        }
        for part in facts.shape.sections
        if part.max_units > 0
    ]
    return {
        "version": SNAPSHOT_VERSION,
        "holder": holder,
        "college": college,
        **facts.common,
        "result": {
            "total_units": result.total_units,
            "max_units": result.max_units,
            "denominator": denominator,
            "total": _two(result.total_units, denominator),
            "max": _two(result.max_units, denominator),
            "percent": _two(100 * result.total_units, result.max_units),
            "grade": result.grade,
            "pass_min_grade": pass_grade,
        },
        "criteria": criteria,
        "sections": sections,
    }


def total_hundredths(snapshot: dict[str, Any]) -> int:
    result = snapshot["result"]
    return scoring.round_units(result["total_units"], result["denominator"])


def _add_years(moment: datetime, years: int) -> datetime:
    year = moment.year + years
    day = min(moment.day, calendar.monthrange(year, moment.month)[1])
    return moment.replace(year=year, day=day)


def expiry_for(issued_at: datetime, settings: PassportSettings) -> datetime | None:
    """Expiry from the ``PASSPORT_VALIDITY_YEARS`` setting (0: never)."""
    years = settings.validity_years
    return _add_years(issued_at, years) if years > 0 else None


def section_percent(units: int, max_units: int) -> int:
    """Return a section's mark as a whole percent of its maximum.

    Rule: ``scoring.percent`` rounded half up to a whole number on the exact value
    (``scoring.round_half_up``): 2 of 8 → 25, 1 of 8 (12.5) → 13, 1 of 3 (33.3…) → 33.
    """
    return int(scoring.round_half_up(scoring.percent(units, max_units), 0))


def profile_percents(snapshot: dict[str, Any]) -> tuple[int, ...] | None:
    """The token's skills profile: per WSOS section of the snapshot, in section order, the
    whole percent of its maximum (``section_percent``).

    The snapshot lists only sections with a positive maximum, so a section the marking
    scheme does not assess has no place in the profile. None (no profile claim) when no
    section was assessed or more than ``MAX_PROFILE_SECTIONS`` were: the token stays valid
    and the server's page still shows every section.
    """
    sections = snapshot.get("sections", ())
    if not 1 <= len(sections) <= MAX_PROFILE_SECTIONS:
        return None
    return tuple(
        section_percent(int(section["units"]), int(section["max_units"])) for section in sections
    )


def claims_for(passport: Passport) -> PassportClaims:
    """The claims the QR token of ``passport`` signs, the skills profile included."""
    snapshot = passport.snapshot
    return PassportClaims(
        number=passport.number,
        holder_name=snapshot["holder"]["name"],
        competence_code=snapshot["competence"]["code"],
        total_hundredths=total_hundredths(snapshot),
        grade=int(snapshot["result"]["grade"]),
        issued_at=int(passport.issued_at.timestamp()),
        expires_at=int(passport.expires_at.timestamp()) if passport.expires_at else None,
        profile=profile_percents(snapshot),
    )


def exam_dates(snapshot: dict[str, Any]) -> tuple[date, date]:
    exam = snapshot["exam"]
    return date.fromisoformat(exam["start_date"]), date.fromisoformat(exam["end_date"])
