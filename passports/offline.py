"""Offline verification: a token or URL, the issuer's keys and optionally a status list. Pure.

No database and no network: what ``flask passports verify`` and any HR system can do with
the published JWK Set and a downloaded status list. The verdicts and their precedence are
docs/passport-token.md §8: damaged (a cut-off link) stands alone; otherwise invalid >
revoked > superseded > expired > unchecked > genuine, where ``unchecked`` means a genuine
signature without a usable status list, so ``genuine`` always rests on a status answer.
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
    token_from_url,
    verify_token,
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
            }
        return {
            "valid": self.valid,
            "status": self.status,
            "kid": self.kid,
            "claims": claims,
            "status_checked": self.status_checked,
            "detail": self.detail,
        }


def verify_offline(
    value: str,
    keys: Mapping[str, ec.EllipticCurvePublicKey],
    status_list: StatusList | None = None,
    now: int | None = None,
    max_age: int | None = None,
) -> OfflineResult:
    """Verify signature and expiry, and revocation when a status list is given.

    Rule: ``genuine`` needs a status list that covers the passport, has not expired and, when
    ``max_age`` (seconds) is given, was signed at most that long ago; without one a genuine
    signature is ``unchecked`` (``expired`` still wins, by precedence).
    """
    token = ""
    try:
        token = token_of(value)
        claims = verify_token(token, keys, check_expiry=False)
    except TokenDamaged as exc:
        return OfflineResult("damaged", detail=str(exc))
    except TokenInvalid as exc:
        return OfflineResult("invalid", kid=peek_kid(token), detail=str(exc))
    kid = peek_kid(token)
    status, detail, checked = "unchecked", "no status list given (revocation not checked)", False
    current = int(time.time()) if now is None else now
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
                listed = status_list.status(index)
            except IndexError:
                detail = "the status list is older than this passport"
            else:
                checked, detail = True, ""
                status = "genuine" if listed == "valid" else listed
    expired = claims.expires_at is not None and current >= claims.expires_at
    if status in ("genuine", "unchecked") and expired:
        status = "expired"
    return OfflineResult(status, claims, kid, detail, checked)
