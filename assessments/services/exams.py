"""Demonstration exams: planning, enrolment, expert group, attendance and the status flow.

Status flows ``planned`` → ``marking`` (first mark saved or imported) → ``finalised``
(every form locked, results stored, audit chain head recorded); an administrator may
reopen a finalised exam with a written reason, which puts it back to ``marking``.

This module owns those changes (``start_marking``, ``finalise``, ``reopen``) and the exam
row lock (``lock_exam``) that every writer of an exam takes first: marks, sign-off,
attendance, finalisation and passport issuance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from app.i18n import LocalizedName
from app.messages import N_, DomainError
from assessments.iin import InvalidIIN, iin_problem, validate_iin
from assessments.models import (
    ATTENDANCE,
    Candidate,
    Centre,
    Competence,
    Enrolment,
    Exam,
    ExamExpert,
    ExamStatus,
    MarkingForm,
    MarkingScheme,
    SubCriterion,
)
from assessments.personal_data import iin_lookup_hash
from assessments.services import audit, results
from assessments.services.candidates.scope import ADMIN_SCOPE, Scope
from assessments.services.marks import rules
from assessments.services.marks.completeness import acknowledge_deductions, completeness, lock_forms
from assessments.services.marks.errors import MarkingError
from assessments.tabular import Problem, Rejected, Row, read_table

REASON_REQUIRED = frozenset({"disqualified"})
EXPERT_ROLES = frozenset({"expert", "chief_expert"})


class ExamError(DomainError, ValueError):
    """A request about an exam that breaks a rule; ``field`` names the input at fault.

    The message is English with ``%(name)s`` placeholders (marked ``N_``): the command line
    prints ``str(error)``, pages show ``error.translated()``.
    """


class NotAllowed(ExamError):
    """The user's role does not allow this change of the exam."""


class ExamIncomplete(ExamError):
    """Finalisation refused: ``items`` lists what is missing or needs re-scoring."""

    def __init__(self, exam: Exam, items: Sequence[Any]) -> None:
        self.exam = exam
        self.items = list(items)
        super().__init__(
            N_("%(count)s marks are missing or need re-scoring."), "marks", count=len(self.items)
        )

    def lines(self) -> list[str]:
        """One line per candidate and aspect address: ``Name (ws 3): C4.2: missing``."""
        from assessments.services.exam_overview import describe_incomplete

        return describe_incomplete(self.exam, self.items)


class EnrolmentError(Rejected):
    """An enrolment file was refused as a whole; ``lines()`` gives ``FILE:ROW: field: message``."""


@dataclass(frozen=True)
class CandidateProblem(Problem):
    """Why a selected candidate cannot be enrolled: ``field`` is the candidate's full name."""

    candidate_id: int | None = None


# --- planning ---------------------------------------------------------------


def create_exam(
    session: Session,
    *,
    centre: Centre,
    competence: Competence,
    scheme: MarkingScheme,
    start: date,
    end: date | None = None,
    chief: User | None = None,
) -> Exam:
    """Plan an exam and freeze its scheme; one marking form per sub-criterion is created.

    Rules: the centre is accredited for the competence, the scheme belongs to the
    competence, ``end`` (default ``start``) is not before ``start``, a chief expert has the
    chief expert role and an active account.
    """
    from assessments.services.schemes.settings import freeze

    if all(c.id != competence.id for c in centre.competences):
        raise ExamError(
            N_("The centre %(centre)s is not accredited for the competence %(competence)s."),
            "centre",
            centre=LocalizedName(centre),
            competence=LocalizedName(competence),
        )
    if scheme.competence_id != competence.id:
        raise ExamError(
            N_(
                "The marking scheme %(scheme)s belongs to the competence %(other)s, "
                "not to %(competence)s."
            ),
            "scheme",
            scheme=_scheme_label(scheme),
            other=LocalizedName(scheme.competence),
            competence=LocalizedName(competence),
        )
    end = end or start
    if end < start:
        raise ExamError(N_("The last day is before the first day."), "end")
    if chief is not None:
        _check_chief(chief)
    sub_criteria = session.scalars(
        select(SubCriterion).where(SubCriterion.scheme_id == scheme.id)
    ).all()
    if not sub_criteria:
        raise ExamError(
            N_("The marking scheme %(scheme)s has no sub-criteria."),
            "scheme",
            scheme=_scheme_label(scheme),
        )

    freeze(scheme)
    exam = Exam(
        centre=centre,
        competence=competence,
        scheme=scheme,
        start_date=start,
        end_date=end,
        status=ExamStatus.PLANNED,
        chief_expert=chief,
    )
    session.add(exam)
    session.flush()
    for sub in sub_criteria:
        session.add(MarkingForm(exam_id=exam.id, sub_criterion_id=sub.id, seats={}))
    session.flush()
    return exam


