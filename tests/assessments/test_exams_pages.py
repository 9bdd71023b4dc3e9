"""Exam pages: scoping, planning form, enrol upload, attendance, finalise and reopen."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from assessments.models import Enrolment, Exam
from assessments.services import exams as service
from tests.assessments.test_exams import World, _fill, csv_bytes, make_candidate
from tests.factories import CentreFactory, CollegeFactory, UserFactory, iin_for


@pytest.fixture
def world(session):
    return World(session)


@pytest.fixture
def exam(session, world):
    exam = world.exam()
    college = CollegeFactory(name_kk="Политехникалық колледж", name_en="Polytechnic College")
    make_candidate(session, 1, "Бекова", "Дана", college)
    make_candidate(session, 2, "Әлібекова", "Айгерім", college)
    make_candidate(session, 3, "Абаев", "Нұрлан")
    service.enrol_file(session, exam, "g.csv", csv_bytes("iin", iin_for(1), iin_for(2), iin_for(3)))
    service.mark_all_present(session, exam, world.chief)
    return exam


def text(response) -> str:
    return response.get_data(as_text=True)


# --- scoping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("own_manager", 200),
        # an exam that is not theirs: the same 404 as an exam that does not exist
        ("other_manager", 404),
        ("chief", 200),
        ("assigned_expert", 200),
        ("other_expert", 404),
        ("other_chief", 404),
    ],
)
def test_exam_page_is_scoped(sign_in, client, session, world, exam, who, status):
    expert = UserFactory(role="expert")
    service.assign(session, exam, world.chief.email, [expert.email])
    users = {
        "admin": world.admin,
        "own_manager": UserFactory(role="centre_manager", centre_id=world.centre.id),
        "other_manager": UserFactory(role="centre_manager", centre_id=CentreFactory().id),
        "chief": world.chief,
        "assigned_expert": expert,
        "other_expert": UserFactory(role="expert"),
        "other_chief": UserFactory(role="chief_expert"),
    }
    sign_in(users[who], lang="en")
    assert client.get(f"/exams/{exam.id}").status_code == status


@pytest.mark.parametrize(
    "suffix", ["", "/results", "/forms/1", "/protocol.pdf", "/marking-forms.pdf"]
)
def test_another_centres_exam_looks_exactly_like_a_missing_one(
    sign_in, client, session, world, exam, suffix
):
    sign_in(UserFactory(role="centre_manager", centre_id=CentreFactory().id), lang="en")
    missing_id = exam.id + 100000
    elsewhere = client.get(f"/exams/{exam.id}{suffix}")
    missing = client.get(f"/exams/{missing_id}{suffix}")
    assert elsewhere.status_code == missing.status_code == 404
    # the pages differ only where they repeat the address asked for (language links)
    seen = elsewhere.get_data(as_text=True).replace(f"/exams/{exam.id}", "/exams/N")
    assert seen == missing.get_data(as_text=True).replace(f"/exams/{missing_id}", "/exams/N")


def test_list_shows_only_visible_exams_and_filters_by_status(sign_in, client, session, world, exam):
    other_centre = CentreFactory(code="OTHER1")
    other_centre.competences.append(world.competence)
    elsewhere = world.exam(centre=other_centre)
    service.start_marking(session, elsewhere)
    manager = UserFactory(role="centre_manager", centre_id=world.centre.id)
    sign_in(manager, lang="en")
    page = text(client.get("/exams"))
    assert f"/exams/{exam.id}" in page and f"/exams/{elsewhere.id}" not in page

    client.post("/logout")
    sign_in(world.admin, lang="en")
    page = text(client.get("/exams?status=marking"))
    assert f"/exams/{elsewhere.id}" in page and f'/exams/{exam.id}"' not in page
    assert client.get("/exams?status=bogus").status_code == 200


def test_exam_page_lists_candidates_in_kazakh_order_and_conflicts(
    sign_in, client, session, world, exam
):
    college = exam.enrolments[0].candidate.college
    expert = UserFactory(role="expert", name="Ерлан Сарапшы", college_id=college.id)
    service.assign(session, exam, world.chief.email, [expert.email])
    sign_in(world.admin, lang="en")
    page = text(client.get(f"/exams/{exam.id}"))
    # Kazakh order: А < Ә < Б
    assert page.index("Абаев Нұрлан") < page.index("Әлібекова Айгерім") < page.index("Бекова Дана")
    assert "Ерлан Сарапшы does not mark candidates of Polytechnic College: 2 candidates" in page
    assert iin_for(1) not in page
    # every marking form is listed and links to its grid
    for form in service.marking_forms(session, exam):
        link = (
            f'href="/exams/{exam.id}/forms/{form.sub_criterion_id}">{form.sub_criterion.code}</a>'
        )
        assert link in page


# --- planning form ----------------------------------------------------------------------


def _form(world, **overrides):
    data = {
        "centre_id": world.centre.id,
        "competence_id": world.competence.id,
        "scheme_id": world.scheme.id,
        "start": "2026-06-01",
        "end": "2026-06-03",
        "chief_id": world.chief.id,
    }
    data.update(overrides)
    return data


def test_centre_manager_plans_an_exam_at_their_centre_only(sign_in, client, session, world):
    manager = UserFactory(role="centre_manager", centre_id=world.centre.id)
    sign_in(manager, lang="en")
    page = text(client.get("/exams/new"))
    other = CentreFactory()
    assert world.centre.code in page and other.code not in page

    response = client.post("/exams/new", data=_form(world))
    assert response.status_code == 302
    exam = session.scalars(select(Exam).where(Exam.centre_id == world.centre.id)).one()
    assert response.headers["Location"].endswith(f"/exams/{exam.id}")

    refused = client.post("/exams/new", data=_form(world, centre_id=other.id))
    assert refused.status_code == 422
    assert session.scalars(select(Exam).where(Exam.centre_id == other.id)).first() is None


def test_planning_errors_are_shown_on_the_form(sign_in, client, session, world):
    sign_in(world.admin, lang="en")
    response = client.post("/exams/new", data=_form(world, end="2026-05-01"))
    assert response.status_code == 422
    page = text(response)
    summary = page[page.index("data-error-summary") : page.index("</section>")]
    assert page.index("data-error-summary") < page.index("<h1>")
    assert '<a href="#end">Last day: The last day is before the first day.</a>' in summary
    assert session.scalars(select(Exam)).first() is None


def test_planning_offers_accredited_competences_and_their_schemes(sign_in, client, session, world):
    from tests.assessments.test_exams import make_scheme
    from tests.factories import CompetenceFactory

    elsewhere = CompetenceFactory()  # no accreditation at the manager's centre
    make_scheme(session, elsewhere)
    second = CompetenceFactory()
    world.centre.competences.append(second)
    other_scheme = make_scheme(session, second)
    other_scheme.name = "Екінші схема"
    session.flush()
    sign_in(UserFactory(role="centre_manager", centre_id=world.centre.id), lang="en")
    page = text(client.get("/exams/new"))
    assert elsewhere.code not in page
    assert f'data-parent="{world.centre.id}" value="{second.id}"' in page
    assert f'data-parent="{second.id}" value="{other_scheme.id}"' in page
    assert 'data-narrowed-by="competence_id"' in page and "js/narrow-select.js" in page
    assert f"#{world.scheme.id}" not in page  # schemes are named, not numbered

    # without JavaScript the mismatch reaches the server: refused, naming both
    response = client.post("/exams/new", data=_form(world, scheme_id=other_scheme.id))
    assert response.status_code == 422
    message = (
        f"The marking scheme «Екінші схема» v1 belongs to the competence {second.name_en}, "
        f"not to {world.competence.name_en}."
    )
    assert message in text(response)
    refused = client.post("/exams/new", data=_form(world, competence_id=elsewhere.id))
    assert refused.status_code == 422  # not offered, so not a valid choice
    assert session.scalars(select(Exam)).first() is None


def test_experts_cannot_plan_exams(sign_in, client, world):
    sign_in(world.chief, lang="en")
    assert client.get("/exams/new").status_code == 403


# --- enrol upload --------------------------------------------------------------------------


def test_enrol_upload_shows_an_error_table_and_stores_nothing(sign_in, client, session, world):
    exam = world.exam()
    make_candidate(session, 1, "Бекова", "Дана")
    sign_in(world.admin, lang="en")
    data = csv_bytes("iin,workstation", f"{iin_for(1)},1", f"{iin_for(7)},9")
    response = client.post(
        f"/exams/{exam.id}/enrol",
        data={"file": (io.BytesIO(data), "group.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = text(response)
    assert "no candidate with this IIN is registered" in page
    assert "must be a whole number from 1 to 3" in page
    assert iin_for(7) not in page
    assert not session.scalars(select(Enrolment).where(Enrolment.exam_id == exam.id)).all()
    # the summary comes before the page's own content and links to the rows of the table
    summary = page[page.index("data-error-summary") : page.index("</section>")]
    assert page.index("data-error-summary") < page.index("<h1>")
    assert "group.csv was not enrolled" in summary
    assert '<a href="#enrol-problem-2">row 3, iin: no candidate with this IIN' in summary
    assert '<a href="#enrol-problem-1">row 3, workstation:' in summary
    assert 'id="enrol-problem-2"' in page

    ok = client.post(
        f"/exams/{exam.id}/enrol",
        data={"file": (io.BytesIO(csv_bytes("iin", iin_for(1))), "group.csv")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    assert len(session.scalars(select(Enrolment).where(Enrolment.exam_id == exam.id)).all()) == 1


def test_manager_of_another_centre_cannot_enrol(sign_in, client, session, world, exam):
    sign_in(UserFactory(role="centre_manager", centre_id=CentreFactory().id), lang="en")
    response = client.post(
        f"/exams/{exam.id}/enrol",
        data={"file": (io.BytesIO(csv_bytes("iin", iin_for(1))), "g.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404  # not their centre's exam: as if it did not exist


# --- attendance -------------------------------------------------------------------------------


def test_chief_records_attendance_and_a_disqualification_needs_a_reason(
    sign_in, client, session, world, exam
):
    enrolment = exam.enrolments[0]
    sign_in(world.chief, lang="en")
    url = f"/exams/{exam.id}/enrolments/{enrolment.id}/attendance"
    client.post(url, data={"status": "disqualified", "reason": ""})
    assert session.get(Enrolment, enrolment.id).attendance == "present"
    page = text(client.get(f"/exams/{exam.id}"))
    assert "Give the reason for the disqualification." in page

    client.post(url, data={"status": "disqualified", "reason": "Telephone use"})
    session.refresh(enrolment)
    assert (enrolment.attendance, enrolment.attendance_reason) == ("disqualified", "Telephone use")


def test_experts_cannot_change_attendance(sign_in, client, session, world, exam):
    expert = UserFactory(role="expert")
    service.assign(session, exam, world.chief.email, [expert.email])
    sign_in(expert, lang="en")
    enrolment = exam.enrolments[0]
    url = f"/exams/{exam.id}/enrolments/{enrolment.id}/attendance"
    assert client.post(url, data={"status": "absent"}).status_code == 403


# --- finalise and reopen ------------------------------------------------------------------------


def test_finalise_refused_shows_the_incomplete_list(sign_in, client, session, world, exam):
    sign_in(world.chief, lang="en")
    response = client.post(f"/exams/{exam.id}/finalise")
    assert response.status_code == 409
    page = text(response)
    # one row per candidate: name, workstation, then the missing addresses
    for enrolment in exam.enrolments:
        name = f"{enrolment.candidate.last_name} {enrolment.candidate.first_name}"
        row = page[page.index(f"<td>{name}</td>") :].split("</tr>", 1)[0]
        assert f'<td class="num">{enrolment.workstation}</td>' in row
        assert "A1.1, A1.2, A2.1" in row
    assert session.get(Exam, exam.id).status == "planned"


def test_only_the_chief_of_the_exam_finalises(sign_in, client, session, world, exam):
    sign_in(UserFactory(role="chief_expert"), lang="en")
    assert client.post(f"/exams/{exam.id}/finalise").status_code == 404  # not their exam


def test_finalise_then_reopen_with_a_reason(sign_in, client, session, world, exam):
    for enrolment in exam.enrolments:
        _fill(session, exam, enrolment)
    sign_in(world.chief, lang="en")
    assert client.post(f"/exams/{exam.id}/finalise").status_code == 302
    session.refresh(exam)
    assert exam.status == "finalised"
    client.post("/logout")

    sign_in(world.admin, lang="en")
    page = text(client.get(f"/exams/{exam.id}"))
    assert exam.audit_head in page
    refused = client.post(f"/exams/{exam.id}/reopen", data={"reason": "  "})
    assert refused.status_code == 422
    session.refresh(exam)
    assert exam.status == "finalised"
    assert client.post(f"/exams/{exam.id}/reopen", data={"reason": "Балл қате"}).status_code == 302
    session.refresh(exam)
    assert exam.status == "marking"


def test_chief_cannot_reopen(sign_in, client, session, world, exam):
    sign_in(world.chief, lang="en")
    assert client.post(f"/exams/{exam.id}/reopen", data={"reason": "x"}).status_code == 403


def test_a_form_nobody_sits_is_not_complete(sign_in, client, session, world):
    exam = world.exam()
    from assessments.services.exam_overview import forms_progress

    progress = forms_progress(session, exam)
    assert progress and not any(p.complete for p in progress)
    assert {p.percent_done for p in progress} == {0}
    sign_in(world.admin, lang="en")
    page = text(client.get(f"/exams/{exam.id}"))
    assert "No candidate present yet" in page
    assert ">Complete<" not in page


@pytest.mark.parametrize("who", ["chief", "manager"])
def test_enrolled_candidates_show_registered_until_all_are_marked_present(
    sign_in, client, session, world, who
):
    exam = world.exam()
    make_candidate(session, 1, "Бекова", "Дана")
    make_candidate(session, 2, "Абаев", "Нұрлан")
    service.enrol_file(session, exam, "g.csv", csv_bytes("iin", iin_for(1), iin_for(2)))
    user = (
        world.chief
        if who == "chief"
        else UserFactory(role="centre_manager", centre_id=world.centre.id)
    )
    sign_in(user, lang="en")
    page = text(client.get(f"/exams/{exam.id}"))
    assert page.count(">Registered</span>") == 2
    assert "2 candidates are registered but not yet marked present" in page
    response = client.post(f"/exams/{exam.id}/attendance/all-present")
    assert response.status_code == 302
    assert {e.attendance for e in exam.enrolments} == {"present"}
    page = text(client.get(f"/exams/{exam.id}"))
    assert "2 candidates marked present." in page
    assert "Mark all present" not in page


def test_experts_cannot_mark_everyone_present(sign_in, client, session, world):
    exam = world.exam()
    make_candidate(session, 1, "Бекова", "Дана")
    service.enrol_file(session, exam, "g.csv", csv_bytes("iin", iin_for(1)))
    expert = UserFactory(role="expert")
    service.assign(session, exam, world.chief.email, [expert.email])
    sign_in(expert, lang="en")
    assert client.post(f"/exams/{exam.id}/attendance/all-present").status_code == 403
    assert {e.attendance for e in exam.enrolments} == {"registered"}


def _clock_at(monkeypatch, app, when: str):
    """Fix the application's clock (UTC) for this test: the machine's date never counts."""
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(when).replace(tzinfo=UTC)
    monkeypatch.setitem(app.config, "CLOCK", lambda: moment)


def test_finalising_before_the_last_day_asks_for_confirmation(
    sign_in, client, session, world, monkeypatch, app
):
    from datetime import date

    exam = world.exam(end=date(2026, 6, 3))
    make_candidate(session, 1, "Бекова", "Дана")
    service.enrol_file(session, exam, "g.csv", csv_bytes("iin", iin_for(1)))
    service.mark_all_present(session, exam, world.chief)
    _fill(session, exam, exam.enrolments[0])
    # 1 June 20:00 UTC is 2 June 01:00 in Almaty (UTC+5): a day before the last one
    _clock_at(monkeypatch, app, "2026-06-01T20:00:00")
    sign_in(world.chief, lang="en")
    page = text(client.get(f"/exams/{exam.id}/finalise"))
    assert 'name="early"' in page and "which has not come yet in Almaty" in page
    refused = client.post(f"/exams/{exam.id}/finalise", follow_redirects=True)
    assert "confirm that you finalise it early" in text(refused)
    session.refresh(exam)
    assert exam.status != "finalised"
    assert client.post(f"/exams/{exam.id}/finalise", data={"early": "y"}).status_code == 302
    session.refresh(exam)
    assert exam.status == "finalised"


def test_on_the_last_day_in_almaty_no_early_confirmation_is_asked(
    sign_in, client, session, world, monkeypatch, app
):
    from datetime import date

    exam = world.exam(end=date(2026, 6, 3))
    make_candidate(session, 1, "Бекова", "Дана")
    service.enrol_file(session, exam, "g.csv", csv_bytes("iin", iin_for(1)))
    service.mark_all_present(session, exam, world.chief)
    _fill(session, exam, exam.enrolments[0])
    _clock_at(monkeypatch, app, "2026-06-02T20:00:00")  # 3 June 01:00 in Almaty
    sign_in(world.chief, lang="en")
    assert 'name="early"' not in text(client.get(f"/exams/{exam.id}/finalise"))
    assert client.post(f"/exams/{exam.id}/finalise").status_code == 302
    session.refresh(exam)
    assert exam.status == "finalised"
