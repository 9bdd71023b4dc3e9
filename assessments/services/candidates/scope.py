"""Who may see which candidates; a candidate found by IIN; the IIN masked or in plain text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import Session

from assessments.iin import mask_iin
from assessments.models import Candidate, CandidateCentre, Centre, Enrolment, Exam
from assessments.personal_data import decrypt_iin, iin_lookup_hash


@dataclass(frozen=True)
class Scope:
    """The candidates a user may see, and the centre new candidates are registered at.

    Administrators (and the command line) see everyone. Centre managers and chief
    experts see the candidates linked to their centre (``candidate_centres``: a person
    is one candidate nationally, linked to each centre that registered them) and those
    enrolled in exams at it (chief experts: in the exams they lead).
    """

    everything: bool = False
    centre_id: int | None = None
    chief_id: int | None = None

    @classmethod
    def for_user(cls, user: Any) -> Scope:
        if user.role == "admin":
            return cls(everything=True)
        if user.role == "chief_expert":
            return cls(centre_id=user.centre_id, chief_id=user.id)
        if user.role == "centre_manager":
            return cls(centre_id=user.centre_id)
        return cls()

    def clause(self) -> ColumnElement[bool]:
        """Return a SQL condition on ``Candidate`` that holds for the visible candidates."""
        if self.everything:
            return true()
        conditions = []
        if self.centre_id is not None:
            at_centre = (
                select(Enrolment.candidate_id)
                .join(Exam, Exam.id == Enrolment.exam_id)
                .where(Exam.centre_id == self.centre_id)
            )
            linked = select(CandidateCentre.candidate_id).where(
                CandidateCentre.centre_id == self.centre_id
            )
            conditions += [Candidate.id.in_(linked), Candidate.id.in_(at_centre)]
        if self.chief_id is not None:
            led = (
                select(Enrolment.candidate_id)
                .join(Exam, Exam.id == Enrolment.exam_id)
                .where(Exam.chief_expert_id == self.chief_id)
            )
            conditions.append(Candidate.id.in_(led))
        return or_(*conditions) if conditions else false()

    def allows(self, session: Session, candidate: Candidate) -> bool:
        if self.everything:
            return True
        found = session.scalar(
            select(Candidate.id).where(Candidate.id == candidate.id, self.clause())
        )
        return found is not None


ADMIN_SCOPE = Scope(everything=True)


def link_to_centre(candidate: Candidate, centre_id: int | None) -> bool:
    """Link the candidate to the centre unless already linked; return whether it was new."""
    if centre_id is None:
        return False
    if any(link.centre_id == centre_id for link in candidate.centre_links):
        return False
    candidate.centre_links.append(CandidateCentre(centre_id=centre_id))
    return True


def shown_centre(scope: Scope, candidate: Candidate) -> Centre | None:
    """The registering centre to show on the record: never another centre to its staff.

    Administrators see the centre that registered the candidate first; staff of a centre
    see their own centre when the candidate is linked to it, and nothing otherwise.
    """
    if scope.everything:
        return candidate.centre
    for link in candidate.centre_links:
        if link.centre_id == scope.centre_id:
            return link.centre
    return None


def visible_candidates(scope: Scope, query: str = "") -> Select[tuple[Candidate]]:
    """Return a SELECT of the candidates in ``scope`` matching ``query``, in Kazakh order.

    Rule: every word of ``query`` must occur, ignoring case, in the Cyrillic or Latin
    name; the order is ``Candidate.sort_key`` (Kazakh alphabet), then id.
    """
    statement = select(Candidate).where(scope.clause())
    for word in query.casefold().split()[:5]:
        statement = statement.where(Candidate.search_text.contains(word, autoescape=True))
    return statement.order_by(Candidate.sort_key, Candidate.id)


def find_by_iin(session: Session, iin: str) -> Candidate | None:
    """Return the candidate with this (valid, normalised) IIN, looked up by its keyed hash."""
    return session.scalar(select(Candidate).where(Candidate.iin_hash == iin_lookup_hash(iin)))


def candidate_iin(candidate: Candidate) -> str:
    """Return the candidate's IIN in plain text: for the personal-data export only."""
    return decrypt_iin(candidate.iin_encrypted)


def masked_iin(candidate: Candidate) -> str:
    """Return the IIN with all but its last four digits hidden, for lists and pages."""
    return mask_iin(candidate_iin(candidate))
