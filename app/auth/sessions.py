"""Server-side sign-in sessions: a random token in the cookie, a row per signed-in browser.

A session ends when the user signs out, when their password, role or active flag changes
(every session of theirs), after SESSION_IDLE_MINUTES without a request (saving marks is
a request, so marking keeps it alive) and SESSION_LIFETIME_HOURS after sign-in, whichever
comes first. The row stores only the token's SHA-256, so a copy of the table opens no
session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from app.auth.models import User, UserSession
from app.db import utcnow

# last_seen_at is written at most this often: idle time is exact to within it, and a
# signed-in page view costs no write most of the time
ACTIVITY_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionLimits:
    """How long a session may sit idle, and live at most."""

    idle: timedelta
    lifetime: timedelta

    @classmethod
    def from_config(cls, config) -> SessionLimits:
        return cls(
            idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            lifetime=timedelta(hours=config["SESSION_LIFETIME_HOURS"]),
        )

    def expired(self, row: UserSession, now: datetime) -> bool:
        """True when ``row`` has been idle too long or has reached its lifetime."""
        return now - row.last_seen_at >= self.idle or now - row.created_at >= self.lifetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, now: datetime | None = None) -> str:
    """Open a session for ``user`` and return its token (for the cookie only)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=_digest(token), user=user, created_at=now, last_seen_at=now))
    session.flush()
    return token


def find_session(session: Session, token: str | None) -> UserSession | None:
    """The row of ``token``, or None (no such session, or an ended one)."""
    if not token or not isinstance(token, str):
        return None
    return session.scalar(select(UserSession).where(UserSession.token_hash == _digest(token)))


def activity_due(row: UserSession, now: datetime) -> bool:
    """Whether the idle clock of ``row`` is worth moving to ``now`` (a write)."""
    return now - row.last_seen_at >= ACTIVITY_RESOLUTION


def record_activity(row: UserSession, now: datetime | None = None) -> bool:
    """Move the idle clock of ``row`` to now; return True when the row changed."""
    now = now or utcnow()
    if not activity_due(row, now):
        return False
    row.last_seen_at = now
    return True


def end_session(session: Session, token: str | None) -> None:
    """End the session of ``token`` (signing out); an unknown token is ignored."""
    if token and isinstance(token, str):
        session.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))


def end_user_sessions(session: Session, user: User) -> None:
    """End every session of ``user`` (password, role or access changed)."""
    if user.id is not None:
        session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def purge_expired(session: Session, limits: SessionLimits, now: datetime | None = None) -> int:
    """Delete every session past its idle time or lifetime; return how many."""
    now = now or utcnow()
    result = session.execute(
        delete(UserSession).where(
            or_(
                UserSession.last_seen_at <= now - limits.idle,
                UserSession.created_at <= now - limits.lifetime,
            )
        )
    )
    return result.rowcount or 0
