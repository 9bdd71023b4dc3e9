"""Finalised exams with stored results, built directly (no marking), for the passport tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from app.extensions import db
from assessments import scoring
from assessments.models import (
    Aspect,
    Candidate,
    Enrolment,
    Exam,
    MarkingScheme,
    Result,
)
from tests.factories import (
    CandidateFactory,
    CompetenceFactory,
    EnrolmentFactory,
    ExamFactory,
    MarkingSchemeFactory,
    ResultFactory,
    scheme_aspects,
)

JUDGES = 3
# criterion letter -> (criterion name, aspects as (WSOS section, max mark in hundredths))
LAYOUT = {
    "A": ("Веб-сайт дизайны", ((1, 1000), (2, 3000))),
    "B": ("Серверлік бағдарламалау", ((3, 2000), (4, 4000))),
}
DEMO_NAME = ("Әлібекова", "Айгерім", "Нұрланқызы")
_used_iins: set[str] = set()
_serials = itertools.count(1)


def unique_iin() -> str:
    """A valid IIN no other test candidate has (birth date apart from tests/factories.py's)."""
    from assessments.iin import make_iin

    while True:
        iin = make_iin(date(2005, 3, 9), "F", next(_serials) % 10000)
        if iin not in _used_iins:
            _used_iins.add(iin)
            return iin


@dataclass
class Sitting:
    """What one candidate did: attendance and a share 0–1 of every aspect's maximum."""

    share: Fraction = Fraction(4, 5)
    attendance: str = "present"
    names: tuple[str, str, str] | None = None


@dataclass
class FinalisedExam:
    exam: Exam
    scheme: MarkingScheme
    enrolments: list[Enrolment]
    aspects: list[Aspect] = field(default_factory=list)

    def candidate(self, index: int) -> Candidate:
        return self.enrolments[index].candidate

    def result(self, index: int) -> Result | None:
        return db.session.query(Result).filter_by(enrolment_id=self.enrolments[index].id).first()


def _scheme(competence) -> tuple[MarkingScheme, list[Aspect]]:
    scheme = MarkingSchemeFactory(
        competence=competence,
        name="Demo scheme",
        judges=JUDGES,
        allowed_spread=1,
        pass_min_grade=3,
        layout={
            f"{letter}1": tuple(("M", maximum, section) for section, maximum in aspects)
            for letter, (_name, aspects) in LAYOUT.items()
        },
        criterion_names={letter: name for letter, (name, _aspects) in LAYOUT.items()},
        sub_name="{criterion} 1",
        description="Аспект {letter}{index}",
    )
    return scheme, list(scheme_aspects(scheme).values())


def store_result(enrolment: Enrolment, share: Fraction, scheme: MarkingScheme) -> Result:
    """Store (or overwrite) the result of a candidate who scored ``share`` of every aspect."""
    factor = scoring.MAX_JUDGE_SCORE * JUDGES
    by_criterion: dict[str, int] = {}
    by_section: dict[str, int] = {}
    for letter, (_name, layout) in LAYOUT.items():
        for section, maximum in layout:
            units = round(share * maximum) * factor
            by_criterion[letter] = by_criterion.get(letter, 0) + units
            by_section[str(section)] = by_section.get(str(section), 0) + units
    total = sum(by_criterion.values())
    maximum = scheme.max_total_hundredths * factor
    pct = scoring.percent(total, maximum)
    grade = scoring.grade(pct)
    values = {
        "candidate_id": enrolment.candidate_id,
        "total_units": total,
        "max_units": maximum,
        "denominator": scoring.denominator(JUDGES),
        "percent_hundredths": int(scoring.round_half_up(pct, 2) * 100),
        "grade": grade,
        "passed": scoring.passes(grade, scheme.pass_min_grade),
        "rank": 1,
        "by_criterion": by_criterion,
        "by_section": by_section,
    }
    result = db.session.query(Result).filter_by(enrolment_id=enrolment.id).first()
    if result is None:
        result = ResultFactory(enrolment=enrolment, **values)
    else:
        for name, value in values.items():
            setattr(result, name, value)
    db.session.flush()
    return result


def finalised_exam(
    sittings: list[Sitting] | None = None, *, start: date = date(2026, 6, 15)
) -> FinalisedExam:
    """A finalised exam whose present candidates have stored results (default: 3 who pass)."""
    sittings = sittings if sittings is not None else [Sitting(), Sitting(), Sitting()]
    scheme, aspects = _scheme(CompetenceFactory())
    exam = ExamFactory(scheme=scheme, start_date=start, end_date=start, status="finalised")
    enrolments = []
    for number, sitting in enumerate(sittings, start=1):
        extra = {}
        if sitting.names:
            last, first, middle = sitting.names
            extra = {"last_name": last, "first_name": first, "middle_name": middle}
        candidate = CandidateFactory(iin=unique_iin(), **extra)
        enrolment = EnrolmentFactory(
            exam=exam, candidate=candidate, workstation=number, attendance=sitting.attendance
        )
        if sitting.attendance == "present":
            store_result(enrolment, sitting.share, scheme)
        enrolments.append(enrolment)
    db.session.flush()
    return FinalisedExam(exam, scheme, enrolments, aspects)
