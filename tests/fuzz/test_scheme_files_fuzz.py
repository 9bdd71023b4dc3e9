"""Fuzz the marking-scheme importer (no database): a valid scheme or SchemeImportError.

JSON: arbitrary documents and the fixture files with values replaced, removed or retyped.
XLSX: random bytes, broken archives and XML, and fixture workbooks with cells changed
(openpyxl load → edit → save → import). Every refusal names the file, the row or JSON path
and the field; nothing else may escape.
"""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.scheme_files.parse import parse_scheme_files
from assessments.scheme_files.spec import SchemeImportError
from tests.fuzz.properties import SECTIONS, bounded, check_scheme_files
from tests.fuzz.strategies import (
    fixture_bytes,
    fixture_json,
    scheme_json_documents,
    scheme_xlsx_files,
)

sections = st.sampled_from((None, SECTIONS))


@bounded(200)
@given(document=scheme_json_documents(), sections=sections)
def test_any_json_scheme_is_imported_or_refused_with_its_place(document, sections):
    check_scheme_files([("module.json", document)], sections)


@bounded(60)
@given(workbook=scheme_xlsx_files(), sections=sections)
def test_any_xlsx_scheme_is_imported_or_refused_with_its_place(workbook, sections):
    check_scheme_files([("module.xlsx", workbook)], sections)


@bounded(20)
@given(json_file=scheme_json_documents(), workbook=scheme_xlsx_files())
def test_files_mixed_in_one_import_are_checked_together(json_file, workbook):
    check_scheme_files(
        [("a.json", json_file), ("dir/b.xlsx", workbook), ("c.json", json_file)], SECTIONS
    )


def _json_with(changes) -> bytes:
    document = json.loads(json.dumps(fixture_json("module-a.json")))
    changes(document)
    return json.dumps(document).encode()


def _workbook_with(row: int, column: int, value) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(fixture_bytes("module-a.xlsx")))
    cell = workbook.worksheets[0].cell(row=row, column=column)
    cell.value = value
    cell.data_type = "s" if isinstance(value, str) else cell.data_type
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _with_raw(key: str, text: str) -> bytes:
    """Fixture module A with the first aspect's ``key`` written as the JSON text ``text``."""

    def change(document):
        document["subCriterions"][0]["aspects"][0][key] = "@"

    return _json_with(change).replace(b'"@"', text.encode())


@pytest.mark.parametrize(
    ("files", "field"),
    [
        # found by fuzzing: a max mark beyond Decimal's 28 digits broke quantize()
        (lambda: [("m.json", _with_raw("maxMark", "1E+400"))], "maxMark"),
        (lambda: [("m.json", _with_raw("maxMark", "1" * 40))], "maxMark"),
        (lambda: [("m.xlsx", _workbook_with(3, 11, "1" * 40))], "Max Mark"),
        # 61 decimals were rounded away by the 28-digit context and the mark taken as 1
        (lambda: [("m.json", _with_raw("maxMark", "1." + "0" * 60 + "1"))], "maxMark"),
        # found by fuzzing: a day of marking of more than 4300 digits broke int()
        (lambda: [("m.xlsx", _workbook_with(2, 3, "Day " + "9" * 5000))], "Day of Marking"),
        # int(Decimal("1E+999999")) takes minutes: refused before it
        (lambda: [("m.json", _with_raw("wsosSection", "1E+999999"))], "wsosSection"),
    ],
)
def test_found_by_fuzzing_huge_numbers_are_refused_by_field(files, field):
    with pytest.raises(SchemeImportError) as refused:
        parse_scheme_files(files(), SECTIONS)
    assert [p.field for p in refused.value.problems] == [field]


def test_found_by_review_one_cell_in_the_last_row_is_refused_at_once():
    # openpyxl's iter_rows creates every cell up to the last row: this 6 kB file took 60 s
    workbook = _workbook_with(1_048_576, 11, 1)
    with pytest.raises(SchemeImportError) as refused:
        parse_scheme_files([("m.xlsx", workbook)], SECTIONS)
    assert [str(p) for p in refused.value.problems] == [
        "m.xlsx: has 1048576 rows; a marking-scheme sheet has at most 10000 "
        "(delete the empty rows below the scheme)"
    ]
