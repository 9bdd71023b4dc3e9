"""Issuing passports for a finalised exam, re-issuing after corrections, revoking.

Issuing is idempotent and all-or-nothing (one transaction, committed by the caller). For each
enrolled candidate of a finalised exam:

* present and passing, no current passport → a new passport;
* present and passing, current passport certifying the same result and names → nothing;
* present and passing, but the result or the holder's names changed (exam reopened and
  corrected; name corrected after marriage) → a new passport, the old one *superseded* by it;
* otherwise (failed, absent, withdrawn, disqualified) → not eligible, and a current passport is
  *revoked* with the reason recorded.

A candidate whose passport an administrator revoked by hand is not re-issued automatically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from assessments.models import Candidate, College, Enrolment, Exam, ExamStatus, Result
from assessments.services import audit, exams
from passports.models import Passport, SigningKey
from passports.numbers import format_passport_number
from passports.services import PassportError, keys, secrets, trust_lists
from passports.services.snapshot import (
    basis_hash,
    build_snapshot,
    certified,
    claims_for,
    exam_facts,
    expiry_for,
    holder_names,
)
from passports.settings import PassportSettings
from passports.token import sign_token


@dataclass
class IssueSummary:
    """What one run of issuing did; ``as_dict()`` is what ``flask passports issue`` prints."""

    issued: int = 0
    already_issued: int = 0
    not_eligible: int = 0
    superseded: int = 0
    revoked: int = 0
    new_passports: list[Passport] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "issued": self.issued,
            "already_issued": self.already_issued,
            "not_eligible": self.not_eligible,
            "superseded": self.superseded,
        }


def next_sequence(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(Passport.sequence), 0))) or 0) + 1


@dataclass
class _Plan:
    candidate_id: int
    result_id: int | None
    holder: dict[str, str]
    college: dict[str, Any]
    snapshot: dict[str, Any]
    basis: str
    predecessor: Passport | None  # current passport to supersede
    carry: Passport | None  # latest earlier passport whose private link and choices carry over
    reason: str | None


def _supersede_reason(old: Passport, holder: dict[str, str], basis: str) -> str:
    old_names = {k: old.snapshot["holder"].get(k) for k in holder}
    if old_names != holder:
        return "name_changed"
    return "result_changed" if old.basis_hash != basis else "reissued"


def issue_for_exam(
    session: Session,
    settings: PassportSettings,
    exam: Exam,
    *,
    user: User | None = None,
    candidate_ids: set[int] | None = None,
    force_candidates: set[int] | None = None,
    now: datetime | None = None,
) -> IssueSummary:
    """Issue, re-issue and revoke the exam's passports so they match its stored results.

    Rules in the module docstring. ``candidate_ids`` limits the run to those candidates;
    ``force_candidates`` re-issues their current passports even when nothing changed.
    The exam's centre's own key signs, else the deployment's default key; the installed
    trust list must allow that key to certify the exam's competence now.
    Raises PassportError when the exam is not finalised or no key can sign.
    """
    # two issuers of one exam queue on its row lock
    if exams.lock_exam(session, exam.id) != ExamStatus.FINALISED:
        raise PassportError("not_finalised", exam=exam.id)
    signer = keys.signer(session, settings, centre_id=exam.centre_id)
    facts = exam_facts(session, exam, settings)
    pass_grade = exam.scheme.pass_min_grade
    force_candidates = force_candidates or set()

    enrolment_query = select(Enrolment.id, Enrolment.candidate_id, Enrolment.attendance).where(
        Enrolment.exam_id == exam.id
    )
    if candidate_ids is not None:
        enrolment_query = enrolment_query.where(Enrolment.candidate_id.in_(candidate_ids))
    enrolments = session.execute(enrolment_query.order_by(Enrolment.id)).all()
    wanted = {row.candidate_id for row in enrolments}

    people = {
        row.id: row
        for row in session.execute(
            select(
                Candidate.id,
                Candidate.last_name,
                Candidate.first_name,
                Candidate.middle_name,
                Candidate.last_name_latin,
                Candidate.first_name_latin,
                College.code.label("college_code"),
                College.name_kk,
                College.name_ru,
                College.name_en,
            )
            .join(College, College.id == Candidate.college_id)
            .join(Enrolment, Enrolment.candidate_id == Candidate.id)
            .where(Enrolment.exam_id == exam.id)
        )
        if row.id in wanted
    }
    results = {
        row.enrolment_id: row
        for row in session.execute(
            select(
                Result.id,
                Result.enrolment_id,
                Result.total_units,
                Result.max_units,
                Result.denominator,
                Result.grade,
                Result.passed,
                Result.by_criterion,
                Result.by_section,
            ).where(Result.exam_id == exam.id)
        )
    }
    latest: dict[int, Passport] = {}
    for passport in session.scalars(
        select(Passport).where(Passport.exam_id == exam.id).order_by(Passport.id)
    ):
        latest[passport.candidate_id] = passport  # ordered by id: the last one wins

    summary = IssueSummary()
    plans: list[_Plan] = []
    revoke_now: list[tuple[Passport, str]] = []
    for enrolment in enrolments:
        person = people[enrolment.candidate_id]
        previous = latest.get(enrolment.candidate_id)
        current = previous if previous is not None and previous.current else None
        result = results.get(enrolment.id)
        eligible = enrolment.attendance == "present" and result is not None and result.passed
        if not eligible:
            summary.not_eligible += 1
            if current is not None:
                kind = "not_present" if enrolment.attendance != "present" else "not_passing"
                revoke_now.append((current, kind))
            continue
        if previous is not None and previous.revocation_kind == "manual":
            summary.not_eligible += 1  # revoked by an administrator: only they re-issue
            continue
        holder = holder_names(person)
        content = certified(holder, result)
        basis = basis_hash(content)
        if (
            current is not None
            and current.basis_hash == basis
            and enrolment.candidate_id not in force_candidates
        ):
            summary.already_issued += 1
            continue
        college = {
            "code": person.college_code,
            "name": {"kk": person.name_kk, "ru": person.name_ru or "", "en": person.name_en or ""},
        }
        plans.append(
            _Plan(
                candidate_id=enrolment.candidate_id,
                result_id=result.id,
                holder=holder,
                college=college,
                snapshot=build_snapshot(facts, holder, college, result, pass_grade),
                basis=basis,
                predecessor=current,
                carry=previous,
                reason=_supersede_reason(current, holder, basis) if current is not None else None,
            )
        )

    moment = (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    if plans:  # refused before anything changes; revoking needs no signature
        trust_lists.check_signer(
            session, settings, signer.kid, exam.competence.code, int(moment.timestamp())
        )
    for passport, kind in revoke_now:
        _revoke(passport, kind, "", user, moment)
        summary.revoked += 1
    if not plans:
        session.flush()
        return summary

    # the private link moves to the new passport: free it on the old one first (unique hash)
    carried: dict[int, tuple[str | None, str | None, bool, bool]] = {}
    for plan in plans:
        if plan.carry is not None:
            old = plan.carry
            carried[plan.candidate_id] = (
                old.link_nonce,
                old.link_hash,
                old.share_enabled,
                old.lookup_enabled,
            )
            old.link_nonce = None
            old.link_hash = None
    session.flush()

    expires = expiry_for(moment, settings)
    sequence = next_sequence(session)
    created: list[tuple[_Plan, Passport]] = []
    for plan in plans:
        number = format_passport_number(moment.year, sequence)
        link_nonce, link_hash, share_enabled, lookup_enabled = carried.get(
            plan.candidate_id, (None, None, True, True)
        )
        if link_nonce is None:
            link_nonce = secrets.new_nonce()
            link_hash = secrets.link_hash(secrets.link_token(settings, link_nonce))
        code_nonce = secrets.new_nonce()
        passport = Passport(
            number=number,
            sequence=sequence,
            candidate_id=plan.candidate_id,
            exam_id=exam.id,
            result_id=plan.result_id,
            holder_name=plan.holder["name"],
            snapshot=plan.snapshot,
            basis_hash=plan.basis,
            kid=signer.kid,
            issued_at=moment,
            expires_at=expires,
            issued_by_id=user.id if user is not None else None,
            code_nonce=code_nonce,
            code_hash=secrets.code_hash(
                settings, number, secrets.verification_code(settings, number, code_nonce)
            ),
            link_nonce=link_nonce,
            link_hash=link_hash,
            share_slug=secrets.new_share_slug(),
            share_enabled=share_enabled,
            lookup_enabled=lookup_enabled,
            revocation_reason="",
        )
        passport.token = sign_token(claims_for(passport), signer.private_key, signer.kid)
        created.append((plan, passport))
        sequence += 1
    session.add_all([p for _, p in created])
    session.flush()

    for plan, passport in created:
        summary.issued += 1
        summary.new_passports.append(passport)
        if plan.predecessor is not None:
            plan.predecessor.superseded_by_id = passport.id
            plan.predecessor.superseded_at = moment
            plan.predecessor.supersede_reason = plan.reason
            summary.superseded += 1
    session.flush()
    return summary


def _revoke(passport: Passport, kind: str, reason: str, user: User | None, now: datetime) -> None:
    passport.revoked_at = now
    passport.revocation_kind = kind
    passport.revocation_reason = reason
    passport.revoked_by_id = user.id if user is not None else None


def revoke(session: Session, passport: Passport, reason: str, user: User | None = None) -> Passport:
    """Revoke a passport by hand; a written reason is required and shown to verifiers.

    Rule: only a current passport (neither revoked nor superseded) can be revoked.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise PassportError("reason_required")
    if len(reason) > 500:
        raise PassportError("reason_too_long")
    if passport.revoked_at is not None:
        raise PassportError("already_revoked", number=passport.number)
    if passport.superseded_by_id is not None:
        raise PassportError("superseded", number=passport.number)
    _revoke(passport, "manual", reason, user, utcnow().replace(microsecond=0))
    session.flush()
    return passport


