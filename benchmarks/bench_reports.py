"""Benchmark: the reports dashboard for a whole year and the public statistics page, PostgreSQL.

Starts a throwaway PostgreSQL cluster (tests/pg.py ``TempCluster``), migrates it and bulk-inserts
a national year (setup not timed): 18 centres, 60 competences (one marking scheme each),
200 colleges, 50 enterprises, ``--candidates`` candidates (default 100,000) in exams of 20
spread over 2025, each present with a stored result (percent, grade, pass; no marks), and a
passport for each who passed (1 % of them revoked). Then it times, through the Flask test
client (server time, no network), ``GET /reports`` for calendar year 2025 as an
administrator and ``GET /stats`` anonymously: one warm-up, then the median and worst of
``--runs`` requests. Targets: dashboard < 1 s, public page < 300 ms.

Run: ``.venv/bin/python -m benchmarks.bench_reports [--candidates N] [--runs N]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

from benchmarks.common import PASSWORD, bench_app, migrate

TARGETS = {"dashboard": 1.0, "stats": 0.3}
EXAM_SIZE = 20


def _bulk(session, model, rows: list[dict]) -> None:
    from sqlalchemy import insert

    for start in range(0, len(rows), 10_000):
        session.execute(insert(model), rows[start : start + 10_000])


def build_year(session, candidates: int) -> None:
    """Insert the reference data, exams, enrolments, results and passports of one year."""
    from werkzeug.security import generate_password_hash

    from app.auth.models import User
    from assessments.models import (
        Candidate,
        Centre,
        College,
        Competence,
        Enrolment,
        Exam,
        MarkingScheme,
        Result,
    )
    from passports.models import Passport

    rng = random.Random(2025)
    _bulk(
        session,
        Centre,
        [
            {"id": i, "code": f"CC{i:02d}", "name_kk": f"Орталық {i}", "city": "Алматы"}
            | {"workstations": 20}
            for i in range(1, 19)
        ],
    )
    _bulk(
        session,
        Competence,
        [{"id": i, "code": f"K{i:02d}", "name_kk": f"Құзырет {i}"} for i in range(1, 61)],
    )
    _bulk(
        session,
        MarkingScheme,
        [{"id": i, "competence_id": i, "name": f"Scheme {i}"} for i in range(1, 61)],
    )
    _bulk(
        session,
        College,
        [
            {"id": i, "code": f"COL{i:03d}", "name_kk": f"Колледж {i}", "city": "Алматы"}
            for i in range(1, 201)
        ],
    )
    from assessments.iin import make_bin
    from assessments.models import Enterprise

    _bulk(
        session,
        Enterprise,
        [
            {"id": i, "bin": make_bin(2010 + i % 10, 1 + i % 12, i), "name_kk": f"ЖШС {i}"}
            for i in range(1, 51)
        ],
    )
    exams = []
    day0 = date(2025, 1, 1)
    for exam_id in range(1, candidates // EXAM_SIZE + 1):
        start = day0 + timedelta(days=rng.randrange(365))
        exams.append(
            {
                "id": exam_id,
                "centre_id": 1 + exam_id % 18,
                "competence_id": 1 + exam_id % 60,
                "scheme_id": 1 + exam_id % 60,
                "start_date": start,
                "end_date": start,
                "status": "finalised",
            }
        )
    _bulk(session, Exam, exams)
    people, enrolments, results, passports = [], [], [], []
    issued = datetime(2025, 12, 1, tzinfo=UTC)
    for n in range(1, len(exams) * EXAM_SIZE + 1):
        exam_id = 1 + (n - 1) // EXAM_SIZE
        people.append(
            {
                "id": n,
                "iin_hash": f"{n:064d}",
                "iin_encrypted": "x",
                "last_name": "Әлиева",
                "first_name": "Айгерім",
                "last_name_latin": "Aliyeva",
                "first_name_latin": "Aigerim",
                "sort_key": f"{n:08d}",
                "college_id": 1 + n % 200,
                "specialty": "06130100",
                "enterprise_id": 1 + n % 50 if n % 3 else None,
                "centre_id": exams[exam_id - 1]["centre_id"],
            }
        )
        enrolments.append(
            {"id": n, "exam_id": exam_id, "candidate_id": n, "workstation": 1 + n % EXAM_SIZE}
        )
        pct = rng.randrange(0, 10001)
        grade = 5 if pct >= 7000 else 4 if pct >= 4000 else 3 if pct >= 2000 else 2
        results.append(
            {
                "id": n,
                "exam_id": exam_id,
                "enrolment_id": n,
                "candidate_id": n,
                "total_units": pct * 9,
                "max_units": 90_000,
                "denominator": 900,
                "percent_hundredths": pct,
                "grade": grade,
                "passed": grade >= 3,
                "rank": 1,
                "by_criterion": {},
                "by_section": {},
            }
        )
        if grade >= 3:
            passports.append(
                {
                    "number": f"KZ-{n:08d}",
                    "sequence": n,
                    "candidate_id": n,
                    "exam_id": exam_id,
                    "result_id": n,
                    "holder_name": "Әлиева Айгерім",
                    "snapshot": {},
                    "basis_hash": "0" * 64,
                    "token": "t",
                    "kid": "k",
                    "issued_at": issued,
                    "code_nonce": "n",
                    "code_hash": f"{n:064d}",
                    "share_slug": f"s{n}",
                    "revoked_at": issued if n % 100 == 0 else None,
                }
            )
    for model, rows in ((Candidate, people), (Enrolment, enrolments), (Result, results)):
        _bulk(session, model, rows)
    _bulk(session, Passport, passports)
    session.add(
        User(
            email="admin@bench.kz",
            name="Admin",
            role="admin",
            password_hash=generate_password_hash(PASSWORD),
        )
    )
    session.flush()


def _time(client, path: str, runs: int) -> tuple[float, float]:
    response = client.get(path)  # warm-up
    assert response.status_code == 200, (path, response.status_code)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    return statistics.median(times), max(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)

    from tests.pg import TempCluster, create_database

    cluster = TempCluster()
    try:
        url = create_database(cluster.start(), "bench_reports")
        from sqlalchemy import text

        from app.extensions import db

        app = bench_app(url, WTF_CSRF_ENABLED=False, SERVER_NAME=None)
        with app.app_context():
            migrate()
            start = time.perf_counter()
            build_year(db.session, args.candidates)
            db.session.commit()
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE")
                )
            print(
                f"{args.candidates:,} candidates with results, "
                f"{args.candidates // EXAM_SIZE:,} exams in 2025 on PostgreSQL "
                f"(setup {time.perf_counter() - start:.1f} s, not timed)"
            )
        failed = []
        client = app.test_client()
        median, worst = _time(client, "/stats?lang=en", args.runs)
        print(f"public /stats: median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms")
        if median >= TARGETS["stats"]:
            failed.append("stats")
        client.post("/login", data={"email": "admin@bench.kz", "password": PASSWORD})
        median, worst = _time(client, "/reports?kind=calendar&year=2025&lang=en", args.runs)
        print(f"dashboard 2025: median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms")
        if median >= TARGETS["dashboard"]:
            failed.append("dashboard")
        with app.app_context():
            db.engine.dispose()
        if failed:
            print("targets missed:", ", ".join(failed))
            return 1
        print("targets met: dashboard < 1 s, public page < 300 ms")
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
