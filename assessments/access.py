"""Object-level access rules for exams, shared by pages, the API and exports.

Role permissions (app/auth/permissions.py) say what kind of thing a user may
do; these functions say to which exam.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.auth.models import User
from assessments.models import Exam, ExamExpert


def is_chief(user: User, exam: Exam) -> bool:
    return user.role == "chief_expert" and exam.chief_expert_id == user.id


def is_assigned_expert(user: User, exam: Exam) -> bool:
    return any(e.user_id == user.id for e in exam.experts)


def can_view_exam(user: User, exam: Exam) -> bool:
    """Admins see every exam, centre managers their centre's, experts the ones they are on."""
    if user.role == "admin":
        return True
    if user.role == "centre_manager":
        return user.centre_id is not None and exam.centre_id == user.centre_id
    return is_chief(user, exam) or is_assigned_expert(user, exam)


def visible_exam(session: Session, user: User, exam_id: int) -> Exam | None:
    """The exam ``exam_id`` when ``user`` may see it, else None.

    An exam that exists but is not the user's gets the same answer as one that does not
    exist (views answer 404 to both), so exam ids do not reveal other centres' exams.
    """
    exam = session.get(Exam, exam_id)
    return exam if exam is not None and can_view_exam(user, exam) else None


def can_manage_exam(user: User, exam: Exam) -> bool:
    return user.role == "admin" or (
        user.role == "centre_manager" and user.centre_id == exam.centre_id
    )


def can_mark(user: User, exam: Exam) -> bool:
    """Chief and assigned experts may enter marks (conflicts of interest checked per candidate)."""
    return is_chief(user, exam) or (user.role == "expert" and is_assigned_expert(user, exam))


def visible_exams(user: User) -> Select[Any]:
    """Return a SELECT of the exams ``user`` may see."""
    query = select(Exam)
    if user.role == "admin":
        return query
    if user.role == "centre_manager":
        return query.where(Exam.centre_id == (user.centre_id or -1))
    assigned = select(ExamExpert.exam_id).where(ExamExpert.user_id == user.id)
    return query.where(or_(Exam.chief_expert_id == user.id, Exam.id.in_(assigned)))
