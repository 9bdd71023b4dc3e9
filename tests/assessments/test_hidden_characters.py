"""Imports refuse control characters and text-direction overrides (issue 10, item 6)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assessments.models import Candidate, College
from assessments.services.candidates import importing as candidates
from assessments.services.reference import importing as reference
from assessments.tabular import Rejected
from tests.assessments.test_reference_tabular import xlsx
from tests.factories import CollegeFactory, iin_for

HIDDEN = [
    ("\u202e", "U+202E"),  # right-to-left override: "‮txt.exe" shows as "exe.txt"
    ("\u202a", "U+202A"),
    ("\u2066", "U+2066"),
    ("\u2069", "U+2069"),
    ("\x07", "U+0007"),
    ("\x1b", "U+001B"),
    ("\x7f", "U+007F"),
    ("\x85", "U+0085"),
    ("\x00", "U+0000"),
]


def message(code: str) -> str:
    return (
        f"contains an invisible control or text-direction character ({code}); type the value again"
    )


@pytest.mark.parametrize(("char", "code"), HIDDEN[:8])  # NUL makes the CSV not a text file
def test_reference_import_names_file_row_and_field(session, char, code):
    data = f"code,name_kk,city\nC01,Колледж,Алматы\nC02,Екі{char}нші,Алматы\n".encode()
    with pytest.raises(Rejected) as exc:
        reference.import_reference(session, "colleges", "colleges.csv", data)
    assert exc.value.lines() == [f"colleges.csv:3: name_kk: {message(code)}"]
    assert session.scalar(select(func.count()).select_from(College)) == 0


# an XLSX file cannot hold C0 control characters at all (openpyxl will not write them)
@pytest.mark.parametrize(("char", "code"), [h for h in HIDDEN if ord(h[0]) >= 0x7F])
def test_xlsx_cells_are_checked_too(session, char, code):
    data = xlsx([["code", "name_kk", "city"], ["C01", "Колледж", f"Алма{char}ты"]])
    with pytest.raises(Rejected) as exc:
        reference.import_reference(session, "colleges", "colleges.xlsx", data)
    assert exc.value.lines() == [f"colleges.xlsx:2: city: {message(code)}"]


def test_tabs_and_line_breaks_inside_a_cell_become_spaces(session):
    data = 'code,name_kk,city\nC01,"Бірінші\nколледж",Ал\tматы\n'.encode()
    reference.import_reference(session, "colleges", "colleges.csv", data)
    college = session.scalar(select(College).where(College.code == "C01"))
    assert (college.name_kk, college.city) == ("Бірінші колледж", "Ал маты")


def test_candidate_import_refuses_a_text_direction_override(session):
    CollegeFactory(code="C01")
    data = (
        "iin,last_name,first_name,middle_name,college_code,specialty,email\n"
        f"{iin_for(41)},Омаров,Ерлан,,C01,Веб,\n"
        f"{iin_for(42)},Сейт\u202eқали,Әйгерім,,C01,Веб\u2067әзірлеу,\n"
    ).encode()
    with pytest.raises(Rejected) as exc:
        candidates.import_candidates(session, "students.csv", data)
    assert exc.value.lines() == [
        f"students.csv:3: last_name: {message('U+202E')}",
        f"students.csv:3: specialty: {message('U+2067')}",
    ]
    assert session.scalar(select(func.count()).select_from(Candidate)) == 0


def test_the_message_is_translated(app, session):
    from flask_babel import force_locale

    data = "code,name_kk,city\nC01,Екі\u202eнші,Алматы\n".encode()
    with pytest.raises(Rejected) as exc:
        reference.import_reference(session, "colleges", "colleges.csv", data)
    [problem] = exc.value.problems
    with app.test_request_context(), force_locale("ru"):
        assert "U+202E" in problem.translated() and "невидим" in problem.translated()
    with app.test_request_context(), force_locale("kk"):
        assert "U+202E" in problem.translated() and "көрінбейтін" in problem.translated()
