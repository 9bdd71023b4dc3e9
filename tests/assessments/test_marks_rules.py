"""Each marking rule lives once, in marks.rules: the save, the import, sign-off and grid agree."""

from __future__ import annotations

import itertools

import pytest

from assessments import scoring
from assessments.iin import InvalidIIN, iin_problem, validate_iin
from assessments.services import audit, exams
from assessments.services.marks import bulk_import, entry, errors, rules, seats, signoff
from assessments.services.marks.grid import form_grid
from assessments.tabular import Rejected
from tests.assessments.marking_setup import build_exam
from tests.factories import iin_for


def save(session, setup, address, value, *, index=0, seat=0, user=None):
    return entry.save_mark(
        session,
        exam=setup.exam,
        enrolment=setup.enrolments[index],
        aspect=setup.aspects[address],
        seat=seat,
        value=value,
        user=user or setup.chief,
        expected_version=None,
        # a judge seat nobody holds: the chief writes it with a reason (rules.seat_refusal)
        reason="typed from the judge's paper form" if seat and user is None else "",
    )


def import_lines(session, setup, *lines, user=None):
    data = "\n".join(("candidate,aspect,judge,score,reason", *lines)).encode()
    return bulk_import.import_marks(session, setup.exam, "m.csv", data, user or setup.chief)


def row_of(grid, enrolment):
    return next(row for row in grid.rows if row.enrolment.id == enrolment.id)


# --- judge spread -----------------------------------------------------------------------


@pytest.mark.parametrize("allowed_spread", [0, 1, 2, 3])
def test_the_judge_spread_rule_is_the_scoring_rule(allowed_spread):
    for scores in itertools.product(range(4), repeat=3):
        by_seat = dict(enumerate(scores, start=1))
        empty, rescore = rules.judge_seats_state(by_seat, 3, allowed_spread)
        assert empty == ()
        assert rescore is scoring.needs_rescoring(list(scores), allowed_spread)


def test_the_judge_spread_waits_for_every_seat():
    assert rules.judge_seats_state({1: 0, 3: 3}, 3, 1) == ((2,), False)
    assert rules.judge_seats_state({}, 2, 0) == ((1, 2), False)


@pytest.mark.parametrize(("allowed_spread", "rescore"), [(0, True), (1, False)])
def test_sign_off_and_the_grid_agree_on_re_scoring(session, allowed_spread, rescore):
    setup = build_exam(session, allowed_spread=allowed_spread)
    for seat, score in ((1, 1), (2, 1), (3, 2)):
        save(session, setup, "A1.3", score, seat=seat)
    items = signoff.completeness(session, setup.exam, setup.forms["A1"].sub_criterion_id)
    flagged = [(i.enrolment.id, i.address) for i in items if i.kind == "rescore"]
    assert flagged == ([(setup.enrolments[0].id, "A1.3")] if rescore else [])
    grid = form_grid(session, setup.exam, setup.forms["A1"], setup.chief)
    assert grid.rescore == int(rescore)
    assert (setup.aspects["A1.3"].id in row_of(grid, setup.enrolments[0]).rescore) is rescore


# --- conflict of interest ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expert_college", "candidate_college", "conflict"),
    [(7, 7, True), (7, 8, False), (None, 7, False), (None, None, False)],
)
def test_conflict_of_interest_is_the_same_college(expert_college, candidate_college, conflict):
    assert rules.conflict_of_interest(expert_college, candidate_college) is conflict


def test_a_judge_seat_from_the_candidates_college_is_closed_on_every_path(session):
    setup = build_exam(session)
    judge = setup.experts[1]
    seats.assign_seat(session, setup.forms["A1"], 2, judge, setup.chief)
    judge.college_id = setup.candidate(0).college_id
    session.flush()
    with pytest.raises(errors.ConflictOfInterest) as caught:
        save(session, setup, "A1.3", "1", seat=2)
    assert caught.value.field == "seat"
    row = row_of(
        form_grid(session, setup.exam, setup.forms["A1"], setup.chief), setup.enrolments[0]
    )
    assert row.conflict_for(2) is not None
    assert row.conflict_for(1) is None and row.conflict_for(3) is None
    with pytest.raises(Rejected) as refused:
        import_lines(session, setup, f"{setup.enrolments[0].candidate_number},A1.3,2,1")
    assert refused.value.lines() == [
        f"m.csv:2: judge: conflict of interest: the expert in this seat ({judge.name}) is "
        "from the candidate's college"
    ]
    save(session, setup, "A1.3", "1", seat=1)  # the other seats stay open


