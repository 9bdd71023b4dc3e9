"""Demo exams: a finalised exam with stored results and one still in marking, idempotently."""

from __future__ import annotations

from sqlalchemy import func, select

from app.demo import seed_all
from assessments import demo_exams
from assessments.models import (
    AuditEntry,
    Candidate,
    Enrolment,
    Exam,
    Mark,
    MarkingForm,
    MarkingScheme,
    Result,
)
from assessments.services import audit, marks
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
    # the scheme is the four fixture modules: 148 aspects, 100.00 marks
    assert finalised.scheme.max_total_hundredths == 10_000

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
    items = marks.completeness(session, exam)
    rescore = [i for i in items if i.kind == "rescore"]
    assert len(rescore) == 1 and rescore[0].address.startswith("B")
    missing = {i.address[0] for i in items if i.kind == "missing"}
    assert missing == {"C", "D"}


def test_demo_exams_skip_without_the_fixture_files(session, monkeypatch, tmp_path):
    monkeypatch.setattr(demo_exams, "SCHEME_DIR", tmp_path)
    summary = seed_all(session)
    assert "demo exams skipped: marking-scheme files not found" in summary
    assert session.scalar(select(func.count()).select_from(Exam)) == 0
