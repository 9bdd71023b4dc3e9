"""What the holder of a passport controls and what is held about them: the private link,
the share page and number look-up switches, and the personal-data hooks that
``passports.init_app`` registers on the candidates' services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assessments.models import Candidate
from passports.models import Passport
from passports.services import secrets
from passports.settings import PassportSettings


def regenerate_link(session: Session, settings: PassportSettings, passport: Passport) -> str:
    """Draw a new private link for the holder (the old one stops working); return its token."""
    nonce = secrets.new_nonce()
    token = secrets.link_token(settings, nonce)
    passport.link_nonce = nonce
    passport.link_hash = secrets.link_hash(token)
    session.flush()
    return token


def private_link_token(settings: PassportSettings, passport: Passport) -> str | None:
    return secrets.link_token(settings, passport.link_nonce) if passport.link_nonce else None


def set_holder_choices(
    session: Session, passport: Passport, *, share_enabled: bool, lookup_enabled: bool
) -> Passport:
    """The holder switches the public share page and the number look-up on or off."""
    passport.share_enabled = share_enabled
    passport.lookup_enabled = lookup_enabled
    session.flush()
    return passport


def has_passport(session: Session, candidate_id: int) -> bool:
    """True when any passport (of any status) was issued to the candidate."""
    return (
        session.scalar(select(Passport.id).where(Passport.candidate_id == candidate_id).limit(1))
        is not None
    )


def holds_passport(session: Session, candidate: Candidate) -> bool:
    """The erasure check registered in ``candidates.personal_data.PASSPORT_CHECKS``."""
    return has_passport(session, candidate.id)


def personal_data(session: Session, candidate: Candidate) -> list[dict[str, Any]]:
    """The candidate's passports, for their personal-data export."""
    passports = session.scalars(
        select(Passport).where(Passport.candidate_id == candidate.id).order_by(Passport.id)
    )
    return [
        {
            "number": p.number,
            "exam_id": p.exam_id,
            "issued_at": p.issued_at.isoformat(),
            "expires_at": p.expires_at.isoformat() if p.expires_at else None,
            "status": p.status(),
            "holder_name": p.holder_name,
            "share_enabled": p.share_enabled,
            "lookup_enabled": p.lookup_enabled,
        }
        for p in passports
    ]
