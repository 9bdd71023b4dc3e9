"""Reference data: competences with WSOS sections, competence centres, colleges, enterprises.

One set of rules checks the admin forms and the file imports alike. Every check
reports a ``Problem`` naming the field by its import column (``code``, ``name_kk``,
``weight`` …) and, for files, the spreadsheet row; saving refuses with ``Rejected``
and changes nothing when any check fails. docs/import-formats.md lists the columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import localized
from app.messages import N_
from assessments.iin import InvalidBIN, validate_bin
from assessments.models import Centre, College, Competence, Enterprise, WsosSection
from assessments.tabular import Problem, Rejected, RowChecker, read_table

KINDS = ("competences", "centres", "colleges", "enterprises")

NAME_COLUMNS = ("name_kk", "name_ru", "name_en")
SECTION_COLUMNS = ("section", "section_name_kk", "section_name_ru", "section_name_en", "weight")

# kind → (required columns, optional columns) of its import file
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "competences": (
        ("code", "name_kk", "section", "section_name_kk", "weight"),
        ("name_ru", "name_en", "section_name_ru", "section_name_en"),
    ),
    "centres": (
        ("code", "name_kk", "city", "workstations"),
        ("name_ru", "name_en", "address", "competences"),
    ),
    "colleges": (("code", "name_kk", "city"), ("name_ru", "name_en")),
    "enterprises": (("bin", "name_kk"), ("name_ru", "name_en")),
}

MAX_WORKSTATIONS = 1000
MAX_SECTION_NUMBER = 99
_CODE_RE = re.compile(r"[\w.\-]+")
_LIST_SPLIT_RE = re.compile(r"[\s,;|]+")
_OPTIONAL_ATTRIBUTES = frozenset({"name_ru", "name_en", "address"})
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")

BIN_MESSAGES = {
    "not_text": N_("must be 12 digits"),
    "not_digits": N_("must contain digits only"),
    "length": N_("must be 12 digits"),
    "month": N_("digits 3–4 (registration month) must be 01–12"),
    "check_digit": N_("has a wrong check digit (the last digit does not match)"),
    "never_issued": N_("is not a valid BIN: no check digit exists for these digits"),
}


@dataclass
class SectionData:
    number: int
    name_kk: str
    name_ru: str
    name_en: str
    weight: Decimal
    row: int | None = None


@dataclass
class ImportSummary:
    """What an import did, by count."""

    kind: str
    created: int = 0
    updated: int = 0

    @property
    def text(self) -> str:
        return f"{self.kind}: {self.created} created, {self.updated} updated"


# --- field rules -----------------------------------------------------------


def natural_key(code: str) -> tuple:
    """Sort key putting "5" before "17" and "R2" before "R10"."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", code))


def _code(check: RowChecker, name: str = "code") -> str:
    code = check.text(name, required=True, max_length=20)
    if code and not _CODE_RE.fullmatch(code):
        check.add(name, N_("use letters, digits, dots, hyphens or underscores, without spaces"))
    return code


def _names(check: RowChecker, prefix: str = "") -> dict[str, str]:
    return {
        "name_kk": check.text(f"{prefix}name_kk", required=True),
        "name_ru": check.text(f"{prefix}name_ru"),
        "name_en": check.text(f"{prefix}name_en"),
    }


def _whole(check: RowChecker, name: str, low: int, high: int) -> int | None:
    raw = check.text(name, required=True, max_length=20)
    if not raw or len(raw) > 20:  # too long is reported already; int() refuses 4300+ digits
        return None
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        check.add(name, N_("must be a whole number from %(low)s to %(high)s"), low=low, high=high)
        return None
    return int(raw)


def _weight(check: RowChecker, name: str = "weight") -> Decimal | None:
    raw = check.text(name, required=True, max_length=20).replace(",", ".").removesuffix("%")
    if not raw:
        return None
    try:
        weight = Decimal(raw.strip())
    except InvalidOperation:
        weight = None
    if weight is None or not weight.is_finite():
        check.add(name, N_("must be a number of percent, such as 12.5"))
        return None
    if not 0 < weight <= _HUNDRED:
        check.add(name, N_("must be more than 0 and at most 100 percent"))
        return None
    if weight != weight.quantize(_CENT):
        check.add(name, N_("may have at most two decimal places"))
        return None
    return weight.quantize(_CENT)


