"""The shared CSV/XLSX reader behind every import (assessments.tabular)."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from assessments.tabular import Problem, Rejected, TableError, read_table


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def lines(exc: pytest.ExceptionInfo[Rejected]) -> list[str]:
    return exc.value.lines()


def test_csv_with_bom_semicolons_and_mixed_case_headers():
    data = "\ufeffCode ; Name_KK;extra\r\nC01;Алматы колледжі;x\r\n\r\nC02;Екінші;y\r\n".encode()
    rows = read_table("colleges.csv", data, {"code", "name_kk"}, {"name_ru"})
    assert [(r.number, r.values) for r in rows] == [
        (2, {"code": "C01", "name_kk": "Алматы колледжі"}),
        # the empty line is row 3: numbers stay the spreadsheet's
        (4, {"code": "C02", "name_kk": "Екінші"}),
    ]
    assert rows[0].get("name_ru") == ""


def test_csv_with_commas_and_quoted_cells():
    data = b'code,competences\nALM-01,"17, 39"\n'
    rows = read_table("centres.csv", data, {"code"}, {"competences"})
    assert rows[0].values == {"code": "ALM-01", "competences": "17, 39"}


def test_row_numbers_count_records_not_lines():
    data = b'code,name_kk\nC01,"two\nlines"\nC02,next\n'
    rows = read_table("f.csv", data, {"code", "name_kk"})
    assert [r.number for r in rows] == [2, 3]


def test_xlsx_numbers_dates_and_blank_rows():
    data = xlsx(
        [
            ["IIN", "Weight", "Day", "Name"],
            [40517601233, 12.5, datetime(2025, 6, 1), "  Әлия  "],
            [None, None, None, None],
            ["040517601233", 100.0, None, "Б"],
        ]
    )
    rows = read_table("f.xlsx", data, {"iin", "weight"}, {"day", "name"})
    assert rows[0].number == 2
    # a number cell loses Excel's leading zero: the IIN validator says so, the reader does not guess
    assert rows[0].values == {
        "iin": "40517601233",
        "weight": "12.5",
        "day": "2025-06-01",
        "name": "Әлия",
    }
    assert rows[1].number == 4
    assert rows[1].values["weight"] == "100"


def test_missing_required_columns_are_named_on_row_1():
    with pytest.raises(TableError) as exc:
        read_table("students.csv", b"iin,first_name\n1,2\n", {"iin", "last_name", "college_code"})
    assert lines(exc) == [
        "students.csv:1: college_code: required column is missing",
        "students.csv:1: last_name: required column is missing",
    ]


def test_repeated_known_column_is_refused():
    with pytest.raises(TableError) as exc:
        read_table("f.csv", b"code,code,name_kk\n", {"code", "name_kk"})
    assert lines(exc) == ["f.csv:1: code: the column appears more than once"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "is empty; the first row must name the columns"),
        ("latin1.csv", "code;name_kk\nC;Ménard\n".encode("latin-1"), "is not UTF-8 text"),
        ("cp1251.csv", "code;name_kk\nC;Алматы\n".encode("cp1251"), "is not UTF-8 text"),
        ("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "is an old Excel 97-2003 file"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "cannot be read as an XLSX workbook"),
        ("named.xlsx", b"code,name_kk\n", "cannot be read as an XLSX workbook"),
    ],
)
def test_unreadable_files_name_the_file(name, data, message):
    with pytest.raises(TableError) as exc:
        read_table(name, data, {"code", "name_kk"})
    (line,) = lines(exc)
    assert line.startswith(f"{name}: {message}")


def test_problem_format_leaves_out_unknown_parts():
    assert Problem(3, "iin", "is required").format("f.csv") == "f.csv:3: iin: is required"
    assert Problem(None, None, "is empty").format("f.csv") == "f.csv: is empty"
    assert Problem(None, "weight", "sum %(t)s", {"t": "95"}).format() == "weight: sum 95"


def test_rejected_keeps_the_order_within_a_row():
    problems = [
        Problem(5, "iin", "a"),
        Problem(2, "last_name", "b"),
        Problem(2, "college_code", "c"),
        Problem(None, None, "d"),
    ]
    assert Rejected(problems, "f.csv").lines() == [
        "f.csv: d",
        "f.csv:2: last_name: b",
        "f.csv:2: college_code: c",
        "f.csv:5: iin: a",
    ]