def _scheme_label(scheme: MarkingScheme) -> str:
    """A scheme as people name it: «name» and its version."""
    return f"«{scheme.name}» v{scheme.version}"


def _check_chief(user: User) -> None:
    if user.role != "chief_expert":
        raise ExamError(N_("%(email)s is not a chief expert."), "chief", email=user.email)
    if not user.active:
        raise ExamError(N_("The account %(email)s is disabled."), "chief", email=user.email)


def _require_not_finalised(exam: Exam) -> None:
    if exam.status == ExamStatus.FINALISED:
        raise ExamError(
            N_("The exam is finalised; an administrator must reopen it first."), "status"
        )


def _user_by_email(session: Session, email: str) -> User | None:
    wanted = (email or "").strip().lower()
    return session.scalar(select(User).where(func.lower(User.email) == wanted))


def assign(
    session: Session, exam: Exam, chief_email: str, expert_emails: Iterable[str] = ()
) -> Exam:
    """Set the exam's chief expert and expert group (replacing the previous group).

    Rules: the chief has the chief expert role; experts have the expert or chief expert
    role; all accounts exist and are active; the chief is not listed again as an expert.
    """
    _require_not_finalised(exam)
    chief = _user_by_email(session, chief_email)
    if chief is None:
        raise ExamError(N_("No user with the email %(email)s."), "chief", email=chief_email)
    _check_chief(chief)
    experts: list[User] = []
    for email in expert_emails:
        if not (email or "").strip():
            continue
        user = _user_by_email(session, email)
        if user is None:
            raise ExamError(N_("No user with the email %(email)s."), "experts", email=email)
        if user.role not in EXPERT_ROLES:
            raise ExamError(
                N_("%(email)s is not an expert or a chief expert."), "experts", email=user.email
            )
        if not user.active:
            raise ExamError(N_("The account %(email)s is disabled."), "experts", email=user.email)
        if user.id != chief.id and all(e.id != user.id for e in experts):
            experts.append(user)
    exam.chief_expert = chief
    wanted = {u.id for u in experts}
    exam.experts = [link for link in exam.experts if link.user_id in wanted]
    present = {link.user_id for link in exam.experts}
    for user in experts:
        if user.id not in present:
            exam.experts.append(ExamExpert(user=user))
    session.flush()
    return exam


# --- enrolment ---------------------------------------------------------------


ENROL_COLUMNS = ("iin",)
ENROL_OPTIONAL = ("workstation",)


def _unknown_iin(scope: Scope) -> str:
    """The one answer for an IIN that cannot be enrolled: unregistered, or not visible."""
    if scope.everything:
        return N_("no candidate with this IIN is registered")
    return N_("no candidate with this IIN among the candidates you can see")


def enrol_file(
    session: Session,
    exam: Exam,
    filename: str,
    data: bytes,
    *,
    scope: Scope = ADMIN_SCOPE,
) -> list[Enrolment]:
    """Read a CSV/XLSX file with ``iin`` and optional ``workstation`` and enrol its rows."""
    rows = read_table(filename, data, ENROL_COLUMNS, ENROL_OPTIONAL)
    return enrol(session, exam, rows, filename=filename, scope=scope)


