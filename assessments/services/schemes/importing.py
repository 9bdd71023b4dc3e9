"""Marking-scheme files (CIS XLSX and/or JSON) stored as the next version of a scheme."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assessments.models import Competence, MarkingScheme
from assessments.models.schemes import DEFAULT_GRADE_BANDS
from assessments.scheme_files.parse import parse_scheme_files
from assessments.scheme_files.spec import CompetenceSection, Problem, SchemeImportError
from assessments.services.schemes.storage import (
    FILE_LEN,
    NAME_LEN,
    hundredths,
    next_version,
    storage_problems,
    store,
    version_taken,
)


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
    elif len(name) > NAME_LEN:
        problems.append(Problem("", "", "name", f"is longer than {NAME_LEN} characters"))
    if problems:
        raise SchemeImportError(problems)

    spec = parse_scheme_files(files, sections=_competence_sections(competence))
    storage = storage_problems(spec)
    if storage:
        raise SchemeImportError(storage)

    version, previous_id = next_version(session, competence.id, name)
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
        source_files=[_basename(file_name)[:FILE_LEN] for file_name, _content in files],
        created_by_id=getattr(user, "id", None),
    )
    scheme.max_total_hundredths = sum(hundredths(a.max_mark) for a in spec.aspects())
    if not store(session, scheme, spec):
        raise SchemeImportError([Problem("", "", "name", version_taken(scheme))])
    return scheme


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]
