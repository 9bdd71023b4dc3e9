"""The import columns of reference data and the field rules forms and imports share."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.messages import N_
from assessments.iin import InvalidBIN, validate_bin
from assessments.tabular import Problem, RowChecker

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
OPTIONAL_ATTRIBUTES = frozenset({"name_ru", "name_en", "address"})
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
                    {"code": code, "total": plain_decimal(total)},
                )
            )
    return problems


def plain_decimal(number: Decimal) -> str:
    return format(number.normalize(), "f")
