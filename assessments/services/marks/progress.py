"""The chief expert's progress view: every form of an exam and what still needs action.

Nothing is decided here: missing marks and re-scoring come from ``completeness``,
deductions without a reason from ``completeness.unexplained_deductions``, conflicts of
interest from ``rules.seat_exclusion``. This module only sorts them by form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from assessments.models import Exam, MarkingForm
from assessments.services.exams import marking_forms
from assessments.services.marks import rules
from assessments.services.marks.cells import Incomplete, present_enrolments, seat_expert
from assessments.services.marks.completeness import completeness, unexplained_deductions
from assessments.services.marks.errors import ConflictOfInterest

# what needs action, in the order the page lists it
PROBLEM_KINDS = ("missing", "rescore", "deduction", "conflict")


@dataclass(frozen=True)
class Problem:
    """One thing to act on in a form: a cell group (``item``) or a judge seat conflict."""

    kind: str
    item: Incomplete
    conflict: ConflictOfInterest | None = None

    @property
    def marks(self) -> int:
        """How many marks this stands for: each empty judge seat counts once."""
        return max(1, len(self.item.seats)) if self.kind == "missing" else 1


@dataclass
class FormStatus:
    """One marking form: its lock and its problems, by kind."""

    form: MarkingForm
    problems: list[Problem] = field(default_factory=list)

    @property
    def locked(self) -> bool:
        return self.form.locked

    def count(self, kind: str) -> int:
        return sum(p.marks for p in self.problems if p.kind == kind)

    def of_kind(self, kind: str) -> list[Problem]:
        return [p for p in self.problems if p.kind == kind]

    @property
    def acknowledged(self) -> str:
        """The chief's note on this locked form's deductions without a reason, or ""."""
        return self.form.deductions_note if self.form.locked else ""

    @property
    def needs_action(self) -> bool:
        """Whether anything is left to do: acknowledged deductions of a locked form are not."""
        return any(p.kind != "deduction" or not self.acknowledged for p in self.problems)


def exam_progress(session: Session, exam: Exam) -> list[FormStatus]:
    """Return each form of the exam (scheme order) with what needs action in it.

    Rules: only present candidates count (``completeness``); a judge seat conflicts with
    a candidate when ``rules.seat_exclusion`` says so for the expert seated there.
    """
    statuses = [FormStatus(form) for form in marking_forms(session, exam)]
    by_code = {status.form.sub_criterion.code: status for status in statuses}
    for item in completeness(session, exam) + unexplained_deductions(session, exam):
        by_code[item.address.split(".", 1)[0]].problems.append(Problem(item.kind, item))
    enrolments = present_enrolments(session, exam)
    for status in statuses:
        form = status.form
        if not any(aspect.kind == "J" for aspect in form.sub_criterion.aspects):
            continue
        for seat in range(1, exam.scheme.judges + 1):
            judge = seat_expert(session, form, seat)
            for enrolment in enrolments:
                found = rules.seat_exclusion(judge, seat, enrolment.candidate)
                if found is not None:
                    item = Incomplete(
                        enrolment.candidate, enrolment, form.sub_criterion.code, "conflict", (seat,)
                    )
                    status.problems.append(Problem("conflict", item, found))
    order = {kind: i for i, kind in enumerate(PROBLEM_KINDS)}
    for status in statuses:
        status.problems.sort(key=lambda p: order[p.kind])
    return statuses