def test_an_expert_from_the_candidates_college_is_refused_on_every_path(session):
    setup = build_exam(session)
    expert = setup.experts[0]
    expert.college_id = setup.candidate(0).college_id
    setup.candidate(1).college_id = setup.colleges[1].id  # no longer the expert's college
    session.flush()
    with pytest.raises(errors.ConflictOfInterest) as caught:
        save(session, setup, "A1.1", "1", user=expert)
    assert caught.value.field == "enrolment_id"
    grid = form_grid(session, setup.exam, setup.forms["A1"], expert)
    assert row_of(grid, setup.enrolments[0]).user_conflict is not None
    assert row_of(grid, setup.enrolments[1]).user_conflict is None
    with pytest.raises(Rejected) as refused:
        import_lines(session, setup, f"{setup.enrolments[0].candidate_number},A1.1,,1", user=expert)
    assert refused.value.lines() == [
        "m.csv:2: candidate: conflict of interest: you are from the candidate's college"
    ]


# --- mark parsing and seats ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "seat", "value"),
    [
        ("A1.1", 0, "1.5"),
        ("A1.1", 0, "-1"),
        ("A1.1", 0, "0,333"),
        ("A1.1", 0, "one"),
        ("A1.3", 1, "4"),
        ("A1.3", 1, "2.5"),
    ],
)
def test_the_save_and_the_import_parse_marks_alike(session, address, seat, value):
    setup = build_exam(session)
    with pytest.raises(errors.MarkInvalid) as caught:
        save(session, setup, address, value, seat=seat)
    assert caught.value.field == "value"
    with pytest.raises(Rejected) as refused:
        import_lines(
            session,
            setup,
            f'{setup.enrolments[0].candidate_number},{address},{seat or ""},"{value}",paper form',
        )
    assert refused.value.lines() == [f"m.csv:2: score: {caught.value.text}"]


@pytest.mark.parametrize("seat", [0, 4])
def test_the_save_the_seats_and_the_import_know_the_same_judge_seats(session, seat):
    setup = build_exam(session)
    with pytest.raises(errors.MarkInvalid) as caught:
        save(session, setup, "A1.3", "1", seat=seat)
    with pytest.raises(errors.MarkInvalid) as seated:
        seats.assign_seat(session, setup.forms["A1"], seat, setup.experts[0], setup.chief)
    assert caught.value.text == seated.value.text == "must be a judge seat from 1 to 3"
    with pytest.raises(Rejected) as refused:
        import_lines(session, setup, f"{setup.enrolments[0].candidate_number},A1.3,{seat},1")
    assert refused.value.lines() == [f"m.csv:2: judge: {caught.value.text}"]


def test_the_grid_flags_the_deductions_the_rule_names(session):
    setup = build_exam(session)
    save(session, setup, "A1.1", "0.5", index=0)  # below the maximum 1.00, no reason
    save(session, setup, "A1.1", "1", index=1)  # full marks need no reason
    grid = form_grid(session, setup.exam, setup.forms["A1"], setup.chief)
    aspect = setup.aspects["A1.1"].id
    assert aspect in row_of(grid, setup.enrolments[0]).deductions
    assert aspect not in row_of(grid, setup.enrolments[1]).deductions
    assert grid.unexplained_deductions == 1
    assert rules.unexplained_deduction("M", 100, 50, "") is True
    assert rules.unexplained_deduction("M", 100, 50, "one part missing") is False
    assert rules.unexplained_deduction("J", 300, 100, "") is False


# --- IIN messages -----------------------------------------------------------------------


