"""Centre managers invite experts; the expert sets their own password through the link.

Rules:

- a centre manager invites experts for their own centre only; the expert's college is
  required (it decides which candidates they may not mark: no compatriot marking);
- the account is created inactive with a password nobody knows; the invitation link holds
  a random token, the database only its SHA-256; the link works once and until it
  expires (``INVITATION_MAX_AGE_HOURS``); a new link for the same expert ends the old one;
- accepting sets the expert's password and activates the account;
- every invitation, acceptance and change of an expert's college goes into the accounts'
  audit log (``AccountEvent``); changing a college afterwards is an administrator's task
  (``services.update_user``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.auth import services
from app.auth.events import college_label, record
from app.auth.models import Invitation, User
from app.messages import N_
from assessments.models import College

INVITED_ROLE = "expert"


class InvitationRefused(services.AccountError):
    """The user may not invite (not a centre manager with a centre, or not their expert)."""

    code = "not_allowed"


class InvitationInvalid(services.AccountError):
    """The link is unknown, used or expired."""

    code = "invalid_invitation"


@dataclass(frozen=True)
class InvitationSettings:
    """How long an invitation link stays valid."""

    max_age: timedelta

    @classmethod
    def from_config(cls, config: Any) -> InvitationSettings:
        return cls(max_age=timedelta(hours=config["INVITATION_MAX_AGE_HOURS"]))


def token_hash(token: str) -> str:
    """Return the SHA-256 (hex) of an invitation token: what the database keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_manager(manager: User) -> None:
    if manager.role != "centre_manager" or manager.centre_id is None:
        raise InvitationRefused(
            N_("Only a centre manager linked to a centre invites experts."), "user"
        )


def _new_link(
    session: Session, user: User, manager: User, settings: InvitationSettings, now: datetime
) -> str:
    """End the user's unused links and issue a new one; return its token."""
    session.execute(
        delete(Invitation).where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
    )
    token = secrets.token_urlsafe(32)
    session.add(
        Invitation(
            token_hash=token_hash(token),
            user_id=user.id,
            invited_by_id=manager.id,
            created_at=now,
            expires_at=now + settings.max_age,
        )
    )
    session.flush()
    return token


def invite_expert(
    session: Session,
    *,
    manager: User,
    email: str,
    name: str,
    college_id: int | None,
    settings: InvitationSettings,
    now: datetime,
) -> tuple[User, str]:
    """Create an inactive expert of the manager's centre and return it with its link token.

    Rules: see the module docstring. ``college_id`` must name an existing college
    (``AccountError`` on ``college_id``); the e-mail address and name are checked as for
    any account. Audited as ``user.invited`` (centre and college).
    """
    _check_manager(manager)
    college = session.get(College, college_id) if college_id else None
    if college is None:
        raise services.AccountError(
            N_("Choose the expert's college: it decides whom they may not mark."), "college_id"
        )
    user = services.create_user(
        session,
        email=email,
        name=name,
        role=INVITED_ROLE,
        password=secrets.token_urlsafe(32),  # nobody knows it: the expert sets their own
        centre_id=manager.centre_id,
        college_id=college.id,
        active=False,
    )
    token = _new_link(session, user, manager, settings, now)
    centre = user.centre.code if user.centre is not None else str(manager.centre_id)
    new = f"role {INVITED_ROLE}; centre {centre}; college {college_label(college)}"
    record(session, manager, user, "user.invited", new=new, at=now)
    return user, token


def renew_invitation(
    session: Session, *, manager: User, user: User, settings: InvitationSettings, now: datetime
) -> str:
    """Give a pending invitee a new link (the old one stops working); return its token.

    Rules: the manager's own centre's expert only, and only while the expert has not
    accepted (the account is still inactive and was never signed in to).
    """
    _check_manager(manager)
    if user.centre_id != manager.centre_id or user.role != INVITED_ROLE:
        raise InvitationRefused(N_("This expert is not of your centre."), "user")
    if user.active or user.last_login_at is not None:
        raise InvitationRefused(
            N_("%(name)s has already accepted the invitation."), "user", name=user.name
        )
    token = _new_link(session, user, manager, settings, now)
    record(session, manager, user, "user.invitation_renewed", at=now)
    return token


def pending_invitation(session: Session, token: str, now: datetime) -> Invitation | None:
    """Return the unused, unexpired invitation of ``token``; None for any other link."""
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        return None
    return invitation


def accept_invitation(session: Session, token: str, password: str, now: datetime) -> User:
    """Set the invited expert's password and activate the account; the link is used up.

    Rules: the link must be pending (``InvitationInvalid`` otherwise); the password
    follows the account rules. Two submissions of one link: only the first succeeds.
    Audited as ``user.invitation_accepted``.
    """
    invitation = pending_invitation(session, token, now)
    if invitation is None:
        raise InvitationInvalid(N_("This invitation link is not valid any more."), "token")
    services.validate_password(password)
    used = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:
        raise InvitationInvalid(N_("This invitation link is not valid any more."), "token")
    user = invitation.user
    user.set_password(password)
    user.active = True
    record(session, user, user, "user.invitation_accepted", at=now)
    session.flush()
    return user
