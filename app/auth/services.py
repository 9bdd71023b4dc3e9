"""Account operations: sign-in with lockout, user management, password reset tokens."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.auth import sessions
from app.auth.events import college_label, record
from app.auth.models import ROLES, Invitation, LoginThrottle, User
from app.db import utcnow
from app.messages import N_, DomainError
from assessments.models import College

MIN_PASSWORD_LENGTH = 10
FORGET_AFTER = timedelta(days=1)


class AccountError(DomainError, ValueError):
    """A user-facing problem with account data; ``field`` names the input at fault."""

    code = "invalid"


PASSWORD_TOO_SHORT = N_("The password must have at least %(count)s characters.")
EMAIL_INVALID = N_("Enter a valid email address.")
EMAIL_TAKEN = N_("A user with the email %(email)s already exists.")
ROLE_UNKNOWN = N_("Unknown role %(role)s; use one of %(roles)s.")
NAME_MISSING = N_("Enter the user's name.")
COLLEGE_ADMIN_ONLY = N_("Only an administrator changes an expert's college.")


@dataclass(frozen=True)
class ResetTokens:
    """Password-reset tokens signed with ``secret_key``, valid for ``max_age`` seconds."""

    secret_key: str
    max_age: int

    @classmethod
    def from_config(cls, config: Any) -> ResetTokens:
        return cls(secret_key=config["SECRET_KEY"], max_age=config["PASSWORD_RESET_MAX_AGE"])

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt="password-reset")

    def issue(self, user: User) -> str:
        """Return a signed token that resets this password once (it dies with the old hash)."""
        return self._serializer().dumps({"id": user.id, "h": user.password_hash[-12:]})

    def user_for(self, session: Session, token: str) -> User | None:
        """The active user a valid, unused, unexpired token names; None otherwise."""
        try:
            data = self._serializer().loads(token, max_age=self.max_age)
        except (BadSignature, SignatureExpired):
            return None
        user = session.get(User, data.get("id"))
        if user is None or not user.active or user.password_hash[-12:] != data.get("h"):
            return None
        return user


class LoginLocked(Exception):
    """Too many failed sign-ins: the account waits until ``until``."""

    def __init__(self, until):
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


@dataclass(frozen=True)
class LoginLimits:
    """LOGIN_MAX_FAILURES wrong attempts lock the pair for LOGIN_LOCKOUT_SECONDS."""

    max_failures: int
    lockout: timedelta
    secret: str  # keys the hash of (e-mail, client address)

    @classmethod
    def from_config(cls, config) -> LoginLimits:
        return cls(
            max_failures=config["LOGIN_MAX_FAILURES"],
            lockout=timedelta(seconds=config["LOGIN_LOCKOUT_SECONDS"]),
            secret=config["SECRET_KEY"],
        )


def throttle_key(limits: LoginLimits, email: str, address: str) -> str:
    message = f"{normalise_email(email)}\n{address}".encode()
    return hmac.new(limits.secret.encode(), message, hashlib.sha256).hexdigest()


def authenticate(
    session: Session, email: str, password: str, address: str, limits: LoginLimits
) -> User | None:
    """Return the user for valid credentials; count failures per e-mail and client address.

    Rule: after ``limits.max_failures`` consecutive failures for one e-mail address typed
    from one client address, that pair is refused (even the right password) for
    ``limits.lockout``. Other addresses can still sign in to the account, so nobody can
    lock someone else out; and an e-mail address with no account counts and locks exactly
    like one with an account, so neither the answers nor their timing tell which exist.
    """
    now = utcnow()
    key = throttle_key(limits, email, address)
    throttle = session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))
    if throttle is not None and throttle.locked_until and throttle.locked_until > now:
        raise LoginLocked(throttle.locked_until)
    user = find_user(session, email)
    if user is None:
        # same work as a real check, so timing does not reveal which emails exist
        User(password_hash=_DUMMY_HASH).check_password(password)
        good = False
    else:
        good = user.check_password(password) and user.active
    if not good:
        if throttle is None:
            throttle = LoginThrottle(key=key, failures=0)
            session.add(throttle)
        throttle.failures = (throttle.failures or 0) + 1
        throttle.last_failure_at = now
        if throttle.failures >= limits.max_failures:
            throttle.locked_until = now + limits.lockout
            throttle.failures = 0
        return None
    if throttle is not None:
        session.delete(throttle)
    # failures older than a day are forgotten (a lock lasts minutes)
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGET_AFTER))
    user.last_login_at = now
    return user


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(PASSWORD_TOO_SHORT, "password", count=MIN_PASSWORD_LENGTH)


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    centre_id: int | None = None,
    college_id: int | None = None,
    active: bool = True,
) -> User:
    """Create an account after checking email, role and password."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError(EMAIL_INVALID, "email")
    if find_user(session, email) is not None:
        raise AccountError(EMAIL_TAKEN, "email", email=email)
    if role not in ROLES:
        raise AccountError(ROLE_UNKNOWN, "role", role=role, roles=", ".join(ROLES))
    if not (name or "").strip():
        raise AccountError(NAME_MISSING, "name")
    validate_password(password)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        centre_id=centre_id,
        college_id=college_id,
        active=active,
    )
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session,
    user: User,
    *,
    email: str,
    name: str,
    role: str,
    centre_id: int | None,
    college_id: int | None,
    active: bool,
    actor: User | None = None,
) -> User:
    """Change an account; a new role or lost access ends every session of the user.

    Rules: an expert's college decides whom they may not mark, so only an administrator
    (``actor``; None: the server's command line) changes it, and the change is audited
    (``user.college_changed``); an account made inactive loses its unused invitation links.
    """
    if college_id != user.college_id and actor is not None and actor.role != "admin":
        raise AccountError(COLLEGE_ADMIN_ONLY, "college_id")
    email = normalise_email(email)
    other = find_user(session, email)
    if other is not None and other.id != user.id:
        raise AccountError(EMAIL_TAKEN, "email", email=email)
    if role not in ROLES:
        raise AccountError(ROLE_UNKNOWN, "role", role=role, roles=", ".join(ROLES))
    if (
        role != user.role
        or not active
        or (centre_id, college_id)
        != (
            user.centre_id,
            user.college_id,
        )
    ):
        # what the user may see changes: sign every browser of theirs out
        sessions.end_user_sessions(session, user)
    if college_id != user.college_id:
        old_college = college_label(user.college)
        new_college = college_label(session.get(College, college_id) if college_id else None)
        record(session, actor, user, "user.college_changed", old_college, new_college)
    if not active:
        session.execute(
            delete(Invitation).where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        )
    user.email, user.name, user.role = email, name.strip(), role
    user.centre_id, user.college_id, user.active = centre_id, college_id, active
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Set a new password and end every session of the user (their own included)."""
    validate_password(password)
    user.set_password(password)
    sessions.end_user_sessions(session, user)


_DUMMY_HASH = (
    "scrypt:32768:8:1$dummysaltdummysa$"
    "0f4c4b8c2ab0d4d3d1d6e5f1a7b3c9e2d8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2"
    "b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80"
)