@dataclass(frozen=True)
class Reissue:
    """What a re-issue did: ``new`` supersedes ``old``; or, when the holder no longer
    qualifies, ``new`` is None and ``old`` was revoked (a change to commit, not a refusal)."""

    old: Passport
    new: Passport | None

    @property
    def revoked(self) -> bool:
        return self.new is None


def reissue(
    session: Session, settings: PassportSettings, passport: Passport, user: User | None = None
) -> Reissue:
    """Issue a new passport from the current records (e.g. after a name correction).

    Rule: the passport must be current and its exam finalised; the old one is superseded, or
    revoked when its holder no longer qualifies (the outcome says which).
    """
    if not passport.current:
        raise PassportError("not_current", number=passport.number)
    exam = session.get(Exam, passport.exam_id)
    summary = issue_for_exam(
        session,
        settings,
        exam,
        user=user,
        candidate_ids={passport.candidate_id},
        force_candidates={passport.candidate_id},
    )
    return Reissue(passport, summary.new_passports[0] if summary.new_passports else None)


def reissue_for_candidate(
    session: Session, settings: PassportSettings, candidate: Candidate, user: User | None = None
) -> list[Passport]:
    """Re-issue every current passport of a candidate whose names were corrected."""
    exam_ids = session.scalars(
        select(Passport.exam_id)
        .where(
            Passport.candidate_id == candidate.id,
            Passport.revoked_at.is_(None),
            Passport.superseded_by_id.is_(None),
        )
        .distinct()
    ).all()
    issued: list[Passport] = []
    for exam_id in sorted(exam_ids):
        exam = session.get(Exam, exam_id)
        summary = issue_for_exam(session, settings, exam, user=user, candidate_ids={candidate.id})
        issued.extend(summary.new_passports)
    return issued


