"""Verifying passports: the server's check of a token, the manual check, public fields.

The server's answer has a ``status`` (docs/passport-token.md §8): ``damaged`` when the link
was cut off (nothing else can be said), else the first of these that applies:

``invalid``     the token is not one we signed (or names no passport we issued);
``untrusted``   signed by our key, but the installed trust list does not allow that key to
                certify this passport (not listed, competence outside its scope, outside its
                validity, compromised);
``revoked``     an administrator revoked it, or its holder no longer qualifies;
``superseded``  a newer passport replaced it (after a correction);
``expired``     past its expiry date;
``unchecked``   none of the above, but no usable trust list (none installed, not signed by
                the configured anchor, or expired), so the key's permission is unknown;
``genuine``     none of the above — ``valid`` is true only then.

The server reads the live record, so revocation is always checked; ``unchecked`` comes
only from the trust list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, scoped_session

from app.db import DirectRead, idle_bind, utcnow
from passports.messages import REVOCATION_KINDS, TRUST_REASONS
from passports.models import Passport, live_status
from passports.moments import iso_z_or_none
from passports.numbers import normalise_code, normalise_number, read_typed_number
from passports.offline import peek_kid, settle_status, token_of
from passports.services import ShareLinkOff, keys, secrets, trust_lists
from passports.services.snapshot import claims_for
from passports.settings import PassportSettings
from passports.token import (
    PassportClaims,
    TokenDamaged,
    TokenInvalid,
    verification_url,
    verify_token,
)


@dataclass
class Verdict:
    """The outcome of a check: status, the passport (None when invalid) and what was signed."""

    status: str
    passport: Passport | None = None
    claims: PassportClaims | None = None
    matches_record: bool = True
    detail: str = ""
    reason: str = ""  # why untrusted or unchecked: a trust_lists reason code

    @property
    def valid(self) -> bool:
        return self.status == "genuine"


def passport_url(passport: Passport, public_base_url: str) -> str:
    """The QR URL of a passport: ``HTTPS://HOST/V#TOKEN``."""
    return verification_url(public_base_url, passport.token)


def _claims_match(claims: PassportClaims, passport: Passport, token: str) -> bool:
    if token == passport.token:
        return True
    expected = claims_for(passport)
    return (
        claims.number == expected.number
        and claims.holder_name == expected.holder_name
        and claims.competence_code == expected.competence_code
        and claims.total_hundredths == expected.total_hundredths
        and claims.grade == expected.grade
        # a token signed before the profile existed carries none; one that does must agree
        and (claims.profile is None or claims.profile == expected.profile)
    )


def _record(session: Session, number: str) -> Any:
    """The passport row for ``number`` as a plain row (no ORM objects: this is the hot path).

    One read-only statement needs no transaction of the session: when the session has none
    open, the row is read straight through the driver (``app.db.DirectRead``) on a pooled
    connection of its bind, in autocommit on SQLite (and a request that has not used its
    scoped session yet does not open one). It is the live row either way. A session bound
    to one connection (the tests' rolled-back transaction) reads on that connection, so it
    sees what that transaction wrote; a session with a transaction open reads through it
    (its own unflushed changes).
    """
    if isinstance(session, scoped_session):
        if not session.registry.has():
            return _RECORD_READ.first(idle_bind(session), {"number": number})
        session = session.registry()
    if session.in_transaction():
        return session.execute(_RECORD_QUERY, {"number": number}).first()
    return _RECORD_READ.first(session.get_bind(), {"number": number})


RECORD_COLUMNS = (
    "id",
    "number",
    "sequence",
    "token",
    "kid",
    "snapshot",
    "issued_at",
    "expires_at",
    "revoked_at",
    "revocation_kind",
    "revocation_reason",
    "superseded_by_id",
    "superseded_at",
    "supersede_reason",
)


_RECORD_QUERY = select(*(Passport.__table__.c[name] for name in RECORD_COLUMNS)).where(
    Passport.__table__.c.number == bindparam("number")
)
_RECORD_READ = DirectRead(_RECORD_QUERY, "PassportRecord")


