"""The per-exam audit hash chain: linear, verifiable, and tamper-evident."""

from __future__ import annotations

from itertools import pairwise

import pytest
from sqlalchemy import update

from assessments.models import AuditEntry
from assessments.services import audit
from tests.assessments.marking_setup import build_exam


@pytest.fixture
def setup(session):
    return build_exam(session)


def chain(session, setup, count=5):
    for n in range(count):
        audit.append(session, setup.exam, setup.chief, "mark.set", f"cell-{n}", "", str(n), "")
    return audit.entries(session, setup.exam.id)


def test_entries_form_one_linear_chain(session, setup):
    entries = chain(session, setup)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in pairwise(entries))
    assert audit.chain_head(session, setup.exam.id) == (entries[-1].hash, 5)
    report = audit.verify(session, setup.exam.id)
    assert (report.ok, report.checked, report.head) == (True, 5, entries[-1].hash)


def test_each_exam_has_its_own_chain(session, setup):
    other = build_exam(session, serial=500)
    chain(session, setup, 2)
    entry = audit.append(session, other.exam, None, "attendance", "enrolment:1")
    assert (entry.seq, entry.prev_hash, entry.actor) == (1, audit.GENESIS, "system")
    assert audit.verify(session, setup.exam.id).ok and audit.verify(session, other.exam.id).ok


def test_the_hash_covers_every_field(session, setup):
    entry = chain(session, setup, 1)[0]
    expected = audit.entry_hash(
        exam_id=setup.exam.id,
        seq=1,
        at=entry.at,
        actor=setup.chief.email,
        action="mark.set",
        target="cell-0",
        old="",
        new="0",
        reason="",
        prev_hash=audit.GENESIS,
    )
    assert entry.hash == expected


@pytest.mark.parametrize(
    ("column", "value"),
    [("new_value", "3"), ("reason", "nothing happened"), ("actor", "someone@else.kz")],
)
def test_an_altered_entry_is_detected(session, setup, column, value):
    chain(session, setup)
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.exam_id == setup.exam.id, AuditEntry.seq == 3)
        .values({column: value})
    )
    session.expire_all()
    report = audit.verify(session, setup.exam.id)
    assert (report.ok, report.broken_seq, report.checked) == (False, 3, 2)
    assert "altered" in report.problem


def test_a_recomputed_altered_entry_still_breaks_the_next_link(session, setup):
    entries = chain(session, setup)
    forged = entries[2]
    forged.new_value = "3"
    forged.hash = audit._stored_hash(forged)
    session.flush()
    report = audit.verify(session, setup.exam.id)
    assert (report.ok, report.broken_seq) == (False, 4)


def test_a_removed_entry_leaves_a_gap(session, setup):
    entries = chain(session, setup)
    session.delete(entries[1])
    session.flush()
    report = audit.verify(session, setup.exam.id)
    assert (report.ok, report.broken_seq) == (False, 2)
    assert "missing" in report.problem


def test_removing_the_last_entries_is_detected_against_the_recorded_head(session, setup):
    entries = chain(session, setup)
    setup.exam.audit_head, setup.exam.audit_count = audit.chain_head(session, setup.exam.id)
    session.delete(entries[-1])
    session.delete(entries[-2])
    session.flush()
    report = audit.verify(session, setup.exam.id)
    assert (report.ok, report.broken_seq) == (False, 4)
    assert "recorded at finalisation" in report.problem


def test_entries_after_the_recorded_head_are_fine_when_the_head_is_in_the_chain(session, setup):
    chain(session, setup, 3)
    setup.exam.audit_head, setup.exam.audit_count = audit.chain_head(session, setup.exam.id)
    audit.append(session, setup.exam, None, "reopen", reason="correction")
    assert audit.verify(session, setup.exam.id).ok
    setup.exam.audit_head = "f" * 64
    report = audit.verify(session, setup.exam.id)
    assert (report.ok, report.broken_seq) == (False, 3)


def test_reordered_entries_are_detected(session, setup):
    entries = chain(session, setup)
    second, fourth = entries[1], entries[3]
    second.seq, fourth.seq = 1000, 1001  # free the numbers, then swap
    session.flush()
    second.seq, fourth.seq = 4, 2
    session.flush()
    report = audit.verify(session, setup.exam.id)
    assert (report.ok, report.broken_seq) == (False, 2)


def test_append_many_continues_the_same_chain(session, setup):
    chain(session, setup, 2)
    changes = [audit.Change("mark.imported", f"cell-{n}", "", "1", "file.csv") for n in range(7)]
    head = audit.append_many(session, setup.exam, setup.chief, changes)
    assert head == audit.chain_head(session, setup.exam.id)
    assert head[1] == 9
    report = audit.verify(session, setup.exam.id)
    assert (report.ok, report.checked) == (True, 9)


def test_cli_verify_reports_the_first_broken_link(app, session, setup):
    chain(session, setup, 3)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify", str(setup.exam.id)])
    assert ok.exit_code == 0, ok.output
    assert f"exam {setup.exam.id}: ok, 3 entries" in ok.output
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.exam_id == setup.exam.id, AuditEntry.seq == 2)
        .values(old_value="9")
    )
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"exam {setup.exam.id}: BROKEN at seq 2" in broken.output
    as_json = runner.invoke(args=["audit", "verify", str(setup.exam.id), "--json"])
    assert '"broken_seq": 2' in as_json.output
