"""Compact JWS with ES256 (RFC 7515, RFC 7518 §3.4): sign and verify JSON payloads. Pure.

Used for the VC-JWT credentials (Open Badges 3.0, Bitstring Status List) signed with the same
keys as the passport tokens, so one JWK Set verifies everything the issuer publishes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

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


def sign(
    header: Mapping[str, Any], payload: Mapping[str, Any], key: ec.EllipticCurvePrivateKey
) -> str:
    """Return ``header.payload.signature`` signed with ES256 (``alg`` is set here)."""
    protected = b64url(_json({**header, "alg": "ES256"}))
    body = b64url(_json(payload))
    der = key.sign(f"{protected}.{body}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{protected}.{body}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


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
