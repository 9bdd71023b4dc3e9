"""Offline verification: a token or URL, keys, a trust list and a status list. Pure.

No database and no network: what ``flask passports verify``, ``skills-passport-verify`` and
any HR system can do with the anchor's public key, the signed trust list, the published JWK
Set and a downloaded status list. The verdicts and their precedence are
docs/passport-token.md §8 and docs/trust-list.md: damaged (a cut-off link) stands alone;
otherwise invalid > untrusted > revoked > superseded > expired > unchecked > genuine.
``genuine`` rests on two answers: a trust list signed by the anchor and not expired that
allows the key to certify this passport, and a usable status list; without either a
genuine signature is at best ``unchecked``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from assessments.scoring import hundredths_text
from passports.numbers import parse_passport_number
from passports.status_list import StatusList
from passports.token import (
    PassportClaims,
    TokenDamaged,
    TokenInvalid,
    normalise_token,
    read_token_kid,
    token_from_url,
    verify_token,
)
from passports.trust import (
    REASONS,
    TrustedKey,
    TrustList,
    TrustListError,
    judge_key,
    read_trust_list,
)

_BASE32_HEAD = re.compile(r"[A-Z2-7]{24}")
_TO_BASE32HEX = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHIJKLMNOPQRSTUV"
)


def peek_kid(token: str) -> str | None:
    """Read the ``kid`` from the token's first bytes without checking anything (to pick a key).

    Only the first 24 base32 characters are decoded: ``84 4d a2 01 26 04 48`` + 8 kid bytes
    for the kids this issuer makes. Anything else gives None; the full, strict parse in
    ``verify_token`` decides what is valid.
    """
    head = token[:24]
    if not _BASE32_HEAD.fullmatch(head):  # int() would also take a sign, "_" and spaces
        return None
    # base32 → base32hex digits, read as one integer: 24 characters are 15 bytes
    raw = int(head.translate(_TO_BASE32HEX), 32).to_bytes(15, "big")
    if raw[:7] != b"\x84\x4d\xa2\x01\x26\x04\x48":
        return None
    try:
        return raw[7:15].decode("ascii")
    except UnicodeDecodeError:
        return None


def token_of(value: str) -> str:
    """Return the token from a verification URL or the bare token text, normalised.

    TokenInvalid when it is neither; see ``normalise_token`` for what is forgiven.
    """
    text = normalise_token(value or "")
    if "#" in text or "://" in text:
        return token_from_url(text)
    return text


@dataclass(frozen=True)
class OfflineResult:
    status: str
    claims: PassportClaims | None = None
    kid: str | None = None
    detail: str = ""
    status_checked: bool = False
    # the trust list allowed the key to certify this passport (list signed and not expired)
    trust_checked: bool = False
    # reason code of judge_key when the verdict is "untrusted" for the key's sake
    trust_reason: str | None = None
    # the listed issuer of the key: {"id": …, "name": {"kk": …, "ru": …, "en": …}}
    issuer: Mapping[str, Any] | None = None

    @property
    def valid(self) -> bool:
        return self.status == "genuine"

    def as_dict(self) -> dict[str, Any]:
        claims = None
        if self.claims is not None:
            c = self.claims
            claims = {
                "number": c.number,
                "holder_name": c.holder_name,
                "competence_code": c.competence_code,
                "total": hundredths_text(c.total_hundredths),
                "grade": c.grade,
                "issued_at": c.issued_at,
                "expires_at": c.expires_at,
                "profile": None if c.profile is None else list(c.profile),
            }
        return {
            "valid": self.valid,
            "status": self.status,
            "kid": self.kid,
            "claims": claims,
            "status_checked": self.status_checked,
            "trust_checked": self.trust_checked,
            "trust_reason": self.trust_reason,
            "issuer": dict(self.issuer) if self.issuer is not None else None,
            "detail": self.detail,
        }


def settle_status(status: str, *, expired: bool, trusted: bool) -> str:
    """Apply the last steps of the precedence to what the record or status list says.

    Rule: ``status`` is revoked, superseded, expired, genuine, or unchecked (no status list
    answered); ``invalid`` and ``untrusted`` are decided before, from the signature and the
    trust list. An expired passport is ``expired`` unless revoked or superseded; a genuine
    one whose key's permission was not checked (``trusted`` False) is ``unchecked``. The
    server (``services.verification``) and the offline verifier both end here.
    """
    if expired and status in ("genuine", "unchecked"):
        return "expired"
    if status == "genuine" and not trusted:
        return "unchecked"
    return status


@dataclass(frozen=True)
class _Trust:
    """What the verifier knows about the keys' authority."""

    trust_list: TrustList | None  # signed by the anchor (maybe expired)
    usable: bool  # signed by the anchor and not expired
    detail: str  # why genuine is out of reach, when not usable


def _trust(trust_list: TrustList | str | None, anchor: Mapping[str, Any] | None, at: int) -> _Trust:
    if trust_list is None:
        return _Trust(None, False, "no trust list given (the issuer's authority was not checked)")
    if isinstance(trust_list, str):
        if anchor is None:
            return _Trust(None, False, "no trust anchor given: the trust list cannot be checked")
        try:
            trust_list = read_trust_list(trust_list, anchor)
        except TrustListError as exc:
            return _Trust(None, False, f"the trust list is not usable: {exc}")
    if trust_list.expired(at):
        return _Trust(trust_list, False, "the trust list has expired; fetch a fresh one")
    return _Trust(trust_list, True, "")


