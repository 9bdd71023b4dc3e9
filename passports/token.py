"""The signed passport token carried in the QR: COSE_Sign1 (ES256) over CWT claims, in base32.

Pure functions, no database and no Flask. docs/passport-token.md is the specification; this
module and passports/static/verify.js implement it. In short:

* claims: a CBOR map with CWT ``iat`` (6) and optional ``exp`` (4) plus private claims -1..-5
  and the optional skills profile -6 (whole percents per WSOS section);
* token: untagged COSE_Sign1 ``[protected, {}, payload, signature]``, protected header exactly
  ``{1: -7, 4: kid}``, signature raw ``r || s`` (64 bytes, low-S);
* text: RFC 4648 base32, upper case, no padding, zero trailing bits;
* URL: ``HTTPS://HOST/V#TOKEN``.

Every encoding is deterministic (RFC 8949 §4.2.1), and decoding re-encodes what it read and
compares bytes, so one set of signed claims has exactly one canonical token text. A link that
chat apps or OCR lower-cased or broke into lines is brought back to it by ``normalise_token``
before decoding (``token_from_url`` does this); nothing else is forgiven.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

# CWT claim keys (RFC 8392) and this profile's private claims (docs/passport-token.md).
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_NUMBER = -1
CLAIM_HOLDER_NAME = -2
CLAIM_COMPETENCE_CODE = -3
CLAIM_TOTAL_HUNDREDTHS = -4
CLAIM_GRADE = -5
CLAIM_PROFILE = -6

# COSE header parameters and algorithm (RFC 9052, RFC 9053).
HEADER_ALG = 1
HEADER_KID = 4
ALG_ES256 = -7

SIGNATURE_LENGTH = 64
KID_LENGTH = 8
# Longest token text accepted or produced; a real passport token is under 300 characters.
MAX_TOKEN_CHARS = 1024
# Longest link or token text read at all, before normalising (spaces and %20 may be in it).
MAX_LINK_CHARS = 4096
# Integers stay exact in JavaScript (verify.js) up to 2**53 - 1.
MAX_CLAIM_INT = 2**53 - 1
# The skills profile: 1 to 32 whole percents (a WSOS has about 6 to 12 sections).
MAX_PROFILE_SECTIONS = 32
VERIFY_PATH = "/V"

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_BASE32_TOKEN = re.compile(r"[A-Z2-7]+")
# Unpadded base32 never ends with 1, 3 or 6 characters of a final 8-character group.
_BASE32_VALID_REMAINDERS = frozenset({0, 2, 4, 5, 7})
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# What chat apps and OCR insert into a link: ASCII space, TAB, CR, LF, also percent-encoded.
_LINK_BREAKS = re.compile(r"%(?:20|09|0[aAdD])|[ \t\r\n]")
# ASCII only: str.upper() would turn "ı" and "ſ" into base32 letters and "ß" into "SS".
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_COSE_ARRAY_HEAD = b"\x84"  # array(4)


class TokenInvalid(Exception):
    """The token is malformed, non-canonical, signed by an unknown key or not genuine."""


class TokenDamaged(TokenInvalid):
    """The link was cut off: a length base32 cannot have, or CBOR ending inside the COSE array."""


class TokenExpired(TokenInvalid):
    """The token is genuine but past its expiry; ``claims`` holds what it says."""

    def __init__(self, message: str, claims: PassportClaims) -> None:
        super().__init__(message)
        self.claims = claims


@dataclass(frozen=True)
class PassportClaims:
    """What the QR token says about a passport.

    Texts are non-empty, NFC-normalised and free of control characters; integers are
    non-negative and at most 2**53 - 1; ``expires_at``, when set, is after ``issued_at``.
    ``total_hundredths`` is the total mark times 100 (87.5 → 8750). ``profile``, when set,
    holds 1 to 32 whole percents 0–100, one per WSOS section in section order (a list is
    stored as a tuple); tokens issued before the profile existed have none.
    """

    number: str
    holder_name: str
    competence_code: str
    total_hundredths: int
    grade: int
    issued_at: int
    expires_at: int | None = None
    profile: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("number", "holder_name", "competence_code"):
            _check_text(name, getattr(self, name))
        for name in ("total_hundredths", "grade", "issued_at"):
            _check_int(name, getattr(self, name))
        if self.expires_at is not None:
            _check_int("expires_at", self.expires_at)
            if self.expires_at <= self.issued_at:
                raise ValueError("expires_at must be after issued_at")
        if self.profile is not None:
            object.__setattr__(self, "profile", _checked_profile(self.profile))


def _checked_profile(value: object) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_PROFILE_SECTIONS:
        raise ValueError(f"profile must hold 1 to {MAX_PROFILE_SECTIONS} section percents")
    for percent in value:
        if type(percent) is not int or not 0 <= percent <= 100:
            raise ValueError("profile percents must be integers from 0 to 100")
    return tuple(value)


# Unicode's control characters (category Cc) and surrogates (Cs), as one character class
_CONTROL_OR_SURROGATE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    if not unicodedata.is_normalized("NFC", value):
        raise ValueError(f"{name} must be NFC-normalised")
    if _CONTROL_OR_SURROGATE.search(value):
        raise ValueError(f"{name} must not contain control characters")


def _check_int(name: str, value: object) -> None:
    # bool is an int subclass; a CBOR true must never pass as the number 1.
    if type(value) is not int or not 0 <= value <= MAX_CLAIM_INT:
        raise ValueError(f"{name} must be an integer from 0 to 2**53 - 1")


# --- keys ----------------------------------------------------------------------------------


def new_signing_key() -> ec.EllipticCurvePrivateKey:
    """Generate a new ES256 (P-256) signing key."""
    return ec.generate_private_key(ec.SECP256R1())


def _as_p256_public(key: Any) -> ec.EllipticCurvePublicKey:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise TypeError("expected a P-256 (SECP256R1) key")
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _coordinates(public_key: ec.EllipticCurvePublicKey) -> tuple[str, str]:
    numbers = public_key.public_numbers()
    return _b64url(numbers.x.to_bytes(32, "big")), _b64url(numbers.y.to_bytes(32, "big"))


def key_id(public_key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> str:
    """Return the key's short ``kid``: the first 8 base32 characters of its RFC 7638 thumbprint.

    The thumbprint is SHA-256 over ``{"crv":"P-256","kty":"EC","x":…,"y":…}`` (members in
    that order, no whitespace); 8 characters keep 40 bits, plenty to tell an issuer's keys apart.
    """
    x, y = _coordinates(_as_p256_public(public_key))
    members = json.dumps(
        {"crv": "P-256", "kty": "EC", "x": x, "y": y}, separators=(",", ":"), sort_keys=True
    )
    thumbprint = hashlib.sha256(members.encode("ascii")).digest()
    return base64.b32encode(thumbprint).decode("ascii")[:KID_LENGTH]


def _check_kid(kid: object) -> str:
    if not isinstance(kid, str) or not kid or len(kid.encode("utf-8")) > 64:
        raise ValueError("kid must be a non-empty string of at most 64 UTF-8 bytes")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in kid):
        raise ValueError("kid must not contain control characters")
    return kid


def public_jwk(public_key: ec.EllipticCurvePublicKey, kid: str) -> dict[str, str]:
    """Return the public key as a JWK for the JWK Set at ``/.well-known/jwks.json``."""
    x, y = _coordinates(_as_p256_public(public_key))
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": x,
        "y": y,
        "kid": _check_kid(kid),
        "alg": "ES256",
        "use": "sig",
    }


def _jwk_coordinate(jwk: Mapping[str, Any], name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str) or len(value) != 43 or not _BASE64URL.fullmatch(value):
        raise ValueError(f"JWK {name!r} must be 43 base64url characters (32 bytes)")
    raw = base64.urlsafe_b64decode(value + "=")
    if _b64url(raw) != value:
        raise ValueError(f"JWK {name!r} is not canonical base64url")
    return int.from_bytes(raw, "big")


def public_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """Return the P-256 public key of a JWK, checking it strictly.

    Required: ``kty`` "EC", ``crv`` "P-256", ``x`` and ``y`` as 32-byte unpadded base64url of a
    point on the curve. Optional members must fit a verification key: ``alg`` "ES256", ``use``
    "sig", ``key_ops`` containing "verify", ``kid`` a string. A JWK with a private part (``d``)
    is refused, so a private key is never mistaken for a publishable one.
    """
    if not isinstance(jwk, Mapping):
        raise ValueError("JWK must be a JSON object")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError('JWK must have "kty": "EC" and "crv": "P-256"')
    if "d" in jwk:
        raise ValueError("JWK contains a private key (d); publish only the public part")
    if "alg" in jwk and jwk["alg"] != "ES256":
        raise ValueError('JWK "alg" must be "ES256"')
    if "use" in jwk and jwk["use"] != "sig":
        raise ValueError('JWK "use" must be "sig"')
    if "key_ops" in jwk and (
        not isinstance(jwk["key_ops"], list) or "verify" not in jwk["key_ops"]
    ):
        raise ValueError('JWK "key_ops" must include "verify"')
    if "kid" in jwk and not isinstance(jwk["kid"], str):
        raise ValueError('JWK "kid" must be a string')
    x = _jwk_coordinate(jwk, "x")
    y = _jwk_coordinate(jwk, "y")
    try:
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError as exc:
        raise ValueError("JWK point is not on the P-256 curve") from exc


def es256_jwks(jwk_set: Any) -> list[dict[str, Any]]:
    """Return the EC JWKs of a JWK Set, in order: the keys passport tokens verify with.

    Rule: members of ``keys`` that are not objects or not ``"kty": "EC"`` (the RS256 keys
    that sign Open Badges credentials) are skipped; each kept JWK is still to be checked
    with ``public_key_from_jwk``. Raises ValueError when ``jwk_set`` has no ``keys`` list.
    """
    if not isinstance(jwk_set, Mapping) or not isinstance(jwk_set.get("keys"), list):
        raise ValueError('a JWK Set is a JSON object with a "keys" list')
    return [k for k in jwk_set["keys"] if isinstance(k, dict) and k.get("kty") == "EC"]


# --- CBOR and COSE -------------------------------------------------------------------------


def _cbor(value: Any) -> bytes:
    return cbor2.dumps(value, canonical=True)


def _cbor_strict(data: bytes, what: str) -> Any:
    """Decode one CBOR item and insist ``data`` is exactly its deterministic encoding.

    Re-encoding catches non-shortest integers and lengths, indefinite lengths, unsorted or
    duplicate map keys, trailing bytes and tags that cbor2 resolves silently; tags it keeps,
    floats and simple values are refused by the type checks of the callers.
    """
    try:
        value = cbor2.loads(data)
        canonical = _cbor(value)
    except Exception as exc:  # cbor2 raises several types for malformed input
        raise TokenInvalid(f"{what} is not valid CBOR") from exc
    if canonical != data:
        raise TokenInvalid(f"{what} is not in deterministic CBOR encoding")
    return value


def _protected_header(kid: str) -> bytes:
    return _cbor({HEADER_ALG: ALG_ES256, HEADER_KID: kid.encode("utf-8")})


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    # RFC 9052 §4.4: Sig_structure for COSE_Sign1 with empty external_aad.
    return _cbor(["Signature1", protected, b"", payload])


def _claims_map(claims: PassportClaims) -> dict[int, Any]:
    claim_map: dict[int, Any] = {
        CLAIM_IAT: claims.issued_at,
        CLAIM_NUMBER: claims.number,
        CLAIM_HOLDER_NAME: claims.holder_name,
        CLAIM_COMPETENCE_CODE: claims.competence_code,
        CLAIM_TOTAL_HUNDREDTHS: claims.total_hundredths,
        CLAIM_GRADE: claims.grade,
    }
    if claims.expires_at is not None:
        claim_map[CLAIM_EXP] = claims.expires_at
    if claims.profile is not None:
        claim_map[CLAIM_PROFILE] = list(claims.profile)
    return claim_map


def _claims_from_map(claim_map: object) -> PassportClaims:
    required = {
        CLAIM_IAT,
        CLAIM_NUMBER,
        CLAIM_HOLDER_NAME,
        CLAIM_COMPETENCE_CODE,
        CLAIM_TOTAL_HUNDREDTHS,
        CLAIM_GRADE,
    }
    if not isinstance(claim_map, dict):
        raise TokenInvalid("claims are not a CBOR map")
    if not required <= set(claim_map) <= required | {CLAIM_EXP, CLAIM_PROFILE}:
        raise TokenInvalid(
            "claims must hold exactly iat, the five passport claims and maybe exp and profile"
        )
    # present means set: a null exp or profile is refused, not read as "absent"
    if CLAIM_EXP in claim_map and claim_map[CLAIM_EXP] is None:
        raise TokenInvalid("exp is null")
    profile = claim_map.get(CLAIM_PROFILE)
    if CLAIM_PROFILE in claim_map and not isinstance(profile, list):
        raise TokenInvalid("profile is not a CBOR array")
    try:
        return PassportClaims(
            number=claim_map[CLAIM_NUMBER],
            holder_name=claim_map[CLAIM_HOLDER_NAME],
            competence_code=claim_map[CLAIM_COMPETENCE_CODE],
            total_hundredths=claim_map[CLAIM_TOTAL_HUNDREDTHS],
            grade=claim_map[CLAIM_GRADE],
            issued_at=claim_map[CLAIM_IAT],
            expires_at=claim_map.get(CLAIM_EXP),
            profile=profile,
        )
    except ValueError as exc:
        raise TokenInvalid(f"claim out of range: {exc}") from exc


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def normalise_token(text: str) -> str:
    """Undo what chat apps and OCR do to a link, and nothing else.

    Rule: refuse text longer than MAX_LINK_CHARS (before anything else); remove ASCII space,
    TAB, CR and LF and their percent-encodings ``%20 %09 %0A %0D`` (hex digits in either
    case); map ASCII ``a–z`` to ``A–Z``. No Unicode case mapping: ``ı``, ``ſ`` and ``ß`` stay
    as they are and make the token invalid. verify.js's ``normaliseToken`` is the same rule,
    tested on the same cases (tests/passports/token_text_cases.json).
    """
    if not isinstance(text, str):
        raise TokenInvalid("token must be a string")
    if len(text) > MAX_LINK_CHARS:
        raise TokenInvalid("token is too long")
    return _LINK_BREAKS.sub("", text).translate(_ASCII_UPPER)


def _b32decode_bits(token: str) -> tuple[bytes, bool]:
    """Decode unpadded upper-case base32; also say whether the unused trailing bits are zero.

    A length unpadded base32 cannot have is a cut-off link (TokenDamaged). ``int(…, 32)``
    over the base32hex digits does the work in C; the standard library's ``b32decode`` is
    pure Python and dominated verification time.
    """
    if not isinstance(token, str):
        raise TokenInvalid("token must be a string")
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenInvalid("token is too long")
    if not _BASE32_TOKEN.fullmatch(token):
        raise TokenInvalid("token is not upper-case unpadded base32")
    if len(token) % 8 not in _BASE32_VALID_REMAINDERS:
        raise TokenDamaged("token has a length base32 cannot have: the link is incomplete")
    size, spare = divmod(len(token) * 5, 8)
    value = int(token.translate(_TO_BASE32HEX), 32)
    return (value >> spare).to_bytes(size, "big"), not value & ((1 << spare) - 1)


def _b32decode(token: str) -> bytes:
    """Decode unpadded upper-case base32, refusing non-zero unused trailing bits."""
    data, clean = _b32decode_bits(token)
    if not clean:
        raise TokenInvalid("token is not canonical base32")
    return data


_TO_BASE32HEX = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHIJKLMNOPQRSTUV"
)


@dataclass(frozen=True)
class _Sign1:
    protected: bytes
    kid: str
    payload: bytes
    signature: bytes


def _parse(token: str) -> _Sign1:
    """Parse the token text down to its parts, strictly, without checking the signature.

    Rule for a cut-off link (TokenDamaged): the bytes start a COSE array of four items and
    end before it is complete. Any other failure is TokenInvalid, including non-zero unused
    bits in the last character of a token whose bytes are complete.
    """
    data, clean = _b32decode_bits(token)
    try:
        message = _cbor_strict(data, "token")
    except TokenInvalid as exc:
        if data[:1] == _COSE_ARRAY_HEAD and isinstance(exc.__cause__, cbor2.CBORDecodeEOF):
            raise TokenDamaged("token ends inside its COSE array: the link is incomplete") from exc
        raise
    if not clean:
        raise TokenInvalid("token is not canonical base32")
    if not isinstance(message, list) or len(message) != 4:
        raise TokenInvalid("token is not an untagged COSE_Sign1 array of four items")
    protected, unprotected, payload, signature = message
    if not isinstance(protected, bytes) or not isinstance(payload, bytes):
        raise TokenInvalid("protected header and payload must be byte strings")
    if unprotected != {}:
        raise TokenInvalid("unprotected header must be empty")
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_LENGTH:
        raise TokenInvalid("signature must be 64 bytes (r || s)")
    header = _cbor_strict(protected, "protected header")
    if (
        not isinstance(header, dict)
        or set(header) != {HEADER_ALG, HEADER_KID}
        or header[HEADER_ALG] != ALG_ES256
        or type(header[HEADER_ALG]) is not int
        or not isinstance(header[HEADER_KID], bytes)
    ):
        raise TokenInvalid("protected header must be exactly {1: -7 (ES256), 4: kid}")
    try:
        kid = _check_kid(header[HEADER_KID].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TokenInvalid("kid is not a valid key id") from exc
    return _Sign1(protected=protected, kid=kid, payload=payload, signature=signature)


_ES256 = ec.ECDSA(hashes.SHA256())  # verifying (signing may ask for RFC 6979 nonces)


def es256_signature(
    private_key: ec.EllipticCurvePrivateKey, data: bytes, *, deterministic: bool = False
) -> bytes:
    """Sign ``data`` with ES256 and return the raw 64-byte ``r || s`` signature.

    Rule: ``s`` is normalised to low-S (s ≤ n/2), the only form verifiers accept;
    ``deterministic`` uses RFC 6979 nonces (same data and key, same signature).
    """
    algorithm = ec.ECDSA(hashes.SHA256(), deterministic_signing=deterministic)
    r, s = decode_dss_signature(private_key.sign(data, algorithm))
    s = min(s, P256_ORDER - s)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_token(
    claims: PassportClaims,
    private_key: ec.EllipticCurvePrivateKey,
    kid: str,
    *,
    deterministic: bool = False,
) -> str:
    """Sign the claims with an ES256 key and return the token text (base32, upper case).

    The signature is normalised to low-S (s ≤ n/2), the only form verifiers accept.
    ``deterministic`` signs with RFC 6979 nonces, so the same claims and key give the same
    text (the documented example, test vectors); issuing uses random nonces.
    """
    if not isinstance(claims, PassportClaims):
        raise TypeError("claims must be PassportClaims")
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise TypeError("private_key must be a P-256 (SECP256R1) private key")
    protected = _protected_header(_check_kid(kid))
    payload = _cbor(_claims_map(claims))
    signature = es256_signature(
        private_key, _sig_structure(protected, payload), deterministic=deterministic
    )
    token = _b32encode(_cbor([protected, {}, payload, signature]))
    if len(token) > MAX_TOKEN_CHARS:
        raise ValueError("claims too long for a passport token")
    return token


def read_token_kid(token: str) -> str:
    """Return the token's ``kid`` without verifying it (to choose the key); parsing is strict."""
    return _parse(token).kid