def enrol(
    session: Session,
    exam: Exam,
    rows: Iterable[Row],
    *,
    filename: str = "",
    scope: Scope = ADMIN_SCOPE,
) -> list[Enrolment]:
    """Enrol the candidates of table rows (``assessments.tabular.Row``: iin, workstation).

    All or nothing: every row is checked first (a valid IIN of an existing candidate,
    not yet enrolled nor repeated in the file, a workstation number within 1 … the
    centre's count) and any problem refuses the whole file with ``EnrolmentError``, whose
    lines read ``FILE:ROW: field: message`` (header = row 1). Rows without a workstation
    get the least used number (lowest first): round-robin 1 … N, so a group larger than
    the centre sits in shifts and numbers repeat. Only candidates in ``scope`` (the ones
    the user may see) are enrolled; an IIN registered outside it gets the very answer of
    an IIN registered nowhere, so enrolment tells nobody who is registered elsewhere.
    """
    _require_not_finalised(exam)
    problems: list[Problem] = []
    enrolled = set(
        session.scalars(select(Enrolment.candidate_id).where(Enrolment.exam_id == exam.id))
    )
    limit = exam.centre.workstations
    seen: dict[str, int] = {}
    accepted: list[tuple[Candidate, int | None]] = []
    rows = list(rows)
    for row in rows:
        number = row.number
        workstation: int | None = None
        ws_text = row.get("workstation").strip()
        if ws_text:
            if not ws_text.isdigit() or not 1 <= int(ws_text) <= limit:
                problems.append(
                    Problem(
                        number,
                        "workstation",
                        N_("must be a whole number from 1 to %(limit)s"),
                        {"limit": limit},
                    )
                )
            else:
                workstation = int(ws_text)
        text = row.get("iin").strip()
        if not text:
            problems.append(Problem(number, "iin", N_("is required")))
            continue
        try:
            iin = validate_iin(text)
        except InvalidIIN as exc:
            message, params = iin_problem(exc, text)
            problems.append(Problem(number, "iin", message, params))
            continue
        if iin in seen:
            problems.append(Problem(number, "iin", N_("repeats row %(row)s"), {"row": seen[iin]}))
            continue
        seen[iin] = number
        candidate = session.scalar(
            select(Candidate).where(Candidate.iin_hash == iin_lookup_hash(iin), scope.clause())
        )
        if candidate is None:
            problems.append(Problem(number, "iin", _unknown_iin(scope)))
            continue
        if candidate.id in enrolled:
            problems.append(
                Problem(number, "iin", N_("the candidate is already enrolled in this exam"))
            )
            continue
        accepted.append((candidate, workstation))
    if not rows:
        problems.append(Problem(None, None, N_("has no candidate rows")))
    if problems:
        raise EnrolmentError(problems, filename)
    return _place(session, exam, accepted)


def enrol_candidates(
    session: Session,
    exam: Exam,
    candidate_ids: Iterable[int],
    *,
    scope: Scope = ADMIN_SCOPE,
) -> list[Enrolment]:
    """Enrol candidates chosen on a page (by record id, never by IIN), all or nothing.

    Each must be visible in ``scope`` and not yet enrolled in the exam; any problem refuses
    the whole selection with ``EnrolmentError`` whose problems name the candidate (a
    ``CandidateProblem``). Workstations are assigned as for a file without that column.
    """
    _require_not_finalised(exam)
    ids = list(dict.fromkeys(candidate_ids))
    if not ids:
        raise EnrolmentError([Problem(None, None, N_("Select at least one candidate."))])
    found = {
        c.id: c
        for c in session.scalars(select(Candidate).where(Candidate.id.in_(ids), scope.clause()))
    }
    enrolled = set(
        session.scalars(select(Enrolment.candidate_id).where(Enrolment.exam_id == exam.id))
    )
    problems: list[Problem] = []
    for candidate_id in ids:
        candidate = found.get(candidate_id)
        if candidate is None:
            # the same answer for a record that does not exist and one the user may not see
            problems.append(Problem(None, None, N_("A selected candidate no longer exists.")))
        elif candidate.id in enrolled:
            problems.append(
                CandidateProblem(
                    None,
                    candidate.full_name,
                    N_("the candidate is already enrolled in this exam"),
                    candidate_id=candidate.id,
                )
            )
    if problems:
        raise EnrolmentError(problems)
    return _place(session, exam, [(found[i], None) for i in ids])