def clean_bin(check: RowChecker, name: str = "bin", *, required: bool = True) -> str:
    """Read a BIN field: 12 digits with the IIN check digit (see assessments.iin)."""
    raw = check.text(name, required=required, max_length=40)
    if not raw:
        return ""
    try:
        return validate_bin(raw)
    except InvalidBIN as exc:
        check.add(name, BIN_MESSAGES.get(exc.code, N_("is not a valid BIN")))
        return ""


def clean_college(values: Mapping[str, str], row: int | None = None) -> tuple[dict, list[Problem]]:
    """Check a college's fields; return its attributes and the problems found."""
    check = RowChecker(values, row)
    data = {"code": _code(check), **_names(check), "city": check.text("city", required=True)}
    return data, check.problems


def clean_enterprise(
    values: Mapping[str, str], row: int | None = None
) -> tuple[dict, list[Problem]]:
    """Check an enterprise's fields; its BIN is its code."""
    check = RowChecker(values, row)
    data = {"bin": clean_bin(check), **_names(check)}
    return data, check.problems


def clean_centre(
    values: Mapping[str, str], competence_ids: Mapping[str, int], row: int | None = None
) -> tuple[dict, list[Problem]]:
    """Check a centre's fields; ``competences`` lists accredited codes separated by ; , or spaces.

    ``competence_ids`` maps every known competence code to its id; an unknown code is
    a problem of the ``competences`` field.
    """
    check = RowChecker(values, row)
    data = {
        "code": _code(check),
        **_names(check),
        "city": check.text("city", required=True, max_length=100),
        "address": check.text("address"),
        "workstations": _whole(check, "workstations", 1, MAX_WORKSTATIONS),
    }
    codes = list(
        dict.fromkeys(c for c in _LIST_SPLIT_RE.split(values.get("competences") or "") if c)
    )
    unknown = [c for c in codes if c not in competence_ids]
    if unknown:
        check.add(
            "competences",
            N_("unknown competence code %(codes)s; import the competences first"),
            codes=", ".join(unknown),
        )
    data["competence_ids"] = [competence_ids[c] for c in codes if c in competence_ids]
    return data, check.problems


def clean_competence_head(
    values: Mapping[str, str], row: int | None = None
) -> tuple[dict, list[Problem]]:
    """Check a competence's code and names."""
    check = RowChecker(values, row)
    return {"code": _code(check), **_names(check)}, check.problems


def clean_section(
    values: Mapping[str, str], row: int | None = None
) -> tuple[SectionData | None, list[Problem]]:
    """Check one WSOS section: number 1–99, a Kazakh name, a weight in percent."""
    check = RowChecker(values, row)
    number = _whole(check, "section", 1, MAX_SECTION_NUMBER)
    names = _names(check, "section_")
    weight = _weight(check)
    if check.problems or number is None or weight is None:
        return None, check.problems
    return SectionData(number, weight=weight, row=row, **names), []


def check_sections(
    sections: Sequence[SectionData], *, row: int | None = None, code: str = ""
) -> list[Problem]:
    """Check a competence's sections together: at least one, distinct numbers, weights sum to 100.

    Rule: the weights are exact decimals; their sum must be exactly 100.
    """
    problems = []
    seen: dict[int, SectionData] = {}
    for section in sections:
        earlier = seen.get(section.number)
        if earlier is not None:
            problems.append(
                Problem(
                    section.row,
                    "section",
                    N_("section %(number)s appears twice in competence %(code)s"),
                    {"number": section.number, "code": code},
                )
            )
        seen[section.number] = section
    if not sections:
        problems.append(Problem(row, "section", N_("a competence needs at least one WSOS section")))
    else:
        total = sum((s.weight for s in sections), Decimal(0))
        if total != _HUNDRED:
            problems.append(
                Problem(
                    row,
                    "weight",
                    N_("the section weights of competence %(code)s sum to %(total)s, not 100"),
                    {"code": code, "total": _plain(total)},
                )
            )
    return problems


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


