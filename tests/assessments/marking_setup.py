"""A small exam ready for marking, shared by the mark-entry, API and e2e tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
from assessments.scoring import hundredths_text
from assessments.services.marks import entry
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


def save_paper_marks(
    session, setup: MarkingExam, judge_scores: Callable[[int], Sequence[int]]
) -> None:
    """As the chief, for the layout {"A1": (M, J), "A2": (M, M)}: every candidate gets the
    maximum on A1.1, A2.1 and A2.2, except the second candidate's A2.1 "1" (a deduction with
    no reason written), and the judges' scores ``judge_scores(n)`` on A1.2 for the ``n``-th
    candidate (nobody is seated: the chief types in the judges' paper forms).
    """
    for n, enrolment in enumerate(setup.enrolments):
        values = {
            (address, 0): hundredths_text(setup.aspects[address].max_hundredths)
            for address in ("A1.1", "A2.1", "A2.2")
        }
        if n == 1:
            values[("A2.1", 0)] = "1"  # below the maximum 1.50, no reason written
        values.update({("A1.2", seat): str(s) for seat, s in enumerate(judge_scores(n), start=1)})
        for (address, seat), value in values.items():
            entry.save_mark(
                session,
                exam=setup.exam,
                enrolment=enrolment,
                aspect=setup.aspects[address],
                seat=seat,
                value=value,
                user=setup.chief,
                expected_version=None,
                reason="paper form" if seat else "",
            )
    session.flush()
