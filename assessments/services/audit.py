"""The append-only audit log: one SHA-256 hash chain per exam.

Every entry stores ``prev_hash`` (the hash of the entry before it, or 64 zeros for
the first) and ``hash`` = SHA-256 over a canonical serialisation of its own content
and ``prev_hash`` (see ``entry_hash``). Altering an entry changes its hash, so the
next entry's ``prev_hash`` no longer matches; removing one leaves a gap in ``seq``
or, for the last entries, a chain shorter than the head recorded on the exam at
finalisation (``Exam.audit_head``/``audit_count``).

The actor is hashed by e-mail address, not by user id: ``user_id`` is a convenience
link that the database nulls when an account is deleted, and that must not break the
chain.

Concurrency: the callers of ``append`` and ``append_many`` hold the exam row lock
(``exams.lock_exam``: ``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers)
so two writers of one exam queue up and never fork its chain, while experts of
different exams never wait on each other. The UNIQUE(exam_id, seq) constraint is the
last line of defence: a race that slipped past the lock fails with IntegrityError and
the request is retried.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from assessments.models import AuditEntry, Exam

GENESIS = "0" * 64


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _digest(
    exam_id: int,
    seq: int,
    at_iso: str,
    actor: str,
    action: str,
    target: str,
    old: str,
    new: str,
    reason: str,
    prev_hash: str,
) -> str:
    payload = [exam_id, seq, at_iso, actor, action, target, old, new, reason, prev_hash]
    return hashlib.sha256(_ENCODER.encode(payload).encode("utf-8")).hexdigest()


def entry_hash(
    *,
    exam_id: int,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    old: str,
    new: str,
    reason: str,
    prev_hash: str,
) -> str:
    """Return the SHA-256 (hex) of one entry.

    Rule: the hash covers the JSON array ``[exam_id, seq, at (UTC ISO-8601 with
    microseconds), actor, action, target, old, new, reason, prev_hash]`` serialised
    with no spaces and UTF-8 characters as they are.
    """
    return _digest(exam_id, seq, _iso(at), actor, action, target, old, new, reason, prev_hash)


def _stored_hash(entry: AuditEntry) -> str:
    return entry_hash(
        exam_id=entry.exam_id,
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        old=entry.old_value,
        new=entry.new_value,
        reason=entry.reason,
        prev_hash=entry.prev_hash,
    )


def chain_head(session: Session, exam_id: int) -> tuple[str, int]:
    """Return ``(hash, seq)`` of the exam's last audit entry, or 64 zeros and 0."""
    row = session.execute(
        select(AuditEntry.hash, AuditEntry.seq)
        .where(AuditEntry.exam_id == exam_id)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    return (row.hash, row.seq) if row else (GENESIS, 0)


def _actor(user: User | None) -> tuple[int | None, str]:
    if user is None:
        return None, "system"
    return user.id, user.email


def _clip(value: object, length: int) -> str:
    text = "" if value is None else str(value)
    return text[:length]


def append(
    session: Session,
    exam: Exam,
    user: User | None,
    action: str,
    target: str = "",
    old: str = "",
    new: str = "",
    reason: str = "",
) -> AuditEntry:
    """Append one entry to the exam's chain and return it (flushed, not committed).

    Rule: seq = previous seq + 1 (1 for the first), prev_hash = previous hash (64 zeros
    for the first), hash = ``entry_hash`` of the entry. The caller holds the exam row lock
    (``exams.lock_exam``), so concurrent writers of the same exam append one after the other.
    """
    session.flush()  # entries added earlier in this transaction are part of the chain
    prev_hash, seq = chain_head(session, exam.id)
    user_id, actor = _actor(user)
    values = {
        "exam_id": exam.id,
        "seq": seq + 1,
        "at": utcnow(),
        "actor": actor,
        "action": _clip(action, 40),
        "target": _clip(target, 200),
        "old": _clip(old, 100),
        "new": _clip(new, 100),
        "reason": _clip(reason, 10_000),
        "prev_hash": prev_hash,
    }
    entry = AuditEntry(
        exam_id=exam.id,
        seq=values["seq"],
        at=values["at"],
        user_id=user_id,
        actor=actor,
        action=values["action"],
        target=values["target"],
        old_value=values["old"],
        new_value=values["new"],
        reason=values["reason"],
        prev_hash=prev_hash,
        hash=entry_hash(**values),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class Change:
    """One change for ``append_many``: what happened to which target."""

    action: str
    target: str
    old: str = ""
    new: str = ""
    reason: str = ""


def append_many(
    session: Session, exam: Exam, user: User | None, changes: Iterable[Change]
) -> tuple[str, int]:
    """Append many entries in one pass (bulk imports); return the new head ``(hash, seq)``.

    The same chain as repeated ``append`` calls (one timestamp for the batch), computed
    in Python and written with driver-level executemany in chunks; the caller holds the
    exam lock (``exams.lock_exam``).
    """
    session.flush()
    prev_hash, seq = chain_head(session, exam.id)
    user_id, actor = _actor(user)
    at = utcnow()
    at_iso = _iso(at)
    rows: list[tuple] = []
    writer = BulkWriter(
        session,
        AuditEntry.__table__,
        (
            "exam_id",
            "seq",
            "at",
            "user_id",
            "actor",
            "action",
            "target",
            "old_value",
            "new_value",
            "reason",
            "prev_hash",
            "hash",
        ),
    )
    stored_at = writer.bind("at", at)
    exam_id = exam.id
    for change in changes:
        seq += 1
        action = change.action[:40]
        target = change.target[:200]
        old = change.old[:100]
        new = change.new[:100]
        reason = change.reason[:10_000]
        digest = _digest(exam_id, seq, at_iso, actor, action, target, old, new, reason, prev_hash)
        rows.append(
            (
                exam_id,
                seq,
                stored_at,
                user_id,
                actor,
                action,
                target,
                old,
                new,
                reason,
                prev_hash,
                digest,
            )
        )
        prev_hash = digest
        if len(rows) >= BULK_CHUNK:
            writer.insert(rows)
            rows = []
    if rows:
        writer.insert(rows)
    return prev_hash, seq


class BulkWriter:
    """Driver-level executemany for bulk imports: no per-row SQLAlchemy processing.

    Values must already be in the driver's form; ``bind`` converts one value of a column
    with the column type's own bind processing (e.g. a timestamp shared by every row).
    """

    def __init__(self, session: Session, table, columns: tuple[str, ...]) -> None:
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.table = table
        self.columns = columns
        quote = self.dialect.identifier_preparer.quote
        self.marker = "?" if self.dialect.paramstyle == "qmark" else "%s"
        self.names = ", ".join(quote(c) for c in columns)
        self.quoted_table = self.dialect.identifier_preparer.format_table(table)

    def bind(self, column: str, value):
        column_type = self.table.c[column].type.dialect_impl(self.dialect)
        processor = column_type.bind_processor(self.dialect)
        return processor(value) if processor else value

    def insert(self, rows: list[tuple]) -> None:
        markers = ", ".join([self.marker] * len(self.columns))
        sql = f"INSERT INTO {self.quoted_table} ({self.names}) VALUES ({markers})"  # noqa: S608
        self.connection.exec_driver_sql(sql, rows)

    def update(self, set_columns: tuple[str, ...], key: str, rows: list[tuple]) -> None:
        """UPDATE … SET the columns WHERE ``key`` = the row's last value."""
        quote = self.dialect.identifier_preparer.quote
        assignments = ", ".join(f"{quote(c)} = {self.marker}" for c in set_columns)
        sql = (
            f"UPDATE {self.quoted_table} SET {assignments} "  # noqa: S608
            f"WHERE {quote(key)} = {self.marker}"
        )
        self.connection.exec_driver_sql(sql, rows)


BULK_CHUNK = 5000


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify`` found: ``ok``, how many entries it checked, and the first break."""

    exam_id: int
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""
    head: str = GENESIS

    def __str__(self) -> str:
        if self.ok:
            return f"exam {self.exam_id}: ok, {self.checked} entries, head {self.head}"
        return f"exam {self.exam_id}: BROKEN at seq {self.broken_seq}: {self.problem}"


def _walk(
    exam_id: int, rows, recorded_seq: int | None
) -> tuple[VerifyReport | None, int, str, str | None]:
    """Check entries in seq order; return (first break or None, checked, head, recorded hash)."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    recorded_hash = None
    for seq, at, actor, action, target, old, new, reason, stored_prev, stored_hash in rows:
        if seq != expected_seq:
            what = "missing" if seq > expected_seq else "out of order"
            problem = f"entry {expected_seq} is {what} (next stored entry is {seq})"
            return VerifyReport(exam_id, False, checked, expected_seq, problem), checked, "", None
        if stored_prev != prev_hash:
            problem = (
                "prev_hash does not match the previous entry's hash "
                "(an entry before it was altered, removed or reordered)"
            )
            return VerifyReport(exam_id, False, checked, seq, problem), checked, "", None
        digest = _digest(
            exam_id, seq, _iso(at), actor, action, target, old, new, reason, stored_prev
        )
        if digest != stored_hash:
            problem = "content does not match its hash (altered)"
            return VerifyReport(exam_id, False, checked, seq, problem), checked, "", None
        if seq == recorded_seq:
            recorded_hash = stored_hash
        prev_hash = stored_hash
        expected_seq += 1
        checked += 1
    return None, checked, prev_hash, recorded_hash


def verify(session: Session, exam_id: int) -> VerifyReport:
    """Check the exam's whole chain and report the first broken link.

    Rules, in seq order: seq runs 1, 2, 3 … without gaps (a gap is a removed entry);
    each ``prev_hash`` equals the previous entry's hash (64 zeros for the first); each
    ``hash`` recomputes from the entry's content (else it was altered). When the exam
    recorded a head at finalisation, the chain must reach at least that seq and the
    entry there must carry that hash (else trailing entries were removed or rewritten).
    """
    exam = session.get(Exam, exam_id)
    recorded_seq = exam.audit_count if exam is not None else None
    query = (
        select(
            AuditEntry.seq,
            AuditEntry.at,
            AuditEntry.actor,
            AuditEntry.action,
            AuditEntry.target,
            AuditEntry.old_value,
            AuditEntry.new_value,
            AuditEntry.reason,
            AuditEntry.prev_hash,
            AuditEntry.hash,
        )
        .where(AuditEntry.exam_id == exam_id)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=5000)
    )
    with session.execute(query) as result:  # closes a server-side cursor on early return
        broken, checked, prev_hash, recorded_hash = _walk(exam_id, result, recorded_seq)
    if broken is not None:
        return broken
    if exam is not None and exam.audit_count is not None and exam.audit_head is not None:
        if checked < exam.audit_count:
            return VerifyReport(
                exam_id,
                False,
                checked,
                checked + 1,
                f"the chain ends at entry {checked} but {exam.audit_count} were recorded "
                "at finalisation (entries removed)",
            )
        if recorded_hash != exam.audit_head:
            return VerifyReport(
                exam_id,
                False,
                checked,
                exam.audit_count,
                "entry does not carry the head hash recorded at finalisation",
            )
    return VerifyReport(exam_id, True, checked, head=prev_hash)


def entries(session: Session, exam_id: int, target: str | None = None) -> list[AuditEntry]:
    """Return the exam's entries in seq order, optionally only those about ``target``."""
    query = select(AuditEntry).where(AuditEntry.exam_id == exam_id)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    return list(session.scalars(query.order_by(AuditEntry.seq)))
