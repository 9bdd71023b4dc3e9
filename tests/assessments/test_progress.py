"""The chief expert's progress view: forms × what needs action, and its filters."""

from __future__ import annotations

import pytest

from assessments import paperwork
from assessments.services import audit, exams
from assessments.services.marks import errors, progress, seats
from tests.assessments.marking_setup import build_exam
from tests.assessments.test_marks_pages import fill
from tests.assessments.test_paperwork import pdf_text
from tests.factories import UserFactory


@pytest.fixture
def setup(session):
    return build_exam(session)


def by_code(statuses):
    return {s.form.sub_criterion.code: s for s in statuses}


def test_each_form_counts_missing_rescore_deductions_and_conflicts(session, setup):
    fill(session, setup, "A2", measurement="0")  # three deductions, no reason
    fill(session, setup, "A1")
    judge = setup.experts[2]
    seats.assign_seat(session, setup.forms["A1"], 2, judge, setup.chief)
    judge.college_id = setup.candidate(0).college_id  # changed after seating
    session.flush()
    statuses = by_code(progress.exam_progress(session, setup.exam))
    a1, a2 = statuses["A1"], statuses["A2"]
    assert [a1.count(k) for k in progress.PROBLEM_KINDS] == [0, 0, 0, 3]
    assert [a2.count(k) for k in progress.PROBLEM_KINDS] == [0, 0, 3, 0]
    conflict = a1.of_kind("conflict")[0]
    assert conflict.item.seats == (2,)
    assert judge.name in conflict.conflict.translated()


def test_missing_marks_count_each_empty_judge_seat(session, setup):
    statuses = by_code(progress.exam_progress(session, setup.exam))
    # A1: two M aspects and one J aspect with three seats, for three candidates
    assert statuses["A1"].count("missing") == 3 * (2 + 3)
    assert statuses["A1"].needs_action and not statuses["A1"].locked


def page(setup, show=""):
    return f"/exams/{setup.exam.id}/progress" + (f"?show={show}" if show else "")


def test_the_filter_shows_only_forms_with_that_problem_linked_to_their_rows(
    sign_in, client, session, setup
):
    fill(session, setup, "A1")
    fill(session, setup, "A2", measurement="0")
    sign_in(setup.chief)
    everything = client.get(page(setup)).get_data(as_text=True)
    assert 'id="form-A1"' in everything and 'id="form-A2"' in everything
    deductions = client.get(page(setup, "deduction")).get_data(as_text=True)
    assert 'id="form-A2"' in deductions and 'id="form-A1"' not in deductions
    form_url = f"/exams/{setup.exam.id}/forms/{setup.forms['A2'].sub_criterion_id}"
    for enrolment in setup.enrolments:
        assert f'href="{form_url}#enrolment-{enrolment.id}"' in deductions
    missing = client.get(page(setup, "missing")).get_data(as_text=True)
    assert "Nothing needs action here." in missing
    lock_link = f"{form_url}/lock?back=progress"
    assert lock_link in deductions


def test_experts_see_the_view_without_lock_links_and_outsiders_do_not_see_it(
    sign_in, client, setup
):
    sign_in(setup.experts[0])
    seen = client.get(page(setup, "action")).get_data(as_text=True)
    assert 'id="form-A1"' in seen and "/lock?back=progress" not in seen
    sign_in(UserFactory(role="chief_expert"))
    assert client.get(page(setup)).status_code == 404


def test_an_unknown_filter_shows_every_form(sign_in, client, setup):
    sign_in(setup.chief)
    response = client.get(page(setup, "everything<script>"))
    assert response.status_code == 200
    assert 'id="form-A2"' in response.get_data(as_text=True)


def test_locking_from_the_progress_view_asks_first_and_comes_back(sign_in, client, session, setup):
    fill(session, setup, "A1")
    sign_in(setup.chief)
    form_url = f"/exams/{setup.exam.id}/forms/{setup.forms['A1'].sub_criterion_id}"
    confirm = client.get(f"{form_url}/lock?back=progress").get_data(as_text=True)
    assert 'name="back" type="hidden" value="progress"' in confirm
    done = client.post(f"{form_url}/lock", data={"back": "progress"})
    assert done.headers["Location"].endswith(page(setup))
    session.refresh(setup.forms["A1"])
    assert setup.forms["A1"].locked


