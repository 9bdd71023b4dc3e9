"""A small, hand-computable data set for the reports tests (unit and browser).

Exams (centre, competence, start date, status) and their candidates as
(name, percent in hundredths, grade, passed, college, enterprise?):

- X1 C1 K1 2025-01-10 finalised: a 80.00 5 ✓ L1 E1; b 60.50 4 ✓ L1 –; c 15.25 2 ✗ L2 E1;
  d absent (L2)
- X2 C1 K2 2025-12-31 finalised: e 90.00 5 ✓ L2 E1; f 39.99 3 ✓ L1 –
- X3 C2 K1 2025-06-15 finalised: g 50.00 4 ✓ L1 E1; h 10.00 2 ✗ L2 –; i 100.00 5 ✓ L2 E1
- X4 C3 K1 2026-01-01 finalised: j 65.00 4 ✓ L1 E1
- X5 C2 K2 2025-03-01 *marking* (a stale result that must not count): k 70.00 5 ✓ L1 E1
- X6 C3 K2 2024-12-31 finalised: l 75.00 5 ✓ L1 E1

Passports: a, b, e, f, g, i, j, l; b's is revoked; g's first passport was superseded by a
re-issue (so g has two rows, counted once).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from app.extensions import db
from passports.models import Passport
from tests.factories import (
    CandidateFactory,
    CentreFactory,
    CollegeFactory,
    CompetenceFactory,
    EnrolmentFactory,
    EnterpriseFactory,
    ExamFactory,
    ResultFactory,
)
from tests.passports.factories import _scheme, unique_iin

_numbers = itertools.count(1)

EXAMS = {
    # name: (centre, competence, start date, status)
    "X1": ("C1", "K1", date(2025, 1, 10), "finalised"),
    "X2": ("C1", "K2", date(2025, 12, 31), "finalised"),
    "X3": ("C2", "K1", date(2025, 6, 15), "finalised"),
    "X4": ("C3", "K1", date(2026, 1, 1), "finalised"),
    "X5": ("C2", "K2", date(2025, 3, 1), "marking"),
    "X6": ("C3", "K2", date(2024, 12, 31), "finalised"),
}
# candidate: (exam, percent hundredths or None when absent, grade, passed, college, enterprise)
CANDIDATES = {
    "a": ("X1", 8000, 5, True, "L1", True),
    "b": ("X1", 6050, 4, True, "L1", False),
    "c": ("X1", 1525, 2, False, "L2", True),
    "d": ("X1", None, None, None, "L2", False),
    "e": ("X2", 9000, 5, True, "L2", True),
    "f": ("X2", 3999, 3, True, "L1", False),
    "g": ("X3", 5000, 4, True, "L1", True),
    "h": ("X3", 1000, 2, False, "L2", False),
    "i": ("X3", 10000, 5, True, "L2", True),
    "j": ("X4", 6500, 4, True, "L1", True),
    "k": ("X5", 7000, 5, True, "L1", True),
    "l": ("X6", 7500, 5, True, "L1", True),
}
PASSPORTS = ("a", "b", "e", "f", "g", "i", "j", "l")


@dataclass
class ReportsData:
    centres: dict = field(default_factory=dict)
    competences: dict = field(default_factory=dict)
    colleges: dict = field(default_factory=dict)
    enterprise: object = None
    exams: dict = field(default_factory=dict)
    candidates: dict = field(default_factory=dict)


def passport(candidate_id: int, exam_id: int, **extra) -> Passport:
    n = next(_numbers)
    row = Passport(
        number=f"RPT-{n:06d}-{candidate_id}",
        sequence=900000 + n,
        candidate_id=candidate_id,
        exam_id=exam_id,
        holder_name="Test",
        snapshot={},
        basis_hash="0" * 64,
        token="token",
        kid="kid",
        issued_at=datetime(2025, 7, 1, tzinfo=UTC),
        code_nonce="nonce",
        code_hash=f"{n:064d}",
        share_slug=f"rpt{n}x{candidate_id}",
        **extra,
    )
    db.session.add(row)
    db.session.flush()
    return row


def build_reports_data(session) -> ReportsData:
    data = ReportsData()
    data.centres = {name: CentreFactory() for name in ("C1", "C2", "C3")}
    data.competences = {name: CompetenceFactory() for name in ("K1", "K2")}
    data.colleges = {name: CollegeFactory() for name in ("L1", "L2")}
    data.enterprise = EnterpriseFactory()
    schemes = {name: _scheme(c)[0] for name, c in data.competences.items()}
    for name, (centre, competence, start, status) in EXAMS.items():
        data.exams[name] = ExamFactory(
            centre=data.centres[centre],
            scheme=schemes[competence],
            start_date=start,
            status=status,
            accredit=False,
        )
    for number, (name, (exam_name, pct, grade, passed, college, has_enterprise)) in enumerate(
        CANDIDATES.items(), start=1
    ):
        exam = data.exams[exam_name]
        candidate = CandidateFactory(
            iin=unique_iin(),
            college=data.colleges[college],
            enterprise=data.enterprise if has_enterprise else None,
            centre_id=exam.centre_id,
        )
        data.candidates[name] = candidate
        enrolment = EnrolmentFactory(
            exam=exam,
            candidate=candidate,
            workstation=number,
            attendance="present" if pct is not None else "absent",
        )
        if pct is None:
            continue
        ResultFactory(
            enrolment=enrolment,
            total_units=pct * 9,
            max_units=10000 * 9,
            denominator=900,
            percent_hundredths=pct,
            grade=grade,
            passed=passed,
        )
    session.flush()
    for name in PASSPORTS:
        candidate = data.candidates[name]
        exam = data.exams[CANDIDATES[name][0]]
        if name == "b":
            passport(candidate.id, exam.id, revoked_at=datetime(2025, 8, 1, tzinfo=UTC))
        elif name == "g":
            old = passport(candidate.id, exam.id)
            new = passport(candidate.id, exam.id)
            old.superseded_by_id = new.id
            old.superseded_at = datetime(2025, 8, 1, tzinfo=UTC)
        else:
            passport(candidate.id, exam.id)
    session.flush()
    return data
