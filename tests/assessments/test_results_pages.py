"""Result pages, staff downloads and PDF links: who may see what, and what they show."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from assessments.models import ExamExpert
from assessments.services.results import compute_results
from tests.assessments.test_results import (
    FULL_MARKS,
    HAND_EXAMPLE,
    build_exam,
    enrol,
    give,
    iin_of,
)
from tests.factories import UserFactory


@pytest.fixture
def finished(session):
    """A finalised exam: chief expert, one expert, three present candidates and one absent."""
    setup = build_exam(session)
    setup.exam.chief_expert = UserFactory(role="chief_expert", name="Гүлнар Бас сарапшы")
    expert = UserFactory(role="expert", name="Ерлан Сарапшы")
    session.add(ExamExpert(exam_id=setup.exam.id, user_id=expert.id))
    enrol(session, setup, "a", "Абаев", "Нұр")
    enrol(session, setup, "b", "Әлиева", "Гүлнұр")
    enrol(session, setup, "c", "Бекова", "Ая")
    enrol(session, setup, "gone", "Омаров", "Бауыржан", attendance="absent")
    give(session, setup, "a", HAND_EXAMPLE)
    give(session, setup, "b", FULL_MARKS)
    give(session, setup, "c", {"A1.1": "1.00", "A1.2": "0.25", "B1.1": (0, 1, 1)})
    compute_results(session, setup.exam)
    setup.expert = expert
    return setup


def url(setup, tail: str = "") -> str:
    return f"/exams/{setup.exam.id}{tail}"


def text_of(response) -> str:
    """The page's visible text with tags removed and whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- who may see an exam's results ----------------------------------------------------------


def person(setup, who: str):
    if who == "admin":
        return UserFactory(role="admin")
    if who == "own_manager":
        return UserFactory(role="centre_manager", centre_id=setup.exam.centre_id)
    if who == "other_manager":
        from tests.factories import CentreFactory

        return UserFactory(role="centre_manager", centre_id=CentreFactory().id)
    if who == "own_chief":
        return setup.exam.chief_expert
    if who == "other_chief":
        return UserFactory(role="chief_expert")
    if who == "expert":
        return setup.expert
    raise AssertionError(who)


PAGES = [
    "/results",
    "/results/{a}",
    "/results/download/csv",
    "/results/download/xlsx",
    "/protocol.pdf",
]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("own_manager", 200),
        ("own_chief", 200),
        # another centre's exam: the same 404 as an exam that does not exist
        ("other_manager", 404),
        ("other_chief", 404),
        ("expert", 403),  # results are for the office; experts enter marks
    ],
)
def test_result_pages_are_scoped_to_the_exam(sign_in, client, finished, who, status):
    sign_in(person(finished, who))
    for page in PAGES:
        path = url(finished, page.format(a=finished.enrolments["a"].id))
        assert client.get(path).status_code == status, path


@pytest.mark.parametrize(
    ("who", "status"),
    [("expert", 200), ("own_chief", 200), ("other_chief", 404), ("other_manager", 404)],
)
def test_blank_forms_for_the_exams_own_people(sign_in, client, finished, who, status):
    sign_in(person(finished, who))
    assert client.get(url(finished, "/marking-forms.pdf?sub=A1")).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(client, finished):
    response = client.get(url(finished, "/results"))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- the exam's results page ------------------------------------------------------------


def test_exam_page_ranks_with_localised_numbers_and_charts(sign_in, client, finished):
    sign_in(UserFactory(role="admin"))
    response = client.get(url(finished, "/results?lang=kk"))
    assert response.status_code == 200
    text = text_of(response)
    # rank order, the absent candidate has no row
    order = [text.index(name) for name in ("Әлиева Гүлнұр", "Абаев Нұр", "Бекова Ая")]
    assert order == sorted(order)
    assert "Омаров" not in text
    assert "3,92" in text and "78,33" in text and "3.92" not in text
    html = response.get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') == 2
    assert "<script" not in html.split("<body", 1)[1].replace("<script src=", "")


def test_exam_page_in_english_uses_a_decimal_point(sign_in, client, finished):
    sign_in(UserFactory(role="admin"))
    text = text_of(client.get(url(finished, "/results?lang=en")))
    assert "3.92" in text and "78.33" in text
    assert "no IIN" in text  # the page says the staff downloads carry no IIN


def test_exam_page_before_finalisation(sign_in, client, session):
    setup = build_exam(session, status="marking")
    enrol(session, setup, "a", "Абаев", "Нұр")
    sign_in(UserFactory(role="admin"))
    response = client.get(url(setup, "/results?lang=en"))
    assert response.status_code == 200
    text = text_of(response)
    assert "when the chief expert finalises the exam" in text
    assert "Blank marking forms" in text
    assert "/results/download/csv" not in response.get_data(as_text=True)


def test_reopened_exam_shows_the_stored_results_with_a_warning(sign_in, client, finished, session):
    finished.exam.status = "marking"
    session.flush()
    sign_in(UserFactory(role="admin"))
    text = text_of(client.get(url(finished, "/results?lang=en")))
    assert "reopened for correction" in text
    assert "Әлиева Гүлнұр" in text


# --- a candidate's page -----------------------------------------------------------------


