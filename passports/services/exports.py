"""What staff pages and the command line hand over for an exam: its current passports in
order, and the CSV of the graduates' private links."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.spreadsheets import csv_text
from assessments.models import Candidate, Exam
from passports.models import Passport
from passports.services import holders, verification
from passports.settings import PassportSettings


def exam_passports(session: Session, exam: Exam) -> list[Passport]:
    """Return the exam's current passports in Kazakh alphabetical order of the holders."""
    return list(
        session.scalars(
            select(Passport)
            .join(Candidate, Candidate.id == Passport.candidate_id)
            .where(
                Passport.exam_id == exam.id,
                Passport.revoked_at.is_(None),
                Passport.superseded_by_id.is_(None),
            )
            .order_by(Candidate.sort_key, Passport.id)
        )
    )


def links_csv(passports: list[Passport], settings: PassportSettings) -> str:
    """Return the CSV of the graduates' private links (UTF-8, for mail merge).

    No IIN and no contacts: number, names, college, private link and QR URL.
    """
    base = settings.public_base_url.rstrip("/")
    header = [
        "number",
        "last_name",
        "first_name",
        "middle_name",
        "college",
        "private_link",
        "qr_url",
    ]
    rows = []
    for passport in passports:
        holder = passport.snapshot["holder"]
        token = holders.private_link_token(settings, passport)
        rows.append(
            [
                passport.number,
                holder["last_name"],
                holder["first_name"],
                holder["middle_name"],
                passport.snapshot["college"]["code"],
                f"{base}/my/{token}" if token else "",
                verification.passport_url(passport, settings.public_base_url),
            ]
        )
    # names reach a spreadsheet: formula-like text behind an apostrophe (app/spreadsheets.py)
    return csv_text(header, rows, lineterminator="\n")