def _place(
    session: Session, exam: Exam, accepted: list[tuple[Candidate, int | None]]
) -> list[Enrolment]:
    """Add the enrolments; a missing workstation gets the least used number, lowest first."""
    limit = exam.centre.workstations
    usage = Counter(
        session.scalars(select(Enrolment.workstation).where(Enrolment.exam_id == exam.id))
    )
    usage.update(ws for _candidate, ws in accepted if ws is not None)
    created = []
    for candidate, workstation in accepted:
        if workstation is None:
            workstation = min(range(1, limit + 1), key=lambda n: (usage[n], n))
            usage[workstation] += 1
        enrolment = Enrolment(
            exam=exam,
            candidate=candidate,
            workstation=workstation,
            attendance="registered",
            attendance_reason="",
        )
        session.add(enrolment)
        created.append(enrolment)
    session.flush()
    return created


# --- attendance --------------------------------------------------------------


def set_attendance(
    session: Session, enrolment: Enrolment, status: str, reason: str, user: User | None
) -> Enrolment:
    """Record a candidate's attendance (registered, present, absent, withdrawn, disqualified).

    Rules: a disqualification needs a written reason; a finalised exam must be reopened
    first; every change goes to the exam's audit log. Only present candidates need marks
    and get results.
    """
    exam = enrolment.exam
    lock_exam(session, exam.id)  # the audit chain grows under the exam row lock
    _require_not_finalised(exam)
    if status not in ATTENDANCE:
        raise ExamError(
            N_("Unknown attendance %(status)s; use one of %(allowed)s."),
            "status",
            status=status,
            allowed=", ".join(ATTENDANCE),
        )
    reason = (reason or "").strip()
    if status in REASON_REQUIRED and not reason:
        raise ExamError(N_("Give the reason for the disqualification."), "reason")
    if status == enrolment.attendance and reason == enrolment.attendance_reason:
        return enrolment
    _record_attendance(session, enrolment, status, reason, user)
    session.flush()
    return enrolment


def _record_attendance(
    session: Session, enrolment: Enrolment, status: str, reason: str, user: User | None
) -> None:
    """Change one candidate's attendance and append the change to the exam's audit log."""
    old = enrolment.attendance
    enrolment.attendance = status
    enrolment.attendance_reason = reason if status not in ("present", "registered") else ""
    audit.append(
        session,
        enrolment.exam,
        user,
        "attendance",
        target=f"enrolment:{enrolment.id}",
        old=old,
        new=status,
        reason=reason,
    )


def mark_all_present(session: Session, exam: Exam, user: User | None) -> list[Enrolment]:
    """Mark every candidate still "registered" present, each change audited as one by one.

    Candidates already recorded absent, withdrawn or disqualified keep their attendance.
    """
    lock_exam(session, exam.id)
    _require_not_finalised(exam)
    changed = [e for e in exam.enrolments if e.attendance == "registered"]
    for enrolment in sorted(changed, key=lambda e: e.id):
        _record_attendance(session, enrolment, "present", "", user)
    session.flush()
    return changed


# --- status flow -------------------------------------------------------------


def lock_exam(session: Session, exam_id: int) -> ExamStatus | None:
    """Take the exam's row lock for the rest of the transaction; return its current status.

    Every writer of an exam takes it first – mark entry and import, sign-off, attendance,
    finalise, reopen, passport issuance – so writers of one exam queue up (and its audit
    chain never forks) while writers of different exams never wait on each other.
    PostgreSQL: ``SELECT … FOR UPDATE``. SQLite ignores FOR UPDATE: it serialises all
    writers (see ``begin_write``). None when there is no such exam.
    """
    return session.execute(
        select(Exam.status).where(Exam.id == exam_id).with_for_update()
    ).scalar_one_or_none()


def start_marking(session: Session, exam: Exam) -> Exam:
    """Start marking: called whenever marks are saved or imported, the first one moves the exam.

    Rule: planned → marking; an exam in marking stays; a finalised exam refuses. Decided on
    the status read under the exam row lock, so two first marks move it once.
    """
    status = lock_exam(session, exam.id)
    if status == ExamStatus.FINALISED:
        raise ExamError(
            N_("The exam is finalised; an administrator must reopen it first."), "status"
        )
    if status == ExamStatus.PLANNED:
        exam.status = ExamStatus.MARKING
        session.flush()
    return exam


