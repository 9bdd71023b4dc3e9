"""A small exam ready for marking, shared by the mark-entry, API and e2e tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.auth.models import User
from assessments.models import (
    Aspect,
    Candidate,
    Centre,
    College,
    Enrolment,
    Exam,
    MarkingForm,
    MarkingScheme,
)
from tests.factories import (
    DEFAULT_LAYOUT,
    CandidateFactory,
    CentreFactory,
    CollegeFactory,
    EnrolmentFactory,
    ExamFactory,
    MarkingSchemeFactory,
    UserFactory,
    iin_for,
    scheme_aspects,
)

NAMES = (
    ("Әбілова", "Айгүл"),
    ("Бекова", "Дана"),
    ("Жұмабаев", "Ерлан"),
    ("Қасымов", "Нұрлан"),
    ("Серікова", "Ұлжан"),
    ("Омаров", "Ілияс"),
)


@dataclass
class MarkingExam:
    exam: Exam
    scheme: MarkingScheme
    centre: Centre
    colleges: list[College]
    chief: User
    experts: list[User]
    enrolments: list[Enrolment]
    iins: list[str]
    forms: dict[str, MarkingForm] = field(default_factory=dict)
    aspects: dict[str, Aspect] = field(default_factory=dict)

    def candidate(self, index: int) -> Candidate:
        return self.enrolments[index].candidate


def build_exam(
    session,
    *,
    layout: dict[str, tuple[tuple[str, int], ...]] = DEFAULT_LAYOUT,
    candidates: int = 3,
    judges: int = 3,
    allowed_spread: int = 1,
    experts: int = 3,
    status: str = "planned",
    serial: int = 100,
) -> MarkingExam:
    """Plan an exam: candidates from college 0, chief and experts from college 1."""
    scheme = MarkingSchemeFactory(
        layout=layout,
        criterion_names={"A": "Модуль А"},
        judges=judges,
        allowed_spread=allowed_spread,
    )
    centre = CentreFactory(workstations=10)
    colleges = [CollegeFactory(), CollegeFactory()]
    chief = UserFactory(role="chief_expert", name="Гүлнар Бас", college=colleges[1])
    people = [
        UserFactory(role="expert", name=f"Сарапшы {n}", college=colleges[1])
        for n in range(1, experts + 1)
    ]
    exam = ExamFactory(
        scheme=scheme,
        centre=centre,
        start_date=date(2026, 5, 20),
        end_date=date(2026, 5, 21),
        status=status,
        chief_expert=chief,
        experts=people,
        forms=True,
    )
    forms = {
        form.sub_criterion.code: form
        for form in session.scalars(select(MarkingForm).where(MarkingForm.exam_id == exam.id))
    }
    enrolments, iins = [], []
    for n in range(candidates):
        last, first = NAMES[n % len(NAMES)]
        iin = iin_for(serial + n)
        candidate = CandidateFactory(
            iin=iin,
            last_name=last,
            first_name=first,
            middle_name="",
            search_text="",
            college=colleges[0],
            specialty="Веб-технологиялар",
        )
        enrolments.append(EnrolmentFactory(exam=exam, candidate=candidate, workstation=n + 1))
        iins.append(iin)
    session.flush()
    session.refresh(exam)
    return MarkingExam(
        exam=exam,
        scheme=scheme,
        centre=centre,
        colleges=colleges,
        chief=chief,
        experts=people,
        enrolments=enrolments,
        iins=iins,
        forms=forms,
        aspects=scheme_aspects(scheme),
    )
