"""Read and write WorldSkills marking-scheme files: the CIS XLSX template and the community JSON.

Pure functions: no database, no Flask. `parse_scheme_files` turns uploaded files into a
`SchemeSpec` or raises `SchemeImportError` listing every problem found, each naming the file,
the place in it (spreadsheet row, header = row 1, or JSON element path) and the field.
`export_scheme_xlsx` writes a `SchemeSpec` back as one CIS-template workbook.

Marks are `Decimal` throughout: a spreadsheet float is read through its shortest text form
(at most 15 significant digits, what Excel itself keeps), JSON numbers are parsed as `Decimal`,
so 0.25 stays 0.25 and 1.5 stays 1.5.
"""

from __future__ import annotations

import io
import json
import re
import warnings
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from assessments.xlsx_guard import UnsafeWorkbook, check_xlsx_archive

__all__ = [
    "AspectSpec",
    "CompetenceSection",
    "CriterionSpec",
    "Problem",
    "SchemeImportError",
    "SchemeSpec",
    "SubCriterionSpec",
    "export_scheme_xlsx",
    "parse_scheme_files",
]

#: The share of marks per WSOS section may differ from the section weight by this many points.
WEIGHT_TOLERANCE = Decimal(5)
#: Rows of a template sheet; a scheme of 100 marks takes a few hundred.
MAX_XLSX_ROWS = 10_000

# Column headers of the CIS import template, in order A…K (copied from the real files).
XLSX_HEADER = (
    "Sub Criterion ID",
    "Sub Criterion Name or Description",
    "Day of Marking",
    "Aspect Type M = Meas J = Judg",
    "Aspect - Description",
    "Judg Score",
    "Extra Aspect Description (Meas or Judg) OR Judgement Score Description (Judg only)",
    "Requirement (Measurement Only)",
    "WSOS Section",
    "Calculation Row (Export only)",
    "Max Mark",
)
# Short field names used in problems, one per column A…K.
F_ID = "Sub Criterion ID"
F_NAME = "Sub Criterion Name"
F_DAY = "Day of Marking"
F_TYPE = "Aspect Type"
F_DESCRIPTION = "Aspect Description"
F_SCORE = "Judg Score"
F_LEVEL = "Judgement Score Description"
F_SECTION = "WSOS Section"
F_MAX = "Max Mark"

SHEET_TITLE = "Marking Scheme"
# Extra sheet (not part of the CIS template) carrying criterion names so an export re-imports whole.
CRITERIA_SHEET = "Criteria"
CRITERIA_HEADER = ("Criterion", "Name")

_ID_RE = re.compile(r"([A-Z]+)([1-9][0-9]*)")
_DECIMAL_TEXT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DAY_TEXT_RE = re.compile(r"(?:C|DAY)?\s*([0-9]+)", re.IGNORECASE)
_HUNDREDTH = Decimal("0.01")
# Whole numbers from 10**9 and marks from 10**12 are refused before any arithmetic.
_WHOLE_DIGITS = 9
_MARK_DIGITS = 12
_MAX_LETTERS = 26


@dataclass(frozen=True)
class Problem:
    """One error or warning about a marking-scheme file."""

    file: str
    location: str
    field: str
    message: str

    def __str__(self) -> str:
        head = ":".join(part for part in (self.file, self.location) if part)
        return ": ".join(part for part in (head, self.field, self.message) if part)


