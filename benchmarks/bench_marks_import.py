"""Benchmark: import a 3,620-candidate exam's marks from CSV and save one grid cell, on SQLite.

Builds a throwaway SQLite database: competence 17 with five WSOS sections, the four fixture
XLSX files imported as the marking scheme (143 M + 5 J aspects, 3 judges), an exam with
3,620 present candidates (setup not timed). Then it writes a CSV with every mark of every
candidate — 3,620 × (143 + 5 × 3) = 571,960 rows, judges counted — and times
``import_marks`` from the file's bytes to the commit (reading, validation, bulk writes of
marks and of the hash-chained audit entries). Targets: the import under 60 s.

It then times saving one cell through the JSON API (``PUT /api/v1/exams/<id>/marks``, a
signed-in chief expert, the Flask test client: server time only, no network) on that full
database, alternating two values: median and 95th percentile of ``--saves`` requests.
Target: under 50 ms.

Run: ``.venv/bin/python -m benchmarks.bench_marks_import [--candidates N] [--db FILE]``
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    PASSWORD,
    bench_app,
    bench_iin,
    enrol_present,
    fixture_exam,
    migrate,
    print_database,
    schemes_missing,
    tested_candidate,
)

IMPORT_TARGET = 60.0
SAVE_TARGET_MS = 50.0


def build_exam(session, candidates: int):
    """Create competence, centre, scheme, an exam with present candidates; return (exam, iins)."""
    from app.auth.models import User

    chief = User(email="chief@bench.kz", name="Бас сарапшы", role="chief_expert")
    chief.set_password(PASSWORD)
    exam, centre, college, _scheme = fixture_exam(session, chief=chief, name_en="Web Technologies")
    iins = [bench_iin(n) for n in range(candidates)]
    people = [tested_candidate(n, iin, college.id) for n, iin in enumerate(iins)]
    enrol_present(session, exam, centre, people)
    session.commit()
    return exam, iins


def marks_csv(session, exam, iins: list[str], seed: int = 17) -> tuple[bytes, int]:
    """Write every mark of every candidate as ``iin,aspect,judge,score`` CSV, form by form."""
    from sqlalchemy import select

    from assessments.models import Aspect, Criterion, SubCriterion

    aspects = session.execute(
        select(Aspect.kind, Aspect.position, Aspect.max_hundredths, SubCriterion.code)
        .join(SubCriterion, Aspect.sub_criterion_id == SubCriterion.id)
        .join(Criterion, SubCriterion.criterion_id == Criterion.id)
        .where(Aspect.scheme_id == exam.scheme_id)
        .order_by(Criterion.letter, SubCriterion.position, Aspect.position)
    ).all()
    rng = random.Random(seed)
    skill = [rng.random() for _ in iins]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["iin", "aspect", "judge", "score"])
    rows = 0
    for kind, position, maximum, code in aspects:
        address = f"{code}.{position}"
        for iin, level in zip(iins, skill, strict=True):
            if kind == "M":
                value = maximum if rng.random() < 0.45 + 0.5 * level else maximum // 2
                writer.writerow([iin, address, "", f"{value // 100}.{value % 100:02d}"])
                rows += 1
            else:
                base = min(3, int(level * 4))
                for seat in (1, 2, 3):
                    writer.writerow([iin, address, seat, max(0, base - (seat == 3))])
                    rows += 1
    return out.getvalue().encode(), rows


def time_saves(app, exam_id: int, saves: int) -> list[float]:
    """Save one cell ``saves`` times through the API; return server times in milliseconds."""
    from sqlalchemy import select

    from app.extensions import db
    from assessments.models import Aspect, Enrolment, Exam, Mark, SubCriterion

    with app.app_context():
        exam = db.session.get(Exam, exam_id)
        enrolment_id = db.session.scalar(
            select(Enrolment.id).where(Enrolment.exam_id == exam_id).order_by(Enrolment.id)
        )
        aspect = db.session.execute(
            select(Aspect.id, Aspect.position, Aspect.max_hundredths, SubCriterion.code)
            .join(SubCriterion, Aspect.sub_criterion_id == SubCriterion.id)
            .where(Aspect.scheme_id == exam.scheme_id, Aspect.kind == "M")
            .order_by(Aspect.id)
            .limit(1)
        ).one()
        version = db.session.scalar(
            select(Mark.version).where(
                Mark.enrolment_id == enrolment_id, Mark.aspect_id == aspect.id
            )
        )
        db.session.remove()
    client = app.test_client()
    response = client.post("/login", data={"email": "chief@bench.kz", "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"benchmark login failed: {response.status_code}")
    address = f"{aspect.code}.{aspect.position}"
    values = [f"{aspect.max_hundredths // 100}.{aspect.max_hundredths % 100:02d}", "0"]
    timings = []
    for n in range(saves):
        body = {
            "enrolment_id": enrolment_id,
            "aspect": address,
            "value": values[n % 2],
            "expected_version": version,
            "reason": "benchmark",
        }
        started = time.perf_counter()
        response = client.put(
            f"/api/v1/exams/{exam_id}/marks",
            json=body,
            headers={"X-Requested-With": "XMLHttpRequest"},
        )
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"save failed: {response.status_code} {response.get_data(True)}")
        version = response.json["version"]
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=3620)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--db", type=Path, help="SQLite file to create (default: a temp file)")
    args = parser.parse_args(argv)
    if schemes_missing("bench_marks_import"):
        return 0

    folder = Path(tempfile.mkdtemp(prefix="bench-marks-"))
    path = args.db or folder / "bench.db"
    app = bench_app(f"sqlite:///{path}", WTF_CSRF_ENABLED=False)
    with app.app_context():
        migrate(quiet=True)
        from app.db import begin_write
        from app.extensions import db
        from assessments.models import Exam
        from assessments.services import audit
        from assessments.services.marks import bulk_import

        started = time.perf_counter()
        exam, iins = build_exam(db.session, args.candidates)
        data, rows = marks_csv(db.session, exam, iins)
        setup = time.perf_counter() - started
        exam_id = exam.id
        db.session.remove()

        t0 = time.perf_counter()
        begin_write(db.session)
        exam = db.session.get(Exam, exam_id)
        summary = bulk_import.import_marks(db.session, exam, "bench.csv", data, None)
        db.session.commit()
        imported = time.perf_counter() - t0
        verify_started = time.perf_counter()
        report = audit.verify(db.session, exam_id)
        verify_seconds = time.perf_counter() - verify_started
        db.session.remove()

    timings = time_saves(app, exam_id, args.saves)
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    if args.db is None:
        shutil.rmtree(folder, ignore_errors=True)

    median = statistics.median(timings)
    p95 = sorted(timings)[max(0, int(len(timings) * 0.95) - 1)]
    print_database(path, bool(args.db), args.candidates)
    size = len(data) / 1e6
    print(f"CSV                 {rows:,} rows, {size:.1f} MB (setup {setup:.1f} s, not timed)")
    print(
        f"import_marks        {imported:.1f} s  ({summary.created:,} marks, "
        f"{summary.audit_seq:,} audit entries; target < {IMPORT_TARGET:.0f} s)"
    )
    print(f"rows per second     {rows / imported:,.0f}")
    checked = f"ok={report.ok}, {report.checked:,} entries"
    print(f"audit verify        {verify_seconds:.1f} s  ({checked})")
    print(
        f"save one cell (API) median {median:.1f} ms, p95 {p95:.1f} ms over {len(timings)} saves "
        f"(target < {SAVE_TARGET_MS:.0f} ms)"
    )
    ok = imported < IMPORT_TARGET and median < SAVE_TARGET_MS and report.ok
    print("result              " + ("OK" if ok else "TARGET MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