def present_enrolments(exam: Exam) -> list[Enrolment]:
    return [e for e in exam.enrolments if e.attendance == "present"]


def finalise(
    session: Session,
    exam: Exam,
    user: User | None,
    *,
    today: date | None = None,
    early: bool = False,
    acknowledgement: str = "",
) -> Exam:
    """Lock every form, store the results and record the audit chain head.

    Finalising before the exam's last day (``today`` given, in the exams' time zone) needs
    ``early`` — the chief's confirmation that the exam really is over.

    Rules: nothing may be missing or need re-scoring for a present candidate (else
    ``ExamIncomplete`` lists every such cell by candidate and aspect address), checked once,
    under the exam row lock that queues mark writers, so nothing changes between the check
    and the locking of the forms; nobody is left merely "registered" (each was recorded
    present or not); at least one candidate is present; the chief expert of
    the exam (``user`` None: the server's command line) finalises; deductions without a
    reason in forms still open refuse it unless an ``acknowledgement`` note is written
    (``completeness.acknowledge_deductions``: ``DeductionsUnexplained``); the finalisation
    itself is the last audited entry before the head is recorded.
    """
    if lock_exam(session, exam.id) == ExamStatus.FINALISED or exam.status == ExamStatus.FINALISED:
        raise ExamError(N_("The exam is already finalised."), "status")
    if today is not None and today < exam.end_date and not early:
        message = N_("The exam's last day is %(day)s: confirm that you finalise it early.")
        raise ExamError(message, "early", day=exam.end_date.isoformat())
    if waiting := sum(1 for e in exam.enrolments if e.attendance == "registered"):
        message = N_(
            "%(count)s candidates are still only registered: record whether they were "
            "present or absent before finalising."
        )
        raise ExamError(message, "attendance", count=waiting)
    if not present_enrolments(exam):
        raise ExamError(N_("No candidate is present; there is nothing to finalise."), "status")
    items = completeness(session, exam)
    if items:
        raise ExamIncomplete(exam, items)
    try:
        rules.check_chief(user, exam, allow_system=True)
    except MarkingError as exc:
        raise ExamError(exc.message, exc.field, **exc.params) from exc
    forms = marking_forms(session, exam)
    acknowledge_deductions(session, exam, forms, user, acknowledgement)
    lock_forms(session, exam, forms, user)
    try:
        results.compute_results(session, exam)
    except results.ResultsError as exc:
        raise ExamError(str(exc), "results") from exc
    audit.append(session, exam, user, "finalise", old=exam.status, new=ExamStatus.FINALISED)
    exam.audit_head, exam.audit_count = audit.chain_head(session, exam.id)
    exam.finalised_at = utcnow()
    exam.status = ExamStatus.FINALISED
    session.flush()
    return exam


def reopen(session: Session, exam: Exam, user: User | None, reason: str) -> Exam:
    """Put a finalised exam back to marking so it can be corrected.

    Rules: administrators only (``user`` None means the server's command line); a
    written reason is required and audited; forms stay locked — the chief expert unlocks
    the ones to correct; stored results stay until the exam is finalised again.
    """
    if user is not None and user.role != "admin":
        raise NotAllowed(N_("Only an administrator can reopen an exam."), "user")
    if lock_exam(session, exam.id) != ExamStatus.FINALISED:
        raise ExamError(N_("Only a finalised exam can be reopened."), "status")
    reason = (reason or "").strip()
    if not reason:
        raise ExamError(N_("Give the reason for reopening the exam."), "reason")
    audit.append(
        session,
        exam,
        user,
        "reopen",
        old=ExamStatus.FINALISED,
        new=ExamStatus.MARKING,
        reason=reason,
    )
    exam.status = ExamStatus.MARKING
    exam.finalised_at = None
    session.flush()
    return exam


def marking_forms(session: Session, exam: Exam) -> list[MarkingForm]:
    """Return the exam's marking forms in scheme order (criterion letter, position)."""
    forms = session.scalars(select(MarkingForm).where(MarkingForm.exam_id == exam.id)).all()
    return sorted(forms, key=lambda f: (f.sub_criterion.criterion.letter, f.sub_criterion.position))
