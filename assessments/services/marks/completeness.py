"""What blocks sign-off of a form or an exam, and stamping forms locked once nothing does.

Below both the sign-off pages (``signoff``) and finalisation (``exams.finalise``): neither
takes the exam row lock here, the callers hold it (``exams.lock_exam``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from assessments.models import Aspect, Criterion, Exam, Mark, MarkingForm, SubCriterion
from assessments.services import audit
from assessments.services.marks import rules
from assessments.services.marks.cells import Incomplete, present_enrolments
from assessments.services.marks.errors import DeductionsUnexplained


def completeness(
    session: Session, exam: Exam, sub_criterion_id: int | None = None
) -> list[Incomplete]:
    """List what blocks sign-off, by candidate (workstation, name) then aspect order.

    Rules: only present candidates count. An M aspect needs its seat-0 mark. A J aspect
    follows ``rules.judge_seats_state``: "missing" names the empty judge seats; when all
    are there, a spread above ``scheme.allowed_spread`` needs re-scoring.
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
    allowed_spread = scheme.allowed_spread
    items: list[Incomplete] = []
    for enrolment in enrolments:
        for aspect in aspects:
            cell = values.get((enrolment.id, aspect.id), {})
            address = f"{aspect.code}.{aspect.position}"
            if aspect.kind == "M":
                if 0 not in cell:
                    items.append(Incomplete(enrolment.candidate, enrolment, address, "missing"))
                continue
            empty, rescore = rules.judge_seats_state(cell, judges, allowed_spread)
            if empty:
                items.append(Incomplete(enrolment.candidate, enrolment, address, "missing", empty))
            elif rescore:
                items.append(
                    Incomplete(enrolment.candidate, enrolment, address, "rescore", all_seats)
                )
    return items


def lock_forms(
    session: Session, exam: Exam, forms: list[MarkingForm], user: User | None
) -> list[MarkingForm]:
    """Stamp every unlocked form of ``forms`` locked by ``user`` and audit each; return them.

    Rule: the caller holds the exam row lock and has found nothing incomplete; a form
    locked already keeps its stamp.
    """
    now = utcnow()
    for form in forms:
        if form.locked:
            continue
        form.locked_at = now
        form.locked_by_id = user.id if user else None
        audit.append(session, exam, user, "form.locked", target=f"form:{form.sub_criterion.code}")
    session.flush()
    return forms


def unexplained_deductions(
    session: Session, exam: Exam, sub_criterion_id: int | None = None
) -> list[Incomplete]:
    """List the present candidates' measurement marks deducted without a written reason.

    Rule: ``rules.unexplained_deduction`` (below the aspect's maximum, no reason); by
    candidate (workstation, name) then aspect order, as ``completeness``.
    """
    query = (
        select(Mark.enrolment_id, Mark.value, Mark.reason, Aspect.kind, Aspect.max_hundredths)
        .add_columns(Aspect.position, SubCriterion.code)
        .join(Aspect, Mark.aspect_id == Aspect.id)
        .join(SubCriterion, Aspect.sub_criterion_id == SubCriterion.id)
        .join(Criterion, SubCriterion.criterion_id == Criterion.id)
        .where(Mark.exam_id == exam.id, Mark.seat == 0, Aspect.kind == "M")
        .order_by(Criterion.letter, SubCriterion.position, Aspect.position)
    )
    if sub_criterion_id is not None:
        query = query.where(Aspect.sub_criterion_id == sub_criterion_id)
    flagged: dict[int, list[str]] = {}
    for row in session.execute(query):
        if rules.unexplained_deduction(row.kind, row.max_hundredths, row.value, row.reason):
            flagged.setdefault(row.enrolment_id, []).append(f"{row.code}.{row.position}")
    return [
        Incomplete(enrolment.candidate, enrolment, address, "deduction")
        for enrolment in present_enrolments(session, exam)
        for address in flagged.get(enrolment.id, [])
    ]


def acknowledge_deductions(
    session: Session, exam: Exam, forms: list[MarkingForm], user: User | None, note: str
) -> None:
    """Check the deductions without a reason in the open ``forms`` about to be locked.

    Rule: any ``unexplained_deductions`` there refuse the locking (``DeductionsUnexplained``)
    unless the chief expert writes a ``note`` acknowledging them; the note is stored on
    each form holding such deductions (``deductions_note``, shown in the progress view and
    the protocol) and audited as ``form.deductions_acknowledged`` with the cells it covers.
    An open form without them keeps no note. The caller holds the exam row lock.
    """
    open_forms = {f.sub_criterion.code: f for f in forms if not f.locked}
    if not open_forms:
        return
    # one form (locking it): only its marks are read; several (finalising): the exam's
    single = next(iter(open_forms.values())) if len(open_forms) == 1 else None
    found: dict[str, list[Incomplete]] = {}
    for item in unexplained_deductions(session, exam, single and single.sub_criterion_id):
        code = item.address.split(".", 1)[0]
        if code in open_forms:
            found.setdefault(code, []).append(item)
    note = (note or "").strip()
    if found and not note:
        raise DeductionsUnexplained([item for items in found.values() for item in items])
    for code, form in open_forms.items():
        items = found.get(code)
        form.deductions_note = note if items else ""
        if items:
            audit.append(
                session,
                exam,
                user,
                "form.deductions_acknowledged",
                target=f"form:{code}",
                reason=note,
                old=", ".join(f"enrolment:{i.enrolment.id}/{i.address}" for i in items),
            )