@dataclass
class KeyReissue:
    """What ``reissue_for_key`` did: passports re-signed, and revoked (holder no longer
    qualifies), across the exams it touched."""

    reissued: list[tuple[Passport, Passport]] = field(default_factory=list)
    revoked: int = 0
    exams: int = 0


def reissue_for_key(
    session: Session, settings: PassportSettings, kid: str, user: User | None = None
) -> KeyReissue:
    """Re-sign every current passport signed by key ``kid`` with the active key (the
    compromise procedure, docs/trust-list.md), recording each in its exam's audit log.

    Rule: ``kid`` must exist and no longer be an active key (rotate it first, else it would
    sign again); each old passport is superseded (reason "reissued") by a new one with a new
    number, or revoked when its holder no longer qualifies. All or nothing.
    """
    key = session.scalar(select(SigningKey).where(SigningKey.kid == kid))
    if key is None:
        raise PassportError("unknown_key", kid=kid)
    if key.active:
        raise PassportError("key_still_active", kid=kid)
    current = session.scalars(
        select(Passport)
        .where(
            Passport.kid == kid,
            Passport.revoked_at.is_(None),
            Passport.superseded_by_id.is_(None),
        )
        .order_by(Passport.exam_id, Passport.candidate_id)
    )
    by_exam: dict[int, dict[int, Passport]] = {}
    for passport in current:
        by_exam.setdefault(passport.exam_id, {})[passport.candidate_id] = passport
    outcome = KeyReissue(exams=len(by_exam))
    for exam_id, old in by_exam.items():
        exam = session.get(Exam, exam_id)
        candidates = set(old)
        summary = issue_for_exam(
            session,
            settings,
            exam,
            user=user,
            candidate_ids=candidates,
            force_candidates=candidates,
        )
        outcome.revoked += summary.revoked
        for new in summary.new_passports:
            previous = old[new.candidate_id]
            outcome.reissued.append((previous, new))
            audit.append(
                session,
                exam,
                user,
                "passport.reissued_for_key",
                target=f"passport:{previous.number}",
                old=kid,
                new=f"{new.number} {new.kid}",
                reason=f"signing key {kid} replaced",
            )
    session.flush()
    return outcome


