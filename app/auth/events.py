"""The accounts' audit log: invitations, their acceptance, changes of an expert's college."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import AccountEvent, User
from app.db import utcnow


def record(
    session: Session,
    actor: User | None,
    user: User,
    action: str,
    old: str = "",
    new: str = "",
    at: datetime | None = None,
) -> AccountEvent:
    """Append an entry to the accounts' audit log (``actor`` None: the server itself)."""
    event = AccountEvent(
        at=at or utcnow(),
        actor=actor.email if actor is not None else "system",
        user_id=user.id,
        subject=user.email,
        action=action,
        old_value=old,
        new_value=new,
    )
    session.add(event)
    return event


def account_events(session: Session, user: User, limit: int = 50) -> list[AccountEvent]:
    """Return the newest audit entries about ``user``, newest first."""
    return list(
        session.scalars(
            select(AccountEvent)
            .where(AccountEvent.user_id == user.id)
            .order_by(AccountEvent.at.desc(), AccountEvent.id.desc())
            .limit(limit)
        )
    )


def college_label(college: Any) -> str:
    """How the audit log names a college: its code and Kazakh name."""
    return "" if college is None else f"{college.code} {college.name_kk}"
