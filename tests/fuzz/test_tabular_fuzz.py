"""Fuzz the CSV/XLSX table reader of every import (no database): rows, or TableError.

Tables with the importers' columns (dropped, doubled, reordered, renamed), written as CSV
with any delimiter, line end, quoting, BOM and encoding, as XLSX (cells of any type, XML
parts damaged), or as random bytes. The marks import's fast CSV path must read exactly
what the general reader reads.
"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from hypothesis import given

from assessments.services.candidates.records import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from assessments.services.marks import bulk_import
from assessments.services.reference.rules import COLUMNS
from assessments.tabular import Rejected, TableError, read_table
from tests.fuzz.properties import (
    IMPORT_IINS,
    bounded,
    candidate_files,
    check_read_table,
    mark_files,
    reference_files,
)

CANDIDATE_FILES = candidate_files()
MARK_FILES = mark_files()


@bounded(150)
@given(CANDIDATE_FILES)
def test_any_candidate_table_is_read_or_refused_naming_the_file(file):
    filename, data = file
    check_read_table(filename, data, REQUIRED_COLUMNS, OPTIONAL_COLUMNS)


@bounded(50)
@given(reference_files("centres", ["17"]))
def test_any_reference_table_is_read_or_refused_naming_the_file(file):
    filename, data = file
    for required, optional in COLUMNS.values():
        check_read_table(filename, data, required, optional)


@bounded(150)
@given(MARK_FILES)
def test_the_fast_marks_reader_reads_what_the_table_reader_reads(file):
    filename, data = file
    check_read_table(filename, data, bulk_import.IMPORT_COLUMNS, bulk_import.IMPORT_OPTIONAL)
    try:
        general = read_table(
            filename, data, bulk_import.IMPORT_COLUMNS, bulk_import.IMPORT_OPTIONAL
        )
    except Rejected:
        general = None
    try:
        fast = bulk_import.read_import_table(filename, data)
    except Rejected:
        fast = None
    assert fast == general


@pytest.mark.parametrize(
    "data",
    [
        b"iin,aspect\rjudge,score\n",  # found by schemathesis: a lone CR in the header line
        b'"iin,aspect,judge,score\n',
        b"iin;aspect;judge;score\r\n1;A1.1;;1\r\n",
    ],
)
def test_found_by_fuzzing_header_lines_the_delimiter_sniffer_choked_on(data):
    check_read_table("marks.csv", data, bulk_import.IMPORT_COLUMNS, bulk_import.IMPORT_OPTIONAL)
    bulk_import.read_import_table("marks.csv", data) if data.count(b"\n") > 1 else None


def _workbook_xml_changed(change) -> bytes:
    """A marks workbook whose first sheet's XML went through ``change`` (bytes → bytes)."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["iin", "aspect", "judge", "score"])
    workbook.active.append([IMPORT_IINS[0], "A1.1", None, 7])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as original:
        parts = [(info.filename, original.read(info)) for info in original.infolist()]
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        for name, data in parts:
            archive.writestr(name, change(data) if name == "xl/worksheets/sheet1.xml" else data)
    return damaged.getvalue()


@pytest.mark.parametrize(
    "change",
    [
        lambda xml: xml.replace(b"<v>7</v>", b"<v>7eStr</v>"),  # not a number
        lambda xml: xml[: xml.index(b"<row", xml.index(b"<row") + 1)],  # cut mid-sheet
        lambda xml: xml.replace(b'<row r="2"', b'<row r="r"'),  # not a row number
        lambda xml: xml.replace(b'r="D2"', b'r="2"'),  # a reference without its column
    ],
)
def test_found_by_fuzzing_a_damaged_sheet_is_refused_not_raised(change):
    # read-only openpyxl parses the sheet while iterating, after the load had succeeded
    data = _workbook_xml_changed(change)
    with pytest.raises(TableError) as refused:
        read_table("marks.xlsx", data, bulk_import.IMPORT_COLUMNS)
    assert refused.value.lines() == [
        "marks.xlsx:2: cannot be read as an XLSX workbook; save it again from Excel"
    ]
