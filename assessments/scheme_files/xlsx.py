"""The CIS import template (one sheet, columns A…K) and its reader.

A state machine walks the rows: a sub-criterion row (ID, name, day), its aspect rows (M or
J) and, below a J aspect, four score rows 0-3 with their level descriptions.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from app.messages import N_
from assessments.scheme_files.cells import (
    FileResult,
    Report,
    clean_text,
    is_blank,
    read_max_mark,
    read_section,
    shown,
    whole_number,
)
from assessments.scheme_files.spec import (
    AspectSpec,
    CompetenceSection,
    CriterionSpec,
    SubCriterionSpec,
)
from assessments.xlsx_guard import UnsafeWorkbook, check_xlsx_archive

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
_DAY_TEXT_RE = re.compile(r"(?:C|DAY)?\s*([0-9]+)", re.IGNORECASE)


@dataclass
class _PendingJudgement:
    """The score rows collected below a J (or unreadable-type) aspect row."""

    aspect: AspectSpec | None  # None when the aspect row itself has problems
    row: int
    check: bool  # False below an aspect of unknown type: take its score rows, judge nothing
    score_rows: list[tuple[int, Any, Any]] = field(default_factory=list)


class _XlsxReader:
    """Walk the rows of a CIS template sheet, one state machine step per row."""

    def __init__(self, report: Report, sections: dict[int, CompetenceSection] | None) -> None:
        self.report = report
        self.sections = sections
        self.result = FileResult(report.file, "xlsx")
        self.ids: dict[str, int] = {}
        self.sub: SubCriterionSpec | None = None
        self.sub_row = 0
        self.sub_aspect_rows = 0
        self.pending: _PendingJudgement | None = None
        self.problems_before = len(report.problems)

    def read(self, rows: list[tuple[Any, ...]]) -> FileResult:
        if rows and (
            _ID_RE.fullmatch(clean_text(rows[0][0]).upper())
            or clean_text(rows[0][3]).upper() in ("M", "J")
        ):
            self.report.add(
                1, "", N_("must be the header row of the CIS template, but it holds data")
            )
        for number, row in enumerate(rows[1:], start=2):
            if all(is_blank(v) for v in row):
                continue
            self.row(number, row)
        self.finish_judgement()
        self.finish_sub()
        if not self.result.criteria and len(self.report.problems) == self.problems_before:
            self.report.add("", "", N_("the file holds no sub-criteria"))
        return self.result

    def row(self, number: int, row: tuple[Any, ...]) -> None:
        sub_id, name, day, kind, description, score, extra, _req, section, _calc, mark = row
        pending = self.pending
        if (
            is_blank(sub_id)
            and is_blank(kind)
            and (
                not is_blank(score)
                or (pending and not is_blank(extra) and len(pending.score_rows) < 4)
            )
        ):
            if pending is None:
                self.report.add(
                    number, F_SCORE, N_("a judgement score row must follow a J aspect row")
                )
            else:
                pending.score_rows.append((number, score, extra))
            return
        self.finish_judgement()
        if not is_blank(sub_id):
            self.start_sub(number, sub_id, name, day)
            if is_blank(kind):
                return
        if not is_blank(kind):
            self.aspect(number, row)
        elif not is_blank(description) or not is_blank(mark) or not is_blank(section):
            self.sub_aspect_rows += 1
            self.report.add(number, F_TYPE, N_("is missing; it must be M or J"))
        elif not is_blank(name) or not is_blank(day):
            self.report.add(number, F_ID, N_("is missing on this sub-criterion row"))
        else:
            self.report.add(
                number,
                F_TYPE,
                N_("is missing; the row has data but no sub-criterion ID, aspect type or score"),
            )

    def start_sub(self, number: int, raw_id: Any, raw_name: Any, raw_day: Any) -> None:
        self.finish_sub()
        location = number
        sub_id = clean_text(raw_id).upper()
        match = _ID_RE.fullmatch(sub_id)
        name = clean_text(raw_name)
        day = None
        if not name:
            self.report.add(location, F_NAME, N_("is missing"))
        if not is_blank(raw_day):
            # A whole number; "C1"/"Day 1" (WorldSkills competition day) is read as 1.
            if isinstance(raw_day, str):
                found = _DAY_TEXT_RE.fullmatch(raw_day.strip())
                day = whole_number(found.group(1)) if found else None
            else:
                day = whole_number(raw_day)
            if day is None or day < 1:
                day = None
                self.report.add(
                    location,
                    F_DAY,
                    N_("must be a whole number, got %(value)s"),
                    value=shown(raw_day),
                )
        self.sub = SubCriterionSpec(id=sub_id, name=name, day=day, aspects=[])
        self.sub_row = number
        self.sub_aspect_rows = 0
        if not match:
            self.report.add(
                location,
                F_ID,
                N_("must be a letter followed by a number, e.g. C4; got %(value)s"),
                value=shown(raw_id),
            )
            return
        if sub_id in self.ids:
            self.report.add(
                location,
                F_ID,
                N_("duplicate sub-criterion ID %(id)s (also at row %(other)s)"),
                id=sub_id,
                other=self.ids[sub_id],
            )
            return
        self.ids[sub_id] = number
        letter = match.group(1)
        criterion = self.result.criteria.get(letter)
        if criterion is None:
            criterion = CriterionSpec(letter, "", [], self.report.file, {})
            self.result.criteria[letter] = criterion
            self.result.first_location[letter] = f"row {location}"
        criterion.sub_criteria.append(self.sub)

    def finish_sub(self) -> None:
        if self.sub is not None and self.sub_aspect_rows == 0:
            self.report.add(
                self.sub_row, F_ID, N_("sub-criterion %(id)s has no aspects"), id=self.sub.id
            )
        self.sub = None

    def aspect(self, number: int, row: tuple[Any, ...]) -> None:
        raw_kind, description, _score, extra, req, raw_section, _calc, raw_mark = row[3:]
        location = number
        kind = clean_text(raw_kind).upper()
        ok = True
        if self.sub is None:
            ok = False
            self.report.add(location, F_ID, N_("aspect row comes before any sub-criterion row"))
        else:
            self.sub_aspect_rows += 1
        if kind not in ("M", "J"):
            ok = False
            self.report.add(
                location,
                F_TYPE,
                N_("must be M (measurement) or J (judgement), got %(value)s"),
                value=shown(raw_kind),
            )
        if is_blank(description):
            ok = False
            self.report.add(location, F_DESCRIPTION, N_("is missing"))
        section, why = read_section(raw_section, self.sections)
        if why:
            ok = False
            self.report.add(location, F_SECTION, why[0], **why[1])
        mark, why = read_max_mark(raw_mark)
        if why:
            ok = False
            self.report.add(location, F_MAX, why[0], **why[1])
        aspect = None
        if ok and self.sub is not None and section is not None and mark is not None:
            aspect = AspectSpec(
                kind=kind,
                description=clean_text(description),
                extra_description=clean_text(extra),
                requirement=clean_text(req),
                wsos_section=section,
                max_mark=mark,
                levels=[],
                calculation="",
                source=f"row {location}",
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
            location = number
            score = whole_number(raw_score)
            if is_blank(raw_score):
                self.report.add(location, F_SCORE, N_("is missing; score rows must be 0, 1, 2, 3"))
            elif score is None or not 0 <= score <= 3:
                self.report.add(
                    location,
                    F_SCORE,
                    N_("must be a whole number from 0 to 3, got %(value)s"),
                    value=shown(raw_score),
                )
            elif score != expected:
                self.report.add(
                    location,
                    F_SCORE,
                    N_(
                        "expected score %(expected)s here (score rows must be 0, 1, 2, 3 "
                        "in order), got %(score)s"
                    ),
                    expected=expected,
                    score=score,
                )
            if is_blank(raw_text):
                self.report.add(
                    location, F_LEVEL, N_("is missing for score %(score)s"), score=expected
                )
            levels.append(clean_text(raw_text))
        if len(pending.score_rows) != 4:
            self.report.add(
                pending.row,
                F_SCORE,
                N_(
                    "a J aspect needs exactly four score rows (0, 1, 2, 3) below it, "
                    "found %(found)s"
                ),
                found=len(pending.score_rows),
            )
        if pending.aspect is not None:
            pending.aspect.levels = levels


def read_xlsx(
    report: Report, content: bytes, sections: dict[int, CompetenceSection] | None
) -> FileResult:
    try:
        check_xlsx_archive(content)
    except UnsafeWorkbook as exc:
        report.add("", "", exc.message, **exc.params)
        return FileResult(report.file, "xlsx")
    try:
        with warnings.catch_warnings():
            # openpyxl warns about spreadsheet features it drops (data validation, styles).
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(content), data_only=True)
    except Exception as exc:  # any failure to open means the file is unreadable
        report.add(
            "",
            "",
            N_("cannot be read as an XLSX workbook (%(reason)s); save it again as .xlsx"),
            reason=type(exc).__name__,
        )
        return FileResult(report.file, "xlsx")
    if not workbook.worksheets:
        report.add("", "", N_("holds no worksheet"))
        return FileResult(report.file, "xlsx")
    # The template's one sheet; an exported workbook also has a "Criteria" sheet after it.
    named = [sheet for sheet in workbook.worksheets if sheet.title == SHEET_TITLE]
    sheet = (named or workbook.worksheets)[0]
    if sheet.max_row > MAX_XLSX_ROWS:
        # iter_rows creates every cell up to max_row: one cell in row 1048576 took a minute
        report.add(
            "",
            "",
            N_(
                "has %(rows)s rows; a marking-scheme sheet has at most %(limit)s "
                "(delete the empty rows below the scheme)"
            ),
            rows=sheet.max_row,
            limit=MAX_XLSX_ROWS,
        )
        return FileResult(report.file, "xlsx")
    rows = list(sheet.iter_rows(min_row=1, max_col=len(XLSX_HEADER), values_only=True))
    result = _XlsxReader(report, sections).read(rows)
    if CRITERIA_SHEET in workbook.sheetnames:
        _read_criterion_names(workbook[CRITERIA_SHEET], result)
    return result


def _read_criterion_names(sheet: Worksheet, result: FileResult) -> None:
    if sheet.max_row > MAX_XLSX_ROWS:
        return
    rows = list(sheet.iter_rows(min_row=1, max_col=2, values_only=True))
    if not rows or tuple(clean_text(v) for v in rows[0]) != CRITERIA_HEADER:
        return
    for letter, name in rows[1:]:
        criterion = result.criteria.get(clean_text(letter).upper())
        if criterion is not None:
            criterion.name = clean_text(name)