def _issuer(trust_list: TrustList | None, kid: str | None) -> Mapping[str, Any] | None:
    key = trust_list.keys.get(kid) if trust_list is not None and kid else None
    if key is None:
        return None
    return {"id": key.issuer_id, "name": dict(key.issuer_name)}


def may_sign_status(signer: TrustedKey | None, passport_key: TrustedKey) -> bool:
    """Whether ``signer`` may sign the status list of passports that ``passport_key`` signed.

    Rule (docs/trust-list.md §5.1): a listed key that is not compromised, of the same
    issuer, or of an issuer the trust list gives the same status-list URL (the centres of one
    deployment sign passports with keys of their own under one status list, which the
    deployment's key signs). Retirement, scope and validity do not matter here.
    """
    if signer is None or signer.status == "compromised":
        return False
    if signer.issuer_id == passport_key.issuer_id:
        return True
    url = passport_key.status_list_url
    return url is not None and signer.status_list_url == url


def verify_offline(
    value: str,
    keys: Mapping[str, ec.EllipticCurvePublicKey],
    status_list: StatusList | None = None,
    now: int | None = None,
    max_age: int | None = None,
    *,
    trust_list: TrustList | str | None = None,
    anchor: Mapping[str, Any] | None = None,
    at: int | None = None,
) -> OfflineResult:
    """Verify signature, the key's authority, revocation and expiry at the moment ``at``.

    Rules (``at`` defaults to ``now``, then to the current time):

    * ``trust_list`` is a TrustList already read, or the JWS text, read with ``anchor`` (the
      anchor's public JWK). A list that does not read is treated as no list.
    * With a list (even an expired one), its keys verify the signature, overriding ``keys``
      for the same kid (a token that fails with the listed key is ``invalid``); a kid the
      list lacks is ``untrusted`` (after its signature is checked when ``keys`` has it),
      and so is a key ``judge_key`` refuses for this passport.
    * ``genuine`` needs a list that is signed by the anchor and not expired, and a status
      list that covers the passport, has not expired and, when ``max_age`` (seconds) is
      given, was signed at most that long ago. Otherwise a genuine signature is
      ``unchecked``; ``expired``, ``revoked`` and ``superseded`` still win by precedence.
    """
    current = at if at is not None else int(time.time()) if now is None else now
    trust = _trust(trust_list, anchor, current)
    listed = trust.trust_list
    verifying = dict(keys) if listed is None else {**keys, **listed.public_keys()}
    token = ""
    try:
        token = token_of(value)
        kid = read_token_kid(token)
        if listed is not None and kid not in verifying:
            return OfflineResult(
                "untrusted", kid=kid, detail=REASONS["unknown-key"], trust_reason="unknown-key"
            )
        claims = verify_token(token, verifying, check_expiry=False)
    except TokenDamaged as exc:
        return OfflineResult("damaged", detail=str(exc))
    except TokenInvalid as exc:
        return OfflineResult("invalid", kid=peek_kid(token), detail=str(exc))
    issuer = _issuer(listed, kid)
    if listed is not None:
        reason = judge_key(
            listed,
            kid,
            number=claims.number,
            competence_code=claims.competence_code,
            issued_at=claims.issued_at,
        )
        if reason is not None:
            return OfflineResult(
                "untrusted", claims, kid, REASONS[reason], trust_reason=reason, issuer=issuer
            )
    status, detail, checked = "unchecked", "no status list given (revocation not checked)", False
    signer_kid = status_list.signer_kid if status_list is not None else None
    if listed is not None and signer_kid is not None:
        passport_key = listed.keys[kid]
        if not may_sign_status(listed.keys.get(signer_kid), passport_key):
            # another issuer's list says nothing about this issuer's passports, and a
            # stolen key could sign a list calling anything valid
            detail = "the status list is not signed by a trusted key of this passport's issuer"
            status_list = None
    expired_list = status_list is not None and status_list.expires_at is not None
    if expired_list and current >= status_list.expires_at:
        detail = "the status list has expired; fetch a fresh one (revocation not checked)"
        status_list = None
    signed_at = status_list.signed_at if status_list is not None else None
    if max_age is not None and signed_at is not None and current - signed_at > max_age:
        detail = "the status list is too old; fetch a fresh one (revocation not checked)"
        status_list = None
    if status_list is not None:
        index = parse_passport_number(claims.number)
        if index is None:
            detail = "the passport number has no status-list index"
        else:
            try:
                listed_status = status_list.status(index)
            except IndexError:
                detail = "the status list is older than this passport"
            else:
                checked, detail = True, ""
                status = "genuine" if listed_status == "valid" else listed_status
    if not trust.usable:
        detail = "; ".join(part for part in (trust.detail, detail) if part)
    expired = claims.expires_at is not None and current >= claims.expires_at
    status = settle_status(status, expired=expired, trusted=trust.usable)
    return OfflineResult(status, claims, kid, detail, checked, trust.usable, None, issuer)
