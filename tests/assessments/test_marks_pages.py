"""The marking form page: what each role sees, exclusions, sign-off buttons."""

from __future__ import annotations

import pytest

from assessments.scoring import hundredths_text
from assessments.services import audit
from assessments.services.marks import entry, seats, signoff
from tests.assessments.marking_setup import build_exam
from tests.factories import UserFactory


@pytest.fixture
def setup(session):
    return build_exam(session)


def url(setup, code="A1", action=""):
    base = f"/exams/{setup.exam.id}/forms/{setup.forms[code].sub_criterion_id}"
    return base + (f"/{action}" if action else "")


def fill(session, setup, code, measurement=None):
    for enrolment in setup.enrolments:
        for address, aspect in setup.aspects.items():
            if address.startswith(code + "."):
                seats = (1, 2, 3) if aspect.kind == "J" else (0,)
                for seat in seats:
                    entry.save_mark(
                        session,
                        exam=setup.exam,
                        enrolment=enrolment,
                        aspect=aspect,
                        seat=seat,
                        value=(measurement or hundredths_text(aspect.max_hundredths))
                        if aspect.kind == "M"
                        else "2",
                        user=setup.chief,
                        expected_version=None,
                        reason="typed from the judge's paper form" if seat else "",
                    )


def test_an_expert_sees_the_grid_with_missing_cells_and_no_sign_off(
    sign_in, client, session, setup
):
    sign_in(setup.experts[0])
    page = client.get(url(setup)).get_data(as_text=True)
    assert 'id="marking-grid"' in page
    assert "15 marks missing" in page
    assert page.count('class="mark"') == 15
    assert "Әбілова Айгүл" in page
    assert 'data-editable="true"' in page
    assert "Sign off and lock the form" not in page
    assert 'class="seat-select"' not in page
    assert 'src="/static/js/marking.js"' in page
    assert "<script>" not in page  # no inline scripts: data travels in attributes and JSON
    for iin in setup.iins:
        assert iin not in page


def test_the_grid_names_each_candidate_by_number_then_workstation(sign_in, client, session, setup):
    for enrolment, number in zip(setup.enrolments, (17, 13, 22), strict=True):
        enrolment.candidate_number = number
    session.flush()
    sign_in(setup.experts[0])
    page = client.get(url(setup)).get_data(as_text=True)
    assert '<abbr title="Candidate number">No.</abbr>' in page
    for enrolment in setup.enrolments:
        assert (
            f'<th scope="row" class="num sticky-no">{enrolment.candidate_number}</th>\n'
            f'      <th scope="row" class="num sticky-ws">{enrolment.workstation}</th>'
        ) in page


def test_cells_closed_by_a_conflict_of_interest_say_who_and_why(sign_in, client, session, setup):
    setup.experts[0].college_id = setup.candidate(1).college_id
    session.flush()
    sign_in(setup.experts[0])
    page = client.get(url(setup)).get_data(as_text=True)
    assert "Conflict of interest: 3 candidates have closed cells" in page
    assert f"{setup.experts[0].name} is from the candidate&#39;s college" in page
    assert page.count(" disabled>") == 15


def test_a_judge_seat_compatriot_closes_only_that_seat(sign_in, client, session, setup):
    judge = setup.experts[2]
    seats.assign_seat(session, setup.forms["A1"], 2, judge, setup.chief)
    judge.college_id = setup.candidate(0).college_id
    session.flush()
    sign_in(setup.chief)  # who may write every seat (rules.seat_refusal)
    page = client.get(url(setup)).get_data(as_text=True)
    assert "judge seat 2" in page
    assert page.count(" disabled>") == 3  # seat 2 of A1.3 for the three candidates