def test_finalising_asks_first_saying_what_happens(sign_in, client, session, setup):
    sign_in(setup.chief)
    url = f"/exams/{setup.exam.id}/finalise"
    blocked = client.get(url).get_data(as_text=True)
    assert "The exam cannot be finalised yet" in blocked
    assert 'id="confirm-finalise"' not in blocked
    fill(session, setup, "A1")
    fill(session, setup, "A2")
    ready = client.get(url).get_data(as_text=True)
    assert "2 of 2 marking forms are still open; finalising locks them all." in ready
    assert 'id="confirm-finalise"' in ready
    assert setup.exam.status != "finalised"  # asking changes nothing
    sign_in(setup.experts[0])
    assert client.get(url).status_code == 403


def test_finalising_warns_of_deductions_without_a_reason_in_open_forms(
    sign_in, client, session, setup
):
    fill(session, setup, "A1")
    fill(session, setup, "A2", measurement="0")
    sign_in(setup.chief)
    url = f"/exams/{setup.exam.id}/finalise"
    page = client.get(url).get_data(as_text=True)
    assert "Forms still open hold 3 deductions without a reason: A2.1." in page
    assert f"/exams/{setup.exam.id}/progress?show=deduction" in page
    client.post(
        f"/exams/{setup.exam.id}/forms/{setup.forms['A2'].sub_criterion_id}/lock",
        data={"acknowledgement": "Checked"},
    )
    assert 'id="finalise-deductions"' not in client.get(url).get_data(as_text=True)


def test_finalising_refuses_deductions_without_a_reason_until_the_chief_writes_a_note(
    sign_in, client, session, setup
):
    fill(session, setup, "A1")
    fill(session, setup, "A2", measurement="0")  # three deductions, no reason
    sign_in(setup.chief)
    url = f"/exams/{setup.exam.id}/finalise"
    assert 'name="acknowledgement"' in client.get(url).get_data(as_text=True)
    for note in ("", "   "):
        refused = client.post(url, data={"acknowledgement": note})
        assert refused.status_code == 422
        body = refused.get_data(as_text=True)
        assert "Deductions without a reason: 3." in body
        assert 'class="error-summary"' in body
        session.refresh(setup.exam)
        assert setup.exam.status != "finalised"
        assert not setup.forms["A1"].locked and not setup.forms["A2"].locked
    note = "Unfinished edges on three pieces, seen by me"
    assert client.post(url, data={"acknowledgement": note}).status_code == 302
    session.refresh(setup.exam)
    assert setup.exam.status == "finalised"
    session.refresh(setup.forms["A1"])
    session.refresh(setup.forms["A2"])
    assert setup.forms["A2"].deductions_note == note
    assert setup.forms["A1"].deductions_note == ""  # nothing to acknowledge there
    actions = [(e.action, e.target, e.reason) for e in audit.entries(session, setup.exam.id)]
    assert ("form.deductions_acknowledged", "form:A2", note) in actions
    assert not any(a == "form.deductions_acknowledged" and t == "form:A1" for a, t, _ in actions)

    # the progress view shows the note; acknowledged deductions no longer need action
    shown = client.get(page(setup, "deduction")).get_data(as_text=True)
    assert 'id="acknowledged-A2"' in shown and note in shown
    statuses = by_code(progress.exam_progress(session, setup.exam))
    assert statuses["A2"].count("deduction") == 3
    assert not statuses["A2"].needs_action
    assert 'id="form-A2"' not in client.get(page(setup, "action")).get_data(as_text=True)


def test_the_protocol_prints_the_chiefs_note(session, setup):
    fill(session, setup, "A1")
    fill(session, setup, "A2", measurement="0")
    note = "Unfinished edges, seen by me"
    exams.finalise(session, setup.exam, setup.chief, acknowledgement=note)
    text = " ".join(pdf_text(paperwork.protocol_pdf(session, setup.exam)).split())
    assert "Deductions without a reason, acknowledged by the chief expert" in text
    assert f"Form A2: {note}" in text


def test_finalising_without_deductions_needs_no_note(session, setup):
    fill(session, setup, "A1")
    fill(session, setup, "A2")
    exams.finalise(session, setup.exam, setup.chief)
    assert setup.exam.status == "finalised"
    with pytest.raises(errors.DeductionsUnexplained):
        other = build_exam(session, serial=200)
        fill(session, other, "A1")
        fill(session, other, "A2", measurement="0")
        exams.finalise(session, other.exam, None)  # the command line too