class SchemeImportError(Exception):
    """Marking-scheme files that cannot be imported; `.problems` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


# Equality compares what the scheme says, not where it was read from: `source`,
# `source_file`, `calculation`, `section_names` and `warnings` are left out, so an
# exported and re-imported scheme compares equal to the original.
@dataclass
class AspectSpec:
    """One aspect: M (measurement) or J (judgement, with four level descriptions for 0-3)."""

    kind: str
    description: str
    extra_description: str
    requirement: str
    wsos_section: int
    max_mark: Decimal
    levels: list[str]
    calculation: str = field(default="", compare=False)
    source: str = field(default="", compare=False)


@dataclass
class SubCriterionSpec:
    """One sub-criterion (one marking form), e.g. C4, with its day of marking."""

    id: str
    name: str
    day: int | None
    aspects: list[AspectSpec]


@dataclass
class CriterionSpec:
    """One criterion (module) A, B, … as read from one file."""

    letter: str
    name: str
    sub_criteria: list[SubCriterionSpec]
    source_file: str = field(default="", compare=False)
    section_names: dict[int, str] = field(default_factory=dict, compare=False)


@dataclass
class SchemeSpec:
    """A whole marking scheme, criteria sorted by letter, plus non-fatal import warnings."""

    criteria: list[CriterionSpec]
    warnings: list[Problem] = field(default_factory=list, compare=False)

    def aspects(self) -> list[AspectSpec]:
        """Return every aspect in scheme order."""
        return [a for c in self.criteria for s in c.sub_criteria for a in s.aspects]

    @property
    def aspects_count(self) -> int:
        return len(self.aspects())

    @property
    def measurement_count(self) -> int:
        return sum(1 for a in self.aspects() if a.kind == "M")

    @property
    def judgement_count(self) -> int:
        return sum(1 for a in self.aspects() if a.kind == "J")

    @property
    def sub_criteria_count(self) -> int:
        return sum(len(c.sub_criteria) for c in self.criteria)

    @property
    def max_total(self) -> Decimal:
        return sum((a.max_mark for a in self.aspects()), Decimal(0))

    def marks_by_section(self) -> dict[int, Decimal]:
        """Return the sum of maximum marks per WSOS section number, in section order."""
        marks: dict[int, Decimal] = {}
        for aspect in self.aspects():
            marks[aspect.wsos_section] = (
                marks.get(aspect.wsos_section, Decimal(0)) + aspect.max_mark
            )
        return dict(sorted(marks.items()))


@dataclass(frozen=True)
class CompetenceSection:
    """A WSOS section of the competence; weight in percent, the weights sum to 100."""

    number: int
    name: str
    weight: Decimal


# --------------------------------------------------------------------------- cell values


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """Return a cell or JSON value as trimmed text with one kind of line break."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = ILLEGAL_CHARACTERS_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()


def _shown(value: Any) -> str:
    """Quote a bad value for a message."""
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"'{text}'"
    return str(value)


def _decimal(value: Any) -> Decimal | None:
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


def _whole(value: Any) -> int | None:
    number = _decimal(value)
    # no section, day or score is that large; int() of 1E+999999 would take minutes
    if number is None or number.adjusted() >= _WHOLE_DIGITS:
        return None
    if number != number.to_integral_value():
        return None
    return int(number)


def _max_mark(value: Any) -> tuple[Decimal | None, str]:
    """Return (mark, "") or (None, why): a positive decimal with at most 2 decimal places."""
    if _blank(value):
        return None, "is missing; it must be a positive decimal"
    number = _decimal(value)
    if number is None or number <= 0:
        return None, f"must be a positive decimal, got {_shown(value)}"
    if number.adjusted() >= _MARK_DIGITS:
        return None, f"is too large to be a mark, got {_shown(value)}"
    # exact: the quantized value has at most 14 digits, within the context's 28
    if number != number.quantize(_HUNDREDTH, rounding=ROUND_DOWN):
        return None, f"must have at most 2 decimal places, got {_shown(value)}"
    # One spelling per value (1.0 and 1 -> 1, 0.50 -> 0.5), whichever file it came from.
    if number == number.to_integral_value():
        return number.quantize(Decimal(1)), ""
    return number.normalize(), ""