def verify(
    session: Session, settings: PassportSettings, value: str, now: datetime | None = None
) -> Verdict:
    """Check a token (or URL) against the keys and the records; never raises for bad input.

    Rule: damaged when the link was cut off; invalid when the signature or encoding is wrong,
    the kid unknown, or no passport has the signed number; untrusted when the installed
    trust list does not allow the key (``trust_lists.judge``); then the passport's live
    status (revoked > superseded > expired); a genuine status becomes unchecked without a
    usable trust list. A token that is genuine but differs from the passport's record (other
    claims) is reported with ``matches_record`` False.
    """
    try:
        token = token_of(value)
        kid = peek_kid(token)
        claims = verify_token(
            token, keys.cached_public_keys(session, settings, kid), check_expiry=False
        )
    except TokenDamaged as exc:
        return Verdict("damaged", detail=str(exc))
    except TokenInvalid as exc:
        return Verdict("invalid", detail=str(exc))
    passport = _record(session, claims.number)
    if passport is None:
        return Verdict("invalid", claims=claims, detail="no passport has this number")
    matches = _claims_match(claims, passport, token)
    moment = now or utcnow()
    expired = claims.expires_at is not None and int(moment.timestamp()) >= claims.expires_at
    status, reason = server_status(
        session, settings, passport, moment, kid=kid, claims=claims, expired=expired
    )
    return Verdict(status, passport, claims, matches, trust_lists.describe(reason), reason)


def check_number(
    session: Session, settings: PassportSettings, number: str, code: str
) -> Verdict | None:
    """The manual check: a passport number and its verification code.

    Rule: the number and code are read as people type them (``read_typed_number``,
    ``normalise_code``); an unknown number, a wrong code and a holder who switched the
    look-up off all give None, so the form cannot tell them apart (nobody can probe which
    numbers exist).
    """
    wanted = read_typed_number(number)
    typed = normalise_code(code)
    passport = session.scalar(select(Passport).where(Passport.number == wanted)) if wanted else None
    if passport is None or typed is None:
        # hash anyway, so a miss costs as long as a hit
        secrets.code_hash(settings, wanted or "-", typed or "--------")
        return None
    if not secrets.code_matches(settings, passport.number, typed, passport.code_hash):
        return None
    if not passport.lookup_enabled:
        return None
    status, reason = server_status(session, settings, passport)
    return Verdict(status, passport, detail=trust_lists.describe(reason), reason=reason)


def server_status(
    session: Session,
    settings: PassportSettings,
    passport: Any,
    now: datetime | None = None,
    *,
    kid: str | None = None,
    claims: PassportClaims | None = None,
    expired: bool = False,
) -> tuple[str, str]:
    """The verdict on a passport (the verify API, the manual check, the share page) and why
    (a trust_lists reason code, "" unless untrusted or unchecked).

    Rule: untrusted when the installed trust list does not allow the key that signed it,
    else the live status (``expired``: the presented token is past its ``exp``), where
    genuine becomes unchecked without a usable trust list. ``kid`` and ``claims`` are those
    of the token presented (the verify API); without them, the stored passport's.
    """
    moment = now or utcnow()
    claims = claims or claims_for(passport)
    cap, reason = trust_lists.judge(
        trust_lists.current(session, settings),
        kid or passport.kid,
        number=claims.number,
        competence_code=claims.competence_code,
        issued_at=claims.issued_at,
        at=int(moment.timestamp()),
    )
    if cap == "untrusted":
        return "untrusted", reason
    status = settle_status(live_status(passport, moment), expired=expired, trusted=cap is None)
    return status, reason if status == "unchecked" else ""


