"""Enrolment by IIN tells centre staff nothing about candidates outside what they may see."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from assessments.models import Enrolment
from assessments.services.candidates.records import save_candidate
from assessments.services.candidates.scope import Scope, link_to_centre
from tests.assessments.test_exams import World, csv_bytes, make_candidate
from tests.factories import CentreFactory, EnrolmentFactory, UserFactory, iin_for


@pytest.fixture
def world(session):
    return World(session)


def upload(client, exam, iin: str):
    return client.post(
        f"/exams/{exam.id}/enrol",
        data={"file": (io.BytesIO(csv_bytes("iin", iin)), "group.csv")},
        content_type="multipart/form-data",
    )


def enrolled(session, exam) -> int:
    return len(session.scalars(select(Enrolment).where(Enrolment.exam_id == exam.id)).all())


def test_an_iin_registered_elsewhere_looks_like_one_registered_nowhere(
    sign_in, client, session, world
):
    exam = world.exam()
    elsewhere = make_candidate(session, 1, "Бекова", "Дана")
    elsewhere.centre_id = CentreFactory().id
    link_to_centre(elsewhere, elsewhere.centre_id)
    session.flush()
    sign_in(UserFactory(role="centre_manager", centre_id=world.centre.id), lang="en")

    registered, unregistered = upload(client, exam, iin_for(1)), upload(client, exam, iin_for(2))
    assert registered.status_code == unregistered.status_code == 422
    pages = [r.get_data(as_text=True) for r in (registered, unregistered)]
    # the only difference allowed is the IIN itself, which neither page shows
    assert iin_for(1) not in pages[0] and iin_for(2) not in pages[1]
    assert pages[0] == pages[1]
    assert "no candidate with this IIN among the candidates you can see" in pages[0]
    assert "Бекова" not in pages[0]
    assert enrolled(session, exam) == 0


@pytest.mark.parametrize("how", ["registered_here", "linked_here", "enrolled_here_before"])
def test_a_manager_enrols_the_candidates_they_can_see(sign_in, client, session, world, how):
    exam = world.exam()
    candidate = make_candidate(session, 1, "Бекова", "Дана")
    if how == "registered_here":
        candidate.centre_id = world.centre.id
        link_to_centre(candidate, world.centre.id)
    elif how == "linked_here":
        # registered by another centre, then linked to this one (same IIN and surname)
        candidate.centre_id = CentreFactory().id
        link_to_centre(candidate, candidate.centre_id)
        session.flush()
        save_candidate(
            session,
            None,
            {"iin": iin_for(1), "last_name": "БЕКОВА", "first_name": "Дана",
             "college_code": candidate.college.code, "specialty": "Б"},
            scope=Scope(centre_id=world.centre.id),
        )  # fmt: skip
    else:
        earlier = world.exam()
        EnrolmentFactory(exam=earlier, candidate=candidate, workstation=1)
    session.flush()
    sign_in(UserFactory(role="centre_manager", centre_id=world.centre.id), lang="en")
    assert upload(client, exam, iin_for(1)).status_code == 302
    assert enrolled(session, exam) == 1


def test_an_administrator_enrols_anyone_and_hears_when_nobody_has_the_iin(
    sign_in, client, session, world
):
    exam = world.exam()
    candidate = make_candidate(session, 1, "Бекова", "Дана")
    candidate.centre_id = CentreFactory().id
    session.flush()
    sign_in(world.admin, lang="en")
    assert "no candidate with this IIN is registered" in upload(client, exam, iin_for(2)).get_data(
        as_text=True
    )
    assert upload(client, exam, iin_for(1)).status_code == 302
    assert enrolled(session, exam) == 1
