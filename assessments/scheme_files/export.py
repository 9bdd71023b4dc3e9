"""Write a ``SchemeSpec`` as one CIS-template workbook that re-imports whole."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from app.spreadsheets import set_cell
from assessments.scheme_files.spec import SchemeSpec
from assessments.scheme_files.xlsx import CRITERIA_HEADER, CRITERIA_SHEET, SHEET_TITLE, XLSX_HEADER


def _put(sheet: Worksheet, row: int, column: int, value: Any) -> None:
    if value is None or value == "":
        return
    # text such as "=5 points" must stay text, never become a formula
    set_cell(sheet.cell(row=row, column=column), value)


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
