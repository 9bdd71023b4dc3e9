"""Signing off: locking a form once its marks are complete, unlocking it for a correction.

What blocks sign-off is ``completeness`` (in ``marks.completeness``, which finalisation
uses too); every change here takes the exam row lock first (``exams.lock_exam``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.models import User
from app.messages import N_
from assessments.models import Exam, MarkingForm
from assessments.services import audit, exams
from assessments.services.marks import rules
from assessments.services.marks.cells import exam_of
from assessments.services.marks.completeness import (
    acknowledge_deductions,
    completeness,
    lock_forms,
)
from assessments.services.marks.errors import FormIncomplete, MarkInvalid


def lock_form(
    session: Session, form: MarkingForm, user: User, acknowledgement: str = ""
) -> MarkingForm:
    """Sign off and lock a complete form (chief expert of the exam only).

    Rules: refused for anyone but the exam's chief expert, for a finalised exam, and
    while any present candidate's cell is missing or needs re-scoring (``FormIncomplete``
    lists them). Deductions without a reason (``unexplained_deductions``) refuse it too
    (``DeductionsUnexplained``) unless the chief writes an ``acknowledgement`` note,
    stored on the form and audited with the cells it covers
    (``completeness.acknowledge_deductions``). Locking a locked form changes
    nothing.
    """
    exam = exam_of(session, form)
    rules.check_chief(user, exam)
    status = exams.lock_exam(session, exam.id)
    session.refresh(form)
    rules.check_open(exam, status, None, "")
    if form.locked:
        return form
    items = completeness(session, exam, form.sub_criterion_id)
    if items:
        raise FormIncomplete(items)
    acknowledge_deductions(session, exam, [form], user, acknowledgement)
    lock_forms(session, exam, [form], user)
    return form


def unlock_form(session: Session, form: MarkingForm, user: User, reason: str) -> MarkingForm:
    """Unlock a locked form for a correction (chief expert and a written reason, audited)."""
    exam = exam_of(session, form)
    rules.check_chief(user, exam)
    reason = (reason or "").strip()
    if not reason:
        raise MarkInvalid(N_("Give the reason for unlocking the form."), "reason")
    status = exams.lock_exam(session, exam.id)
    session.refresh(form)
    rules.check_open(exam, status, None, "")
    if not form.locked:
        return form
    form.locked_at = None
    form.locked_by_id = None
    audit.append(
        session,
        exam,
        user,
        "form.unlocked",
        target=f"form:{form.sub_criterion.code}",
        reason=reason,
    )
    session.flush()
    return form


def lock_all_forms(session: Session, exam: Exam, user: User | None) -> list[MarkingForm]:
    """Lock every form of the exam, or none when anything is incomplete.

    Rules: the chief expert of the exam, or ``user`` None for the server's command
    line; ``FormIncomplete`` lists every missing or to-be-re-scored cell of the exam.
    """
    rules.check_chief(user, exam, allow_system=True)
    status = exams.lock_exam(session, exam.id)
    rules.check_open(exam, status, None, "")
    items = completeness(session, exam)
    if items:
        raise FormIncomplete(items)
    return lock_forms(session, exam, exams.marking_forms(session, exam), user)
