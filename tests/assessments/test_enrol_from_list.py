"""Enrolment without a file: candidates ticked on the list, or one from its own page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from assessments.models import Enrolment
from assessments.services import exams as service
from assessments.services.candidates.scope import Scope, link_to_centre
from tests.assessments.test_exams import World, make_candidate
from tests.factories import PASSWORD, CentreFactory, CollegeFactory, UserFactory, iin_for


@pytest.fixture
def world(session):
    return World(session)


@pytest.fixture
def people(session, world):
    """Three candidates registered by the world's centre, one by another centre."""
    poly = CollegeFactory(name_kk="Политехникалық колледж", name_en="Polytechnic College")
    other = CollegeFactory(name_kk="Аграрлық колледж", name_en="Agrarian College")
    found = {
        "dana": make_candidate(session, 1, "Бекова", "Дана", poly),
        "aigerim": make_candidate(session, 2, "Әлібекова", "Айгерім", poly),
        "nurlan": make_candidate(session, 3, "Абаев", "Нұрлан", other),
        "stranger": make_candidate(session, 4, "Серікұлы", "Арман", poly),
    }
    for key, candidate in found.items():
        candidate.centre_id = CentreFactory().id if key == "stranger" else world.centre.id
        link_to_centre(candidate, candidate.centre_id)
        candidate.search_text = f"{candidate.last_name} {candidate.first_name}".casefold()
    found["nurlan"].specialty = "Дәнекерлеу"
    session.flush()
    return found


def enrolled(session, exam) -> set[int]:
    rows = session.scalars(select(Enrolment.candidate_id).where(Enrolment.exam_id == exam.id))
    return set(rows)


# --- service -------------------------------------------------------------------------


def test_enrol_candidates_assigns_workstations_in_turn(session, world, people):
    exam = world.exam()
    created = service.enrol_candidates(
        session, exam, [people["dana"].id, people["aigerim"].id, people["nurlan"].id]
    )
    assert [e.workstation for e in created] == [1, 2, 3]
    assert enrolled(session, exam) == {people[k].id for k in ("dana", "aigerim", "nurlan")}


def test_enrol_candidates_is_all_or_nothing_and_names_the_candidate(session, world, people):
    exam = world.exam()
    service.enrol_candidates(session, exam, [people["dana"].id])
    with pytest.raises(service.EnrolmentError) as caught:
        service.enrol_candidates(session, exam, [people["aigerim"].id, people["dana"].id])
    [problem] = caught.value.problems
    assert problem.field == "Бекова Дана"
    assert problem.candidate_id == people["dana"].id
    assert "already enrolled" in problem.text
    assert enrolled(session, exam) == {people["dana"].id}


def test_enrol_candidates_outside_the_scope_answers_as_if_missing(session, world, people):
    exam = world.exam()
    scope = Scope(centre_id=world.centre.id)
    with pytest.raises(service.EnrolmentError) as caught:
        service.enrol_candidates(
            session, exam, [people["dana"].id, people["stranger"].id], scope=scope
        )
    assert [p.text for p in caught.value.problems] == ["A selected candidate no longer exists."]
    assert "Серікұлы" not in str(caught.value)
    assert enrolled(session, exam) == set()


def test_enrol_candidates_needs_a_selection(session, world):
    with pytest.raises(service.EnrolmentError):
        service.enrol_candidates(session, world.exam(), [])


# --- pages ---------------------------------------------------------------------------


def sign_in(client, user):
    client.set_cookie("lang", "en")
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )


def test_manager_filters_the_list_and_enrols_the_ticked_candidates(client, session, world, people):
    exam = world.exam()
    manager = UserFactory(role="centre_manager", centre_id=world.centre.id)
    sign_in(client, manager)
    college = people["dana"].college
    page = client.get(f"/candidates?college={college.id}").get_data(as_text=True)
    assert "Бекова Дана" in page and "Әлібекова Айгерім" in page and "Абаев" not in page
    assert 'name="candidate_ids"' in page and 'form="enrol-form"' in page

    by_specialty = client.get("/candidates?specialty=Дәнекерлеу").get_data(as_text=True)
    assert "Абаев Нұрлан" in by_specialty and "Бекова" not in by_specialty

    response = client.post(
        f"/candidates/enrol?college={college.id}",
        data={"exam_id": exam.id, "candidate_ids": [people["dana"].id, people["aigerim"].id]},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/exams/{exam.id}#candidates")
    assert enrolled(session, exam) == {people["dana"].id, people["aigerim"].id}


def test_a_refused_selection_keeps_the_ticks_and_names_the_candidate_at_the_top(
    client, session, world, people
):
    exam = world.exam()
    service.enrol_candidates(session, exam, [people["dana"].id])
    sign_in(client, UserFactory(role="centre_manager", centre_id=world.centre.id))
    response = client.post(
        "/candidates/enrol",
        data={"exam_id": exam.id, "candidate_ids": [people["aigerim"].id, people["dana"].id]},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = page[page.index("data-error-summary") : page.index("</section>")]
    assert (
        f'<a href="#candidate-{people["dana"].id}">Бекова Дана: '
        "the candidate is already enrolled in this exam</a>"
    ) in summary
    assert (
        f'value="{people["aigerim"].id}" form="enrol-form" id="pick-{people["aigerim"].id}" checked'
        in page
    )
    assert enrolled(session, exam) == {people["dana"].id}


def test_manager_cannot_enrol_into_another_centres_exam(client, session, world, people):
    other_centre = CentreFactory()
    other_centre.competences.append(world.competence)
    exam = service.create_exam(
        session,
        centre=other_centre,
        competence=world.competence,
        scheme=world.scheme,
        start=world.exam().start_date,
        chief=None,
    )
    world.exam()  # an exam of the manager's own centre, so the enrol form is offered
    sign_in(client, UserFactory(role="centre_manager", centre_id=world.centre.id))
    response = client.post(
        "/candidates/enrol", data={"exam_id": exam.id, "candidate_ids": [people["dana"].id]}
    )
    assert response.status_code == 422  # not a choice of the form: refused, nothing stored
    assert enrolled(session, exam) == set()


def test_enrol_from_the_candidates_page(client, session, world, people):
    exam = world.exam()
    sign_in(client, UserFactory(role="centre_manager", centre_id=world.centre.id))
    dana = people["dana"]
    page = client.get(f"/candidates/{dana.id}").get_data(as_text=True)
    assert "Enrol in an exam" in page and iin_for(1) not in page
    response = client.post(
        "/candidates/enrol",
        data={"exam_id": exam.id, "candidate_ids": [dana.id], "from": "record"},
    )
    assert response.status_code == 302
    assert enrolled(session, exam) == {dana.id}

    again = client.post(
        "/candidates/enrol",
        data={"exam_id": exam.id, "candidate_ids": [dana.id], "from": "record"},
        follow_redirects=True,
    )
    assert "Бекова Дана: the candidate is already enrolled in this exam" in again.get_data(
        as_text=True
    )
    assert enrolled(session, exam) == {dana.id}


def test_chief_expert_sees_no_enrol_form(client, session, world, people):
    world.exam()
    sign_in(client, world.chief)
    assert 'id="enrol-form"' not in client.get("/candidates").get_data(as_text=True)
