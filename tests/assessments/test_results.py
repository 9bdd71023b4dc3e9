"""Results: exact totals, grades on exact values, ranking, storage, recompute and exports."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from assessments import scoring
from assessments.models import (
    Aspect,
    Candidate,
    CandidateAccess,
    Enrolment,
    Exam,
    Mark,
    Result,
)
from assessments.services import results
from assessments.services.results import ResultsError, compute_results
from tests.factories import (
    CandidateFactory,
    CollegeFactory,
    CompetenceFactory,
    EnrolmentFactory,
    ExamFactory,
    MarkFactory,
    MarkingSchemeFactory,
    iin_for,
    scheme_aspects,
)

# --- a small exam, built with the factories -------------------------------------------------

# (sub-criterion code, aspects as (kind, max mark, WSOS section))
TINY_SCHEME = (
    ("A1", (("M", "1.00", 1), ("M", "0.75", 2))),
    ("B1", (("J", "1.50", 1), ("M", "1.75", 2))),
)


@dataclass
class ExamSetup:
    exam: Exam
    aspects: dict[str, Aspect]
    enrolments: dict[str, Enrolment] = field(default_factory=dict)


_serial = iter(range(1_000_000))
_used: set[str] = set()


def _fresh_iin() -> str:
    """A valid IIN not handed out before in this run (make_iin may bump a serial onto the next)."""
    while True:
        n = next(_serial)
        iin = iin_for(n % 10_000, birth=date(2004, 1 + n // 10_000 % 12, 1 + n // 120_000 % 28))
        if iin not in _used:
            _used.add(iin)
            return iin


def make_candidate(session, last_name: str, first_name: str, college) -> Candidate:
    return CandidateFactory(
        iin=_fresh_iin(),
        last_name=last_name,
        first_name=first_name,
        middle_name="",
        search_text="",
        college=college,
        specialty="Веб-әзірлеу",
    )


def build_exam(
    session,
    layout=TINY_SCHEME,
    *,
    judges: int = 3,
    bands=(("70", 5), ("40", 4), ("20", 3)),
    pass_min_grade: int = 3,
    sections=(Decimal(50), Decimal(30), Decimal(20)),
    status: str = "finalised",
) -> ExamSetup:
    """An exam on a scheme with the given sub-criteria; the competence has three sections."""
    scheme = MarkingSchemeFactory(
        competence=CompetenceFactory(sections=sections),
        name="Сынақ схемасы",
        judges=judges,
        grade_bands=[[t, g] for t, g in bands],
        pass_min_grade=pass_min_grade,
        layout={
            code: tuple((kind, int(Decimal(mark) * 100), section) for kind, mark, section in items)
            for code, items in layout
        },
        sub_name="Қосалқы критерий {code}",
        description="Аспект {code}.{index}",
        levels=("Төмен", "Стандарт", "Жақсы", "Өте жақсы"),
    )
    exam = ExamFactory(
        scheme=scheme,
        start_date=date(2026, 6, 10),
        end_date=date(2026, 6, 11),
        status=status,
    )
    aspects = scheme_aspects(scheme)
    return ExamSetup(exam, aspects)


def enrol(session, setup: ExamSetup, key: str, last: str, first: str, attendance="present"):
    college = CollegeFactory()
    candidate = make_candidate(session, last, first, college)
    enrolment = EnrolmentFactory(
        exam=setup.exam,
        candidate=candidate,
        workstation=len(setup.enrolments) + 1,
        attendance=attendance,
    )
    setup.enrolments[key] = enrolment
    return enrolment


def give(session, setup: ExamSetup, key: str, marks: dict[str, object]) -> None:
    """Store marks: an M value as a decimal string, a J value as a tuple of judge scores."""
    enrolment = setup.enrolments[key]
    for address, value in marks.items():
        aspect = setup.aspects[address]
        if aspect.kind == "M":
            rows = [(0, int(Decimal(value) * 100))]
        else:
            rows = list(enumerate(value, start=1))
        for seat, number in rows:
            MarkFactory(enrolment=enrolment, aspect=aspect, seat=seat, value=number)


FULL_MARKS = {"A1.1": "1.00", "A1.2": "0.75", "B1.1": (3, 3, 3), "B1.2": "1.75"}
HAND_EXAMPLE = {"A1.1": "1.00", "A1.2": "0.50", "B1.1": (2, 2, 3), "B1.2": "1.25"}


# --- the hand-computed example -----------------------------------------------------------


def test_hand_computed_example(session):
    """1.00 + 0.50 + (2+2+3)/3 ÷ 3 × 1.50 + 1.25 = 47/12 of 5.00."""
    setup = build_exam(session)
    enrol(session, setup, "x", "Қасымова", "Әйгерім")
    give(session, setup, "x", HAND_EXAMPLE)

    [result] = compute_results(session, setup.exam)

    assert result.denominator == 900
    assert result.total_units == 900 + 450 + 7 * 150 + 1125 == 3525
    assert Fraction(result.total_units, result.denominator) == Fraction(47, 12)
    assert result.max_units == 4500
    assert scoring.two_decimals(result.total_units, 900) == Decimal("3.92")
    assert result.percent_hundredths == 7833  # 78.333… %
    assert (result.grade, result.passed, result.rank) == (5, True, 1)
    assert result.by_criterion == {"A": 1350, "B": 2175}
    assert result.by_section == {"1": 1950, "2": 1575, "3": 0}
    assert result.candidate_id == setup.enrolments["x"].candidate_id


def test_results_are_stored(session):
    setup = build_exam(session)
    enrol(session, setup, "x", "Қасымова", "Әйгерім")
    give(session, setup, "x", HAND_EXAMPLE)
    compute_results(session, setup.exam)
    session.expire_all()
    stored = session.scalars(select(Result).where(Result.exam_id == setup.exam.id)).all()
    assert [(r.total_units, r.grade) for r in stored] == [(3525, 5)]


def test_two_judges_use_their_own_denominator(session):
    setup = build_exam(session, judges=2)
    enrol(session, setup, "x", "Сәрсенов", "Ұлан")
    give(session, setup, "x", {**HAND_EXAMPLE, "B1.1": (2, 3)})
    [result] = compute_results(session, setup.exam)
    # 1.00 + 0.50 + (2+3)/2 ÷ 3 × 1.50 + 1.25 = 2.75 + 1.25 = 4.00
    assert result.denominator == 600
    assert Fraction(result.total_units, 600) == Fraction(4)
    assert result.max_units == 500 * 6


def test_judge_scores_outside_the_seats_do_not_count(session):
    setup = build_exam(session)
    enrol(session, setup, "x", "Қасымова", "Әйгерім")
    give(session, setup, "x", HAND_EXAMPLE)
    aspect = setup.aspects["B1.1"]
    MarkFactory(enrolment=setup.enrolments["x"], aspect=aspect, seat=4, value=3)
    [result] = compute_results(session, setup.exam)
    assert result.total_units == 3525


def test_missing_marks_count_as_zero_and_empty_parts_are_listed(session):
    setup = build_exam(session)
    enrol(session, setup, "x", "Қасымова", "Әйгерім")
    give(session, setup, "x", {"A1.1": "1.00"})
    [result] = compute_results(session, setup.exam)
    assert result.total_units == 900
    assert result.by_criterion == {"A": 900, "B": 0}
    assert (result.grade, result.passed) == (3, True)  # exactly 20 %


# --- grade and pass decided on the exact value -------------------------------------------

BOUNDARY_SCHEME = (("A1", (("M", "29.00", 1), ("J", "1.00", 2))),)


@pytest.mark.parametrize(
    ("m_mark", "scores", "shown", "grade", "passed"),
    [
        # 20.11 + 8/9 = 20.99 (8) of 30 = 69.996… %: shown as 70.00, but a 4
        ("20.11", (3, 3, 2), "70.00", 4, True),
        ("20.00", (3, 3, 3), "70.00", 5, True),  # exactly 70 %
        ("12.00", (0, 0, 0), "40.00", 4, True),  # exactly 40 %
        ("11.99", (0, 0, 0), "39.97", 3, True),
        ("6.00", (0, 0, 0), "20.00", 3, True),  # exactly 20 %: grade 3 passes
        # 5.11 + 8/9 = 5.99 (8) of 30 = 19.996… %: shown as 20.00, but a 2 and no pass
        ("5.11", (3, 3, 2), "20.00", 2, False),
        ("0.00", (0, 0, 0), "0.00", 2, False),
        ("29.00", (3, 3, 3), "100.00", 5, True),
    ],
)
def test_grade_is_decided_on_the_exact_value(session, m_mark, scores, shown, grade, passed):
    setup = build_exam(session, BOUNDARY_SCHEME)
    enrol(session, setup, "x", "Нұрланов", "Ғалым")
    give(session, setup, "x", {"A1.1": m_mark, "A1.2": scores})
    [result] = compute_results(session, setup.exam)
    assert Decimal(result.percent_hundredths).scaleb(-2) == Decimal(shown)
    assert (result.grade, result.passed) == (grade, passed)


def test_scheme_bands_and_pass_rule_are_used(session):
    setup = build_exam(session, bands=(("90", 5), ("75", 4), ("50", 3)), pass_min_grade=4)
    enrol(session, setup, "x", "Қасымова", "Әйгерім")
    give(session, setup, "x", HAND_EXAMPLE)  # 78.33 %
    [result] = compute_results(session, setup.exam)
    assert (result.grade, result.passed) == (4, True)
    setup.exam.scheme.pass_min_grade = 5
    [result] = compute_results(session, setup.exam)
    assert (result.grade, result.passed) == (4, False)


# --- ranking and attendance ---------------------------------------------------------------


def test_ranking_shares_ties_and_skips(session):
    setup = build_exam(session)
    people = {
        "bek": ("Бекова", "Ая"),
        "ali": ("Әлиев", "Арман"),
        "aba": ("Абаев", "Нұр"),
        "top": ("Жұмабаев", "Ерлан"),
        "low": ("Ілиясов", "Дәурен"),
    }
    for key, (last, first) in people.items():
        enrol(session, setup, key, last, first)
    # "ali" reaches the same exact total as "bek" and "aba" in a different way
    give(session, setup, "top", FULL_MARKS)
    give(session, setup, "bek", HAND_EXAMPLE)
    give(session, setup, "ali", {**HAND_EXAMPLE, "A1.1": "0.75", "A1.2": "0.75"})
    give(session, setup, "aba", HAND_EXAMPLE)
    give(session, setup, "low", {"A1.1": "1.00"})

    stored = compute_results(session, setup.exam)

    ranks = {r.enrolment_id: r.rank for r in stored}
    by_key = {key: ranks[e.id] for key, e in setup.enrolments.items()}
    assert by_key == {"top": 1, "bek": 2, "ali": 2, "aba": 2, "low": 5}
    # ties are listed in Kazakh alphabetical order: А, Ә, Б (code points would give А, Б, Ә)
    listed = [r.candidate.last_name for r in results.stored_results(session, setup.exam)]
    assert listed == ["Жұмабаев", "Абаев", "Әлиев", "Бекова", "Ілиясов"]


@pytest.mark.parametrize("attendance", ["absent", "withdrawn", "disqualified"])
def test_only_present_candidates_get_results(session, attendance):
    setup = build_exam(session)
    enrol(session, setup, "here", "Қасымова", "Әйгерім")
    enrol(session, setup, "gone", "Омаров", "Бауыржан", attendance=attendance)
    give(session, setup, "here", HAND_EXAMPLE)
    give(session, setup, "gone", FULL_MARKS)  # marks of a candidate later marked not present

    stored = compute_results(session, setup.exam)

    assert [r.enrolment_id for r in stored] == [setup.enrolments["here"].id]
    assert stored[0].rank == 1


def test_a_present_candidate_without_marks_gets_zero(session):
    setup = build_exam(session)
    enrol(session, setup, "x", "Қасымова", "Әйгерім")
    [result] = compute_results(session, setup.exam)
    assert (result.total_units, result.grade, result.passed) == (0, 2, False)


def test_marks_of_another_exam_do_not_count(session):
    first = build_exam(session)
    enrol(session, first, "x", "Қасымова", "Әйгерім")
    give(session, first, "x", HAND_EXAMPLE)
    [result] = compute_results(session, first.exam)
    second = Exam(
        centre=first.exam.centre,
        competence=first.exam.competence,
        scheme=first.exam.scheme,
        start_date=date(2026, 7, 1),
        end_date=date(2026, 7, 1),
        status="marking",
    )
    session.add(second)
    session.flush()
    session.add(
        Enrolment(
            exam_id=second.id, candidate_id=result.candidate_id, workstation=1, attendance="present"
        )
    )
    session.flush()
    [other] = compute_results(session, second)
    assert other.total_units == 0
    assert result.total_units == 3525


# --- recompute ----------------------------------------------------------------------------


def test_recompute_after_a_correction_updates_the_stored_results(session):
    setup = build_exam(session)
    enrol(session, setup, "a", "Абаев", "Нұр")
    enrol(session, setup, "b", "Бекова", "Ая")
    give(session, setup, "a", HAND_EXAMPLE)
    give(session, setup, "b", {**HAND_EXAMPLE, "A1.2": "0.25"})
    first = {
        r.enrolment_id: (r.id, r.rank, r.total_units) for r in compute_results(session, setup.exam)
    }
    a, b = setup.enrolments["a"].id, setup.enrolments["b"].id
    assert (first[a][1], first[b][1]) == (1, 2)

    mark = session.scalar(
        select(Mark).where(Mark.enrolment_id == b, Mark.aspect_id == setup.aspects["A1.2"].id)
    )
    mark.value = 75  # corrected 0.25 → 0.75
    session.flush()
    second = {
        r.enrolment_id: (r.id, r.rank, r.total_units) for r in compute_results(session, setup.exam)
    }

    assert second[b] == (first[b][0], 1, 3525 + 225)  # same row, new total, now first
    assert second[a] == (first[a][0], 2, 3525)
    count = session.scalar(select(func.count()).where(Result.exam_id == setup.exam.id))
    assert count == 2


def test_recompute_removes_a_result_when_the_candidate_is_no_longer_present(session):
    setup = build_exam(session)
    enrol(session, setup, "a", "Абаев", "Нұр")
    enrol(session, setup, "b", "Бекова", "Ая")
    give(session, setup, "a", HAND_EXAMPLE)
    compute_results(session, setup.exam)
    setup.enrolments["b"].attendance = "disqualified"
    session.flush()
    stored = compute_results(session, setup.exam)
    assert [r.enrolment_id for r in stored] == [setup.enrolments["a"].id]
    assert session.scalar(select(func.count()).where(Result.exam_id == setup.exam.id)) == 1


def test_a_mark_above_the_maximum_is_refused(session):
    setup = build_exam(session)
    enrol(session, setup, "x", "Қасымова", "Әйгерім")
    give(session, setup, "x", {**FULL_MARKS, "A1.1": "5.00"})
    with pytest.raises(ResultsError) as caught:
        compute_results(session, setup.exam)
    assert caught.value.code == "above_maximum"


# --- exports ------------------------------------------------------------------------------


def small_exam(session) -> ExamSetup:
    setup = build_exam(session)
    enrol(session, setup, "a", "Абаев", "Нұр")
    enrol(session, setup, "b", "Әлиева", "Гүлнұр")
    enrol(session, setup, "c", "Бекова", "Ая")
    enrol(session, setup, "gone", "Омаров", "Бауыржан", attendance="absent")
    give(session, setup, "a", HAND_EXAMPLE)
    give(session, setup, "b", FULL_MARKS)
    give(session, setup, "c", {"A1.1": "1.00", "A1.2": "0.25", "B1.1": (0, 1, 1)})
    compute_results(session, setup.exam)
    return setup


def iin_of(enrolment: Enrolment) -> str:
    from assessments.personal_data import decrypt_iin

    return decrypt_iin(enrolment.candidate.iin_encrypted)


def test_csv_export_exact_text(session):
    setup = small_exam(session)
    data = results.export_results(session, setup.exam, "csv", include_iin=True)

    a, b, c = (iin_of(setup.enrolments[k]) for k in "abc")
    expected = (
        "iin,last_name,first_name,total,max_total,percent,grade,passed,"
        "crit_A,crit_B,wsos_1,wsos_2,wsos_3\r\n"
        f"{b},Әлиева,Гүлнұр,5.00,5.00,100.00,5,true,1.75,3.25,2.50,2.50,0.00\r\n"
        f"{a},Абаев,Нұр,3.92,5.00,78.33,5,true,1.50,2.42,2.17,1.75,0.00\r\n"
        # 1.00 + 0.25 + 2/9 × 1.50 = 1.25 + 1/3 = 1.58 (3) → 31.67 %
        f"{c},Бекова,Ая,1.58,5.00,31.67,3,true,1.25,0.33,1.33,0.25,0.00\r\n"
    )
    assert data.decode("utf-8") == expected
    assert not data.startswith(b"\xef\xbb\xbf")


def test_csv_export_parses_as_csv(session):
    setup = small_exam(session)
    text = results.export_results(session, setup.exam, "csv", include_iin=True).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["last_name"] for r in rows] == ["Әлиева", "Абаев", "Бекова"]
    assert all(len(r["iin"]) == 12 for r in rows)


def test_staff_export_has_no_iin(session):
    setup = small_exam(session)
    text = results.export_results(session, setup.exam, "csv", include_iin=False).decode()
    header, first, *_ = text.splitlines()
    assert header.startswith("last_name,first_name,total,")
    assert "iin" not in header
    assert iin_of(setup.enrolments["b"]) not in text
    assert first.startswith("Әлиева,Гүлнұр,5.00,")


def test_xlsx_export_gives_the_same_figures(session):
    setup = small_exam(session)
    data = results.export_results(session, setup.exam, "xlsx", include_iin=True)
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    csv_rows = list(
        csv.reader(
            io.StringIO(
                results.export_results(session, setup.exam, "csv", include_iin=True).decode()
            )
        )
    )
    assert rows[0] == csv_rows[0]
    for xlsx_row, csv_row in zip(rows[1:], csv_rows[1:], strict=True):
        assert isinstance(xlsx_row[0], str)  # the IIN stays text (leading zeros survive)
        assert xlsx_row[:3] == csv_row[:3]
        numbers = [xlsx_row[i] for i in range(3, len(xlsx_row)) if i not in (6, 7)]
        assert all(isinstance(n, int | float) for n in numbers)
        assert [Decimal(str(n)).quantize(Decimal("0.01")) for n in numbers] == [
            Decimal(csv_row[i]) for i in range(3, len(csv_row)) if i not in (6, 7)
        ]
        assert xlsx_row[6] == int(csv_row[6])
        assert xlsx_row[7] is (csv_row[7] == "true")


def test_json_export(session):
    setup = small_exam(session)
    items = json.loads(results.export_results(session, setup.exam, "json", include_iin=True))
    assert [i["last_name"] for i in items] == ["Әлиева", "Абаев", "Бекова"]
    assert items[1] == {
        "iin": iin_of(setup.enrolments["a"]),
        "last_name": "Абаев",
        "first_name": "Нұр",
        "total": "3.92",
        "max_total": "5.00",
        "percent": "78.33",
        "grade": 5,
        "passed": True,
        "crit_A": "1.50",
        "crit_B": "2.42",
        "wsos_1": "2.17",
        "wsos_2": "1.75",
        "wsos_3": "0.00",
    }


def test_export_reads_stored_results_not_marks(session):
    setup = small_exam(session)
    session.execute(Mark.__table__.delete().where(Mark.exam_id == setup.exam.id))
    text = results.export_results(session, setup.exam, "csv", include_iin=False).decode()
    assert "Әлиева,Гүлнұр,5.00,5.00,100.00,5,true" in text


@pytest.mark.parametrize("status", ["planned", "marking"])
def test_export_refuses_an_exam_that_is_not_finalised(session, status):
    setup = small_exam(session)
    setup.exam.status = status
    with pytest.raises(ResultsError) as caught:
        results.export_results(session, setup.exam, "csv", include_iin=True)
    assert caught.value.code == "not_finalised"


# --- the command line ---------------------------------------------------------------------


def test_cli_export_to_stdout_and_log(app, session):
    setup = small_exam(session)
    result = app.test_cli_runner().invoke(args=["results", "export", str(setup.exam.id)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("iin,last_name,first_name,total,max_total,percent,grade,passed")
    assert len(result.stdout.splitlines()) == 4
    logged = session.scalars(
        select(CandidateAccess.candidate_id).where(CandidateAccess.action == "export")
    ).all()
    assert sorted(logged) == sorted(setup.enrolments[k].candidate_id for k in "abc")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_cli_export_to_file(app, session, tmp_path, fmt):
    setup = small_exam(session)
    target = tmp_path / f"out.{fmt}"
    result = app.test_cli_runner().invoke(
        args=["results", "export", str(setup.exam.id), "--format", fmt, "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    if fmt == "xlsx":
        sheet = load_workbook(target, read_only=True).active
        assert next(sheet.iter_rows(values_only=True))[0] == "iin"
    else:
        expected = results.export_results(session, setup.exam, fmt, include_iin=True)
        assert target.read_bytes() == expected


def test_cli_export_refuses_unfinalised_exam(app, session):
    setup = small_exam(session)
    setup.exam.status = "marking"
    session.flush()
    result = app.test_cli_runner().invoke(args=["results", "export", str(setup.exam.id)])
    assert result.exit_code == 1
    assert "not finalised" in result.output
    assert "iin" not in result.stdout


def test_cli_export_unknown_exam(app):
    result = app.test_cli_runner().invoke(args=["results", "export", "999999"])
    assert result.exit_code == 1
    assert "no exam with id 999999" in result.output