def _section(value: Any, allowed: dict[int, CompetenceSection] | None) -> tuple[int | None, str]:
    """Return (section number, "") or (None, why)."""
    if _blank(value):
        return None, "is missing; every aspect needs one WSOS section number"
    number = _whole(value)
    if number is None or number < 1:
        return None, f"must be a whole section number, got {_shown(value)}"
    if allowed is not None and number not in allowed:
        have = ", ".join(str(n) for n in sorted(allowed)) or "none"
        return None, f"the competence has no WSOS section {number} (it has {have})"
    return number, ""


def _fmt2(number: Decimal) -> str:
    return str(number.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP))


def _position_letter(index: int) -> str:
    return chr(ord("A") + index)


def _letter_key(letter: str) -> tuple[int, str]:
    return len(letter), letter


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


# --------------------------------------------------------------------------- per-file results


@dataclass
class _FileResult:
    """What one file contributes: criteria by letter and where each letter first appears."""

    name: str
    kind: str
    criteria: dict[str, CriterionSpec] = field(default_factory=dict)
    first_location: dict[str, str] = field(default_factory=dict)


class _Report:
    """Problems of one file."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems

    def add(self, location: str, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.file, location, field_name, message))


# --------------------------------------------------------------------------- XLSX


@dataclass
class _PendingJudgement:
    """The score rows collected below a J (or unreadable-type) aspect row."""

    aspect: AspectSpec | None  # None when the aspect row itself has problems
    row: int
    check: bool  # False below an aspect of unknown type: take its score rows, judge nothing
    score_rows: list[tuple[int, Any, Any]] = field(default_factory=list)


class _XlsxReader:
    """Walk the rows of a CIS template sheet, one state machine step per row."""

    def __init__(self, report: _Report, sections: dict[int, CompetenceSection] | None) -> None:
        self.report = report
        self.sections = sections
        self.result = _FileResult(report.file, "xlsx")
        self.ids: dict[str, int] = {}
        self.sub: SubCriterionSpec | None = None
        self.sub_row = 0
        self.sub_aspect_rows = 0
        self.pending: _PendingJudgement | None = None
        self.problems_before = len(report.problems)

    def read(self, rows: list[tuple[Any, ...]]) -> _FileResult:
        if rows and (
            _ID_RE.fullmatch(_text(rows[0][0]).upper()) or _text(rows[0][3]).upper() in ("M", "J")
        ):
            self.report.add(
                "row 1", "", "must be the header row of the CIS template, but it holds data"
            )
        for number, row in enumerate(rows[1:], start=2):
            if all(_blank(v) for v in row):
                continue
            self.row(number, row)
        self.finish_judgement()
        self.finish_sub()
        if not self.result.criteria and len(self.report.problems) == self.problems_before:
            self.report.add("", "", "the file holds no sub-criteria")
        return self.result

    def row(self, number: int, row: tuple[Any, ...]) -> None:
        sub_id, name, day, kind, description, score, extra, _req, section, _calc, mark = row
        pending = self.pending
        if (
            _blank(sub_id)
            and _blank(kind)
            and (
                not _blank(score) or (pending and not _blank(extra) and len(pending.score_rows) < 4)
            )
        ):
            if pending is None:
                self.report.add(
                    f"row {number}", F_SCORE, "a judgement score row must follow a J aspect row"
                )
            else:
                pending.score_rows.append((number, score, extra))
            return
        self.finish_judgement()
        if not _blank(sub_id):
            self.start_sub(number, sub_id, name, day)
            if _blank(kind):
                return
        if not _blank(kind):
            self.aspect(number, row)
        elif not _blank(description) or not _blank(mark) or not _blank(section):
            self.sub_aspect_rows += 1
            self.report.add(f"row {number}", F_TYPE, "is missing; it must be M or J")
        elif not _blank(name) or not _blank(day):
            self.report.add(f"row {number}", F_ID, "is missing on this sub-criterion row")
        else:
            self.report.add(
                f"row {number}",
                F_TYPE,
                "is missing; the row has data but no sub-criterion ID, aspect type or score",
            )

    def start_sub(self, number: int, raw_id: Any, raw_name: Any, raw_day: Any) -> None:
        self.finish_sub()
        location = f"row {number}"
        sub_id = _text(raw_id).upper()
        match = _ID_RE.fullmatch(sub_id)
        name = _text(raw_name)
        day = None
        if not name:
            self.report.add(location, F_NAME, "is missing")
        if not _blank(raw_day):
            # A whole number; "C1"/"Day 1" (WorldSkills competition day) is read as 1.
            if isinstance(raw_day, str):
                found = _DAY_TEXT_RE.fullmatch(raw_day.strip())
                day = _whole(found.group(1)) if found else None
            else:
                day = _whole(raw_day)
            if day is None or day < 1:
                day = None
                self.report.add(location, F_DAY, f"must be a whole number, got {_shown(raw_day)}")
        self.sub = SubCriterionSpec(id=sub_id, name=name, day=day, aspects=[])
        self.sub_row = number
        self.sub_aspect_rows = 0
        if not match:
            self.report.add(
                location,
                F_ID,
                f"must be a letter followed by a number, e.g. C4; got {_shown(raw_id)}",
            )
            return
        if sub_id in self.ids:
            self.report.add(
                location,
                F_ID,
                f"duplicate sub-criterion ID {sub_id} (also at row {self.ids[sub_id]})",
            )
            return
        self.ids[sub_id] = number
        letter = match.group(1)
        criterion = self.result.criteria.get(letter)
        if criterion is None:
            criterion = CriterionSpec(letter, "", [], self.report.file, {})
            self.result.criteria[letter] = criterion
            self.result.first_location[letter] = location
        criterion.sub_criteria.append(self.sub)

    def finish_sub(self) -> None:
        if self.sub is not None and self.sub_aspect_rows == 0:
            self.report.add(
                f"row {self.sub_row}", F_ID, f"sub-criterion {self.sub.id} has no aspects"
            )
        self.sub = None

    def aspect(self, number: int, row: tuple[Any, ...]) -> None:
        raw_kind, description, _score, extra, req, raw_section, _calc, raw_mark = row[3:]
        location = f"row {number}"
        kind = _text(raw_kind).upper()
        ok = True
        if self.sub is None:
            ok = False
            self.report.add(location, F_ID, "aspect row comes before any sub-criterion row")
        else:
            self.sub_aspect_rows += 1
        if kind not in ("M", "J"):
            ok = False
            self.report.add(
                location,
                F_TYPE,
                f"must be M (measurement) or J (judgement), got {_shown(raw_kind)}",
            )
        if _blank(description):
            ok = False
            self.report.add(location, F_DESCRIPTION, "is missing")
        section, why = _section(raw_section, self.sections)
        if why:
            ok = False
            self.report.add(location, F_SECTION, why)
        mark, why = _max_mark(raw_mark)
        if why:
            ok = False
            self.report.add(location, F_MAX, why)
        aspect = None
        if ok and self.sub is not None and section is not None and mark is not None:
            aspect = AspectSpec(
                kind=kind,
                description=_text(description),
                extra_description=_text(extra),
                requirement=_text(req),
                wsos_section=section,
                max_mark=mark,
                levels=[],
                calculation="",
                source=location,
            )
            self.sub.aspects.append(aspect)
        if kind != "M":  # J, or unknown: the score rows below belong to it either way
            self.pending = _PendingJudgement(aspect, number, check=kind == "J")

    def finish_judgement(self) -> None:
        pending, self.pending = self.pending, None
        if pending is None or not pending.check:
            return
        levels = []
        for expected, (number, raw_score, raw_text) in enumerate(pending.score_rows[:4]):
            location = f"row {number}"
            score = _whole(raw_score)
            if _blank(raw_score):
                self.report.add(location, F_SCORE, "is missing; score rows must be 0, 1, 2, 3")
            elif score is None or not 0 <= score <= 3:
                self.report.add(
                    location,
                    F_SCORE,
                    f"must be a whole number from 0 to 3, got {_shown(raw_score)}",
                )
            elif score != expected:
                self.report.add(
                    location,
                    F_SCORE,
                    f"expected score {expected} here (score rows must be 0, 1, 2, 3 in order), "
                    f"got {score}",
                )
            if _blank(raw_text):
                self.report.add(location, F_LEVEL, f"is missing for score {expected}")
            levels.append(_text(raw_text))
        if len(pending.score_rows) != 4:
            self.report.add(
                f"row {pending.row}",
                F_SCORE,
                "a J aspect needs exactly four score rows (0, 1, 2, 3) below it, "
                f"found {len(pending.score_rows)}",
            )
        if pending.aspect is not None:
            pending.aspect.levels = levels


def _read_xlsx(
    report: _Report, content: bytes, sections: dict[int, CompetenceSection] | None
) -> _FileResult:
    try:
        check_xlsx_archive(content)
    except UnsafeWorkbook as exc:
        report.add("", "", exc.localized())
        return _FileResult(report.file, "xlsx")
    try:
        with warnings.catch_warnings():
            # openpyxl warns about spreadsheet features it drops (data validation, styles).
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(content), data_only=True)
    except Exception as exc:  # any failure to open means the file is unreadable
        report.add("", "", f"cannot be read as an XLSX workbook ({type(exc).__name__})")
        return _FileResult(report.file, "xlsx")
    if not workbook.worksheets:
        report.add("", "", "holds no worksheet")
        return _FileResult(report.file, "xlsx")
    # The template's one sheet; an exported workbook also has a "Criteria" sheet after it.
    named = [sheet for sheet in workbook.worksheets if sheet.title == SHEET_TITLE]
    sheet = (named or workbook.worksheets)[0]
    if sheet.max_row > MAX_XLSX_ROWS:
        # iter_rows creates every cell up to max_row: one cell in row 1048576 took a minute
        report.add(
            "",
            "",
            f"has {sheet.max_row} rows; a marking-scheme sheet has at most {MAX_XLSX_ROWS} "
            "(delete the empty rows below the scheme)",
        )
        return _FileResult(report.file, "xlsx")
    rows = list(sheet.iter_rows(min_row=1, max_col=len(XLSX_HEADER), values_only=True))
    result = _XlsxReader(report, sections).read(rows)
    if CRITERIA_SHEET in workbook.sheetnames:
        _read_criterion_names(workbook[CRITERIA_SHEET], result)
    return result


def _read_criterion_names(sheet: Worksheet, result: _FileResult) -> None:
    if sheet.max_row > MAX_XLSX_ROWS:
        return
    rows = list(sheet.iter_rows(min_row=1, max_col=2, values_only=True))
    if not rows or tuple(_text(v) for v in rows[0]) != CRITERIA_HEADER:
        return
    for letter, name in rows[1:]:
        criterion = result.criteria.get(_text(letter).upper())
        if criterion is not None:
            criterion.name = _text(name)


# --------------------------------------------------------------------------- JSON


def _read_json(
    report: _Report,
    content: bytes,
    letter: str,
    sections: dict[int, CompetenceSection] | None,
) -> _FileResult:
    result = _FileResult(report.file, "json")
    try:
        data = json.loads(content.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError:
        report.add("", "", "is not valid JSON (not UTF-8 text)")
        return result
    except (ValueError, RecursionError) as exc:
        report.add("", "", f"is not valid JSON ({exc})")
        return result
    if not isinstance(data, dict):
        report.add("", "", "must hold a JSON object with totalMark, wsosSections, subCriterions")
        return result

    section_names = _json_section_names(report, data.get("wsosSections"))
    raw_subs = data.get("subCriterions")
    if not isinstance(raw_subs, list) or not raw_subs:
        report.add("", "subCriterions", "is missing or empty; it must list the sub-criteria")
        return result

    criterion = CriterionSpec(letter, "", [], report.file, section_names)
    marks_ok = True
    total = Decimal(0)
    for index, raw_sub in enumerate(raw_subs):
        sub, sub_marks_ok, sub_total = _json_sub(report, raw_sub, index, letter, sections)
        marks_ok = marks_ok and sub_marks_ok
        total += sub_total
        if sub is not None:
            criterion.sub_criteria.append(sub)
    result.criteria[letter] = criterion
    result.first_location[letter] = ""

    if "totalMark" in data:
        stated = _decimal(data["totalMark"])
        if stated is None:
            report.add("", "totalMark", f"must be a number, got {_shown(data['totalMark'])}")
        elif marks_ok and stated != total:
            report.add(
                "", "totalMark", f"says {stated} but the aspects' max marks add up to {total}"
            )
    return result


def _json_section_names(report: _Report, raw: Any) -> dict[int, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        report.add("", "wsosSections", "must be an object mapping section numbers to names")
        return {}
    names: dict[int, str] = {}
    for key, name in raw.items():
        number = _whole(key)
        if number is None or number < 1 or not isinstance(name, str) or not name.strip():
            report.add(
                f'wsosSections["{key}"]',
                "wsosSections",
                f"must map a section number to its name, got {_shown(key)}: {_shown(name)}",
            )
            continue
        names[number] = _text(name)
    return names


def _json_sub(
    report: _Report,
    raw: Any,
    index: int,
    letter: str,
    sections: dict[int, CompetenceSection] | None,
) -> tuple[SubCriterionSpec | None, bool, Decimal]:
    location = f"subCriterions[{index}]"
    if not isinstance(raw, dict):
        report.add(location, "", "must be an object with name and aspects")
        return None, False, Decimal(0)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        report.add(location, "name", "is missing")
    # Names such as "A1: CSS Heart Shape" are kept whole; the ID comes from the position.
    sub = SubCriterionSpec(f"{letter}{index + 1}", _text(name), None, [])
    raw_aspects = raw.get("aspects")
    if not isinstance(raw_aspects, list) or not raw_aspects:
        report.add(location, "aspects", f"sub-criterion {sub.id} has no aspects")
        return sub, True, Decimal(0)
    marks_ok = True
    total = Decimal(0)
    for position, raw_aspect in enumerate(raw_aspects):
        aspect, mark = _json_aspect(report, raw_aspect, f"{location}.aspects[{position}]", sections)
        if mark is None:
            marks_ok = False
        else:
            total += mark
        if aspect is not None:
            sub.aspects.append(aspect)
    return sub, marks_ok, total


_JSON_KINDS = {"measurement": "M", "m": "M", "judgement": "J", "judgment": "J", "j": "J"}


def _json_aspect(
    report: _Report,
    raw: Any,
    location: str,
    sections: dict[int, CompetenceSection] | None,
) -> tuple[AspectSpec | None, Decimal | None]:
    if not isinstance(raw, dict):
        report.add(location, "", "must be an object describing one aspect")
        return None, None
    ok = True
    raw_kind = raw.get("type")
    kind = _JSON_KINDS.get(_text(raw_kind).lower()) if isinstance(raw_kind, str) else None
    if kind is None:
        ok = False
        report.add(location, "type", f"must be measurement or judgement, got {_shown(raw_kind)}")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        ok = False
        report.add(location, "description", "is missing")
    section, why = _section(raw.get("wsosSection"), sections)
    if why:
        ok = False
        report.add(location, "wsosSection", why)
    mark, why = _max_mark(raw.get("maxMark"))
    if why:
        ok = False
        report.add(location, "maxMark", why)

    raw_levels = raw.get("judgementScoreDescription")
    levels: list[str] = []
    if kind == "J":
        if not isinstance(raw_levels, list) or len(raw_levels) != 4:
            ok = False
            found = len(raw_levels) if isinstance(raw_levels, list) else "none"
            report.add(
                location,
                "judgementScoreDescription",
                f"a judgement aspect needs exactly 4 level descriptions (scores 0-3), got {found}",
            )
        else:
            for score, text in enumerate(raw_levels):
                if not isinstance(text, str) or not text.strip():
                    ok = False
                    report.add(
                        location,
                        "judgementScoreDescription",
                        f"the level description for score {score} is missing",
                    )
                levels.append(_text(text) if isinstance(text, str) else "")
    elif kind == "M" and isinstance(raw_levels, list) and any(not _blank(t) for t in raw_levels):
        ok = False
        report.add(
            location,
            "judgementScoreDescription",
            "a measurement aspect has no level descriptions; should its type be judgement?",
        )

    calculation = raw.get("calculation")
    if isinstance(calculation, dict):
        calculation = calculation.get("type")
    if not ok or kind is None or section is None or mark is None:
        return None, mark
    return (
        AspectSpec(
            kind=kind,
            description=_text(description),
            extra_description=_text(raw.get("extraDescription")),
            requirement=_text(raw.get("requirement")),
            wsos_section=section,
            max_mark=mark,
            levels=levels,
            calculation=_text(calculation) if isinstance(calculation, str) else "",
            source=location,
        ),
        mark,
    )


# --------------------------------------------------------------------------- whole import


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _file_kind(name: str, content: bytes) -> str | None:
    lowered = name.lower()
    if lowered.endswith(".xlsx"):
        return "xlsx"
    if lowered.endswith(".json"):
        return "json"
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return "json"
    return None


def parse_scheme_files(
    files: list[tuple[str, bytes]], sections: list[CompetenceSection] | None = None
) -> SchemeSpec:
    """Read marking-scheme files (CIS XLSX and/or community JSON) into one scheme.

    A file's type comes from its extension (.xlsx, .json) or, failing that, its content.
    An XLSX sub-criterion ID's letter names its criterion; a JSON file takes the letter of
    its position among all files (first A, second B …) and IDs <letter><n>, n from 1.
    Every problem in every file is collected; if there is any, SchemeImportError lists
    them all. With `sections` given, aspects must use the competence's section numbers,
    and the returned warnings flag sections whose share of the marks is more than 5 points
    off the section weight and JSON section names that differ from the competence's.
    """
    problems: list[Problem] = []
    if not files:
        raise SchemeImportError([Problem("", "", "", "no marking-scheme files were given")])
    allowed = {s.number: s for s in sections} if sections is not None else None

    results: list[_FileResult] = []
    for position, (raw_name, raw_content) in enumerate(files):
        name = _basename(raw_name)
        content = raw_content.encode() if isinstance(raw_content, str) else raw_content
        report = _Report(name, problems)
        kind = _file_kind(name, content)
        if kind == "xlsx":
            results.append(_read_xlsx(report, content, allowed))
        elif kind == "json":
            if position >= _MAX_LETTERS:
                report.add(
                    "",
                    "",
                    "a JSON file takes its criterion letter from its position; "
                    f"only {_MAX_LETTERS} files (A-Z) can be given",
                )
                continue
            results.append(_read_json(report, content, _position_letter(position), allowed))
        else:
            report.add("", "", "is neither an XLSX workbook nor a JSON marking scheme")

    criteria = _merge(results, problems)
    if problems:
        raise SchemeImportError(problems)
    spec = SchemeSpec(sorted(criteria, key=lambda c: _letter_key(c.letter)), [])
    if sections is not None:
        spec.warnings = _weight_warnings(spec, sections) + _name_warnings(spec, sections)
    return spec


def _merge(results: list[_FileResult], problems: list[Problem]) -> list[CriterionSpec]:
    """Collect the criteria of all files; a letter may come from one file only."""
    owner: dict[str, _FileResult] = {}
    for result in results:
        for letter in result.criteria:
            first = owner.get(letter)
            if first is None:
                owner[letter] = result
                continue
            if result.kind == "json":
                how = f"takes criterion letter {letter} from its position"
            else:
                how = f"holds criterion {letter}"
            field_name = F_ID if result.kind == "xlsx" else ""
            problems.append(
                Problem(
                    result.name,
                    result.first_location[letter],
                    field_name,
                    f"{how}, but {first.name} also holds criterion {letter}; "
                    "each criterion must come from exactly one file",
                )
            )
    return [owner[letter].criteria[letter] for letter in owner]


def _weight_warnings(spec: SchemeSpec, sections: list[CompetenceSection]) -> list[Problem]:
    total = spec.max_total
    if total <= 0:
        return []
    marks = spec.marks_by_section()
    found = []
    for section in sorted(sections, key=lambda s: s.number):
        share = marks.get(section.number, Decimal(0)) * 100 / total
        if abs(share - section.weight) > WEIGHT_TOLERANCE:
            found.append(
                Problem(
                    "",
                    "",
                    F_SECTION,
                    f"WSOS section {section.number}: {_fmt2(share)} % of the marks, "
                    f"competence weight {_fmt2(section.weight)} % "
                    f"(differs by more than {WEIGHT_TOLERANCE} points)",
                )
            )
    return found


def _name_warnings(spec: SchemeSpec, sections: list[CompetenceSection]) -> list[Problem]:
    names = {s.number: s.name for s in sections}
    found = []
    for criterion in spec.criteria:
        for number, name in sorted(criterion.section_names.items()):
            theirs = names.get(number)
            if theirs is not None and not _same_name(name, theirs):
                found.append(
                    Problem(
                        criterion.source_file,
                        f'wsosSections["{number}"]',
                        "wsosSections",
                        f'WSOS section {number} is "{name}" here but "{theirs}" in the '
                        "competence (same number, different meaning)",
                    )
                )
    return found


# --------------------------------------------------------------------------- export


def _put(sheet: Worksheet, row: int, column: int, value: Any) -> None:
    if value is None or value == "":
        return
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # text such as "=5 points" must stay text, never become a formula


def _number(value: Decimal) -> int | float:
    # Marks have at most 2 decimals, which a float's shortest form reproduces exactly.
    return int(value) if value == value.to_integral_value() else float(value)


def export_scheme_xlsx(spec: SchemeSpec) -> bytes:
    """Write the scheme as one CIS-template workbook holding all criteria.

    Re-importing the bytes gives an equal SchemeSpec. Criterion names, which the template
    has no column for, go to an extra "Criteria" sheet that the importer reads back.
    """
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    for column, title in enumerate(XLSX_HEADER, start=1):
        _put(sheet, 1, column, title)
        sheet.cell(row=1, column=column).font = Font(bold=True)
    row = 1
    for criterion in spec.criteria:
        for sub in criterion.sub_criteria:
            row += 1
            _put(sheet, row, 1, sub.id)
            _put(sheet, row, 2, sub.name)
            _put(sheet, row, 3, sub.day)
            for aspect in sub.aspects:
                row += 1
                for column, value in (
                    (4, aspect.kind),
                    (5, aspect.description),
                    (7, aspect.extra_description),
                    (8, aspect.requirement),
                    (9, aspect.wsos_section),
                    (10, 1),
                    (11, _number(aspect.max_mark)),
                ):
                    _put(sheet, row, column, value)
                for score, level in enumerate(aspect.levels):
                    row += 1
                    _put(sheet, row, 6, score)
                    _put(sheet, row, 7, level)
                    _put(sheet, row, 9, aspect.wsos_section)
    for letter, width in (("A", 12), ("B", 40), ("D", 10), ("E", 60), ("G", 60), ("H", 30)):
        sheet.column_dimensions[letter].width = width
    for cells in sheet.iter_rows(min_row=2, min_col=5, max_col=8):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"

    if any(criterion.name for criterion in spec.criteria):
        names = workbook.create_sheet(CRITERIA_SHEET)
        names.append(CRITERIA_HEADER)
        for number, criterion in enumerate(spec.criteria, start=2):
            _put(names, number, 1, criterion.letter)
            _put(names, number, 2, criterion.name)

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
