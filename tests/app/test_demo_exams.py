"""Demo exams: a finalised exam with stored results and one still in marking, idempotently.

They are built from the demo marking scheme bundled in assessments/demo_data/, so a fresh
clone seeds the same exams on every machine.
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.demo import seed_all
from assessments import demo_exams
from assessments.demo import COMPETENCES as DEMO_COMPETENCES
from assessments.demo import WEB_COMPETENCE, section_weights
from assessments.models import (
    Aspect,
    AuditEntry,
    Candidate,
    Enrolment,
    Exam,
    Mark,
    MarkingForm,
    MarkingScheme,
    Result,
    SubCriterion,
)
from assessments.scheme_files.parse import parse_scheme_files
from assessments.scheme_files.spec import CompetenceSection
from assessments.services import audit
from assessments.services.marks import signoff
from assessments.services.results import compute_results

COUNTED = (Exam, Enrolment, Mark, Result, AuditEntry, Candidate, MarkingScheme, MarkingForm)


def counts(session) -> dict[str, int]:
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def demo_exam(session, start) -> Exam:
    return session.scalar(select(Exam).where(Exam.start_date == start))


def snapshot(results):
    return sorted(
        (r.enrolment_id, r.total_units, r.max_units, r.percent_hundredths, r.grade, r.passed,
         r.rank, r.by_criterion, r.by_section)
        for r in results
    )  # fmt: skip


def test_demo_seed_is_idempotent_and_brings_two_exams(session):
    first = seed_all(session)
    assert "demo exams: 2 new" in first
    before = counts(session)
    second = seed_all(session)
    assert "demo exams: 0 new" in second
    assert counts(session) == before

    finalised = demo_exam(session, demo_exams.FINALISED_START)
    assert finalised.status == "finalised"
    assert finalised.competence.code == "17" and finalised.centre.code == demo_exams.CENTRE
    attendance = sorted(e.attendance for e in finalised.enrolments)
    assert attendance.count("present") == demo_exams.FINALISED_PRESENT
    assert attendance.count("absent") == 1
    # the scheme is the bundled one, imported without warnings: 100.00 marks
    assert finalised.scheme.source_files == list(demo_exams.SCHEME_FILES)
    assert finalised.scheme.max_total_hundredths == 10_000
    assert finalised.scheme.warnings == []

    stored = session.scalars(select(Result).where(Result.exam_id == finalised.id)).all()
    assert len(stored) == demo_exams.FINALISED_PRESENT
    grades = {r.grade for r in stored}
    assert {5, 4, 3} <= grades and any(not r.passed for r in stored)
    assert snapshot(stored) == snapshot(compute_results(session, finalised))
    # every mark went through the audit log, and the chain head was recorded
    assert audit.verify(session, finalised.id).ok
    assert finalised.audit_head == audit.chain_head(session, finalised.id)[0]


def test_demo_exam_in_progress_is_partly_marked(session):
    seed_all(session)
    exam = demo_exam(session, demo_exams.IN_PROGRESS_START)
    assert exam.status == "marking"
    assert not session.scalars(select(Result).where(Result.exam_id == exam.id)).all()
    forms = session.scalars(select(MarkingForm).where(MarkingForm.exam_id == exam.id)).all()
    locked = {f.sub_criterion.code for f in forms if f.locked}
    assert locked == {f.sub_criterion.code for f in forms if f.sub_criterion.code.startswith("A")}
    items = signoff.completeness(session, exam)
    rescore = [i for i in items if i.kind == "rescore"]
    assert len(rescore) == 1 and rescore[0].address.startswith("B")
    missing = {i.address[0] for i in items if i.kind == "missing"}
    assert missing == {"C", "D"}
    # C is partly marked (some candidates done), D not started
    marked = {
        letter: session.scalar(
            select(func.count(Mark.id))
            .join(Aspect, Aspect.id == Mark.aspect_id)
            .join(SubCriterion, SubCriterion.id == Aspect.sub_criterion_id)
            .where(Mark.exam_id == exam.id, SubCriterion.code.startswith(letter))
        )
        for letter in "CD"
    }
    assert marked["C"] > 0 and marked["D"] == 0


def demo_sections() -> list[CompetenceSection]:
    """The WSOS sections of the demo web-technologies competence, as the importer sees them."""
    sections = next(s for code, _n, s in DEMO_COMPETENCES if code == WEB_COMPETENCE)
    return [
        CompetenceSection(number, names[2], Decimal(weight))
        for number, (names, weight) in enumerate(sections, start=1)
    ]


def bundled_files() -> list[tuple[str, bytes]]:
    return [(name, (demo_exams.SCHEME_DIR / name).read_bytes()) for name in demo_exams.SCHEME_FILES]


def test_bundled_scheme_imports_cleanly_against_the_demo_competence():
    spec = parse_scheme_files(bundled_files(), demo_sections())  # raises on any error
    assert spec.warnings == []
    assert spec.max_total == Decimal(100)
    assert [c.letter for c in spec.criteria] == ["A", "B", "C", "D"]
    assert 12 <= spec.sub_criteria_count <= 16
    assert 50 <= spec.aspects_count <= 70
    assert 4 <= spec.judgement_count <= 6
    # the skills profile of the demo follows the competence's weights
    assert spec.marks_by_section() == section_weights(WEB_COMPETENCE)
    for aspect in spec.aspects():
        assert aspect.max_mark % Decimal("0.25") == 0, aspect.description
        if aspect.kind == "M":
            assert Decimal("0.25") <= aspect.max_mark <= 2, aspect.description
            assert aspect.extra_description, aspect.description  # how the expert checks it
        else:
            assert len(set(aspect.levels)) == 4 and all(aspect.levels), aspect.description


def test_missing_bundled_file_is_a_clear_error(session, monkeypatch, tmp_path):
    for name in demo_exams.SCHEME_FILES[1:]:
        shutil.copy(demo_exams.SCHEME_DIR / name, tmp_path / name)
    monkeypatch.setattr(demo_exams, "SCHEME_DIR", tmp_path)
    with pytest.raises(demo_exams.DemoDataMissing, match=demo_exams.SCHEME_FILES[0]):
        seed_all(session)
    assert session.scalar(select(func.count()).select_from(Exam)) == 0
    assert session.scalar(select(func.count()).select_from(MarkingScheme)) == 0
