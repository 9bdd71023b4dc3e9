"""A small exam ready for marking, shared by the mark-entry, API and e2e tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.auth.models import User
from app.collation import sort_key
from assessments.models import (
    Aspect,
    Candidate,
    Centre,
    College,
    Criterion,
    Enrolment,
    Exam,
    ExamExpert,
    MarkingForm,
    MarkingScheme,
    SubCriterion,
)
from assessments.personal_data import encrypt_iin, iin_lookup_hash
from assessments.translit import transliterate
from tests.factories import (
    CentreFactory,
    CollegeFactory,
    CompetenceFactory,
    UserFactory,
    iin_for,
)

# sub-criterion code -> aspects as (kind, max mark in hundredths)
DEFAULT_LAYOUT = {
    "A1": (("M", 100), ("M", 50), ("J", 200)),
    "A2": (("M", 125),),
}
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
    competence = CompetenceFactory()
    centre = CentreFactory(workstations=10)
    centre.competences.append(competence)
    colleges = [CollegeFactory(), CollegeFactory()]
    scheme = MarkingScheme(
        competence=competence,
        name="Тест схемасы",
        judges=judges,
        allowed_spread=allowed_spread,
    )
    session.add(scheme)
    session.flush()
    criterion = Criterion(scheme_id=scheme.id, letter="A", name="Модуль А")
    session.add(criterion)
    session.flush()
    found_aspects: dict[str, Aspect] = {}
    subs = []
    total = 0
    for position, (code, aspects) in enumerate(layout.items(), start=1):
        sub = SubCriterion(
            scheme_id=scheme.id,
            criterion_id=criterion.id,
            code=code,
            name=f"Бөлім {code}",
            day=1,
            position=position,
        )
        session.add(sub)
        session.flush()
        subs.append(sub)
        for index, (kind, maximum) in enumerate(aspects, start=1):
            aspect = Aspect(
                scheme_id=scheme.id,
                sub_criterion_id=sub.id,
                position=index,
                kind=kind,
                description=f"{code} аспект {index}",
                wsos_section=1,
                max_hundredths=maximum,
                levels=["Төмен", "Сәйкес", "Жоғары", "Өте жоғары"] if kind == "J" else [],
            )
            session.add(aspect)
            found_aspects[f"{code}.{index}"] = aspect
            total += maximum
    scheme.max_total_hundredths = total
    chief = UserFactory(role="chief_expert", name="Гүлнар Бас", college=colleges[1])
    people = [
        UserFactory(role="expert", name=f"Сарапшы {n}", college=colleges[1])
        for n in range(1, experts + 1)
    ]
    exam = Exam(
        centre=centre,
        competence=competence,
        scheme=scheme,
        start_date=date(2026, 5, 20),
        end_date=date(2026, 5, 21),
        status=status,
        chief_expert=chief,
    )
    session.add(exam)
    session.flush()
    for person in people:
        session.add(ExamExpert(exam_id=exam.id, user_id=person.id))
    forms = {}
    for sub in subs:
        form = MarkingForm(exam_id=exam.id, sub_criterion_id=sub.id, seats={})
        session.add(form)
        forms[sub.code] = form
    enrolments, iins = [], []
    for n in range(candidates):
        last, first = NAMES[n % len(NAMES)]
        iin = iin_for(serial + n)
        candidate = Candidate(
            iin_hash=iin_lookup_hash(iin),
            iin_encrypted=encrypt_iin(iin),
            last_name=last,
            first_name=first,
            middle_name="",
            last_name_latin=transliterate(last),
            first_name_latin=transliterate(first),
            sort_key=sort_key(last, first),
            college=colleges[0],
            specialty="Веб-технологиялар",
        )
        session.add(candidate)
        session.flush()
        enrolment = Enrolment(
            exam_id=exam.id, candidate_id=candidate.id, workstation=n + 1, attendance="present"
        )
        session.add(enrolment)
        enrolments.append(enrolment)
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
        aspects=found_aspects,
    )
