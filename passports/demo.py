"""Demo passports: a signing key and the passports of the finalised demo exam (idempotent)."""

from __future__ import annotations

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from assessments.models import Centre, Competence, Exam, ExamStatus
from passports.models import Passport
from passports.services import PassportError, holders, issuance, keys, verification
from passports.settings import current_settings

DEMO_HOLDER = "Әлібекова Айгерім Нұрланқызы"


def _demo_exams(session: Session) -> list[Exam]:
    from assessments import demo_exams

    return list(
        session.scalars(
            select(Exam)
            .join(Centre, Centre.id == Exam.centre_id)
            .join(Competence, Competence.id == Exam.competence_id)
            .where(
                Centre.code == demo_exams.CENTRE,
                Competence.code == demo_exams.COMPETENCE,
                Exam.status == ExamStatus.FINALISED,
            )
            .order_by(Exam.id)
        )
    )


def seed_passports(session: Session) -> str:
    """Create the signing keys if none, issue the finalised demo exam's passports; summarise."""
    _key, created = keys.ensure_key(session, current_settings())
    keys.ensure_key(session, current_settings(), keys.RS256)  # the demo credential downloads
    issued = already = 0
    for exam in _demo_exams(session):
        try:
            summary = issuance.issue_for_exam(session, current_settings(), exam)
        except PassportError as exc:
            return f"demo passports skipped: {exc}"
        issued += summary.issued
        already += summary.already_issued
    key_note = "; signing key created" if created else ""
    return f"demo passports: {issued} new, {already} already issued{key_note}"


def demo_passport(session: Session) -> Passport | None:
    """The passport to show newcomers: the demo holder's if present, else the first current one."""
    current = (
        select(Passport)
        .where(Passport.revoked_at.is_(None), Passport.superseded_by_id.is_(None))
        .order_by(Passport.sequence)
    )
    return session.scalar(current.where(Passport.holder_name == DEMO_HOLDER)) or session.scalar(
        current
    )


def demo_lines(session: Session) -> list[str]:
    """Lines for ``flask demo logins``: a demo passport's QR URL and its holder's private page."""
    passport = demo_passport(session)
    if passport is None:
        return []
    settings = current_settings()
    base = settings.public_base_url.rstrip("/")
    token = holders.private_link_token(settings, passport)
    lines = [
        f"Demo passport {passport.number} ({passport.holder_name}):",
        f"  verify (QR):   {verification.passport_url(passport, settings.public_base_url)}",
    ]
    if token:
        with current_app.test_request_context():
            lines.append(f"  holder's page: {base}{url_for('passports.holder', token=token)}")
    return lines
