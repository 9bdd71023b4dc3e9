"""Reference records saved one at a time, from the admin forms or an import row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.messages import N_
from assessments.models import Centre, College, Competence, Enterprise, WsosSection
from assessments.services.reference.rules import (
    SECTION_COLUMNS,
    SectionData,
    check_sections,
    clean_centre,
    clean_college,
    clean_competence_head,
    clean_enterprise,
    clean_section,
    natural_key,
)
from assessments.tabular import Problem, Rejected


def competence_codes(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Competence.code, Competence.id)).all())


def _taken(session: Session, column, value: str, own_id: int | None) -> bool:
    other = session.scalar(select(column.class_.id).where(column == value))
    return other is not None and other != own_id


def apply_values(obj: Any, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        setattr(obj, key, value)


def _check_unique(
    session: Session, problems: list[Problem], column, value: str, own: Any, message: str
) -> None:
    """Add ``message`` on ``column`` when another record than ``own`` already has ``value``."""
    if value and _taken(session, column, value, own and own.id):
        problems.append(Problem(None, column.key, message))


def _store(session: Session, obj: Any, problems: list[Problem]) -> Any:
    """Refuse with every problem, or add the changed record and flush it."""
    if problems:
        raise Rejected(problems)
    session.add(obj)
    session.flush()
    return obj


def save_college(session: Session, college: College | None, values: Mapping[str, str]) -> College:
    """Create (``college`` None) or change a college; refuse a code used by another."""
    data, problems = clean_college(values)
    message = N_("another college already has this code")
    _check_unique(session, problems, College.code, data["code"], college, message)
    if not problems:
        college = college or College()
        apply_values(college, data)
    return _store(session, college, problems)


def save_enterprise(
    session: Session, enterprise: Enterprise | None, values: Mapping[str, str]
) -> Enterprise:
    """Create or change an enterprise; its BIN must be valid and unique."""
    data, problems = clean_enterprise(values)
    message = N_("another enterprise already has this BIN")
    _check_unique(session, problems, Enterprise.bin, data["bin"], enterprise, message)
    if not problems:
        enterprise = enterprise or Enterprise()
        apply_values(enterprise, data)
    return _store(session, enterprise, problems)


def save_centre(session: Session, centre: Centre | None, values: Mapping[str, str]) -> Centre:
    """Create or change a competence centre with its accredited competences."""
    data, problems = clean_centre(values, competence_codes(session))
    message = N_("another competence centre already has this code")
    _check_unique(session, problems, Centre.code, data["code"], centre, message)
    if not problems:
        centre = centre or Centre()
        apply_centre(session, centre, data)
    return _store(session, centre, problems)


def apply_centre(session: Session, centre: Centre, data: dict) -> None:
    ids = data.pop("competence_ids")
    apply_values(centre, data)
    wanted = session.scalars(select(Competence).where(Competence.id.in_(ids))).all() if ids else []
    centre.competences = sorted(wanted, key=lambda c: natural_key(c.code))


def save_competence(
    session: Session,
    competence: Competence | None,
    values: Mapping[str, str],
    sections: Iterable[Mapping[str, str]],
) -> Competence:
    """Create or change a competence with its whole list of WSOS sections.

    ``sections`` holds one mapping per section (keys as in the import file); entries
    whose fields are all empty are skipped. A problem in a section names its index in
    the list as its row. Sections are matched by number: kept numbers are updated,
    new ones added, missing ones removed.
    """
    head, problems = clean_competence_head(values)
    message = N_("another competence already has this code")
    _check_unique(session, problems, Competence.code, head["code"], competence, message)
    parsed: list[SectionData] = []
    for index, section_values in enumerate(sections):
        if not any((section_values.get(c) or "").strip() for c in SECTION_COLUMNS):
            continue
        section, section_problems = clean_section(section_values, index)
        problems.extend(section_problems)
        if section is not None:
            parsed.append(section)
    if not any(p.field in SECTION_COLUMNS and p.row is not None for p in problems):
        problems.extend(check_sections(parsed, code=head["code"]))
    if not problems:
        competence = competence or Competence()
        apply_competence(competence, head, parsed)
    return _store(session, competence, problems)


def apply_competence(competence: Competence, head: dict, sections: list[SectionData]) -> None:
    apply_values(competence, head)
    existing = {s.number: s for s in competence.sections}
    kept = []
    for data in sorted(sections, key=lambda s: s.number):
        section = existing.get(data.number) or WsosSection(number=data.number)
        section.name_kk, section.name_ru, section.name_en = data.name_kk, data.name_ru, data.name_en
        section.weight = data.weight
        kept.append(section)
    competence.sections = kept
