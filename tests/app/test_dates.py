"""Dates are typed and shown as dd.mm.yyyy whatever the browser's locale (app/dates.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.dates import date_text, parse_date
from assessments.models import Exam
from tests.assessments.test_exams import World


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25.05.2026", date(2026, 5, 25)),
        (" 5.6.2026 ", date(2026, 6, 5)),
        ("05/06/2026", date(2026, 6, 5)),  # day first, as in Kazakhstan, never month first
        ("2026-06-05", date(2026, 6, 5)),  # addresses saved before keep working
        ("29.02.2028", date(2028, 2, 29)),
    ],
)
def test_parse_date_reads_day_first(text, expected):
    assert parse_date(text) == expected
    assert parse_date(date_text(expected)) == expected


@pytest.mark.parametrize(
    "text", ["", "31.02.2026", "29.02.2027", "13.13.2026", "2026/06/05", "25.05.26", "завтра"]
)
def test_parse_date_refuses_what_is_not_a_day(text):
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.fixture
def world(session):
    return World(session)


def _exam_form(world, **overrides):
    data = {
        "centre_id": world.centre.id,
        "competence_id": world.competence.id,
        "scheme_id": world.scheme.id,
        "start": "01.06.2026",
        "end": "03.06.2026",
        "chief_id": world.chief.id,
    }
    return data | overrides


def _exams(session) -> int:
    return session.scalar(select(func.count()).select_from(Exam))


def test_an_exam_is_planned_with_dates_typed_day_first(sign_in, client, session, world):
    sign_in(world.admin, lang="kk")
    page = client.get("/exams/new").get_data(as_text=True)
    assert 'type="date"' not in page and 'placeholder="кк.аа.жжжж"' in page
    response = client.post("/exams/new", data=_exam_form(world))
    assert response.status_code == 302
    exam = session.scalars(select(Exam)).one()
    assert (exam.start_date, exam.end_date) == (date(2026, 6, 1), date(2026, 6, 3))


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("kk", "Күнді кк.аа.жжжж түрінде жазыңыз, мысалы 25.05.2026."),
        ("ru", "Введите дату в виде дд.мм.гггг, например 25.05.2026."),
        ("en", "Enter the date as dd.mm.yyyy, for example 25.05.2026."),
    ],
)
def test_a_bad_date_is_a_translated_error_and_nothing_is_saved(
    sign_in, client, session, world, lang, message
):
    sign_in(world.admin, lang=lang)
    before = _exams(session)
    response = client.post("/exams/new", data=_exam_form(world, start="31.02.2026"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="31.02.2026"' in page  # what was typed stays, to be corrected
    assert _exams(session) == before


def test_report_dates_are_day_first_with_a_translated_error(sign_in, client):
    sign_in("admin", lang="ru")
    page = client.get("/reports", query_string={"kind": "dates", "from": "2025-01-10"})
    html = page.get_data(as_text=True)
    assert 'type="date"' not in html and 'value="10.01.2025"' in html
    bad = client.get("/reports", query_string={"kind": "dates", "from": "31.02.2025"})
    html = bad.get_data(as_text=True)
    assert "С (дата): введите дату в виде дд.мм.гггг, например 25.05.2026." in html