def issuable_counts(session: Session, exam_ids: list[int]) -> dict[int, int]:
    """Return {exam id: candidates who would get a new passport if it were issued now}.

    Rule, the one ``issue_for_exam`` follows: present with a passing stored result, and no
    current passport; a holder whose latest passport an administrator revoked by hand is
    not counted (only that administrator re-issues it). Exams with none are left out.
    """
    if not exam_ids:
        return {}
    latest: dict[tuple[int, int], tuple[bool, str | None]] = {}
    for row in session.execute(
        select(
            Passport.exam_id,
            Passport.candidate_id,
            Passport.revoked_at,
            Passport.superseded_by_id,
            Passport.revocation_kind,
        )
        .where(Passport.exam_id.in_(exam_ids))
        .order_by(Passport.id)
    ):
        current = row.revoked_at is None and row.superseded_by_id is None
        latest[(row.exam_id, row.candidate_id)] = (current, row.revocation_kind)
    counts: dict[int, int] = {}
    for exam_id, candidate_id in session.execute(
        select(Enrolment.exam_id, Enrolment.candidate_id)
        .join(Result, Result.enrolment_id == Enrolment.id)
        .where(
            Enrolment.exam_id.in_(exam_ids),
            Enrolment.attendance == "present",
            Result.passed.is_(True),
        )
    ):
        current, kind = latest.get((exam_id, candidate_id), (False, None))
        if current or kind == "manual":
            continue
        counts[exam_id] = counts.get(exam_id, 0) + 1
    return counts
