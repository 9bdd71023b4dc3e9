"""Completeness of a form or exam, and locking forms once their marks are complete."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from app.messages import N_
from assessments.models import Aspect, Criterion, Exam, Mark, MarkingForm, SubCriterion
from assessments.services import audit
from assessments.services.marks import rules
from assessments.services.marks.cells import Incomplete, exam_of, present_enrolments
from assessments.services.marks.errors import ExamClosed, FormIncomplete, MarkInvalid


def completeness(
    session: Session, exam: Exam, sub_criterion_id: int | None = None
) -> list[Incomplete]:
    """List what blocks sign-off, by candidate (workstation, name) then aspect order.

    Rules: only present candidates count. An M aspect needs its seat-0 mark. A J aspect
    needs a score in every seat 1 … ``scheme.judges`` ("missing" names the empty seats);
    when all are there, a spread (highest − lowest) above ``scheme.allowed_spread`` needs
    re-scoring.
    """
    scheme = exam.scheme
    aspect_query = (
        select(Aspect.id, Aspect.kind, Aspect.position, SubCriterion.code)
        .join(SubCriterion, Aspect.sub_criterion_id == SubCriterion.id)
        .join(Criterion, SubCriterion.criterion_id == Criterion.id)
        .where(Aspect.scheme_id == scheme.id)
        .order_by(Criterion.letter, SubCriterion.position, Aspect.position)
    )
    if sub_criterion_id is not None:
        aspect_query = aspect_query.where(Aspect.sub_criterion_id == sub_criterion_id)
    aspects = session.execute(aspect_query).all()
    enrolments = present_enrolments(session, exam)
    if not aspects or not enrolments:
        return []
    aspect_ids = [a.id for a in aspects]
    mark_query = select(Mark.enrolment_id, Mark.aspect_id, Mark.seat, Mark.value).where(
        Mark.exam_id == exam.id
    )
    if sub_criterion_id is not None:
        mark_query = mark_query.where(Mark.aspect_id.in_(aspect_ids))
    values: dict[tuple[int, int], dict[int, int]] = {}
    for row in session.execute(mark_query):
        values.setdefault((row.enrolment_id, row.aspect_id), {})[row.seat] = row.value
    judges = scheme.judges
    all_seats = tuple(range(1, judges + 1))
    items: list[Incomplete] = []
    for enrolment in enrolments:
        for aspect in aspects:
            cell = values.get((enrolment.id, aspect.id), {})
            address = f"{aspect.code}.{aspect.position}"
            if aspect.kind == "M":
                if 0 not in cell:
                    items.append(Incomplete(enrolment.candidate, enrolment, address, "missing"))
                continue
            empty = tuple(s for s in all_seats if s not in cell)
            if empty:
                items.append(Incomplete(enrolment.candidate, enrolment, address, "missing", empty))
            else:
                scores = [cell[s] for s in all_seats]
                if max(scores) - min(scores) > scheme.allowed_spread:
                    items.append(
                        Incomplete(enrolment.candidate, enrolment, address, "rescore", all_seats)
                    )
    return items


def lock_form(session: Session, form: MarkingForm, user: User) -> MarkingForm:
    """Sign off and lock a complete form (chief expert of the exam only).

    Rules: refused for anyone but the exam's chief expert, for a finalised exam, and
    while any present candidate's cell is missing or needs re-scoring (``FormIncomplete``
    lists them). Locking a locked form changes nothing.
    """
    exam = exam_of(session, form)
    rules.check_chief(user, exam)
    status = audit.lock_exam(session, exam.id)
    session.refresh(form)
    if status == "finalised":
        raise ExamClosed(N_("The exam is finalised; an administrator must reopen it first."))
    if form.locked:
        return form
    items = completeness(session, exam, form.sub_criterion_id)
    if items:
        raise FormIncomplete(items)
    form.locked_at = utcnow()
    form.locked_by_id = user.id
    audit.append(session, exam, user, "form.locked", target=f"form:{form.sub_criterion.code}")
    session.flush()
    return form


def unlock_form(session: Session, form: MarkingForm, user: User, reason: str) -> MarkingForm:
    """Unlock a locked form for a correction (chief expert and a written reason, audited)."""
    exam = exam_of(session, form)
    rules.check_chief(user, exam)
    reason = (reason or "").strip()
    if not reason:
        raise MarkInvalid(N_("Give the reason for unlocking the form."), "reason")
    status = audit.lock_exam(session, exam.id)
    session.refresh(form)
    if status == "finalised":
        raise ExamClosed(N_("The exam is finalised; an administrator must reopen it first."))
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
    status = audit.lock_exam(session, exam.id)
    if status == "finalised":
        raise ExamClosed(N_("The exam is finalised; an administrator must reopen it first."))
    items = completeness(session, exam)
    if items:
        raise FormIncomplete(items)
    forms = list(session.scalars(select(MarkingForm).where(MarkingForm.exam_id == exam.id)))
    now = utcnow()
    for form in forms:
        if form.locked:
            continue
        form.locked_at = now
        form.locked_by_id = user.id if user else None
        audit.append(session, exam, user, "form.locked", target=f"form:{form.sub_criterion.code}")
    session.flush()
    return forms
