"""`flask demo seed`: realistic, complete enough to try every page, and idempotent."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import func, select

from app.auth.models import ROLES, User
from assessments import demo_exams
from assessments.iin import validate_iin
from assessments.models import Candidate, Centre, College, Competence, Enterprise, WsosSection
from assessments.services.candidates.scope import candidate_iin
from tests.scheme_builder import scheme_json

MODELS = (Competence, WsosSection, Centre, College, Enterprise, Candidate, User)


def counts(session) -> dict[str, int]:
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def test_seed_is_idempotent_and_meets_the_brief(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    first = counts(session)
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert "candidates: 0 new" in again.output and "users: 0 new" in again.output
    assert counts(session) == first

    assert first["Centre"] == 18
    assert first["Competence"] >= 8
    assert first["College"] >= 10
    assert first["Enterprise"] >= 5
    assert first["Candidate"] >= 200
    assert set(session.scalars(select(User.role))) == set(ROLES)
    assert all(c.city == "Алматы" for c in session.scalars(select(Centre)))

    for competence in session.scalars(select(Competence)):
        assert sum(s.weight for s in competence.sections) == Decimal(100), competence.code
        assert all(s.name_kk and s.name_ru and s.name_en for s in competence.sections)

    candidates = session.scalars(select(Candidate)).all()
    iins = [candidate_iin(c) for c in candidates]
    assert len(set(iins)) == len(iins)
    assert all(validate_iin(iin) == iin for iin in iins)
    kazakh_letters = set("ӘҒҚҢӨҰҮІәғқңөұүі")
    with_kazakh = [c for c in candidates if kazakh_letters & set(c.full_name)]
    assert len(with_kazakh) > len(candidates) / 2

    # both signing keys: the demo passports verify and their credentials download
    from passports.models import SigningKey

    assert set(session.scalars(select(SigningKey.alg).where(SigningKey.active))) == {
        "ES256",
        "RS256",
    }

    # one test, one seed: the demo users' password hashing is deliberately slow
    check_demo_centre(session)
    check_readme_figures(session)


def check_readme_figures(session) -> None:
    """README's description of the demo database states what `flask demo seed` creates."""
    import re
    from pathlib import Path

    from assessments.models import Enrolment, Exam, MarkingForm, Result
    from passports.models import Passport

    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())

    def figure(pattern: str) -> tuple[int, ...]:
        found = re.search(pattern, readme)
        assert found, pattern
        return tuple(int(group) for group in found.groups())

    def count(model, *where) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where))

    finalised = session.scalar(select(Exam).where(Exam.status == "finalised"))
    marking = session.scalar(select(Exam).where(Exam.status == "marking"))
    present = (Enrolment.exam_id == finalised.id, Enrolment.attendance == "present")
    expected = {
        r"(\d+) Almaty competence centres": (count(Centre),),
        r"(\d+) competences with": (count(Competence),),
        r"(\d+) colleges": (count(College),),
        r"(\d+) enterprises": (count(Enterprise),),
        r"(\d+) candidates, (\d+) staff accounts": (count(Candidate), count(User)),
        r"\((\d+) enrolled, (\d+) present, (\d+) passed\)": (
            count(Enrolment, Enrolment.exam_id == finalised.id),
            count(Enrolment, *present),
            count(Result, Result.exam_id == finalised.id, Result.passed.is_(True)),
        ),
        r"(\d+) issued passports": (count(Passport),),
        r"an exam of (\d+) candidates still being marked": (
            count(Enrolment, Enrolment.exam_id == marking.id),
        ),
        r"the (\d+) forms of module A locked": (
            count(
                MarkingForm, MarkingForm.exam_id == marking.id, MarkingForm.locked_at.is_not(None)
            ),
        ),
    }
    for pattern, figures in expected.items():
        assert figure(pattern) == figures, pattern


def check_demo_centre(session) -> None:
    """The demo centre accredits web technologies, sections as in the fixture and demo schemes."""
    manager = session.scalar(select(User).where(User.role == "centre_manager"))
    centre = manager.centre
    web = next(c for c in centre.competences if c.code == "17")
    sections = {str(s.number): s.name_en for s in web.sections}
    fixture = scheme_json("module-b.json")
    assert sections == fixture["wsosSections"]
    for name in demo_exams.SCHEME_FILES:
        bundled = json.loads((demo_exams.SCHEME_DIR / name).read_text(encoding="utf-8"))
        assert sections == bundled["wsosSections"], name
    assert sum(s.weight for s in web.sections) == Decimal(100)
    # the demo centre has candidates of its own, so its manager's pages are not empty
    assert session.scalar(
        select(func.count()).select_from(Candidate).where(Candidate.centre_id == centre.id)
    )
    # the demo expert belongs to a college, so conflicts of interest can be shown
    expert = session.scalar(select(User).where(User.email == "expert@demo.kz"))
    assert expert.college is not None
