"""A CSV/XLSX file of one kind of reference data imported all or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.messages import N_
from assessments.models import Centre, College, Competence, Enterprise
from assessments.services.reference.rules import (
    COLUMNS,
    KINDS,
    NAME_COLUMNS,
    OPTIONAL_ATTRIBUTES,
    SECTION_COLUMNS,
    SectionData,
    check_sections,
    clean_centre,
    clean_college,
    clean_competence_head,
    clean_enterprise,
    clean_section,
)
from assessments.services.reference.saving import (
    apply_centre,
    apply_competence,
    apply_values,
    competence_codes,
)
from assessments.tabular import Problem, Rejected, read_table


@dataclass
class ImportSummary:
    """What an import did, by count."""

    kind: str
    created: int = 0
    updated: int = 0

    @property
    def text(self) -> str:
        return f"{self.kind}: {self.created} created, {self.updated} updated"


def import_reference(session: Session, kind: str, filename: str, data: bytes) -> ImportSummary:
    """Import a CSV/XLSX file of one kind of reference data, all or nothing.

    Rule: every row is checked first; any problem raises ``Rejected`` listing them all
    (``FILE:ROW: field: message``) and nothing is written. Otherwise each record is
    created or updated by its code (the BIN for enterprises).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind of reference data {kind!r}")
    required, optional = COLUMNS[kind]
    rows = read_table(filename, data, required, optional)
    importer = {
        "competences": _import_competences,
        "centres": _import_centres,
        "colleges": _import_colleges,
        "enterprises": _import_enterprises,
    }[kind]
    summary = ImportSummary(kind)
    problems = importer(session, rows, summary, dry_run=True)
    if problems:
        raise Rejected(problems, filename)
    importer(session, rows, summary, dry_run=False)
    session.flush()
    return summary


def _duplicate(
    seen: dict[str, int], key: str, row: int, column: str, problems: list[Problem]
) -> bool:
    if key in seen:
        problems.append(
            Problem(
                row,
                column,
                N_("%(value)s already appears in row %(row)s"),
                {"value": key, "row": seen[key]},
            )
        )
        return True
    seen[key] = row
    return False


def _simple_import(
    session: Session,
    rows,
    summary: ImportSummary,
    *,
    dry_run: bool,
    model: type,
    key: str,
    clean,
) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    existing = {getattr(o, key): o for o in session.scalars(select(model))}
    for row in rows:
        data, row_problems = clean(row.values, row.number)
        problems.extend(row_problems)
        if data[key] and _duplicate(seen, data[key], row.number, key, problems):
            continue
        if dry_run or row_problems:
            continue
        obj = existing.get(data[key])
        if obj is None:
            obj = model()
            session.add(obj)
            summary.created += 1
        else:
            summary.updated += 1
        apply_values(obj, _keep_missing(obj, data, row.values))
    return problems


def _keep_missing(obj: Any, data: dict, values: Mapping[str, str]) -> dict:
    """On update, leave alone the optional attributes whose column the file does not have."""
    if getattr(obj, "id", None) is None:
        return data
    return {k: v for k, v in data.items() if k in values or k not in OPTIONAL_ATTRIBUTES}


def _import_colleges(session, rows, summary, *, dry_run):
    return _simple_import(
        session, rows, summary, dry_run=dry_run, model=College, key="code", clean=clean_college
    )


def _import_enterprises(session, rows, summary, *, dry_run):
    return _simple_import(
        session, rows, summary, dry_run=dry_run, model=Enterprise, key="bin", clean=clean_enterprise
    )


def _import_centres(session, rows, summary, *, dry_run):
    codes = competence_codes(session)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    existing = {c.code: c for c in session.scalars(select(Centre))}
    for row in rows:
        data, row_problems = clean_centre(row.values, codes, row.number)
        problems.extend(row_problems)
        if data["code"] and _duplicate(seen, data["code"], row.number, "code", problems):
            continue
        if dry_run or row_problems:
            continue
        centre = existing.get(data["code"])
        if centre is None:
            centre = Centre()
            session.add(centre)
            summary.created += 1
        else:
            summary.updated += 1
            if "competences" not in row.values:
                data["competence_ids"] = [c.id for c in centre.competences]
        apply_centre(session, centre, _keep_missing(centre, data, row.values))
    return problems


@dataclass
class _CompetenceRows:
    first_row: int
    head: dict
    sections: list[SectionData] = field(default_factory=list)
    rows: set[int] = field(default_factory=set)
    origin: dict[str, int] = field(default_factory=dict)


def _import_competences(session, rows, summary, *, dry_run):
    """Each row is one section; the rows with one code, wherever they are, make a competence."""
    problems: list[Problem] = []
    groups: dict[str, _CompetenceRows] = {}
    for row in rows:
        head, head_problems = clean_competence_head(row.values, row.number)
        section, section_problems = clean_section(row.values, row.number)
        code = head["code"]
        group = groups.get(code)
        if group is not None:
            # later rows of a competence may leave its names empty, but not contradict them
            head_problems = [p for p in head_problems if p.field != "name_kk"]
            for column in NAME_COLUMNS:
                if not head[column]:
                    continue
                if not group.head[column]:
                    group.head[column] = head[column]
                    group.origin[column] = row.number
                elif head[column] != group.head[column]:
                    head_problems.append(
                        Problem(
                            row.number,
                            column,
                            N_("differs from row %(row)s, which names competence %(code)s"),
                            {"row": group.origin.get(column, group.first_row), "code": code},
                        )
                    )
        elif code:
            group = groups[code] = _CompetenceRows(row.number, head)
        problems.extend(head_problems + section_problems)
        if group is not None:
            group.rows.add(row.number)
            if section is not None:
                group.sections.append(section)
    for code, group in groups.items():
        # a missing or broken section would make the sum meaningless
        if not any(p.field in SECTION_COLUMNS and p.row in group.rows for p in problems):
            problems.extend(check_sections(group.sections, row=group.first_row, code=code))
    if dry_run or problems:
        return problems
    existing = {c.code: c for c in session.scalars(select(Competence))}
    for code, group in groups.items():
        competence = existing.get(code)
        if competence is None:
            competence = Competence()
            session.add(competence)
            summary.created += 1
        else:
            summary.updated += 1
            group.head = _keep_missing(competence, group.head, _present_columns(rows))
        apply_competence(competence, group.head, group.sections)
    return problems


def _present_columns(rows) -> dict[str, str]:
    return {name: "" for row in rows[:1] for name in row.values}
