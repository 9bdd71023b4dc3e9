"""Declarative base, naming convention and column types shared by every package; the write
boundary (``run_write``) through which pages, the API and the CLI commit; ``DirectRead``,
the one-row read of a hot path straight through the driver."""

from __future__ import annotations

import random
import time
from collections import namedtuple
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Select,
    String,
    TypeDecorator,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

T = TypeVar("T")
WRITE_ATTEMPTS = 5
_AFTER_COMMIT = "skills_passport.after_commit"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    SQLite keeps no zone, so values are normalised to UTC on the way in and
    marked UTC on the way out; naive datetimes are refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator):
    """A ``StrEnum`` kept in a plain VARCHAR as its member's string value.

    The schema sees only ``String(length)``, so turning a column of known strings into an
    enum needs no migration; values read back are members, unknown values are refused.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def begin_write(session: Session | scoped_session) -> None:
    """Open the transaction for a read-then-write unit (call at a transaction boundary).

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock at
    once, waiting up to ``busy_timeout``, so a read-then-write unit never fails on a
    snapshot another writer made stale. PostgreSQL needs nothing here (row locks and
    MVCC). A session already inside a transaction is left as it is.
    """
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        session.connection(execution_options={"sqlite_immediate": True})


def _plain(session: Session | scoped_session) -> Session:
    return session() if isinstance(session, scoped_session) else session


def after_commit(session: Session | scoped_session, action: Callable[[], None]) -> None:
    """Do ``action`` (send an e-mail, write a file) once the current write unit has committed.

    A unit run by ``run_write`` may be rolled back and run again; what it asks for here
    happens once, after the commit that kept its changes, and never for an attempt that
    was rolled back.
    """
    pending = _plain(session).info.get(_AFTER_COMMIT)
    if pending is None:
        raise RuntimeError("after_commit() is for a unit run by app.db.run_write")
    pending.append(action)


def run_write(
    session: Session | scoped_session, unit: Callable[[], T], *, attempts: int = WRITE_ATTEMPTS
) -> T:
    """Run one write unit in its own transaction and commit it, retrying lost races.

    The transaction open so far (loading the signed-in user, say) is committed first, so
    the unit's transaction can take the write lock up front (``begin_write``). A
    unique-constraint race (two writers creating the same row) or a database busy/deadlock
    error rolls back and runs the unit again: it then sees the winner's write and answers
    accordingly. Any other error rolls back and propagates. Actions the unit registered
    with ``after_commit`` run after the commit, once; a rolled-back attempt drops its own.
    """
    info = _plain(session).info
    for attempt in range(attempts):
        session.commit()
        begin_write(session)
        info[_AFTER_COMMIT] = []
        try:
            result = unit()
            session.commit()
        except (IntegrityError, OperationalError):
            session.rollback()
            info.pop(_AFTER_COMMIT, None)
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
            continue
        except BaseException:
            session.rollback()
            info.pop(_AFTER_COMMIT, None)
            raise
        for action in info.pop(_AFTER_COMMIT, []):
            action()
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def idle_bind(session: scoped_session) -> Engine | Connection:
    """What a new session of ``session``'s factory would read on, without making one.

    The factory's own ``bind`` (the tests bind theirs to one connection), else
    Flask-SQLAlchemy's default engine (``db.engine``; its sessions take ``db``).
    """
    options = session.session_factory.kw
    bind = options.get("bind")
    return bind if bind is not None else options["db"].engine


class DirectRead:
    """A SELECT of at most one row, run on the database driver directly: for a hot path.

    SQLAlchemy's Core costs about 100 µs around each statement (cache key, execution
    context, result metadata, events), more than the verify API's whole database read.
    Here ``statement`` is compiled once per dialect and run on a DBAPI connection (pooled,
    or the one under a ``Connection``); each value is converted by its column type's own
    result processor, so ``first`` gives the values ``connection.execute(statement).first()``
    would, as a named tuple. Parameters go to the driver as given: plain strings and
    integers only (no type's bind processing). A driver error is raised as SQLAlchemy's
    (``DBAPIError.instance``), so the app's database-unavailable answer still applies.
    """

    def __init__(self, statement: Select, name: str) -> None:
        self.statement = statement
        self.row_type = namedtuple(name, [column.key for column in statement.selected_columns])
        self._plans: dict[str, tuple[str, tuple[str, ...] | None, list]] = {}

    def _plan(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, list]:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled = self.statement.compile(dialect=dialect)
            order = tuple(compiled.positiontup or ()) if dialect.positional else None
            processors = [
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.selected_columns
            ]
            plan = self._plans[dialect.name] = (str(compiled), order, processors)
        return plan

    def first(self, bind: Engine | Connection, params: dict[str, str | int]) -> Any:
        """The first row for ``params`` (a named tuple), or None."""
        dialect = bind.dialect
        sql, order, processors = self._plan(dialect)
        args: Any = tuple(params[name] for name in order) if order is not None else params
        if isinstance(bind, Connection):
            raw = bind.connection.dbapi_connection
            return self._fetch(raw, sql, args, processors, dialect)
        pooled = bind.raw_connection()
        try:
            return self._fetch(pooled, sql, args, processors, dialect)
        finally:
            pooled.close()  # back to the pool, which rolls back what the read opened

    def _fetch(self, raw: Any, sql: str, args: Any, processors: list, dialect: Dialect) -> Any:
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(sql, args)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, args, exc, dialect.loaded_dbapi.Error) from exc
        if row is None:
            return None
        return self.row_type._make(
            value if process is None else process(value)
            for process, value in zip(processors, row, strict=True)
        )
