"""Bulk mark import: CSV/XLSX, all or nothing, every error named FILE:ROW: field: message."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from assessments.models import AuditEntry, Mark
from assessments.services import audit
from assessments.services.marks import bulk_import, entry, errors, rules, seats, signoff
from assessments.tabular import Rejected, Row
from tests.assessments.marking_setup import build_exam
from tests.factories import UserFactory, iin_for


@pytest.fixture
def setup(session):
    return build_exam(session)


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def full_rows(setup, value="0", scores=(2, 2, 3), by="iin", reason=None) -> list[str]:
    """Every cell of the exam, candidates named by IIN or by candidate number.

    ``reason`` adds a fifth column, given on the judge seats' rows.
    """
    keys = setup.iins if by == "iin" else [e.candidate_number for e in setup.enrolments]
    rows = []
    for iin in keys:
        for address, aspect in setup.aspects.items():
            if aspect.kind == "M":
                rows.append(f"{iin},{address},,{value}" + ("," if reason else ""))
            else:
                rows.extend(
                    f"{iin},{address},{seat},{s}" + (f",{reason}" if reason else "")
                    for seat, s in enumerate(scores, 1)
                )
    return rows


def stored(session) -> dict:
    return {(m.enrolment_id, m.aspect_id, m.seat): m.value for m in session.scalars(select(Mark))}


def test_a_complete_file_is_imported_chained_and_starts_marking(session, setup):
    # the chief types in the judges' paper forms: nobody holds a seat, so each row says why
    data = csv_bytes(
        "candidate,aspect,judge,score,reason",
        *full_rows(setup, value='"0,5"', by="candidate", reason="judge's paper form"),
    )
    summary = bulk_import.import_marks(session, setup.exam, "day1.csv", data, setup.chief)
    cells = 3 * (3 + 3)  # 3 candidates × (3 M aspects + 3 judge seats)
    assert (summary.rows, summary.created, summary.updated, summary.unchanged) == (
        cells,
        cells,
        0,
        0,
    )
    values = stored(session)
    assert values[(setup.enrolments[0].id, setup.aspects["A1.2"].id, 0)] == 50
    assert values[(setup.enrolments[2].id, setup.aspects["A1.3"].id, 3)] == 3
    assert signoff.completeness(session, setup.exam) == []
    assert setup.exam.status == "marking"
    report = audit.verify(session, setup.exam.id)
    assert report.ok and report.checked == cells
    assert (summary.audit_head, summary.audit_seq) == audit.chain_head(session, setup.exam.id)
    entry = audit.entries(session, setup.exam.id)[0]
    assert (entry.action, entry.reason, entry.actor) == (
        "mark.imported",
        "day1.csv",
        setup.chief.email,
    )


def test_an_imported_value_replaces_an_earlier_one_with_its_reason(session, setup):
    first = entry.save_mark(
        session,
        exam=setup.exam,
        enrolment=setup.enrolments[0],
        aspect=setup.aspects["A1.1"],
        seat=0,
        value="1",
        user=setup.experts[0],
        expected_version=None,
    )
    data = csv_bytes(
        "IIN;Aspect;Judge;Score;Reason",
        f"{setup.iins[0]};A1.1;;0,75;paper form, page 2",
        f"{setup.iins[1]};a1.1;;0.75;",
    )
    summary = bulk_import.import_marks(session, setup.exam, "paper.csv", data, None)
    assert (summary.created, summary.updated) == (1, 1)
    session.refresh(first)
    assert (first.value, first.version, first.reason) == (75, 2, "paper form, page 2")
    entries = audit.entries(session, setup.exam.id)
    assert [(e.old_value, e.new_value, e.reason, e.actor) for e in entries[1:]] == [
        ("1.00", "0.75", "paper form, page 2", "system"),
        ("", "0.75", "paper.csv", "system"),
    ]
    again = bulk_import.import_marks(session, setup.exam, "paper.csv", data, None)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_xlsx_files_are_read_like_csv(session, setup):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["iin", "aspect", "judge", "score"])
    sheet.append([setup.iins[0], "A2.1", None, 1.25])
    sheet.append([setup.iins[0], "A1.3", 2, 3])
    buffer = io.BytesIO()
    book.save(buffer)
    summary = bulk_import.import_marks(session, setup.exam, "marks.xlsx", buffer.getvalue(), None)
    assert summary.created == 2
    values = stored(session)
    assert values[(setup.enrolments[0].id, setup.aspects["A2.1"].id, 0)] == 125
    assert values[(setup.enrolments[0].id, setup.aspects["A1.3"].id, 2)] == 3


def _refused(session, setup, *lines, user=None, entries=0):
    with pytest.raises(Rejected) as caught:
        bulk_import.import_marks(session, setup.exam, "m.csv", csv_bytes(*lines), user)
    assert session.scalars(select(Mark)).all() == []
    assert len(session.scalars(select(AuditEntry)).all()) == entries
    assert setup.exam.status == "planned"
    return caught.value.lines()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{iin},A1.1,,1.5", "m.csv:3: score: is above the maximum 1.00"),
        ("{iin},A1.1,,-1", "m.csv:3: score: is below 0"),
        ("{iin},A1.1,,0.333", "m.csv:3: score: has more than two decimal places"),
        ("{iin},A1.1,,one", "m.csv:3: score: is not a number"),
        ("{iin},A1.1,,", "m.csv:3: score: is required"),
        ("{iin},A1.3,1,4", "m.csv:3: score: must be 0, 1, 2 or 3"),
        ("{iin},A1.3,1,2.5", "m.csv:3: score: must be a whole number 0, 1, 2 or 3"),
        ("{iin},A1.3,,2", "m.csv:3: judge: must be a judge seat from 1 to 3"),
        ("{iin},A1.3,4,2", "m.csv:3: judge: must be a judge seat from 1 to 3"),
        ("{iin},A1.1,1,1", "m.csv:3: judge: must be empty for a measurement aspect"),
        (
            "{iin},Z9.9,,1",
            "m.csv:3: aspect: Z9.9 is not an aspect of this exam's scheme (write it like C4.2)",
        ),
        ("{iin},,,1", "m.csv:3: aspect: is required"),
        (",A1.1,,1", "m.csv:3: iin: is required"),
        ("123,A1.1,,1", "m.csv:3: iin: must be 12 digits, got 3"),
        (
            "{bad},A1.1,,1",
            "m.csv:3: iin: has a wrong check digit (the last digit does not match the others)",
        ),
        ("{stranger},A1.1,,1", "m.csv:3: iin: no candidate with this IIN is enrolled in this exam"),
        ("{iin},A1.1,,1", "m.csv:3: aspect: the same cell is already given in row 2"),
    ],
)
def test_every_bad_row_refuses_the_whole_file(session, setup, row, message):
    iin = setup.iins[0]
    bad = iin[:11] + str((int(iin[11]) + 1) % 10)
    line = row.format(iin=iin, bad=bad, stranger=iin_for(9000))
    lines = _refused(session, setup, "iin,aspect,judge,score", f"{iin},A1.1,,1", line)
    assert lines == [message]


def test_all_problems_are_listed_in_row_order(session, setup):
    lines = _refused(
        session,
        setup,
        "iin,aspect,judge,score",
        f"{setup.iins[0]},A1.1,,9",
        f"{setup.iins[1]},A1.1,,1",
        f"{setup.iins[2]},A1.3,0,x",
    )
    assert lines == [
        "m.csv:2: score: is above the maximum 1.00",
        "m.csv:4: judge: must be a judge seat from 1 to 3",
        "m.csv:4: score: is not a number",
    ]


def test_a_missing_column_refuses_the_file(session, setup):
    lines = _refused(session, setup, "iin,aspect,score", f"{setup.iins[0]},A1.1,1")
    assert lines == ["m.csv:1: judge: required column is missing"]


def test_an_empty_file_is_refused(session, setup):
    assert _refused(session, setup, "iin,aspect,judge,score") == ["m.csv: has no mark rows"]


def test_rows_for_a_locked_form_or_an_absent_candidate_are_refused(session, setup):
    setup.forms["A2"].locked_at = setup.exam.created_at
    setup.enrolments[1].attendance = "absent"
    session.flush()
    lines = _refused(
        session,
        setup,
        "iin,aspect,judge,score",
        f"{setup.iins[0]},A1.1,,1",
        f"{setup.iins[0]},A2.1,,1",
        f"{setup.iins[1]},A1.1,,1",
    )
    assert lines == [
        "m.csv:3: aspect: form A2 is locked; the chief expert must unlock it first",
        "m.csv:4: iin: the candidate is absent; only present candidates get marks",
    ]


def test_conflicts_of_interest_apply_to_imports(session, setup):
    chief = setup.chief
    judge = setup.experts[1]
    seats.assign_seat(session, setup.forms["A1"], 2, judge, chief)
    judge.college_id = setup.candidate(0).college_id
    session.flush()
    lines = _refused(
        session,
        setup,
        "candidate,aspect,judge,score",
        f"{setup.enrolments[0].candidate_number},A1.3,2,1",
        user=chief,
        entries=1,
    )
    assert lines == [
        f"m.csv:2: judge: conflict of interest: the expert in this seat ({judge.name}) is "
        "from the candidate's college"
    ]
    expert = setup.experts[0]
    expert.college_id = setup.candidate(0).college_id
    session.flush()
    with pytest.raises(Rejected) as caught:
        bulk_import.import_marks(
            session,
            setup.exam,
            "m.csv",
            csv_bytes(
                "candidate,aspect,judge,score", f"{setup.enrolments[0].candidate_number},A1.1,,1"
            ),
            expert,
        )
    assert caught.value.lines() == [
        "m.csv:2: candidate: conflict of interest: you are from the candidate's college"
    ]


def test_a_finalised_exam_refuses_imports(session, setup):
    setup.exam.status = "finalised"
    session.flush()
    with pytest.raises(errors.ExamClosed):
        bulk_import.import_marks(
            session,
            setup.exam,
            "m.csv",
            csv_bytes("iin,aspect,judge,score", *full_rows(setup)),
            None,
        )


def test_cli_import_prints_a_summary_or_every_problem(app, session, setup, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes("iin,aspect,judge,score", *full_rows(setup)))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["marks", "import", str(setup.exam.id), str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert '"created": 18' in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes("iin,aspect,judge,score", f"{setup.iins[0]},A1.1,,7"))
    result = runner.invoke(args=["marks", "import", str(setup.exam.id), str(bad)])
    assert result.exit_code == 1
    assert "bad.csv:2: score: is above the maximum 1.00" in result.output
    missing = runner.invoke(args=["marks", "import", "999999", str(good)])
    assert missing.exit_code == 1
    assert "no exam with id 999999" in missing.output


# --- candidates by number; IINs only for administrators --------------------------------


@pytest.mark.parametrize("who", ["expert", "chief"])
def test_an_expert_cannot_learn_whether_an_iin_is_enrolled(session, setup, who):
    """An IIN-keyed file from an expert gets one answer, enrolled IIN or not, naming the column."""
    user = setup.experts[0] if who == "expert" else setup.chief
    answers = []
    for iin in (setup.iins[0], iin_for(9000), "123"):
        answers.append(
            _refused(session, setup, "iin,aspect,judge,score", f"{iin},A1.1,,1", user=user)
        )
    assert (
        answers[0]
        == answers[1]
        == answers[2]
        == [
            "m.csv: iin: Experts name candidates by candidate number: replace the column iin with "
            "the column candidate (the number shown in the marking grid)."
        ]
    )
    # the JSON rows of the API alike
    with pytest.raises(Rejected) as caught:
        bulk_import.import_rows(
            session,
            setup.exam,
            [Row(1, {"iin": setup.iins[0], "aspect": "A1.1", "judge": "", "score": "1"})],
            user,
            source="JSON",
        )
    assert caught.value.lines() == [answers[0][0].replace("m.csv", "JSON")]


def test_an_expert_imports_by_candidate_number(session, setup):
    expert = setup.experts[0]
    numbers = [e.candidate_number for e in setup.enrolments]
    summary = bulk_import.import_marks(
        session,
        setup.exam,
        "m.csv",
        csv_bytes("Candidate,aspect,judge,score", f"{numbers[0]},A1.1,,1", f"{numbers[2]},A2.1,,1"),
        expert,
    )
    assert summary.created == 2
    assert stored(session) == {
        (setup.enrolments[0].id, setup.aspects["A1.1"].id, 0): 100,
        (setup.enrolments[2].id, setup.aspects["A2.1"].id, 0): 100,
    }


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (
            "candidate,aspect,judge,score",
            "99,A1.1,,1",
            "m.csv:2: candidate: no candidate has the number 99 in this exam",
        ),
        (
            "candidate,aspect,judge,score",
            "x1,A1.1,,1",
            "m.csv:2: candidate: must be a candidate number (digits only)",
        ),
        (
            "candidate,aspect,judge,score",
            "²,A1.1,,1",
            "m.csv:2: candidate: must be a candidate number (digits only)",
        ),
        ("candidate,aspect,judge,score", ",A1.1,,1", "m.csv:2: candidate: is required"),
        (
            "aspect,judge,score",
            "A1.1,,1",
            "m.csv: candidate: needs the column candidate (the candidate number in this exam)",
        ),
        (
            "candidate,iin,aspect,judge,score",
            "1,,A1.1,,1",
            "m.csv: candidate: names candidates both by candidate and by iin; keep one of the two",
        ),
    ],
)
def test_candidate_number_problems_are_named(session, setup, header, row, expected):
    assert _refused(session, setup, header, row, user=setup.experts[0]) == [expected]


def test_administrators_and_the_command_line_may_still_import_by_iin(session, setup):
    data = csv_bytes("iin,aspect,judge,score", f"{setup.iins[1]},A1.1,,1")
    assert bulk_import.import_marks(session, setup.exam, "m.csv", data, None).created == 1
    for role in ("admin", "centre_manager"):
        rules.check_iin_import(UserFactory(role=role))
    with pytest.raises(errors.NotAllowed):
        rules.check_iin_import(setup.chief)
