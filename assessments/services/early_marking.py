"""An administrator's per-exam override of the first-day rule for marks.

Marks wait for the exam's first day (``marks.rules.check_started``); an administrator may
allow them earlier for one exam — a rehearsal, a centre that starts a day early with the
department's approval — and withdraw that again. Both need a written reason and go into
the exam's audit chain; while the override stands, the grid, imports and the API accept
marks before the first day.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from app.messages import N_
from assessments.models import Exam, ExamStatus
from assessments.services import audit
from assessments.services.exams import ExamError, NotAllowed, lock_exam


def _check(session: Session, exam: Exam, user: User | None, reason: str) -> str:
    if user is not None and user.role != "admin":
        raise NotAllowed(
            N_("Only an administrator can allow marks before the exam's first day."), "user"
        )
    reason = (reason or "").strip()
    if not reason:
        raise ExamError(N_("Give the reason for this change."), "reason")
    if lock_exam(session, exam.id) == ExamStatus.FINALISED:
        message = N_("The exam is finalised; an administrator must reopen it first.")
        raise ExamError(message, "status")
    return reason


def allow_early_marking(session: Session, exam: Exam, user: User | None, reason: str) -> Exam:
    """Let marks be saved before the exam's first day (administrators; reason audited).

    Rules: administrators only (``user`` None: the server's command line); a written reason;
    not for a finalised exam. Allowing it again changes nothing.
    """
    reason = _check(session, exam, user, reason)
    if exam.early_marking:
        return exam
    exam.early_marking_at = utcnow()
    exam.early_marking_by_id = user.id if user else None
    exam.early_marking_reason = reason
    audit.append(session, exam, user, "exam.early_marking", old="off", new="on", reason=reason)
    session.flush()
    return exam


def withdraw_early_marking(session: Session, exam: Exam, user: User | None, reason: str) -> Exam:
    """Make marks wait for the first day again (administrators; reason audited).

    Marks saved meanwhile stay. Withdrawing an override that is not there changes nothing.
    """
    reason = _check(session, exam, user, reason)
    if not exam.early_marking:
        return exam
    exam.early_marking_at = None
    exam.early_marking_by_id = None
    exam.early_marking_reason = ""
    audit.append(session, exam, user, "exam.early_marking", old="on", new="off", reason=reason)
    session.flush()
    return exam
