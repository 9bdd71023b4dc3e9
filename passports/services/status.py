"""The signed status lists (Bitstring Status List credentials as VC-JWT) and reading them back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.db import utcnow
from passports import jws
from passports import status_list as bitstring
from passports.models import Passport
from passports.moments import iso_z
from passports.services import PassportError, keys
from passports.settings import PassportSettings

TTL_MS = 300_000  # verifiers should fetch a fresh list after five minutes


def max_age(settings: PassportSettings) -> timedelta:
    """How long a signed list may stand in for the live record (STATUS_LIST_MAX_AGE_HOURS).

    Verifiers (the QR page, ``flask passports verify``) refuse an older list, and the list
    says so itself: ``validUntil``/``exp`` is its signing time plus this age. A saved list
    would otherwise hide every later revocation.
    """
    return settings.status_list_max_age


VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def list_url(settings: PassportSettings, purpose: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/status/{purpose}"


# the passports no longer valid; its WHERE is the predicate of the partial index
# ix_passports_no_longer_valid (models.NO_LONGER_VALID), so it reads only those
NO_LONGER_VALID_QUERY = select(
    Passport.sequence, Passport.revoked_at, Passport.superseded_by_id
).where(or_(Passport.revoked_at.is_not(None), Passport.superseded_by_id.is_not(None)))


def entries(session: Session) -> dict[int, str]:
    """Sequence → "revoked" / "superseded" for every passport that is no longer valid."""
    rows = session.execute(NO_LONGER_VALID_QUERY)
    return {
        sequence: "revoked" if revoked_at is not None else "superseded"
        for sequence, revoked_at, _superseded in rows
    }


def credential(
    session: Session,
    settings: PassportSettings,
    purpose: str,
    now: datetime | None = None,
    listed: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential for ``purpose`` (revocation or message).

    ``listed`` is ``entries(session)`` when the caller has read it already.
    """
    if purpose not in bitstring.PURPOSES:
        raise PassportError("unknown_purpose", purpose=purpose)
    size = bitstring.PURPOSES[purpose]
    if listed is None:
        listed = entries(session)
    values = {
        index: (1 if purpose == "revocation" else bitstring.STATUS_VALUES[status])
        for index, status in listed.items()
    }
    moment = now or utcnow()
    url = list_url(settings, purpose)
    subject: dict[str, Any] = {
        "id": f"{url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": bitstring.encode(bitstring.build_bitstring(values, size)),
        "ttl": TTL_MS,
    }
    if purpose == "message":
        subject["statusSize"] = size
        subject["statusMessage"] = [
            {"status": hex(value), "message": message}
            for value, message in bitstring.MESSAGES.items()
        ]
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": settings.issuer_url,
        "validFrom": iso_z(moment, "seconds"),
        "validUntil": iso_z(moment + max_age(settings), "seconds"),
        "credentialSubject": subject,
    }


def signed_list(
    session: Session,
    settings: PassportSettings,
    purpose: str,
    now: datetime | None = None,
    listed: Mapping[int, str] | None = None,
) -> str:
    """The status list credential secured as a VC-JWT (ES256, the active key), signed now."""
    signer = keys.signer(session, settings)
    moment = now or utcnow()
    payload = credential(session, settings, purpose, moment, listed)
    payload.update(
        iss=payload["issuer"],
        iat=int(moment.timestamp()),
        exp=int((moment + max_age(settings)).timestamp()),
        jti=payload["id"],
    )
    header = {"kid": signer.kid, "typ": "vc+jwt", "cty": "vc"}
    return jws.sign(header, payload, signer.private_key)


RESIGN_AFTER = timedelta(milliseconds=TTL_MS)


@dataclass(frozen=True)
class _SignedList:
    """A list as it was signed, and what it was signed from."""

    text: str
    signed_at: datetime
    basis: tuple


def current_list(
    session: Session, settings: PassportSettings, purpose: str, now: datetime | None = None
) -> str:
    """The signed status list to publish now (the URL, the QR page's embedded copy).

    Rule: the list signed earlier is served again while it tells the truth: the same
    passports are revoked and superseded, the same key is the signing key, and it is
    younger than its own ``ttl`` (5 minutes); otherwise a list is signed now and kept for
    the next request (in ``settings.list_cache``, per process). The records are read on
    every call (one query), so a revocation shows in the next list served.
    """
    if purpose not in bitstring.PURPOSES:
        raise PassportError("unknown_purpose", purpose=purpose)
    moment = now or utcnow()
    listed = entries(session)
    signing_key = keys.active_key(session)  # the key signed_list signs with (keys.signer)
    basis = (signing_key.kid if signing_key else None, tuple(sorted(listed.items())))
    kept = settings.list_cache.get(purpose)
    if (
        isinstance(kept, _SignedList)
        and kept.basis == basis
        and timedelta(0) <= moment - kept.signed_at < RESIGN_AFTER
    ):
        return kept.text
    text = signed_list(session, settings, purpose, moment, listed)
    settings.list_cache[purpose] = _SignedList(text, moment, basis)
    return text


def read_list(
    text: str, public_keys: Mapping[str, ec.EllipticCurvePublicKey]
) -> bitstring.StatusList:
    """Verify a signed status list (VC-JWT) with the issuer's keys and decode it.

    Raises PassportError when the signature, the type or the list is wrong.
    """
    try:
        return bitstring.read_signed_list(text, public_keys)
    except bitstring.StatusListInvalid as exc:
        raise PassportError("status_list_invalid", reason=str(exc)) from exc