# --- saving ------------------------------------------------------------------


def competence_codes(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Competence.code, Competence.id)).all())


def _taken(session: Session, column, value: str, own_id: int | None) -> bool:
    other = session.scalar(select(column.class_.id).where(column == value))
    return other is not None and other != own_id


def _apply(obj: Any, data: Mapping[str, Any]) -> None:
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
        _apply(college, data)
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
        _apply(enterprise, data)
    return _store(session, enterprise, problems)


def save_centre(session: Session, centre: Centre | None, values: Mapping[str, str]) -> Centre:
    """Create or change a competence centre with its accredited competences."""
    data, problems = clean_centre(values, competence_codes(session))
    message = N_("another competence centre already has this code")
    _check_unique(session, problems, Centre.code, data["code"], centre, message)
    if not problems:
        centre = centre or Centre()
        _apply_centre(session, centre, data)
    return _store(session, centre, problems)


def _apply_centre(session: Session, centre: Centre, data: dict) -> None:
    ids = data.pop("competence_ids")
    _apply(centre, data)
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
        _apply_competence(competence, head, parsed)
    return _store(session, competence, problems)


def _apply_competence(competence: Competence, head: dict, sections: list[SectionData]) -> None:
    _apply(competence, head)
    existing = {s.number: s for s in competence.sections}
    kept = []
    for data in sorted(sections, key=lambda s: s.number):
        section = existing.get(data.number) or WsosSection(number=data.number)
        section.name_kk, section.name_ru, section.name_en = data.name_kk, data.name_ru, data.name_en
        section.weight = data.weight
        kept.append(section)
    competence.sections = kept


# --- import --------------------------------------------------------------------


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
        _apply(obj, _keep_missing(obj, data, row.values))
    return problems


def _keep_missing(obj: Any, data: dict, values: Mapping[str, str]) -> dict:
    """On update, leave alone the optional attributes whose column the file does not have."""
    if getattr(obj, "id", None) is None:
        return data
    return {k: v for k, v in data.items() if k in values or k not in _OPTIONAL_ATTRIBUTES}


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
        _apply_centre(session, centre, _keep_missing(centre, data, row.values))
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
        _apply_competence(competence, group.head, group.sections)
    return problems


def _present_columns(rows) -> dict[str, str]:
    return {name: "" for row in rows[:1] for name in row.values}


# --- listing -------------------------------------------------------------------


def load(session: Session, kind: str) -> list[Any]:
    """Return every record of ``kind`` in a stable order (codes in natural order)."""
    model = {
        "competences": Competence,
        "centres": Centre,
        "colleges": College,
        "enterprises": Enterprise,
    }[kind]
    return sorted(session.scalars(select(model)).all(), key=lambda o: natural_key(o.code))


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def as_dict(obj: Any, locale: str) -> dict[str, Any]:
    """Describe a reference record as JSON-ready data; ``name`` is in ``locale``."""
    data: dict[str, Any] = {
        "code": obj.code,
        "name": localized(obj, locale=locale),
        "name_kk": obj.name_kk,
        "name_ru": obj.name_ru,
        "name_en": obj.name_en,
    }
    if isinstance(obj, Competence):
        data["sections"] = [
            {
                "number": s.number,
                "name": localized(s, locale=locale),
                "name_kk": s.name_kk,
                "name_ru": s.name_ru,
                "name_en": s.name_en,
                "weight": _number(s.weight),
            }
            for s in obj.sections
        ]
    elif isinstance(obj, Centre):
        data.update(
            city=obj.city,
            address=obj.address,
            workstations=obj.workstations,
            competences=[c.code for c in obj.competences],
        )
    elif isinstance(obj, College):
        data["city"] = obj.city
    elif isinstance(obj, Enterprise):
        data["bin"] = obj.bin
    return data


def list_reference(session: Session, kind: str, locale: str) -> list[dict[str, Any]]:
    """Return every record of ``kind`` as dictionaries (see ``as_dict``)."""
    return [as_dict(obj, locale) for obj in load(session, kind)]