def find_by_share_slug(session: Session, slug: str) -> Passport | None:
    """The passport of a public share link; None when no passport has this link.

    Raises ShareLinkOff when the holder switched the link off. Saying so tells nothing
    beyond what the link itself does: only who holds the link (80 random bits) can ask.
    """
    if not slug or len(slug) > 32:
        return None
    passport = session.scalar(select(Passport).where(Passport.share_slug == slug))
    if passport is None:
        return None
    if not passport.share_enabled:
        raise ShareLinkOff
    return passport


def find_by_private_link(session: Session, token: str) -> Passport | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Passport).where(Passport.link_hash == secrets.link_hash(token)))


def find_by_number(session: Session, number: str) -> Passport | None:
    return session.scalar(select(Passport).where(Passport.number == normalise_number(number)))


def public_fields(
    session: Session, settings: PassportSettings, passport: Passport, status: str | None = None
) -> dict:
    """What anyone holding the passport's token may see: no IIN, birth date or contacts."""
    snapshot = passport.snapshot
    superseded_by = None
    if passport.superseded_by_id is not None:
        newer = session.get(Passport, passport.superseded_by_id)
        while newer is not None and newer.superseded_by_id is not None:
            newer = session.get(Passport, newer.superseded_by_id)
        if newer is not None:
            superseded_by = {
                "number": newer.number,
                "url": passport_url(newer, settings.public_base_url),
            }
    result = snapshot["result"]
    return {
        "number": passport.number,
        "status": status or live_status(passport),
        "issued_at": iso_z_or_none(passport.issued_at),
        "expires_at": iso_z_or_none(passport.expires_at),
        "holder": {
            "name": snapshot["holder"]["name"],
            "name_latin": snapshot["holder"]["name_latin"],
        },
        "competence": snapshot["competence"],
        "centre": {"code": snapshot["centre"]["code"], "name": snapshot["centre"]["name"]},
        "college": {"code": snapshot["college"]["code"], "name": snapshot["college"]["name"]},
        "exam": {
            "start_date": snapshot["exam"]["start_date"],
            "end_date": snapshot["exam"]["end_date"],
        },
        "result": {
            "total": result["total"],
            "max": result["max"],
            "percent": result["percent"],
            "grade": result["grade"],
        },
        "profile": {
            "criteria": [
                {"key": c["key"], "name": c["name"], "mark": c["mark"], "max": c["max"]}
                for c in snapshot["criteria"]
            ],
            "sections": [
                {"key": s["key"], "name": s["name"], "mark": s["mark"], "max": s["max"]}
                for s in snapshot["sections"]
            ],
        },
        "issuer": snapshot["issuer"],
        "revoked_at": iso_z_or_none(passport.revoked_at),
        "revocation_reason": revocation_text(passport) if passport.revoked_at else None,
        "superseded_at": iso_z_or_none(passport.superseded_at),
        "superseded_by": superseded_by,
    }


def revocation_text(passport: Passport) -> str:
    """The reason shown to verifiers, in the request's language for automatic revocations."""
    if passport.revocation_kind == "manual":
        return passport.revocation_reason
    message = REVOCATION_KINDS.get(passport.revocation_kind or "")
    return str(message) if message is not None else passport.revocation_reason


def api_answer(session: Session, settings: PassportSettings, verdict: Verdict) -> dict[str, Any]:
    """The body of ``POST /api/v1/verify``.

    Rule: ``passport`` is null when invalid, untrusted or damaged (nothing a verifier may
    rely on); an untrusted or unchecked answer adds ``reason`` (a code) and ``detail`` (in
    the request's language) saying why.
    """
    passport = None
    if verdict.passport is not None and verdict.status not in ("invalid", "untrusted"):
        live = "genuine" if verdict.status == "unchecked" else verdict.status
        passport = public_fields(session, settings, verdict.passport, live)
        passport["matches_token"] = verdict.matches_record
    answer: dict[str, Any] = {
        "valid": verdict.valid,
        "status": verdict.status,
        "passport": passport,
    }
    if verdict.status in ("untrusted", "unchecked"):
        answer["reason"] = verdict.reason
        answer["detail"] = str(TRUST_REASONS.get(verdict.reason, verdict.detail))
    return answer
