"""Parallel writers through the API on a real database: no update is lost, the chain stays linear.

The shared ``app`` fixture runs every test in one rolled-back connection, which cannot
show concurrency; this test builds its own app on a fresh database and commits for real.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import select

from assessments.models import AuditEntry, Mark
from assessments.services import audit
from assessments.services.marks import cells
from tests.assessments.marking_setup import build_exam
from tests.conftest import make_app, migrate
from tests.factories import PASSWORD

WRITERS = 4
INCREMENTS = 8
XHR = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture
def live(database_server):
    from app.extensions import db

    app = make_app(database_server("marks_concurrency"))
    migrate(app)
    with app.app_context():
        setup = build_exam(
            db.session, layout={"A1": (("M", 10000), ("M", 100))}, candidates=WRITERS
        )
        db.session.commit()
        ids = {
            "exam": setup.exam.id,
            "counter_enrolment": setup.enrolments[0].id,
            "counter_aspect": setup.aspects["A1.1"].id,
            "enrolments": [e.id for e in setup.enrolments],
            "emails": [u.email for u in [setup.chief, *setup.experts]][:WRITERS],
        }
    yield app, ids
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_parallel_writers_lose_no_update_and_keep_one_chain(live):
    app, ids = live
    url = f"/api/v1/exams/{ids['exam']}/marks"
    failures: list[str] = []
    conflicts = [0] * WRITERS
    start = threading.Barrier(WRITERS)
    login_lock = threading.Lock()

    def writer(n: int) -> None:
        client = app.test_client()
        with login_lock:  # signing in is not what this test is about
            response = client.post("/login", data={"email": ids["emails"][n], "password": PASSWORD})
        start.wait(timeout=60)
        if response.status_code != 302:
            failures.append(f"writer {n}: login {response.status_code}")
            return
        # a cell of one's own, written while the others hammer the shared counter
        own = client.put(
            url,
            json={
                "enrolment_id": ids["enrolments"][n],
                "aspect": "A1.2",
                "value": "1",
                "expected_version": None,
            },
            headers=XHR,
        )
        if own.status_code != 200:
            failures.append(f"writer {n}: own cell {own.status_code} {own.get_data(as_text=True)}")
        # the counter holds count * 10 + writer in hundredths: two writers never send the
        # same value, so a write succeeds only on the version it saw (no idempotent repeat)
        count, version, done = 0, None, 0
        while done < INCREMENTS:
            body = {
                "enrolment_id": ids["counter_enrolment"],
                "aspect": "A1.1",
                "value": str(Decimal((count + 1) * 10 + n) / 100),
                "expected_version": version,
            }
            response = client.put(url, json=body, headers=XHR)
            if response.status_code == 200:
                count = hundredths(response.json["value"]) // 10
                version = response.json["version"]
                done += 1
            elif response.status_code == 409:
                conflicts[n] += 1
                current = response.json["current"]
                count = hundredths(current["value"]) // 10
                version = current["version"]
            else:
                failures.append(
                    f"writer {n}: {response.status_code} {response.get_data(as_text=True)}"
                )
                return

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert failures == []

    from app.extensions import db

    with app.app_context():
        g.pop("_login_user", None)
        counter = db.session.scalars(
            select(Mark).where(
                Mark.enrolment_id == ids["counter_enrolment"],
                Mark.aspect_id == ids["counter_aspect"],
            )
        ).one()
        total = WRITERS * INCREMENTS
        # every acknowledged write built on the one before: nothing was overwritten unseen
        assert (counter.value // 10, counter.version) == (total, total)
        report = audit.verify(db.session, ids["exam"])
        assert report.ok and report.checked == total + WRITERS
        target = cells.cell_target(ids["counter_enrolment"], "A1.1", 0)
        history = db.session.scalars(
            select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.seq)
        ).all()
        steps = [(hundredths(e.old_value) // 10, hundredths(e.new_value) // 10) for e in history]
        assert steps == [(n, n + 1) for n in range(total)]
        seqs = db.session.scalars(
            select(AuditEntry.seq).where(AuditEntry.exam_id == ids["exam"]).order_by(AuditEntry.seq)
        ).all()
        assert seqs == list(range(1, total + WRITERS + 1))
    assert sum(conflicts) > 0  # the writers really collided


def hundredths(text: str | None) -> int:
    return int(Decimal(text or "0") * 100)
