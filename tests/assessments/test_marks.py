"""Mark entry rules: saving a cell, refusals, optimistic concurrency, completeness, sign-off."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from assessments.models import AuditEntry, Mark
from assessments.scoring import hundredths_text
from assessments.services import audit
from assessments.services.marks import entry, errors, seats, signoff
from assessments.services.marks.grid import form_grid
from tests.assessments.marking_setup import build_exam
from tests.factories import CollegeFactory, UserFactory


@pytest.fixture
def setup(session):
    return build_exam(session)


def save(setup, address, value, *, index=0, seat=0, user=None, expected=None, reason=""):
    """Save one cell; a judge seat nobody holds is written by the chief, with a reason."""
    session = marks_session()
    if seat and user is None:
        user, reason = setup.chief, reason or PAPER_FORM
    return entry.save_mark(
        session,
        exam=setup.exam,
        enrolment=setup.enrolments[index],
        aspect=setup.aspects[address],
        seat=seat,
        value=value,
        user=user or setup.experts[0],
        expected_version=expected,
        reason=reason,
    )


PAPER_FORM = "typed from the judge's paper form"


def marks_session():
    from app.extensions import db

    return db.session


def fill_form(setup, code, *, scores=(2, 2, 3), measurement=None):
    """Give every present candidate every mark of form ``code`` (M: full marks by default)."""
    for index in range(len(setup.enrolments)):
        for address, aspect in setup.aspects.items():
            if not address.startswith(code + "."):
                continue
            if aspect.kind == "M":
                full = hundredths_text(aspect.max_hundredths)
                save(setup, address, full if measurement is None else measurement, index=index)
            else:
                for seat, score in enumerate(scores, start=1):
                    save(setup, address, score, index=index, seat=seat)


def test_first_mark_is_stored_audited_and_starts_marking(session, setup):
    mark = save(setup, "A1.2", "0,25", reason="one field missing")
    assert (mark.value, mark.version, mark.reason) == (25, 1, "one field missing")
    assert setup.exam.status == "marking"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.exam_id == setup.exam.id)).one()
    assert entry.action == "mark.set"
    assert entry.target == f"enrolment:{setup.enrolments[0].id}/A1.2"
    assert (entry.old_value, entry.new_value, entry.reason) == ("", "0.25", "one field missing")
    assert entry.actor == setup.experts[0].email


def test_update_needs_the_version_the_writer_saw(session, setup):
    first = save(setup, "A1.1", "1")
    second = save(setup, "A1.1", "0.5", user=setup.experts[1], expected=1, reason="late")
    assert (second.id, second.value, second.version) == (first.id, 50, 2)
    with pytest.raises(errors.MarkConflict) as caught:
        save(setup, "A1.1", "0", expected=1)
    current = caught.value.current
    assert (current.value, current.version) == ("0.50", 2)
    assert current.updated_by == setup.experts[1].name
    assert current.updated_at is not None
    assert session.get(Mark, first.id).value == 50


def test_a_writer_who_believes_the_cell_empty_gets_a_conflict(setup):
    save(setup, "A1.1", "1")
    with pytest.raises(errors.MarkConflict) as caught:
        save(setup, "A1.1", "0", expected=None)
    assert caught.value.current.value == "1.00"


def test_resending_the_stored_value_is_not_a_conflict_and_changes_nothing(session, setup):
    save(setup, "A1.1", "1")
    again = save(setup, "A1.1", "1,00", expected=None)  # the first answer was lost
    assert again.version == 1
    count = session.scalars(select(AuditEntry).where(AuditEntry.exam_id == setup.exam.id)).all()
    assert len(count) == 1


def test_a_cell_can_be_cleared_and_the_clearing_is_audited(session, setup):
    save(setup, "A1.1", "1")
    assert save(setup, "A1.1", "", expected=1) is None
    assert session.scalars(select(Mark)).all() == []
    last = audit.entries(session, setup.exam.id)[-1]
    assert (last.action, last.old_value, last.new_value) == ("mark.cleared", "1.00", "")
    with pytest.raises(errors.MarkConflict) as caught:
        save(setup, "A1.1", "0.5", expected=1)
    assert caught.value.current.value is None


@pytest.mark.parametrize(
    ("address", "seat", "value", "field"),
    [
        ("A1.1", 0, "1.5", "value"),  # above the maximum 1.00
        ("A1.1", 0, "-0.5", "value"),
        ("A1.1", 0, "0.255", "value"),
        ("A1.1", 0, "abc", "value"),
        ("A1.1", 1, "1", "seat"),  # M aspects have only seat 0
        ("A1.3", 0, "2", "seat"),  # J seats are 1 … judges
        ("A1.3", 4, "2", "seat"),
        ("A1.3", 1, "4", "value"),
        ("A1.3", 1, "1.5", "value"),
    ],
)
def test_invalid_values_and_seats_are_refused(session, setup, address, seat, value, field):
    with pytest.raises(errors.MarkInvalid) as caught:
        save(setup, address, value, seat=seat)
    assert caught.value.field == field
    assert session.scalars(select(Mark)).all() == []


def test_locked_form_and_finalised_exam_refuse_changes(session, setup):
    setup.forms["A1"].locked_at = setup.exam.created_at
    session.flush()
    with pytest.raises(errors.FormLocked):
        save(setup, "A1.1", "1")
    save(setup, "A2.1", "1")  # another form stays open
    setup.exam.status = "finalised"
    session.flush()
    with pytest.raises(errors.ExamClosed):
        save(setup, "A2.1", "0", expected=1)


def test_only_the_exams_chief_and_experts_mark(session, setup):
    outsider = UserFactory(role="expert", college=setup.colleges[1])
    with pytest.raises(errors.NotAllowed):
        save(setup, "A1.1", "1", user=outsider)
    assert save(setup, "A1.1", "1", user=setup.chief).version == 1


def test_an_expert_never_marks_a_candidate_of_their_own_college(session, setup):
    setup.experts[0].college_id = setup.candidate(0).college_id
    session.flush()
    with pytest.raises(errors.ConflictOfInterest) as caught:
        save(setup, "A1.1", "1")
    assert setup.experts[0].name in caught.value.text
    assert session.scalars(select(Mark)).all() == []


def test_a_judge_seat_held_by_a_compatriot_refuses_that_candidates_scores(session, setup):
    compatriot = setup.experts[2]
    seats.assign_seat(session, setup.forms["A1"], 2, compatriot, setup.chief)
    compatriot.college_id = setup.candidate(1).college_id  # their college changed since
    session.flush()
    with pytest.raises(errors.ConflictOfInterest) as caught:
        save(setup, "A1.3", "2", seat=2, index=1)
    assert caught.value.field == "seat"
    assert compatriot.name in caught.value.text
    # seats of other judges and measurement aspects stay open
    assert save(setup, "A1.3", "2", seat=1, index=1).value == 2
    assert save(setup, "A1.1", "1", index=1).value == 100


def test_seating_a_compatriot_is_refused_before_it_is_saved(session, setup):
    compatriot = setup.experts[2]
    college = CollegeFactory()
    compatriot.college = college
    setup.candidate(1).college = college  # only the second candidate is a compatriot
    session.flush()
    entries = len(audit.entries(session, setup.exam.id))
    with pytest.raises(errors.ConflictOfInterest) as caught:
        seats.assign_seat(session, setup.forms["A1"], 2, compatriot, setup.chief)
    assert caught.value.field == "seat"
    assert compatriot.name in caught.value.text
    assert "2" not in (setup.forms["A1"].seats or {})
    assert len(audit.entries(session, setup.exam.id)) == entries
    setup.enrolments[1].attendance = "absent"  # only present candidates count
    session.flush()
    seats.assign_seat(session, setup.forms["A1"], 2, compatriot, setup.chief)
    assert setup.forms["A1"].seats["2"] == compatriot.id


def test_only_present_candidates_get_marks(session, setup):
    setup.enrolments[2].attendance = "absent"
    session.flush()
    with pytest.raises(errors.NotPresent):
        save(setup, "A1.1", "1", index=2)


def test_completeness_lists_missing_cells_and_judges_too_far_apart(session, setup):
    setup.enrolments[2].attendance = "withdrawn"  # absent candidates need nothing
    session.flush()
    save(setup, "A1.1", "1", index=0)
    save(setup, "A1.2", "0.5", index=0)
    for seat, score in ((1, 0), (2, 1), (3, 2)):  # spread 2 > allowed 1
        save(setup, "A1.3", score, index=0, seat=seat)
    save(setup, "A1.3", 3, index=1, seat=1)
    items = signoff.completeness(session, setup.exam)
    found = [(i.enrolment.id, i.address, i.kind, i.seats) for i in items]
    first, second = setup.enrolments[0].id, setup.enrolments[1].id
    assert found == [
        (first, "A1.3", "rescore", (1, 2, 3)),
        (first, "A2.1", "missing", ()),
        (second, "A1.1", "missing", ()),
        (second, "A1.2", "missing", ()),
        (second, "A1.3", "missing", (2, 3)),
        (second, "A2.1", "missing", ()),
    ]
    assert str(items[0]).endswith("(ws 1): A1.3: needs re-scoring")
    only_a2 = signoff.completeness(session, setup.exam, setup.forms["A2"].sub_criterion_id)
    assert [i.address for i in only_a2] == ["A2.1", "A2.1"]


@pytest.mark.parametrize(("scores", "rescore"), [((1, 2, 2), False), ((1, 1, 3), True)])
def test_spread_at_the_limit_is_accepted(session, setup, scores, rescore):
    for seat, score in enumerate(scores, start=1):
        save(setup, "A1.3", score, seat=seat)
    items = signoff.completeness(session, setup.exam, setup.forms["A1"].sub_criterion_id)
    kinds = {
        i.kind for i in items if i.enrolment.id == setup.enrolments[0].id and i.address == "A1.3"
    }
    assert kinds == ({"rescore"} if rescore else set())


def test_the_chief_locks_only_a_complete_form(session, setup):
    form = setup.forms["A2"]
    with pytest.raises(errors.NotAllowed):
        signoff.lock_form(session, form, setup.experts[0])
    with pytest.raises(errors.FormIncomplete) as caught:
        signoff.lock_form(session, form, setup.chief)
    assert len(caught.value.items) == 3
    fill_form(setup, "A2")
    signoff.lock_form(session, form, setup.chief)
    assert form.locked and form.locked_by_id == setup.chief.id
    assert audit.entries(session, setup.exam.id)[-1].action == "form.locked"


def test_deductions_without_a_reason_block_locking_until_the_chief_acknowledges_them(
    session, setup
):
    fill_form(setup, "A2", measurement="0")
    form = setup.forms["A2"]
    with pytest.raises(errors.DeductionsUnexplained) as caught:
        signoff.lock_form(session, form, setup.chief)
    assert [i.address for i in caught.value.items] == ["A2.1"] * 3
    assert not form.locked
    with pytest.raises(errors.DeductionsUnexplained):
        signoff.lock_form(session, form, setup.chief, "   ")
    signoff.lock_form(session, form, setup.chief, "Workstations left unfinished, seen by me")
    assert form.locked
    acknowledged, locked = audit.entries(session, setup.exam.id)[-2:]
    assert acknowledged.action == "form.deductions_acknowledged"
    assert acknowledged.reason == "Workstations left unfinished, seen by me"
    assert acknowledged.old_value.count("/A2.1") == 3
    assert locked.action == "form.locked"


def test_a_deduction_with_its_reason_does_not_block_locking(session, setup):
    fill_form(setup, "A2")
    save(setup, "A2.1", "0", index=1, expected=1, reason="burr left on the edge")
    signoff.lock_form(session, setup.forms["A2"], setup.chief)
    assert setup.forms["A2"].locked


def test_a_form_waiting_for_rescoring_cannot_be_locked(session, setup):
    fill_form(setup, "A1", scores=(0, 3, 3))
    with pytest.raises(errors.FormIncomplete) as caught:
        signoff.lock_form(session, setup.forms["A1"], setup.chief)
    assert {i.kind for i in caught.value.items} == {"rescore"}


def test_unlocking_needs_the_chief_and_a_written_reason(session, setup):
    fill_form(setup, "A2")
    form = setup.forms["A2"]
    signoff.lock_form(session, form, setup.chief)
    with pytest.raises(errors.NotAllowed):
        signoff.unlock_form(session, form, setup.experts[0], "typo")
    with pytest.raises(errors.MarkInvalid) as caught:
        signoff.unlock_form(session, form, setup.chief, "   ")
    assert caught.value.field == "reason"
    signoff.unlock_form(session, form, setup.chief, "Workstation 2 re-measured")
    assert not form.locked
    entry = audit.entries(session, setup.exam.id)[-1]
    assert (entry.action, entry.reason) == ("form.unlocked", "Workstation 2 re-measured")


def test_lock_all_forms_is_all_or_nothing(session, setup):
    fill_form(setup, "A2")
    with pytest.raises(errors.FormIncomplete):
        signoff.lock_all_forms(session, setup.exam, None)
    assert not setup.forms["A2"].locked
    fill_form(setup, "A1")
    signoff.lock_all_forms(session, setup.exam, None)
    assert all(form.locked for form in setup.forms.values())


def test_seats_are_assigned_by_the_chief_to_experts_of_the_exam(session, setup):
    form = setup.forms["A1"]
    with pytest.raises(errors.NotAllowed):
        seats.assign_seat(session, form, 1, setup.experts[0], setup.experts[0])
    stranger = UserFactory(role="expert", college=CollegeFactory())
    with pytest.raises(errors.MarkInvalid):
        seats.assign_seat(session, form, 1, stranger, setup.chief)
    with pytest.raises(errors.MarkInvalid):
        seats.assign_seat(session, form, 4, setup.experts[0], setup.chief)
    seats.assign_seat(session, form, 1, setup.experts[0], setup.chief)
    with pytest.raises(errors.MarkInvalid):  # one expert, one seat
        seats.assign_seat(session, form, 2, setup.experts[0], setup.chief)
    assert form.seats == {"1": setup.experts[0].id}
    entry = audit.entries(session, setup.exam.id)[-1]
    assert (entry.action, entry.new_value) == ("seat.assigned", setup.experts[0].email)


def test_cell_history_lists_every_change_of_that_cell_only(session, setup):
    save(setup, "A1.1", "1")
    save(setup, "A1.1", "0.5", expected=1, reason="crooked")
    save(setup, "A1.2", "0.5")
    history = entry.cell_history(session, setup.exam, setup.enrolments[0], setup.aspects["A1.1"], 0)
    assert [(e.old_value, e.new_value, e.reason) for e in history] == [
        ("", "1.00", ""),
        ("1.00", "0.50", "crooked"),
    ]


def test_the_grid_shows_missing_rescore_deductions_and_exclusions(session, setup):
    setup.experts[0].college_id = setup.candidate(1).college_id
    save(setup, "A1.2", "0.25", index=0, user=setup.chief)  # a deduction without a reason
    for seat, score in ((1, 0), (2, 3), (3, 3)):
        save(setup, "A1.3", score, index=0, seat=seat)  # the chief, with a reason
    grid = form_grid(session, setup.exam, setup.forms["A1"], setup.experts[0])
    assert [c.address for c in grid.columns] == ["A1.1", "A1.2", "A1.3", "A1.3", "A1.3"]
    assert [c.seat for c in grid.columns] == [0, 0, 1, 2, 3]
    assert grid.missing == 3 * 5 - 4
    assert grid.rescore == 1
    assert grid.unexplained_deductions == 1
    assert all(row.user_conflict is not None for row in grid.rows)  # same college for all
    assert [r.enrolment.workstation for r in grid.rows] == [1, 2, 3]
