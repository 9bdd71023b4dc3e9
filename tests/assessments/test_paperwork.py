"""PDF paperwork: the exam protocol and blank marking forms carry Kazakh text correctly."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from assessments import paperwork
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

KAZAKH_LETTERS = "ӘҒҚҢӨҰҮҺІ"
HEAD = "9c873e39f42bb70a694f6d2d911aeda6cc9f42d09591e8936910f1e743941e7d"


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def exam(session):
    setup = build_exam(session)
    setup.exam.chief_expert = UserFactory(role="chief_expert", name="Гүлнар Бас сарапшы")
    for name in ("Ерлан Сарапшы", "Айгүл Сейітқызы"):
        session.add(ExamExpert(exam_id=setup.exam.id, user_id=UserFactory(name=name).id))
    setup.exam.audit_head, setup.exam.audit_count = HEAD, 412
    enrol(session, setup, "a", "Әбілқасымова", "Іңкәр")
    enrol(session, setup, "b", "Ғабитұлы", "Өмірзақ")
    enrol(session, setup, "c", "Үсенова", "Һадия")
    enrol(session, setup, "gone", "Құрманғалиев", "Ерғали", attendance="withdrawn")
    setup.enrolments["gone"].attendance_reason = "денсаулығына байланысты"
    give(session, setup, "a", HAND_EXAMPLE)
    give(session, setup, "b", FULL_MARKS)
    give(session, setup, "c", {"A1.1": "1.00"})
    compute_results(session, setup.exam)
    session.expire_all()
    return setup


def test_protocol(app, exam, session):
    with app.test_request_context("/?lang=kk"):
        text = pdf_text(paperwork.protocol_pdf(session, exam.exam))
    for letter in KAZAKH_LETTERS:
        assert letter in text.upper(), letter
    # the results in rank order, with marks rounded half up and a decimal comma in Kazakh
    lines = [line for line in text.splitlines() if "Ғабитұлы" in line or "Әбілқасымова" in line]
    assert "Ғабитұлы" in lines[0] and "5,00" in lines[0]
    assert "Әбілқасымова" in lines[1] and "3,92" in lines[1] and "78,33" in lines[1]
    assert text.index("Ғабитұлы") < text.index("Әбілқасымова") < text.index("Үсенова")
    # the withdrawn candidate is listed without a result, with the reason
    assert "Құрманғалиев Ерғали" in text and "денсаулығына байланысты" in text
    assert HEAD in text.replace("\n", "")
    assert "412" in text
    for name in ("Гүлнар Бас сарапшы", "Ерлан Сарапшы", "Айгүл Сейітқызы"):
        assert name in text
    for key in ("a", "b", "c"):
        assert iin_of(exam.enrolments[key]) not in text


def test_protocol_names_each_candidate_by_number_and_workstation(app, exam, session):
    for key, number in (("a", 17), ("b", 23), ("c", 31), ("gone", 42)):
        exam.enrolments[key].candidate_number = number
    session.flush()
    with app.test_request_context("/?lang=en"):
        text = pdf_text(paperwork.protocol_pdf(session, exam.exam))
    lines = text.splitlines()
    assert any(line.startswith("Rank No. WS Candidate") for line in lines)
    # rank, candidate number, workstation, name
    assert any(line.startswith("1 23 2 Ғабитұлы Өмірзақ 1.75") for line in lines)
    assert any(line.startswith("2 17 1 Әбілқасымова Іңкәр 1.50") for line in lines)
    assert "No. 42 Құрманғалиев Ерғали — withdrawn (денсаулығына байланысты)" in lines


def test_protocol_in_english_uses_a_decimal_point(app, exam, session):
    with app.test_request_context("/?lang=en"):
        text = pdf_text(paperwork.protocol_pdf(session, exam.exam))
    assert "Demonstration exam protocol" in text
    assert "3.92" in text and "3,92" not in text


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_protocol_names_the_exam_keeps_words_whole_and_explains_the_audit(app, exam, session, lang):
    """No "Exam 3", no word split across lines, no shell command: words an official reads."""
    from flask_babel import gettext

    from app.i18n import format_date, localized

    enrol(session, exam, "d", "Тәжібаева", "Ақерке")
    give(session, exam, "d", {"A1.1": "0.25"})  # not passed: the longest result word
    compute_results(session, exam.exam)
    with app.test_request_context(f"/?lang={lang}"):
        text = pdf_text(paperwork.protocol_pdf(session, exam.exam))
        competence, centre = localized(exam.exam.competence), localized(exam.exam.centre)
        dates = format_date(exam.exam.start_date)
        words = {
            gettext(label)
            for label in ("Rank", "Candidate", "Total", "Grade", "Result", "passed", "not passed")
        }
        exam_number = gettext("Exam %(id)s", id=exam.exam.id)
    flat = " ".join(text.split())
    assert f"{competence} — {centre}, {dates}" in flat  # the title under the heading
    assert exam_number not in flat
    tokens = set(text.split())
    for word in {w for label in words for w in label.split()}:
        assert word in tokens, word  # a word broken across two lines is not a token
    for key in ("a", "b", "c", "d"):
        for part in exam.enrolments[key].candidate.full_name.split():
            assert part in tokens, part
    assert "flask" not in flat and "verify" not in flat
    advice = {"kk": "жүйе әкімшісінен", "ru": "системного администратора", "en": "administrator"}
    assert advice[lang] in flat and "412" in flat


def test_protocol_waits_for_finalisation(app, exam, session):
    exam.exam.status = "marking"
    with app.test_request_context("/"), pytest.raises(paperwork.PaperworkError) as caught:
        paperwork.protocol_pdf(session, exam.exam)
    assert caught.value.code == "not_finalised"


def test_blank_marking_forms(app, exam, session):
    with app.test_request_context("/?lang=kk"):
        data = paperwork.marking_forms_pdf(session, exam.exam)
    text = pdf_text(data)
    for address in ("A1.1", "A1.2", "B1.1", "B1.2"):
        assert address in text
    # judgement aspects carry their four level descriptions and a line per judge seat
    assert "3 – Өте жақсы" in text
    assert "1: ______" in text and "3: ______" in text
    # present candidates by number, workstation and short name; the withdrawn one has no column
    for name in ("Әбілқасымова І.", "Ғабитұлы Ө.", "Үсенова Һ."):
        assert name in text
    for key in ("a", "b", "c"):
        enrolment = exam.enrolments[key]
        assert f"№ {enrolment.candidate_number} · ЖО {enrolment.workstation}" in text
    assert "Құрманғалиев" not in text
    assert "Гүлнар Бас сарапшы" in text
    assert len(PdfReader(io.BytesIO(data)).pages) == 2  # one form per sub-criterion


def test_blank_forms_of_one_sub_criterion(app, exam, session):
    sub = exam.aspects["B1.1"].sub_criterion
    with app.test_request_context("/?lang=en"):
        text = pdf_text(paperwork.marking_forms_pdf(session, exam.exam, [sub]))
    assert "Marking form B1" in text and "A1.1" not in text


def test_blank_forms_before_anyone_is_enrolled(app, session):
    setup = build_exam(session, status="planned")
    with app.test_request_context("/?lang=en"):
        text = pdf_text(paperwork.marking_forms_pdf(session, setup.exam))
    assert "Marking form A1" in text and "WS" in text


def test_missing_font_is_a_clear_error(app, exam, session, tmp_path):
    app.config["PDF_FONT_DIR"] = str(tmp_path)
    try:
        with app.test_request_context("/"), pytest.raises(paperwork.PaperworkError) as caught:
            paperwork.protocol_pdf(session, exam.exam)
    finally:
        app.config["PDF_FONT_DIR"] = "/usr/share/fonts/truetype/dejavu"
    assert caught.value.code == "font_missing"
    assert "PDF_FONT_DIR" in str(caught.value)


def test_missing_font_on_the_page_is_a_message_not_a_crash(sign_in, app, client, exam, tmp_path):

    sign_in(UserFactory(role="admin"))
    app.config["PDF_FONT_DIR"] = str(tmp_path)
    try:
        response = client.get(f"/exams/{exam.exam.id}/protocol.pdf")
    finally:
        app.config["PDF_FONT_DIR"] = "/usr/share/fonts/truetype/dejavu"
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/exams/{exam.exam.id}/results")
