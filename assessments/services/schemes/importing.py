"""Marking-scheme files (CIS XLSX and/or JSON) stored as the next version of a scheme."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.messages import N_
from assessments.models import Competence, MarkingScheme
from assessments.models.schemes import DEFAULT_GRADE_BANDS
from assessments.scheme_files.parse import parse_scheme_files
from assessments.scheme_files.spec import (
    CompetenceSection,
    Problem,
    SchemeImportError,
    SchemeSpec,
)
from assessments.services.schemes.reading import SectionRow, section_rows
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
    *,
    confirm_weights: bool = True,
) -> MarkingScheme:
    """Store marking-scheme files (CIS XLSX and/or JSON) as the next version of a scheme.

    The version is one more than the highest stored for the same competence and name
    (``previous_id`` points at that one). Any problem — an unknown competence, a missing
    name, anything the parser rejects, or a value the tables cannot hold — raises
    SchemeImportError listing every problem, and nothing is stored. Warnings (marks per
    WSOS section off the competence's weights by more than 5 points, section names that
    differ) are kept on the scheme. With ``confirm_weights`` False, a scheme whose marks
    per section stray more than 5 points from the weights raises WeightsToConfirm instead
    (nothing stored), so a page can ask first; the command line imports with warnings.
    """
    problems: list[Problem] = []
    code = (competence_code or "").strip()
    competence = session.scalar(select(Competence).where(Competence.code == code)) if code else None
    if not code:
        problems.append(Problem("", "", "competence", N_("is missing")))
    elif competence is None:
        problems.append(
            Problem("", "", "competence", N_("no competence with code %(code)s"), {"code": code})
        )
    elif not competence.sections:
        problems.append(
            Problem(
                "",
                "",
                "competence",
                N_("competence %(code)s has no WSOS sections yet"),
                {"code": code},
            )
        )
    name = " ".join((name or "").split())
    if not name:
        problems.append(Problem("", "", "name", N_("is missing")))
    elif len(name) > NAME_LEN:
        problems.append(
            Problem("", "", "name", N_("is longer than %(limit)s characters"), {"limit": NAME_LEN})
        )
    if problems:
        raise SchemeImportError(problems)

    spec = parse_scheme_files(files, sections=_competence_sections(competence))
    storage = storage_problems(spec)
    if storage:
        raise SchemeImportError(storage)
    if not confirm_weights and any(row.flagged for row in spec_sections(spec, competence)):
        raise WeightsToConfirm(spec_sections(spec, competence))

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
        warnings=[warning.to_record() for warning in spec.warnings],
        source_files=[_basename(file_name)[:FILE_LEN] for file_name, _content in files],
        created_by_id=getattr(user, "id", None),
    )
    scheme.max_total_hundredths = sum(hundredths(a.max_mark) for a in spec.aspects())
    if not store(session, scheme, spec):
        raise SchemeImportError([version_taken(scheme)])
    return scheme


class WeightsToConfirm(Exception):
    """Files that import cleanly but whose marks per WSOS section stray from the weights.

    ``sections`` compares them, section by section; nothing was stored.
    """

    def __init__(self, sections: list[SectionRow]) -> None:
        self.sections = sections
        off = ", ".join(str(row.number) for row in sections if row.flagged)
        super().__init__(f"marks per WSOS section {off} differ from the competence's weights")


def spec_sections(spec: SchemeSpec, competence: Competence) -> list[SectionRow]:
    """Return the marks per WSOS section of files read (not stored) against the competence.

    Each row carries the names the files give the section (JSON ``wsosSections``), so a
    page can show them beside the competence's own.
    """
    marks = {number: hundredths(mark) for number, mark in spec.marks_by_section().items()}
    names: dict[int, tuple[str, ...]] = {}
    for criterion in spec.criteria:
        for number, text in criterion.section_names.items():
            if text not in names.get(number, ()):
                names[number] = (*names.get(number, ()), text)
    return section_rows(marks, competence.sections, names)


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]
