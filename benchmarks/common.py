"""Setup shared by the benchmark scripts: the app, its database, the fixture exam, candidates.

Everything here is setup (never timed). Imports of the application happen inside the
functions, as in the scripts, so that ``--help`` stays quick.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMES = ROOT.parent / "shared" / "fixtures" / "marking-schemes"
PASSWORD = "benchmark-password-123"  # noqa: S105 - a throwaway account in a temp database


def schemes_missing(script: str) -> bool:
    """True (after saying so) when the real four-module marking scheme is absent.

    The benchmarks measure the real competition scheme (../shared/fixtures, beside the
    repository on the project machine and in CI); a clone without it skips them cleanly.
    """
    if SCHEMES.is_dir():
        return False
    print(
        f"{script}: skipped: it measures the real four-module marking scheme, "
        f"which is not at {SCHEMES}"
    )
    return True


def bench_app(database_url: str, **config):
    """A development app on ``database_url`` with rate limits off, plus ``config``."""
    from app import create_app

    return create_app(
        {
            "ENVIRONMENT": "development",
            "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": False,
            **config,
        }
    )


def migrate(*, quiet: bool = False) -> None:
    """Upgrade the app's database to the latest migration (inside an app context).

    ``quiet`` hides alembic's INFO lines.
    """
    from flask_migrate import upgrade

    if quiet:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    upgrade()


def fixture_exam(session, *, chief=None, **competence_names):
    """Competence 17, a centre, a college, the fixture scheme and a planned exam.

    Competence 17 gets five WSOS sections (weights 10/15/30/30/15) and ``competence_names``
    (e.g. ``name_en=...``); the centre (30 workstations) is accredited for it; the four
    fixture XLSX files are imported as its marking scheme; the exam starts on 1 June 2026
    with ``chief`` (a new, not yet added ``User``) as chief expert if given.
    Returns ``(exam, centre, college, scheme)``; the session is flushed, not committed.
    """
    from assessments.models import Centre, College, Competence, WsosSection
    from assessments.services import exams
    from assessments.services.schemes.importing import import_scheme

    competence = Competence(code="17", name_kk="Веб-технологиялар", **competence_names)
    for number, weight in enumerate((10, 15, 30, 30, 15), start=1):
        competence.sections.append(
            WsosSection(number=number, weight=Decimal(weight), name_kk=f"Бөлім {number}")
        )
    centre = Centre(code="BENCH", name_kk="Орталық", city="Алматы", workstations=30)
    centre.competences.append(competence)
    college = College(code="BENCHCOL", name_kk="Колледж", city="Алматы")
    session.add_all([competence, centre, college])
    session.flush()
    if chief is not None:
        session.add(chief)
    files = [(p.name, p.read_bytes()) for p in sorted(SCHEMES.glob("module-*.xlsx"))]
    scheme = import_scheme(session, files, "17", "Benchmark")
    exam = exams.create_exam(
        session,
        centre=centre,
        competence=competence,
        scheme=scheme,
        start=date(2026, 6, 1),
        chief=chief,
    )
    return exam, centre, college, scheme


def bench_iin(n: int) -> str:
    """The ``n``-th valid, distinct test IIN (birth dates from 2004, alternating sex)."""
    from assessments.iin import make_iin

    return make_iin(date(2004 + n // 9000, 1 + n // 750 % 12, 1 + n % 28), "MF"[n % 2], n % 9000)


def candidate_row(
    *,
    college_id: int,
    last: str,
    first: str,
    last_latin: str,
    first_latin: str,
    iin_hash: str,
    iin_encrypted: str,
    middle: str = "",
) -> dict:
    """One ``candidates`` row for a bulk insert (sort key computed, specialty "Web")."""
    from app.collation import sort_key

    return {
        "iin_hash": iin_hash,
        "iin_encrypted": iin_encrypted,
        "last_name": last,
        "first_name": first,
        "middle_name": middle,
        "last_name_latin": last_latin,
        "first_name_latin": first_latin,
        "sort_key": sort_key(last, first),
        "college_id": college_id,
        "specialty": "Web",
    }


def tested_candidate(n: int, iin: str, college_id: int) -> dict:
    """Row of the ``n``-th candidate "Тестов Әсел" with a real, encrypted ``iin``."""
    from assessments.personal_data import encrypt_iin, iin_lookup_hash

    return candidate_row(
        college_id=college_id,
        last=f"Тестов{n:05d}",
        first="Әсел",
        last_latin=f"Testov{n:05d}",
        first_latin="Asel",
        iin_hash=iin_lookup_hash(iin),
        iin_encrypted=encrypt_iin(iin),
    )


def enrol_present(session, exam, centre, people: list[dict]) -> None:
    """Bulk-insert ``people`` as candidates and enrol them all, present, in ``exam``.

    Workstations are assigned round-robin over the centre's; nothing is committed.
    """
    from sqlalchemy import select

    from assessments.models import Candidate, Enrolment

    session.execute(Candidate.__table__.insert(), people)
    ids = session.scalars(select(Candidate.id).order_by(Candidate.id)).all()
    session.execute(
        Enrolment.__table__.insert(),
        [
            {
                "exam_id": exam.id,
                "candidate_id": cid,
                "candidate_number": i + 1,
                "workstation": 1 + i % centre.workstations,
                "attendance": "present",
                "attendance_reason": "",
            }
            for i, cid in enumerate(ids)
        ],
    )


def print_database(path: Path, kept: bool, candidates: int) -> None:
    """The first two lines of the SQLite scripts' report: the database and the exam size."""
    print(f"database            SQLite {path}{'' if kept else ' (removed)'}")
    print(f"candidates          {candidates:,} present")
