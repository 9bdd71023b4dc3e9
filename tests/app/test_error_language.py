"""Refusals reach the user in the request's language: both JSON APIs and the account pages."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from app.auth import services
from app.i18n import LocalizedName
from app.messages import N_, DomainError
from assessments.services.marks import seats
from tests.assessments.marking_setup import build_exam
from tests.factories import CollegeFactory, UserFactory

KAZAKH = {"Accept-Language": "kk"}
XHR = {"X-Requested-With": "XMLHttpRequest"}


def test_the_marking_api_refuses_in_kazakh(sign_in, client, session):
    setup = build_exam(session)
    expert = setup.experts[0]
    seats.assign_seat(session, setup.forms["A1"], 1, expert, setup.chief)  # judge seat 1
    sign_in(expert)
    url = f"/api/v1/exams/{setup.exam.id}/marks"
    cell = {"enrolment_id": setup.enrolments[0].id, "aspect": "A1.3", "seat": 1}
    headers = {**XHR, **KAZAKH}
    client.put(url, json={**cell, "value": 2, "expected_version": None}, headers=headers)
    stale = client.put(url, json={**cell, "value": 3, "expected_version": None}, headers=headers)
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    assert stale.json["code"] == "conflict"
    assert stale.json["detail"] == f"Осы аралықта {expert.name} мұны 2 мәніне өзгертті."
    malformed = client.put(url, json={"aspect": "A1.3"}, headers=headers)
    assert malformed.status_code == 422 and malformed.json["code"] == "invalid"
    assert malformed.json["detail"] == "Деректер жарамсыз."


def test_the_verification_api_refuses_in_kazakh(client):
    not_an_object = client.post("/api/v1/verify", json=["token"], headers=KAZAKH)
    assert not_an_object.status_code == 400
    assert not_an_object.mimetype == "application/problem+json"
    assert not_an_object.json["code"] == "bad_request"
    assert not_an_object.json["detail"] == (
        'JSON нысанын жіберіңіз: {"url": …} немесе {"token": …}.'
    )
    both = client.post("/api/v1/verify", json={"url": "x", "token": "y"}, headers=KAZAKH)
    assert both.status_code == 422 and both.json["code"] == "invalid"
    assert both.json["detail"] == "Сұрау жарамсыз."
    assert both.json["errors"] == {"_schema": ["url және token өрістерінің дәл біреуін беріңіз."]}


@pytest.fixture
def admin(sign_in, client):
    user = UserFactory(role="admin")
    sign_in(user)
    return user


def test_the_account_pages_refuse_in_kazakh(client, session, admin):
    taken = UserFactory(email="taken@example.kz")
    other = UserFactory(email="other@example.kz")
    form = {"name": "Жаңа", "role": "expert", "centre_id": "0", "college_id": "0"}
    expected = "taken@example.kz электрондық поштасы бар пайдаланушы бұрыннан бар."
    new = client.post(
        "/admin/users/new",
        data={
            **form,
            "email": taken.email,
            "password": "ұзын-құпиясөз-1",
            "confirm": "ұзын-құпиясөз-1",
        },
        headers=KAZAKH,
    )
    assert new.status_code == 200 and expected in new.get_data(as_text=True)
    edit = client.post(
        f"/admin/users/{other.id}", data={**form, "email": taken.email}, headers=KAZAKH
    )
    assert edit.status_code == 200 and expected in edit.get_data(as_text=True)
    assert other.email == "other@example.kz"


def test_the_command_line_keeps_english(session):
    UserFactory(email="taken@example.kz")
    with pytest.raises(services.AccountError) as caught:
        services.create_user(
            session, email="taken@example.kz", name="X", role="expert", password="long-enough-1"
        )
    assert str(caught.value) == "A user with the email taken@example.kz already exists."
    assert (caught.value.code, caught.value.field) == ("invalid", "email")


def test_a_name_in_a_refusal_is_shown_in_the_readers_language(app, session):
    college = CollegeFactory(name_kk="Политехникалық колледж", name_ru="Политехнический колледж")
    # raised where no language is chosen (a service), read in two languages at the edge
    refusal = DomainError(N_("Compatriot marking: %(college)s"), college=LocalizedName(college))
    with app.test_request_context("/"):
        with force_locale("ru"):
            assert refusal.translated().endswith("Политехнический колледж")
        with force_locale("kk"):
            assert refusal.translated().endswith("Политехникалық колледж")
