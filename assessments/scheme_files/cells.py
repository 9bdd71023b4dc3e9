"""Reading one cell or JSON value (text, exact decimals, marks, sections), and what one
file contributes to the scheme with the problems found in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.messages import N_
from assessments.scheme_files.spec import CompetenceSection, CriterionSpec, Problem

_DECIMAL_TEXT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_HUNDREDTH = Decimal("0.01")
# Whole numbers from 10**9 and marks from 10**12 are refused before any arithmetic.
_WHOLE_DIGITS = 9
_MARK_DIGITS = 12


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_text(value: Any) -> str:
    """Return a cell or JSON value as trimmed text with one kind of line break."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = ILLEGAL_CHARACTERS_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()


def shown(value: Any) -> str:
    """Quote a bad value for a message."""
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"'{text}'"
    return str(value)


def exact_decimal(value: Any) -> Decimal | None:
    """Return value as an exact finite Decimal, or None when it is not a number.

    Floats go through 15 significant digits (Excel's precision), so a cell holding
    0.1 + 0.2 reads as 0.3 and 1.5 as 1.5. Text may use a decimal comma ("1,5").
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(format(value, ".15g"))
    elif isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not _DECIMAL_TEXT_RE.fullmatch(text):
            return None
        number = Decimal(text)
    else:
        return None
    return number if number.is_finite() else None


def whole_number(value: Any) -> int | None:
    number = exact_decimal(value)
    # no section, day or score is that large; int() of 1E+999999 would take minutes
    if number is None or number.adjusted() >= _WHOLE_DIGITS:
        return None
    if number != number.to_integral_value():
        return None
    return int(number)


#: Why a value was refused: an English template marked N_ and its parameters.
Why = tuple[str, dict[str, Any]]


def read_max_mark(value: Any) -> tuple[Decimal | None, Why | None]:
    """Return (mark, None) or (None, why): a positive decimal with at most 2 decimal places."""
    if is_blank(value):
        return None, (N_("is missing; it must be a positive decimal"), {})
    number = exact_decimal(value)
    if number is None or number <= 0:
        return None, (
            N_("must be a positive decimal, got %(value)s"),
            {"value": shown(value)},
        )
    if number.adjusted() >= _MARK_DIGITS:
        return None, (
            N_("is too large to be a mark, got %(value)s"),
            {"value": shown(value)},
        )
    # exact: the quantized value has at most 14 digits, within the context's 28
    if number != number.quantize(_HUNDREDTH, rounding=ROUND_DOWN):
        return None, (
            N_("must have at most 2 decimal places, got %(value)s"),
            {"value": shown(value)},
        )
    # One spelling per value (1.0 and 1 -> 1, 0.50 -> 0.5), whichever file it came from.
    if number == number.to_integral_value():
        return number.quantize(Decimal(1)), None
    return number.normalize(), None


def read_section(
    value: Any, allowed: dict[int, CompetenceSection] | None
) -> tuple[int | None, Why | None]:
    """Return (section number, None) or (None, why)."""
    if is_blank(value):
        return None, (N_("is missing; every aspect needs one WSOS section number"), {})
    number = whole_number(value)
    if number is None or number < 1:
        return None, (
            N_("must be a whole section number, got %(value)s"),
            {"value": shown(value)},
        )
    if allowed is not None and number not in allowed:
        have = ", ".join(str(n) for n in sorted(allowed)) or "—"
        return None, (
            N_("the competence has no WSOS section %(number)s (it has %(have)s)"),
            {"number": number, "have": have},
        )
    return number, None


@dataclass
class FileResult:
    """What one file contributes: criteria by letter and where each letter first appears."""

    name: str
    kind: str
    criteria: dict[str, CriterionSpec] = field(default_factory=dict)
    first_location: dict[str, str] = field(default_factory=dict)


class Report:
    """Problems of one file."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems

    def add(self, where: int | str, field_name: str, template: str, **params: Any) -> None:
        """Add a problem at a spreadsheet row (int), a JSON path (str) or the file ("")."""
        if isinstance(where, int):
            location, row = f"row {where}", where
        else:
            location, row = where, None
        self.problems.append(Problem(self.file, location, field_name, template, params, row))
