"""Overviews of an exam for its page and the command line: what is incomplete, who may not
mark whom (conflicts of interest) and how far each marking form is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.auth.models import User
from assessments.models import College, Exam, MarkingForm
from assessments.services.exams import marking_forms, present_enrolments
from assessments.services.marks.completeness import completeness


def describe_incomplete(exam: Exam, items: Iterable[Any]) -> list[str]:
    """Format completeness items as ``Name (ws N): C4.2: missing`` lines (never the IIN).

    The marks service's ``Incomplete`` formats itself (adding the empty judge seats);
    anything else is formatted from its candidate, address and kind.
    """
    seats = {e.candidate_id: e.workstation for e in exam.enrolments}
    lines = []
    for item in items:
        if type(item).__str__ is not object.__str__:
            lines.append(str(item))
            continue
        candidate = item.candidate
        name = f"{candidate.last_name} {candidate.first_name}"
        kind = "missing" if item.kind == "missing" else "needs re-scoring"
        lines.append(f"{name} (ws {seats.get(candidate.id, '?')}): {item.address}: {kind}")
    return lines


@dataclass(frozen=True)
class Conflict:
    """An expert who may not mark the candidates of their own college."""

    expert: User
    college: College
    candidates: int


def conflicts(exam: Exam) -> list[Conflict]:
    """List, per expert of the exam, the enrolled candidates from the expert's own college."""
    by_college = Counter(e.candidate.college_id for e in exam.enrolments)
    people = ([exam.chief_expert] if exam.chief_expert else []) + [
        link.user for link in exam.experts
    ]
    found = []
    for user in people:
        if user.college_id is not None and by_college[user.college_id]:
            found.append(Conflict(user, user.college, by_college[user.college_id]))
    return found


@dataclass(frozen=True)
class FormProgress:
    """How far one marking form is: cells still missing or to re-score, and the lock."""

    form: MarkingForm
    aspects: int
    missing: int
    rescore: int
    candidates: int

    @property
    def complete(self) -> bool:
        """Every present candidate has every mark; a form nobody sits is not complete."""
        return self.candidates > 0 and self.missing == 0 and self.rescore == 0

    @property
    def percent_done(self) -> int:
        cells = self.aspects * self.candidates
        if not cells:
            return 0
        return (cells - self.missing) * 100 // cells


def forms_progress(session: Session, exam: Exam) -> list[FormProgress]:
    """Return each marking form's progress: cells still missing or to re-score, and the lock."""
    forms = marking_forms(session, exam)
    missing: Counter[str] = Counter()
    rescore: Counter[str] = Counter()
    for item in completeness(session, exam):
        code = item.address.split(".", 1)[0]
        (missing if item.kind == "missing" else rescore)[code] += 1
    candidates = len(present_enrolments(exam))
    return [
        FormProgress(
            form=f,
            aspects=len(f.sub_criterion.aspects),
            missing=missing[f.sub_criterion.code],
            rescore=rescore[f.sub_criterion.code],
            candidates=candidates,
        )
        for f in forms
    ]