def test_candidate_page(sign_in, client, finished):
    sign_in(UserFactory(role="admin"))
    response = client.get(url(finished, f"/results/{finished.enrolments['a'].id}?lang=ru"))
    assert response.status_code == 200
    text = text_of(response)
    assert "Абаев Нұр" in text
    for figure in ("3,92", "5,00", "78,33"):
        assert figure in text
    html = response.get_data(as_text=True)
    # both charts carry an accessible title and a description stating every value
    assert html.count('role="img"') == 2
    assert re.search(r'<desc id="candidate-crit-desc">[^<]*A\. Модуль A: 1,50[^<]*2,42', html)
    assert "Раздел 1" in html  # WSOS section names in the page's language
    assert iin_of(finished.enrolments["a"]) not in html


def test_candidate_page_of_an_absent_candidate(sign_in, client, finished):
    sign_in(UserFactory(role="admin"))
    response = client.get(url(finished, f"/results/{finished.enrolments['gone'].id}?lang=en"))
    assert response.status_code == 200
    assert "No result: the candidate was not present (absent)" in text_of(response)


def test_candidate_of_another_exam_is_not_found(sign_in, client, finished, session):
    other = build_exam(session)
    stranger = enrol(session, other, "x", "Сейітов", "Ілияс")
    sign_in(UserFactory(role="admin"))
    assert client.get(url(finished, f"/results/{stranger.id}")).status_code == 404


# --- downloads --------------------------------------------------------------------------


def test_csv_download_has_no_iin(sign_in, client, finished):
    sign_in(UserFactory(role="centre_manager", centre_id=finished.exam.centre_id))
    response = client.get(url(finished, "/results/download/csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    header = body.splitlines()[0]
    assert header == (
        "last_name,first_name,total,max_total,percent,grade,passed,"
        "crit_A,crit_B,wsos_1,wsos_2,wsos_3"
    )
    assert body.splitlines()[1] == "Әлиева,Гүлнұр,5.00,5.00,100.00,5,true,1.75,3.25,2.50,2.50,0.00"
    for key in ("a", "b", "c"):
        assert iin_of(finished.enrolments[key]) not in body


def test_xlsx_download_has_no_iin(sign_in, client, finished):
    sign_in(UserFactory(role="admin"))
    response = client.get(url(finished, "/results/download/xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("last_name", "first_name", "total")
    assert rows[1][:3] == ("Әлиева", "Гүлнұр", 5)


def test_unknown_download_format_is_not_found(sign_in, client, finished):
    sign_in(UserFactory(role="admin"))
    assert client.get(url(finished, "/results/download/json")).status_code == 404


@pytest.mark.parametrize("page", ["/results/download/csv", "/protocol.pdf"])
def test_downloads_wait_for_finalisation(sign_in, client, finished, session, page):
    finished.exam.status = "marking"
    session.flush()
    sign_in(UserFactory(role="admin"))
    response = client.get(url(finished, page))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(finished, "/results"))


def test_pdf_downloads(sign_in, client, finished):
    sign_in(finished.exam.chief_expert)
    for page in ("/protocol.pdf", "/marking-forms.pdf", "/marking-forms.pdf?sub=b1"):
        response = client.get(url(finished, page))
        assert response.status_code == 200, page
        assert response.mimetype == "application/pdf"
        assert response.get_data().startswith(b"%PDF-")
    assert client.get(url(finished, "/marking-forms.pdf?sub=Z9")).status_code == 404


# --- the export with IINs (administrators, from the page) ---------------------------------


def test_administrator_downloads_the_results_with_iins_logged_and_not_cached(
    sign_in, client, finished, session
):
    from sqlalchemy import select

    from assessments.models import CandidateAccess

    admin = UserFactory(role="admin")
    sign_in(admin)
    page = client.get(url(finished, "/results"))
    html = page.get_data(as_text=True)
    action = url(finished, "/results/export-with-iin")
    assert f'action="{action}"' in html and 'value="xlsx"' in html
    assert "flask results export" not in html
    response = client.post(action, data={"format": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert "with-iin" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.splitlines()[0].startswith("iin,last_name,first_name,total")
    for key in ("a", "b", "c"):
        iin = iin_of(finished.enrolments[key])
        assert iin in body
        assert iin not in html and iin not in action  # never on the page nor in a URL
    logged = session.scalars(
        select(CandidateAccess).where(CandidateAccess.user_id == admin.id)
    ).all()
    assert sorted(entry.candidate_id for entry in logged) == sorted(
        finished.enrolments[key].candidate_id for key in ("a", "b", "c")
    )
    assert {entry.action for entry in logged} == {"export"}
    xlsx = client.post(action, data={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True).active
    assert next(sheet.iter_rows(values_only=True))[:2] == ("iin", "last_name")


def test_export_with_iins_is_a_post_with_a_known_format(sign_in, client, finished):
    sign_in(UserFactory(role="admin"))
    action = url(finished, "/results/export-with-iin")
    assert client.get(action).status_code == 405
    assert client.post(action, data={"format": "json"}).status_code == 400
    assert client.post(action).status_code == 400


@pytest.mark.parametrize("who", ["own_manager", "own_chief"])
def test_staff_without_personal_data_rights_get_no_iin_export(sign_in, client, finished, who):
    sign_in(person(finished, who))
    text = text_of(client.get(url(finished, "/results")))
    assert "IIN" in text and "export-with-iin" not in client.get(url(finished, "/results")).text
    assert "An administrator can download the results with IINs" in text
    response = client.post(url(finished, "/results/export-with-iin"), data={"format": "csv"})
    assert response.status_code == 403
