"""Benchmark: compute and export the results of a 3,620-candidate exam on SQLite.

Builds a throwaway SQLite database: competence 17 with five WSOS sections, the four fixture
XLSX files imported as the marking scheme (143 M + 5 J aspects, 3 judges), an exam with
3,620 present candidates and every mark filled in by bulk inserts (3,620 × (143 + 5 × 3) =
571,960 mark rows). Then it times what the issue's target covers:

- ``compute_results`` (SQL aggregation, grades, ranks, storing 3,620 results) and commit;
- the CSV export with the IIN (reads the stored results, decrypts every IIN);

and, for information, a recompute over existing results and the XLSX export. The target
is compute + CSV export under 2 s.

Run: ``.venv/bin/python -m benchmarks.bench_results [--candidates N] [--db FILE]``
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    bench_app,
    bench_iin,
    enrol_present,
    fixture_exam,
    migrate,
    print_database,
    schemes_missing,
    tested_candidate,
)

TARGET_SECONDS = 2.0


def build_exam(session, candidates: int, seed: int = 17):
    """Create the competence, centre, scheme, exam, candidates and marks; return the exam."""
    from sqlalchemy import select

    from assessments.models import Aspect, Enrolment, Mark

    exam, centre, college, scheme = fixture_exam(session, name_en="Web Technologies")
    rng = random.Random(seed)
    people = [tested_candidate(n, bench_iin(n), college.id) for n in range(candidates)]
    enrol_present(session, exam, centre, people)
    enrolments = session.scalars(select(Enrolment.id).where(Enrolment.exam_id == exam.id)).all()
    aspects = session.execute(
        select(Aspect.id, Aspect.kind, Aspect.max_hundredths).where(Aspect.scheme_id == scheme.id)
    ).all()
    # marks arrive form by form in real exams: store them aspect by aspect, not per candidate
    skill = {enrolment_id: rng.random() for enrolment_id in enrolments}
    rows = []
    for aspect_id, kind, maximum in aspects:
        for enrolment_id in enrolments:
            level = skill[enrolment_id]
            if kind == "M":
                value = maximum if rng.random() < 0.45 + 0.5 * level else 0
                rows.append((exam.id, enrolment_id, aspect_id, 0, value))
            else:
                base = min(3, int(level * 4))
                for seat in (1, 2, 3):
                    score = max(0, base - (seat == 3))
                    rows.append((exam.id, enrolment_id, aspect_id, seat, score))
    table = Mark.__table__
    keys = ("exam_id", "enrolment_id", "aspect_id", "seat", "value")
    for start in range(0, len(rows), 50_000):
        session.execute(
            table.insert(),
            [
                {**dict(zip(keys, row, strict=True)), "reason": "", "version": 1}
                for row in rows[start : start + 50_000]
            ],
        )
    exam.status = "finalised"
    session.commit()
    return exam, len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=3620)
    parser.add_argument("--db", type=Path, help="SQLite file to create (default: a temp file)")
    args = parser.parse_args(argv)
    if schemes_missing("bench_results"):
        return 0

    folder = Path(tempfile.mkdtemp(prefix="bench-results-"))
    path = args.db or folder / "bench.db"
    app = bench_app(f"sqlite:///{path}")
    with app.app_context():
        migrate(quiet=True)
        from app.extensions import db
        from assessments.models import Exam
        from assessments.services.results import compute_results, export_results

        started = time.perf_counter()
        exam, marks = build_exam(db.session, args.candidates)
        setup = time.perf_counter() - started
        exam_id = exam.id
        db.session.expunge_all()

        exam = db.session.get(Exam, exam_id)
        t0 = time.perf_counter()
        stored = compute_results(db.session, exam)
        db.session.commit()
        t1 = time.perf_counter()
        csv_bytes = export_results(db.session, exam, "csv", include_iin=True)
        t2 = time.perf_counter()

        db.session.expunge_all()
        exam = db.session.get(Exam, exam_id)
        t3 = time.perf_counter()
        compute_results(db.session, exam)
        db.session.commit()
        t4 = time.perf_counter()
        xlsx_bytes = export_results(db.session, exam, "xlsx", include_iin=True)
        t5 = time.perf_counter()

    if args.db is None:
        shutil.rmtree(folder, ignore_errors=True)
    compute, export, total = t1 - t0, t2 - t1, t2 - t0
    print_database(path, bool(args.db), args.candidates)
    print(f"mark rows           {marks:,} (judges counted)")
    print(f"setup (not timed)   {setup:.1f} s")
    print(f"compute_results     {compute:.3f} s  ({len(stored):,} results stored)")
    print(f"CSV export (IIN)    {export:.3f} s  ({len(csv_bytes):,} bytes)")
    print(
        f"compute + export    {total:.3f} s  (target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if total < TARGET_SECONDS else 'MISSED'})"
    )
    print(f"recompute (update)  {t4 - t3:.3f} s")
    print(f"XLSX export         {t5 - t4:.3f} s  ({len(xlsx_bytes):,} bytes)")
    return 0 if total < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
