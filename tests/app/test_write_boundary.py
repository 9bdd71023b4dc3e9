"""The write boundary (app.db.run_write): one commit per unit, retried races, and side
effects (e-mails, files) that happen once, after the commit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.auth.models import User
from app.db import after_commit, run_write
from app.messages import DomainError
from tests.factories import UserFactory


def _busy() -> OperationalError:
    return OperationalError("UPDATE …", {}, Exception("database is locked"))


def _users(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def test_a_retried_unit_sends_its_mail_once_after_the_commit(session):
    sent: list[tuple[bool, str, int]] = []
    attempts = []

    def unit() -> str:
        attempts.append(1)
        user = UserFactory.build(email=f"new{len(attempts)}@example.kz")
        session.add(user)
        session.flush()
        email = user.email
        # a service would queue the mail here; the mail must wait for the commit
        after_commit(
            session, lambda: sent.append((session().in_transaction(), email, _users(session)))
        )
        if len(attempts) == 1:
            raise _busy()  # the first attempt loses a race and is rolled back
        return user.email

    before = _users(session)
    assert run_write(session, unit) == "new2@example.kz"
    assert len(attempts) == 2
    # once, for the attempt that was kept; no transaction was open, so it had been committed
    assert sent == [(False, "new2@example.kz", before + 1)]


def test_a_refused_unit_changes_nothing_and_sends_nothing(session):
    sent = []
    before = _users(session)

    def unit() -> None:
        session.add(UserFactory.build())
        session.flush()
        after_commit(session, lambda: sent.append("mail"))
        raise DomainError("refused for a reason")

    with pytest.raises(DomainError):
        run_write(session, unit)
    assert sent == [] and _users(session) == before


def test_a_race_lost_every_time_gives_up_without_side_effects(session):
    sent = []

    def unit() -> None:
        after_commit(session, lambda: sent.append("mail"))
        raise _busy()

    with pytest.raises(OperationalError):
        run_write(session, unit, attempts=3)
    assert sent == []


def test_after_commit_outside_a_write_unit_is_a_mistake(session):
    with pytest.raises(RuntimeError):
        after_commit(session, lambda: None)


# --- the rule stays: pages, the API and the CLI commit only through run_write -----------

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "assessments", "passports", "reports")
BOUNDARY = ROOT / "app" / "db.py"  # run_write itself


def _modules() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != BOUNDARY and "migrations" not in path.parts
    ]


def _commit_calls(source: str) -> list[int]:
    """The lines of ``source`` that call a ``.commit()`` (a session's, a connection's …)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_the_guard_sees_a_direct_commit():
    source = "def save(s):\n    db.session.add(s)\n    db.session.commit()\n    s.commit\n"
    assert _commit_calls(source) == [3]


def test_no_module_commits_outside_the_write_boundary():
    modules = _modules()
    assert len(modules) > 50  # the walk found the packages
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in modules
        for line in _commit_calls(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "commit through app.db.run_write, not directly: " + ", ".join(offenders)
