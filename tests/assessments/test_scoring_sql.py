"""The results aggregate in SQL and the Python rules of assessments/scoring.py agree.

``compute_results`` adds units in the database with the expressions ``scoring`` builds
(``counts_sql``, ``mark_units_sql``); here random exams – judge counts, criteria, WSOS
sections, partial marking, scores at seats beyond the scheme's judges, absent candidates –
are computed both ways and must give the same totals, parts, percent, grade, pass and rank.
Runs on SQLite and PostgreSQL (``--db=postgres``); bounded and derandomised like tests/fuzz.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments import scoring
from assessments.models import (
    Aspect,
    Criterion,
    Enrolment,
    Exam,
    Mark,
    MarkingScheme,
    SubCriterion,
)
from assessments.services.results import compute_results
from assessments.services.schemes.settings import scoring_bands
from tests.factories import CandidateFactory, CentreFactory, CollegeFactory, CompetenceFactory
from tests.fuzz.properties import bounded

COMPETENCE_SECTIONS = 4  # CompetenceFactory's default; aspects may also use a section 5
MAX_CANDIDATES = 4


@dataclass(frozen=True)
class AspectSpec:
    letter: str
    kind: str
    max_hundredths: int
    section: int


@dataclass(frozen=True)
class ExamSpec:
    judges: int
    pass_min_grade: int
    aspects: tuple[AspectSpec, ...]
    # per candidate: attendance and the stored mark rows as (aspect index, seat, value)
    candidates: tuple[tuple[str, tuple[tuple[int, int, int], ...]], ...]


@st.composite
def exams(draw) -> ExamSpec:
    judges = draw(st.integers(1, 4), label="judges")
    pass_min_grade = draw(st.integers(2, 5), label="pass_min_grade")
    aspects = tuple(
        draw(
            st.lists(
                st.builds(
                    AspectSpec,
                    letter=st.sampled_from("ABC"),
                    kind=st.sampled_from("MJ"),
                    max_hundredths=st.integers(1, 3000),
                    section=st.integers(1, COMPETENCE_SECTIONS + 1),
                ),
                min_size=1,
                max_size=6,
            ),
            label="aspects",
        )
    )
    candidates = []
    for _ in range(draw(st.integers(1, MAX_CANDIDATES), label="candidates")):
        attendance = draw(st.sampled_from(("present", "present", "present", "absent")))
        rows: list[tuple[int, int, int]] = []
        for index, aspect in enumerate(aspects):
            if aspect.kind == "M":
                if draw(st.booleans()):  # a measurement mark may be missing
                    rows.append((index, 0, draw(st.integers(0, aspect.max_hundredths))))
            else:
                # any subset of the judges' seats, plus seats beyond them that must not count
                seats = draw(st.sets(st.integers(1, judges + 2), max_size=judges + 2))
                rows += [(index, seat, draw(st.integers(0, 3))) for seat in sorted(seats)]
        candidates.append((attendance, tuple(rows)))
    return ExamSpec(judges, pass_min_grade, aspects, tuple(candidates))


@pytest.fixture
def world(session):
    """A competence, centre and candidates that every generated exam reuses."""
    competence = CompetenceFactory()
    centre = CentreFactory()
    centre.competences.append(competence)
    college = CollegeFactory()
    candidates = [CandidateFactory(college=college) for _ in range(MAX_CANDIDATES)]
    session.flush()
    return competence, centre, candidates


def store(session, world, spec: ExamSpec) -> tuple[Exam, list[Enrolment], list[Aspect]]:
    competence, centre, candidates = world
    scheme = MarkingScheme(
        competence=competence,
        name="Кездейсоқ схема",
        judges=spec.judges,
        pass_min_grade=spec.pass_min_grade,
    )
    session.add(scheme)
    session.flush()
    criteria = {}
    aspects = []
    for position, item in enumerate(spec.aspects, start=1):
        if item.letter not in criteria:
            criteria[item.letter] = Criterion(
                scheme_id=scheme.id, letter=item.letter, name=f"Модуль {item.letter}"
            )
            session.add(criteria[item.letter])
            session.flush()
        sub = SubCriterion(
            scheme_id=scheme.id,
            criterion_id=criteria[item.letter].id,
            code=f"{item.letter}{position}",
            name=f"Бөлім {position}",
            day=1,
            position=position,
        )
        session.add(sub)
        session.flush()
        aspect = Aspect(
            scheme_id=scheme.id,
            sub_criterion_id=sub.id,
            position=1,
            kind=item.kind,
            description=f"Аспект {position}",
            wsos_section=item.section,
            max_hundredths=item.max_hundredths,
            levels=["0", "1", "2", "3"] if item.kind == "J" else [],
        )
        session.add(aspect)
        aspects.append(aspect)
    scheme.max_total_hundredths = sum(a.max_hundredths for a in spec.aspects)
    exam = Exam(
        centre=centre,
        competence=competence,
        scheme=scheme,
        start_date=date(2026, 6, 10),
        end_date=date(2026, 6, 10),
        status="finalised",
    )
    session.add(exam)
    session.flush()
    enrolments = []
    for workstation, (attendance, rows) in enumerate(spec.candidates, start=1):
        enrolment = Enrolment(
            exam_id=exam.id,
            candidate_id=candidates[workstation - 1].id,
            workstation=workstation,
            attendance=attendance,
        )
        session.add(enrolment)
        session.flush()
        enrolments.append(enrolment)
        session.add_all(
            Mark(
                exam_id=exam.id,
                enrolment_id=enrolment.id,
                aspect_id=aspects[index].id,
                seat=seat,
                value=value,
            )
            for index, seat, value in rows
        )
    session.flush()
    return exam, enrolments, aspects


@dataclass(frozen=True)
class Expected:
    total_units: int
    by_criterion: dict[str, int]
    by_section: dict[str, int]
    percent_hundredths: int
    grade: int
    passed: bool
    rank: int


def python_results(
    spec: ExamSpec, bands: scoring.GradeBands, pass_min_grade: int
) -> tuple[int, int, dict[int, Expected]]:
    """The same results from the Python rules alone: (denominator, maximum, by workstation)."""
    judges = spec.judges
    maximum = sum(scoring.max_units(a.max_hundredths, judges) for a in spec.aspects)
    letters = sorted({a.letter for a in spec.aspects})
    sections = sorted(set(range(1, COMPETENCE_SECTIONS + 1)) | {a.section for a in spec.aspects})
    parts: dict[int, tuple[dict[str, int], dict[str, int]]] = {}
    for workstation, (attendance, rows) in enumerate(spec.candidates, start=1):
        if attendance != "present":
            continue
        counted = [
            (
                spec.aspects[index],
                scoring.mark_units(
                    spec.aspects[index].kind, value, spec.aspects[index].max_hundredths, judges
                ),
            )
            for index, seat, value in rows
            if scoring.counts(spec.aspects[index].kind, seat, judges)
        ]
        by_criterion = dict.fromkeys(letters, 0)
        by_criterion.update(scoring.sum_units((a.letter, units) for a, units in counted))
        by_section = dict.fromkeys((str(n) for n in sections), 0)
        by_section.update(scoring.sum_units((str(a.section), units) for a, units in counted))
        parts[workstation] = (by_criterion, by_section)
    totals = {w: sum(by_criterion.values()) for w, (by_criterion, _) in parts.items()}
    ranks = scoring.rank(totals)
    expected = {}
    for workstation, (by_criterion, by_section) in parts.items():
        earned = scoring.outcome(totals[workstation], maximum, bands, pass_min_grade)
        expected[workstation] = Expected(
            total_units=totals[workstation],
            by_criterion=by_criterion,
            by_section=by_section,
            percent_hundredths=earned.percent_hundredths,
            grade=earned.grade,
            passed=earned.passed,
            rank=ranks[workstation],
        )
    return scoring.denominator(judges), maximum, expected


@bounded(60)
@given(spec=exams())
def test_sql_aggregation_agrees_with_the_python_rules(session, world, spec):
    nested = session.begin_nested()
    try:
        exam, enrolments, _aspects = store(session, world, spec)
        stored = compute_results(session, exam)
        scheme = exam.scheme
        denominator, maximum, expected = python_results(
            spec, scoring_bands(scheme), scheme.pass_min_grade
        )

        workstation_of = {e.id: e.workstation for e in enrolments}
        computed = {
            workstation_of[r.enrolment_id]: Expected(
                total_units=r.total_units,
                by_criterion=r.by_criterion,
                by_section=r.by_section,
                percent_hundredths=r.percent_hundredths,
                grade=r.grade,
                passed=r.passed,
                rank=r.rank,
            )
            for r in stored
        }
        assert computed == expected
        assert {(r.denominator, r.max_units) for r in stored} <= {(denominator, maximum)}
    finally:
        nested.rollback()
