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
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMES = ROOT.parent / "shared" / "fixtures" / "marking-schemes"
TARGET_SECONDS = 2.0


def build_exam(session, candidates: int, seed: int = 17):
    """Create the competence, centre, scheme, exam, candidates and marks; return the exam."""
    from sqlalchemy import select

    from app.collation import sort_key
    from assessments.iin import make_iin
    from assessments.models import (
        Aspect,
        Candidate,
        Centre,
        College,
        Competence,
        Enrolment,
        Mark,
        WsosSection,
    )
    from assessments.personal_data import encrypt_iin, iin_lookup_hash
    from assessments.services import exams, schemes

    competence = Competence(code="17", name_kk="Веб-технологиялар", name_en="Web Technologies")
    for number, weight in enumerate((10, 15, 30, 30, 15), start=1):
        competence.sections.append(
            WsosSection(number=number, weight=Decimal(weight), name_kk=f"Бөлім {number}")
        )
    centre = Centre(code="BENCH", name_kk="Орталық", city="Алматы", workstations=30)
    centre.competences.append(competence)
    college = College(code="BENCHCOL", name_kk="Колледж", city="Алматы")
    session.add_all([competence, centre, college])
    session.flush()
    files = [(p.name, p.read_bytes()) for p in sorted(SCHEMES.glob("module-*.xlsx"))]
    scheme = schemes.import_scheme(session, files, "17", "Benchmark")
    exam = exams.create_exam(
        session, centre=centre, competence=competence, scheme=scheme, start=date(2026, 6, 1)
    )

    rng = random.Random(seed)
    people = []
    for n in range(candidates):
        iin = make_iin(date(2004 + n // 9000, 1 + n // 750 % 12, 1 + n % 28), "MF"[n % 2], n % 9000)
        last, first = f"Тестов{n:05d}", "Әсел"
        people.append(
            {
                "iin_hash": iin_lookup_hash(iin),
                "iin_encrypted": encrypt_iin(iin),
                "last_name": last,
                "first_name": first,
                "middle_name": "",
                "last_name_latin": f"Testov{n:05d}",
                "first_name_latin": "Asel",
                "sort_key": sort_key(last, first),
                "college_id": college.id,
                "specialty": "Web",
            }
        )
    session.execute(Candidate.__table__.insert(), people)
    ids = session.scalars(select(Candidate.id).order_by(Candidate.id)).all()
    session.execute(
        Enrolment.__table__.insert(),
        [
            {
                "exam_id": exam.id,
                "candidate_id": cid,
                "workstation": 1 + i % centre.workstations,
                "attendance": "present",
                "attendance_reason": "",
            }
            for i, cid in enumerate(ids)
        ],
    )
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
    if not SCHEMES.is_dir():
        print(f"fixture marking schemes not found at {SCHEMES}", file=sys.stderr)
        return 2

    from flask_migrate import upgrade

    from app import create_app

    folder = Path(tempfile.mkdtemp(prefix="bench-results-"))
    path = args.db or folder / "bench.db"
    app = create_app(
        {
            "ENVIRONMENT": "development",
            "DATABASE_URL": f"sqlite:///{path}",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        import logging

        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade()
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
    print(f"database            SQLite {path}{'' if args.db else ' (removed)'}")
    print(f"candidates          {args.candidates:,} present")
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