def test_the_chief_sees_seats_and_the_lock_and_signs_off_a_complete_form(
    sign_in, client, session, setup
):
    sign_in(setup.chief)
    page = client.get(url(setup)).get_data(as_text=True)
    assert page.count('class="seat-select"') == 3
    assert "keyboard-help" in page  # how to type marks, while they can be typed
    assert f'href="{url(setup, "A1", "lock")}">Sign off and lock the form' in page
    confirm = client.get(url(setup, "A1", "lock")).get_data(as_text=True)
    assert "The form cannot be locked yet" in confirm
    assert 'id="confirm-lock"' not in confirm
    refused = client.post(url(setup, "A1", "lock"), follow_redirects=True)
    assert "marks are missing or need re-scoring" in refused.get_data(as_text=True)
    assert not setup.forms["A1"].locked
    fill(session, setup, "A1")
    confirm = client.get(url(setup, "A1", "lock")).get_data(as_text=True)
    assert "The marks of 3 present candidates in form A1 are signed off" in confirm
    assert not setup.forms["A1"].locked  # asking changes nothing
    locked = client.post(url(setup, "A1", "lock"), follow_redirects=True).get_data(as_text=True)
    assert "Form A1 is signed off and locked." in locked
    assert 'data-editable="false"' in locked
    assert "Unlock the form" in locked
    assert "keyboard-help" not in locked  # nothing to type or save any more


def test_deductions_without_a_reason_need_the_chiefs_note_to_lock(sign_in, client, session, setup):
    fill(session, setup, "A2", measurement="0")
    sign_in(setup.chief)
    confirm = client.get(url(setup, "A2", "lock")).get_data(as_text=True)
    assert "Deductions without a reason" in confirm
    assert confirm.count(f"{url(setup, 'A2')}#enrolment-") == 3
    refused = client.post(url(setup, "A2", "lock"), data={"acknowledgement": " "})
    assert refused.status_code == 422
    assert "Deductions without a reason: 3." in refused.get_data(as_text=True)
    session.refresh(setup.forms["A2"])
    assert not setup.forms["A2"].locked
    done = client.post(
        url(setup, "A2", "lock"), data={"acknowledgement": "Unfinished work, checked"}
    )
    assert done.status_code == 302
    session.refresh(setup.forms["A2"])
    assert setup.forms["A2"].locked
    note = audit.entries(session, setup.exam.id)[-2]
    assert (note.action, note.reason) == (
        "form.deductions_acknowledged",
        "Unfinished work, checked",
    )


def test_unlocking_from_the_page_needs_a_reason(sign_in, client, session, setup):
    fill(session, setup, "A2")
    signoff.lock_form(session, setup.forms["A2"], setup.chief)
    sign_in(setup.chief)
    refused = client.post(url(setup, "A2", "unlock"), data={"reason": ""}, follow_redirects=True)
    assert "Give the reason for unlocking the form." in refused.get_data(as_text=True)
    assert setup.forms["A2"].locked
    client.post(url(setup, "A2", "unlock"), data={"reason": "Re-measured A2.1"})
    session.refresh(setup.forms["A2"])
    assert not setup.forms["A2"].locked
    assert audit.entries(session, setup.exam.id)[-1].reason == "Re-measured A2.1"


def test_experts_cannot_lock_and_outsiders_cannot_open_the_form(sign_in, client, session, setup):
    sign_in(setup.experts[0])
    assert client.post(url(setup, "A1", "lock")).status_code == 403
    sign_in(UserFactory(role="expert"))
    assert client.get(url(setup)).status_code == 404  # not their exam: as if it did not exist


def test_without_javascript_the_chief_seats_a_judge_and_a_compatriot_is_refused(
    sign_in, client, session, setup
):
    sign_in(setup.chief)
    page = client.get(url(setup)).get_data(as_text=True)
    assert page.count('class="seat-form"') == 3
    assert page.count('name="csrf_token"') >= 3
    judge = setup.experts[1]
    done = client.post(url(setup, "A1", "seats/2"), data={"user_id": str(judge.id)})
    assert done.status_code == 302
    session.refresh(setup.forms["A1"])
    assert setup.forms["A1"].seats["2"] == judge.id
    compatriot = setup.experts[2]
    compatriot.college_id = setup.candidate(0).college_id
    session.flush()
    refused = client.post(
        url(setup, "A1", "seats/3"), data={"user_id": str(compatriot.id)}, follow_redirects=True
    )
    assert f"Judge seat 3 is {compatriot.name}, from the candidate" in refused.get_data(
        as_text=True
    )
    session.refresh(setup.forms["A1"])
    assert "3" not in setup.forms["A1"].seats
    assert client.post(url(setup, "A1", "seats/2"), data={"user_id": "x"}).status_code == 400
    emptied = client.post(url(setup, "A1", "seats/2"), data={"user_id": ""})
    assert emptied.status_code == 302
    session.refresh(setup.forms["A1"])
    assert "2" not in setup.forms["A1"].seats
