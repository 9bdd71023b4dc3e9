"""W3C Bitstring Status List v1.0: build, encode, decode and read entries. Pure functions.

Two lists cover every passport by its sequence number (the middle part of its number):

``revocation``  one bit per passport: 1 = no longer valid (revoked or superseded), the list
                generic VC verifiers understand;
``message``     two bits per passport: 0 valid, 1 revoked, 2 superseded — so an offline
                verifier can tell why.

The bitstring is at least 16 KiB (131,072 bits, the specification's minimum, for herd
privacy); entry ``i`` of size ``s`` is bits ``i·s … i·s+s−1``, the first bit being the most
significant bit of the first byte. ``encodedList`` is ``u`` (multibase base64url) + base64url
without padding of the GZIP-compressed bitstring.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from passports import jws
from passports.token import MAX_CLAIM_INT  # JavaScript's Number.MAX_SAFE_INTEGER

MIN_BITS = 16 * 1024 * 8
MAX_BYTES = 16 * 1024 * 1024
PURPOSES = {"revocation": 1, "message": 2}
MESSAGES = {0: "valid", 1: "revoked", 2: "superseded"}
STATUS_VALUES = {"revoked": 1, "superseded": 2}


class StatusListInvalid(ValueError):
    """The encoded list cannot be decoded."""


def build_bitstring(entries: Mapping[int, int], size: int) -> bytes:
    """Return the bitstring with ``entries`` (index → value) set, every other entry 0."""
    if size not in (1, 2, 4, 8):
        raise ValueError("status size must be 1, 2, 4 or 8 bits")
    highest = max(entries, default=0)
    bits = max(MIN_BITS, (highest + 1) * size)
    bits = -(-bits // MIN_BITS) * MIN_BITS
    data = bytearray(bits // 8)
    for index, value in entries.items():
        if index < 0 or not 0 <= value < (1 << size):
            raise ValueError(f"entry {index}: value {value} does not fit {size} bits")
        position = index * size
        byte, offset = divmod(position, 8)
        shift = 8 - offset - size
        data[byte] |= value << shift
    return bytes(data)


def encode(bitstring: bytes) -> str:
    """Return ``encodedList``: ``u`` + base64url (no padding) of the GZIP-compressed bits."""
    compressed = gzip.compress(bitstring, compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode(encoded: str) -> bytes:
    """Return the bitstring of an ``encodedList`` (a missing ``u`` prefix is tolerated)."""
    if not isinstance(encoded, str) or not encoded:
        raise StatusListInvalid("encodedList must be a non-empty string")
    text = encoded[1:] if encoded.startswith("u") else encoded
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj(wbits=31)  # gzip container
        data = inflater.decompress(compressed, MAX_BYTES + 1)
    except (binascii.Error, zlib.error, ValueError) as exc:
        raise StatusListInvalid("encodedList is not base64url GZIP data") from exc
    if len(data) > MAX_BYTES or not inflater.eof:
        raise StatusListInvalid("status list is too large or truncated")
    return data


def entry(bitstring: bytes, index: int, size: int) -> int:
    """Return the value of entry ``index``; IndexError when the list is too short for it."""
    position = index * size
    byte, offset = divmod(position, 8)
    if index < 0 or byte >= len(bitstring):
        raise IndexError(f"status list has no entry {index}")
    return (bitstring[byte] >> (8 - offset - size)) & ((1 << size) - 1)


@dataclass(frozen=True)
class StatusList:
    """A decoded list: its purpose, entry size and bits, and when it was signed."""

    purpose: str
    size: int
    bitstring: bytes
    issued_at: str = ""
    # unix time after which the list must not be relied on (None: never said)
    expires_at: int | None = None
    # unix time it was signed (its ``iat``; None: never said)
    signed_at: int | None = None
    # kid of the key that signed it (None: not read from a signed list)
    signer_kid: str | None = None

    def status(self, index: int) -> str:
        """Return "valid", "revoked" or "superseded" for a passport's sequence number."""
        value = entry(self.bitstring, index, self.size)
        if self.purpose == "revocation":
            return "revoked" if value else "valid"
        return MESSAGES.get(value, "revoked")


def _whole(value: object) -> int | None:
    """An integer of at most 2^53 − 1 in magnitude, read by value (``5.0`` is 5), else None.

    The same as the QR page's ``Number.isSafeInteger``, which cannot tell ``5.0`` from ``5``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if abs(value) <= MAX_CLAIM_INT else None


def read_signed_list(text: str, public_keys: Mapping[str, ec.EllipticCurvePublicKey]) -> StatusList:
    """Verify a signed status list (VC-JWT) with the issuer's keys and decode it.

    Raises StatusListInvalid when the signature, the type, the purpose, the list or the
    times (``iat``, ``exp``: integer seconds) are wrong.
    """
    try:
        header, payload = jws.verify(text.strip(), public_keys)
    except jws.JWSInvalid as exc:
        raise StatusListInvalid(str(exc)) from exc
    subject = payload.get("credentialSubject")
    types = payload.get("type") or []
    if "BitstringStatusListCredential" not in types or not isinstance(subject, dict):
        raise StatusListInvalid("not a BitstringStatusListCredential")
    purpose = subject.get("statusPurpose")
    if purpose not in PURPOSES:
        raise StatusListInvalid(f"unsupported statusPurpose {purpose!r}")
    bits = decode(subject.get("encodedList"))
    expires = _whole(payload.get("exp"))
    if expires is None:
        raise StatusListInvalid("no expiry (exp)")
    signed = _whole(payload.get("iat"))
    if signed is None:
        raise StatusListInvalid("no signing time (iat)")
    return StatusList(
        purpose,
        PURPOSES[purpose],
        bits,
        str(payload.get("validFrom", "")),
        expires_at=expires,
        signed_at=signed,
        signer_kid=header.get("kid"),
    )
