"""A candidate's personal data: the access log, the export of everything held about them,
and erasure. The passports package adds its part through ``PASSPORT_CHECKS`` and
``EXPORT_SECTIONS`` (``passports.init_app``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.i18n import localized
from app.messages import N_, DomainError
from assessments.models import Candidate, CandidateAccess, Enrolment
from assessments.services.candidates.scope import candidate_iin

# "link": a centre registered a person already registered elsewhere (same IIN and surname);
# "iin_mismatch": someone gave the person's IIN with another surname (refused, throttled)
ACCESS_ACTIONS = ("view", "create", "update", "import", "export", "erase", "link", "iin_mismatch")


class ErasureRefused(DomainError):
    """The candidate cannot be erased; the message says why."""

    code = "erasure_refused"


def log_access(session: Session, candidate: Candidate, user_id: int | None, action: str) -> None:
    """Record who opened, changed, exported or erased a candidate's record (never the IIN)."""
    if action not in ACCESS_ACTIONS:
        raise ValueError(f"unknown access action {action!r}")
    session.add(CandidateAccess(candidate_id=candidate.id, user_id=user_id, action=action))


def access_log(session: Session, candidate: Candidate, limit: int = 50) -> list[CandidateAccess]:
    return list(
        session.scalars(
            select(CandidateAccess)
            .where(CandidateAccess.candidate_id == candidate.id)
            .order_by(CandidateAccess.at.desc(), CandidateAccess.id.desc())
            .limit(limit)
        )
    )


# Other packages say whether a candidate holds a Skills Passport: functions (session,
# candidate) -> bool, registered by the package that issues passports when the app starts.
PASSPORT_CHECKS: list[Callable[[Session, Candidate], bool]] = []


def candidate_has_passport(session: Session, candidate: Candidate) -> bool:
    """Return True when the candidate holds a Skills Passport (then they cannot be erased).

    This package has no passport model, so on its own this returns False: it asks the
    checks in ``PASSPORT_CHECKS``, which the passports package fills (or extend this body).
    """
    return any(check(session, candidate) for check in PASSPORT_CHECKS)


# Other packages add what they hold about a candidate: (key, function returning JSON data)
EXPORT_SECTIONS: list[tuple[str, Callable[[Session, Candidate], Any]]] = []


def _enrolments(session: Session, candidate: Candidate) -> list[dict[str, Any]]:
    rows = session.scalars(select(Enrolment).where(Enrolment.candidate_id == candidate.id))
    return [
        {
            "exam_id": e.exam_id,
            "competence": e.exam.competence.code,
            "centre": e.exam.centre.code,
            "start_date": e.exam.start_date.isoformat(),
            "workstation": e.workstation,
            "attendance": e.attendance,
        }
        for e in rows
    ]


EXPORT_SECTIONS.append(("exam_enrolments", _enrolments))


def export_personal_data(session: Session, candidate: Candidate, locale: str = "kk") -> dict:
    """Return everything held about the candidate as JSON-ready data, IIN included."""
    enterprise = candidate.enterprise
    data: dict[str, Any] = {
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "candidate": {
            "iin": candidate_iin(candidate),
            "last_name": candidate.last_name,
            "first_name": candidate.first_name,
            "middle_name": candidate.middle_name,
            "last_name_latin": candidate.last_name_latin,
            "first_name_latin": candidate.first_name_latin,
            "college": {
                "code": candidate.college.code,
                "name": localized(candidate.college, locale=locale),
            },
            "specialty": candidate.specialty,
            "enterprise": (
                {"bin": enterprise.bin, "name": localized(enterprise, locale=locale)}
                if enterprise
                else None
            ),
            "email": candidate.email,
            "legal_basis": candidate.legal_basis,
            "registered_by_centre": candidate.centre.code if candidate.centre else None,
            # every centre the person is linked to (a person is one candidate nationally)
            "linked_centres": sorted(link.centre.code for link in candidate.centre_links),
            "created_at": candidate.created_at.isoformat(timespec="seconds"),
            "updated_at": candidate.updated_at.isoformat(timespec="seconds"),
        },
        "access_log": [
            {"at": a.at.isoformat(timespec="seconds"), "action": a.action, "user_id": a.user_id}
            for a in access_log(session, candidate, limit=10_000)
        ],
    }
    for key, section in EXPORT_SECTIONS:
        data[key] = section(session, candidate)
    return data


def erase_candidate(session: Session, candidate: Candidate, user_id: int | None) -> None:
    """Delete the candidate's record for good; the access log keeps only that it happened.

    Rules: refused while the candidate holds a Skills Passport (``candidate_has_passport``)
    or is enrolled in an exam, whose records must be kept.
    """
    if candidate_has_passport(session, candidate):
        raise ErasureRefused(N_("The candidate holds a Skills Passport and cannot be erased."))
    enrolled = session.scalar(
        select(func.count()).select_from(Enrolment).where(Enrolment.candidate_id == candidate.id)
    )
    if enrolled:
        raise ErasureRefused(
            N_("The candidate is enrolled in %(count)s exam(s), whose records must be kept."),
            count=enrolled,
        )
    log_access(session, candidate, user_id, "erase")
    session.flush()
    try:
        with session.begin_nested():
            session.delete(candidate)
            session.flush()
    except IntegrityError as exc:
        raise ErasureRefused(
            N_("Other records still refer to the candidate; they must be removed first.")
        ) from exc