def _wrong_check_digit() -> str:
    iin = iin_for(1)
    return iin[:11] + str((int(iin[11]) + 1) % 10)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("03022860123", "must be 12 digits, got 11; Excel drops a leading zero from numbers:"),
        ("12345", "must be 12 digits, got 5"),
        ("1234567890ab", "must contain digits only"),
        ("041317600012", "the first six digits are not a real birth date (YYMMDD)"),
        ("030228901234", "the 7th digit (century and sex) must be 1 to 6"),
        (None, "has a wrong check digit (the last digit does not match the others)"),
    ],
)
def test_one_iin_wording_for_enrolment_and_the_marks_import(session, typed, expected):
    typed = typed or _wrong_check_digit()
    with pytest.raises(InvalidIIN) as caught:
        validate_iin(typed)
    message, params = iin_problem(caught.value, typed)
    shown = message % params if params else message
    assert shown.startswith(expected)
    setup = build_exam(session)
    with pytest.raises(Rejected) as marks_refused:  # by IIN: the command line
        data = f"iin,aspect,judge,score\n{typed},A1.1,,1\n".encode()
        bulk_import.import_marks(session, setup.exam, "m.csv", data, None)
    with pytest.raises(Rejected) as enrol_refused:
        exams.enrol_file(session, setup.exam, "m.csv", f"iin\n{typed}\n".encode())
    assert marks_refused.value.lines() == enrol_refused.value.lines() == [f"m.csv:2: iin: {shown}"]


# --- a judge seat belongs to the expert seated there -------------------------------------


def test_a_judge_seat_is_written_by_its_expert_or_the_chief_with_a_reason_on_every_path(session):
    setup = build_exam(session)
    holder, other = setup.experts[0], setup.experts[1]
    seats.assign_seat(session, setup.forms["A1"], 1, holder, setup.chief)
    seats.assign_seat(session, setup.forms["A1"], 3, other, setup.chief)
    number = setup.enrolments[0].candidate_number
    # the single cell
    with pytest.raises(errors.NotYourSeat) as caught:
        save(session, setup, "A1.3", "2", seat=1, user=other)
    assert (
        caught.value.text
        == f"Judge seat 1 is {holder.name}'s: only they, or the chief expert, write its scores."
    )
    with pytest.raises(errors.NotYourSeat):
        save(session, setup, "A1.3", "2", seat=2, user=holder)  # nobody sits there
    with pytest.raises(errors.SeatReasonNeeded):
        entry.save_mark(
            session,
            exam=setup.exam,
            enrolment=setup.enrolments[0],
            aspect=setup.aspects["A1.3"],
            seat=1,
            value="2",
            user=setup.chief,
            expected_version=None,
        )
    assert save(session, setup, "A1.3", "2", seat=1, user=holder).value == 2
    # the import: the same rule, row by row
    with pytest.raises(Rejected) as refused:
        import_lines(session, setup, f"{number},A1.3,3,1", f"{number},A1.3,2,1", user=holder)
    assert refused.value.lines() == [
        f"m.csv:2: judge: Judge seat 3 is {other.name}'s: only they, or the chief expert, "
        "write its scores.",
        "m.csv:3: judge: Nobody sits in judge seat 2 yet: only the chief expert writes it, or "
        "seats an expert there first.",
    ]
    with pytest.raises(Rejected) as refused:
        import_lines(session, setup, f"{number},A1.3,3,1", user=setup.chief)
    assert refused.value.lines() == [
        f"m.csv:2: judge: Judge seat 3 is {other.name}'s: give the reason for entering their "
        "score (for example, typed from their paper form)."
    ]
    summary = import_lines(session, setup, f"{number},A1.3,3,1,paper form p. 4", user=setup.chief)
    assert summary.created == 1
    assert audit.entries(session, setup.exam.id)[-1].reason == "paper form p. 4"
    # the grid closes the other seats for an expert and asks the chief for a reason
    grid = form_grid(session, setup.exam, setup.forms["A1"], holder)
    assert grid.seat_closed(1) is None and grid.seat_closed(2) and grid.seat_closed(3)
    chief_grid = form_grid(session, setup.exam, setup.forms["A1"], setup.chief)
    assert [chief_grid.seat_closed(s) for s in (1, 2, 3)] == [None, None, None]
    assert [chief_grid.needs_reason(s) for s in (1, 2, 3)] == [True, True, True]
    # a measurement mark (seat 0) belongs to no judge
    assert save(session, setup, "A1.1", "1", user=other).value == 100
