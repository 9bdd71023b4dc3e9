"""Compact JWS (RFC 7515): ES256 (RFC 7518 §3.4) to sign and verify, RS256 (§3.3) to sign. Pure.

ES256 secures the status lists (Bitstring Status List VC-JWTs), signed with the same keys as
the passport tokens; RS256 secures the Open Badges 3.0 credential, because RS256 is the
algorithm the Open Badges VC-JWT proof requires. One JWK Set publishes both kinds of key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    encode_dss_signature,
)

from passports.token import KID_LENGTH, es256_signature

MAX_JWS_CHARS = 2_000_000


class JWSInvalid(Exception):
    """The JWS is malformed, uses another algorithm or key, or its signature is wrong."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or any(c in text for c in "+/="):
        raise ValueError("not base64url without padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


RSA_KEY_BITS = 2048
RSA_EXPONENT = 65537


def sign(
    header: Mapping[str, Any],
    payload: Mapping[str, Any],
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    *,
    deterministic: bool = False,
) -> str:
    """Return ``header.payload.signature``: ES256 with a P-256 key, RS256 with an RSA key.

    ``alg`` is set here from the key, so a header can never claim another algorithm. ES256
    signatures are low-S (``token.es256_signature``); ``deterministic`` signs with RFC 6979
    nonces (the test vectors).
    """
    alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
    protected = b64url(_json({**header, "alg": alg}))
    body = b64url(_json(payload))
    signing_input = f"{protected}.{body}".encode("ascii")
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{protected}.{body}.{b64url(signature)}"
    signature = es256_signature(key, signing_input, deterministic=deterministic)
    return f"{protected}.{body}.{b64url(signature)}"


def new_rsa_key() -> rsa.RSAPrivateKey:
    """Generate a new RS256 signing key (RSA, 2048 bits, e = 65537)."""
    return rsa.generate_private_key(public_exponent=RSA_EXPONENT, key_size=RSA_KEY_BITS)


def _uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def rsa_key_id(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> str:
    """Return the RSA key's short ``kid``, by the same rule as the ES256 keys' kid.

    The first 8 base32 characters of its RFC 7638 thumbprint: SHA-256 over
    ``{"e":…,"kty":"RSA","n":…}`` (members in that order, no whitespace).
    """
    if isinstance(key, rsa.RSAPrivateKey):
        key = key.public_key()
    numbers = key.public_numbers()
    members = json.dumps(
        {"e": _uint(numbers.e), "kty": "RSA", "n": _uint(numbers.n)},
        separators=(",", ":"),
        sort_keys=True,
    )
    thumbprint = hashlib.sha256(members.encode("ascii")).digest()
    return base64.b32encode(thumbprint).decode("ascii")[:KID_LENGTH]


def rsa_public_jwk(public_key: rsa.RSAPublicKey, kid: str) -> dict[str, str]:
    """Return an RSA public key as a JWK for the JWK Set (``alg`` RS256, ``use`` sig)."""
    numbers = public_key.public_numbers()
    return {
        "kty": "RSA",
        "n": _uint(numbers.n),
        "e": _uint(numbers.e),
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
    }


def read_header(jws: str) -> dict[str, Any]:
    """Return the protected header without checking anything else."""
    try:
        header = json.loads(b64url_decode(jws.split(".", 1)[0]))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise JWSInvalid("header is not base64url JSON") from exc
    if not isinstance(header, dict):
        raise JWSInvalid("header is not a JSON object")
    return header


def verify(
    jws: str, keys: Mapping[str, ec.EllipticCurvePublicKey]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify an ES256 compact JWS against keys by ``kid``; return (header, payload)."""
    if not isinstance(jws, str) or len(jws) > MAX_JWS_CHARS:
        raise JWSInvalid("not a compact JWS")
    parts = jws.strip().split(".")
    if len(parts) != 3:
        raise JWSInvalid("a compact JWS has three parts")
    header = read_header(parts[0])
    if header.get("alg") != "ES256":
        raise JWSInvalid("alg must be ES256")
    if header.get("crit"):
        raise JWSInvalid("critical header parameters are not supported")
    key = keys.get(header.get("kid"))
    if key is None:
        raise JWSInvalid(f"unknown key id {header.get('kid')!r}")
    try:
        signature = b64url_decode(parts[2])
        payload = json.loads(b64url_decode(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise JWSInvalid("payload or signature is not base64url") from exc
    if len(signature) != 64:
        raise JWSInvalid("ES256 signature must be 64 bytes")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        key.verify(
            encode_dss_signature(r, s),
            f"{parts[0]}.{parts[1]}".encode("ascii"),
            ec.ECDSA(hashes.SHA256()),
        )
    except (InvalidSignature, ValueError) as exc:
        raise JWSInvalid("signature does not verify") from exc
    if not isinstance(payload, dict):
        raise JWSInvalid("payload is not a JSON object")
    return header, payload