def verify_token(
    token: str,
    keys: Mapping[str, ec.EllipticCurvePublicKey],
    now: int | None = None,
    check_expiry: bool = True,
) -> PassportClaims:
    """Verify the token against the issuer's keys by ``kid`` and return its claims.

    Raises TokenInvalid when the text is not the canonical encoding, the kid is unknown, the
    signature is wrong or high-S, or the claims break the profile; TokenExpired (a
    TokenInvalid carrying the claims) when ``check_expiry`` and ``now`` ≥ ``exp``.
    """
    parts = _parse(token)
    key = keys.get(parts.kid)
    if key is None:
        raise TokenInvalid(f"unknown key id {parts.kid!r}")
    key = _as_p256_public(key)
    r = int.from_bytes(parts.signature[:32], "big")
    s = int.from_bytes(parts.signature[32:], "big")
    if not (0 < r < P256_ORDER and 0 < s <= P256_ORDER // 2):
        raise TokenInvalid("signature is out of range or not low-S")
    try:
        key.verify(
            encode_dss_signature(r, s), _sig_structure(parts.protected, parts.payload), _ES256
        )
    except InvalidSignature as exc:
        raise TokenInvalid("signature does not verify") from exc
    claims = _claims_from_map(_cbor_strict(parts.payload, "claims"))
    if check_expiry and claims.expires_at is not None:
        current = int(time.time()) if now is None else now
        if current >= claims.expires_at:
            raise TokenExpired("passport has expired", claims)
    return claims


# --- URL -----------------------------------------------------------------------------------


def verification_url(base_url: str, token: str) -> str:
    """Return the verification URL ``BASE/V#TOKEN`` with scheme and host in upper case.

    Upper case lets the QR carry everything before ``#`` in alphanumeric mode; scheme and host
    are case-insensitive, so the URL still opens ``https://host/V``. A path in the base URL is
    kept as written (paths are case-sensitive), which costs QR space if it has lower case.
    """
    parts = urlsplit(base_url)
    if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        raise ValueError("base_url must be an http(s) URL with a host")
    _ = parts.port  # raises ValueError for a port that is not a number in range
    if parts.query or parts.fragment or parts.username or parts.password or "#" in base_url:
        raise ValueError("base_url must not carry credentials, a query or a fragment")
    if not parts.netloc.isascii():
        raise ValueError("base_url host must be ASCII (use its punycode form)")
    _b32decode(token)
    path = parts.path.rstrip("/")
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{path}{VERIFY_PATH}#{token}"


def token_from_url(url: str) -> str:
    """Return the token in a verification URL's fragment.

    The whole URL is first normalised (``normalise_token``: ASCII letters upper-cased, spaces,
    tabs and line breaks removed, also as ``%20 %09 %0A %0D``); then the scheme must be http(s),
    the path end with ``/V``, there is no query, and the fragment is unpadded base32.
    """
    if not isinstance(url, str) or len(url) > MAX_LINK_CHARS:
        raise TokenInvalid("not a passport verification URL")
    before, sep, fragment = normalise_token(url).partition("#")
    try:
        parts = urlsplit(before)
    except ValueError as exc:  # e.g. a broken IPv6 literal
        raise TokenInvalid("not a passport verification URL") from exc
    if (
        not sep
        or parts.scheme.lower() not in ("https", "http")
        or not parts.hostname
        or parts.query
        or before.endswith("?")
        or not parts.path.endswith(VERIFY_PATH)
    ):
        raise TokenInvalid("not a passport verification URL")
    if not fragment or len(fragment) > MAX_TOKEN_CHARS or not _BASE32_TOKEN.fullmatch(fragment):
        raise TokenInvalid("URL fragment is not a passport token")
    return fragment
