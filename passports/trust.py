"""The national trust list: which issuer keys may certify which competences. Pure.

No database, no Flask. docs/trust-list.md is the specification; this module and
passports/static/verify.js implement it. In short:

* the list is a compact JWS (RFC 7515), ES256 with a raw ``r || s`` signature, signed by the
  trust anchor; its protected header is exactly
  ``{"alg":"ES256","kid":<anchor kid>,"typ":"skills-trust-list+jws"}``;
* the payload is a JSON object ``{format: 1, anchor, development, seq, iat, exp, keys: […]}``;
  each key entry names the issuer, the competences the key may certify, the passports'
  ``iat`` range it covers, and its status (active, retired or compromised);
* ``judge_key`` applies the entry's rules to one passport.

The anchor's private key lives in an encrypted PKCS#8 PEM file; its public JWK (with ``kid``,
and ``"development": true`` for a development anchor) sits beside it as ``FILE.pub.jwk``.
"""

from __future__ import annotations

import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    encode_dss_signature,
)

from passports.jws import b64url, b64url_decode
from passports.token import (
    MAX_CLAIM_INT,
    es256_signature,
    key_id,
    public_jwk,
    public_key_from_jwk,
)

FORMAT = 1
TYP = "skills-trust-list+jws"
ANY_COMPETENCE = "*"
STATUSES = ("active", "retired", "compromised")
LANGUAGES = ("kk", "ru", "en")
# reasons judge_key gives; the verdict for each is "untrusted"
REASONS = {
    "unknown-key": "the signing key is not in the trust list",
    "out-of-scope": "the signing key may not certify this competence",
    "outside-validity": "the passport was signed outside the key's validity period",
    "compromised": "the signing key is compromised and this passport is not listed as "
    "issued before the compromise",
}
MAX_TRUST_LIST_CHARS = 5_000_000
PUBLIC_JWK_SUFFIX = ".pub.jwk"

PAYLOAD_MEMBERS = {"format", "anchor", "development", "seq", "iat", "exp", "keys"}
_ENTRY_MEMBERS = {"kid", "jwk", "issuer", "competences", "valid_from", "valid_to", "status"}
_COMPROMISE_MEMBERS = {"compromised_at", "issued_before_compromise"}
_ISSUER_MEMBERS = {"id", "name", "status_list"}


class TrustListError(Exception):
    """The trust list is unreadable, not signed by the anchor, or breaks the format."""


class AnchorKeyError(Exception):
    """The anchor key file is missing, unreadable, not encrypted or not a P-256 key."""


@dataclass(frozen=True)
class TrustedKey:
    """One issuer key of the list, as the verifier uses it."""

    kid: str
    jwk: Mapping[str, Any]
    public_key: ec.EllipticCurvePublicKey
    issuer_id: str
    issuer_name: Mapping[str, str]
    status_list_url: str | None
    competences: tuple[str, ...]
    valid_from: int
    valid_to: int | None
    status: str
    compromised_at: int | None
    issued_before_compromise: frozenset[str]


@dataclass(frozen=True)
class TrustList:
    """A trust list whose anchor signature and format have been checked."""

    anchor: str
    development: bool
    seq: int
    issued_at: int
    expires_at: int
    keys: Mapping[str, TrustedKey]

    def expired(self, at: int) -> bool:
        """Whether the list is past its expiry at ``at``: from ``exp`` on it is not usable."""
        return at >= self.expires_at

    def public_keys(self) -> dict[str, ec.EllipticCurvePublicKey]:
        """Every listed key by kid, whatever its status (the signature check needs them)."""
        return {kid: key.public_key for kid, key in self.keys.items()}


# --- the anchor's keys ---------------------------------------------------------------------


def load_anchor_jwk(value: str) -> dict[str, Any]:
    """Return the anchor's public JWK from a file path or from the JWK JSON itself.

    Rule: a value starting with ``{`` is JSON, anything else a path. The JWK must be a P-256
    public key (``public_key_from_jwk``); its ``kid``, when given, must be the key's
    thumbprint kid (``key_id``) and is added when missing. ``development`` must be a boolean.
    """
    if not isinstance(value, str) or not value.strip():
        raise TrustListError("the anchor JWK is empty")
    text = value.strip()
    if not text.startswith("{"):
        try:
            text = Path(text).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TrustListError(f"cannot read the anchor JWK file {value}: {exc}") from exc
    try:
        jwk = strict_json(text)
    except ValueError as exc:
        raise TrustListError(f"the anchor JWK is not JSON: {exc}") from exc
    if not isinstance(jwk, dict):
        raise TrustListError("the anchor JWK is not a JSON object")
    try:
        public_key = public_key_from_jwk(jwk)
    except ValueError as exc:
        raise TrustListError(f"the anchor JWK is not a P-256 public key: {exc}") from exc
    kid = key_id(public_key)
    if jwk.get("kid", kid) != kid:
        raise TrustListError(f"the anchor JWK's kid {jwk['kid']!r} is not its thumbprint {kid}")
    if not isinstance(jwk.get("development", False), bool):
        raise TrustListError('the anchor JWK\'s "development" must be true or false')
    return {**jwk, "kid": kid}


def anchor_is_development(anchor_jwk: Mapping[str, Any]) -> bool:
    """Whether the anchor JWK says it belongs to a development anchor."""
    return anchor_jwk.get("development") is True


def new_anchor_key() -> ec.EllipticCurvePrivateKey:
    """Generate a new P-256 anchor key."""
    return ec.generate_private_key(ec.SECP256R1())


def anchor_public_jwk(
    key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey, development: bool = False
) -> dict[str, Any]:
    """Return the anchor's public JWK (with its kid; ``"development": true`` when so)."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    jwk: dict[str, Any] = public_jwk(public, key_id(public))
    if development:
        jwk["development"] = True
    return jwk


def anchor_public_path(path: str | os.PathLike[str]) -> Path:
    """Return where the public JWK of the anchor file ``path`` lives: ``path`` + ``.pub.jwk``."""
    path = Path(path)
    return path.with_name(path.name + PUBLIC_JWK_SUFFIX)


def write_anchor_key(
    path: str | os.PathLike[str],
    private_key: ec.EllipticCurvePrivateKey,
    passphrase: bytes,
    development: bool = False,
) -> Path:
    """Write the anchor key as passphrase-encrypted PKCS#8 PEM, and its public JWK beside it.

    Refuses to overwrite either file (an anchor key is not replaced by accident) and an empty
    passphrase. The PEM file is created with mode 0600. Returns the public JWK's path.
    """
    if not passphrase:
        raise AnchorKeyError("the anchor passphrase must not be empty")
    path = Path(path)
    public_path = anchor_public_path(path)
    for target in (path, public_path):
        if target.exists():
            raise AnchorKeyError(f"{target} exists already; refusing to overwrite it")
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        jwk = anchor_public_jwk(private_key, development)
        public_path.write_text(json.dumps(jwk, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise AnchorKeyError(f"cannot write the anchor key {path}: {exc}") from exc
    return public_path


def load_anchor_key(path: str | os.PathLike[str], passphrase: bytes) -> ec.EllipticCurvePrivateKey:
    """Read the anchor's encrypted PKCS#8 PEM file; an unencrypted key is refused."""
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise AnchorKeyError(f"cannot read the anchor key {path}: {exc}") from exc
    if b"ENCRYPTED PRIVATE KEY" not in pem:
        raise AnchorKeyError(f"{path} is not a passphrase-encrypted PKCS#8 PEM key")
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase or None)
    except (ValueError, TypeError) as exc:
        raise AnchorKeyError(f"cannot open the anchor key {path}: wrong passphrase?") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise AnchorKeyError(f"{path} is not a P-256 key")
    return key


# --- the list ------------------------------------------------------------------------------


def json_number(text: str) -> int | float:
    """A JSON number by its value, as JavaScript reads it: ``2.0`` and ``2e0`` are the integer 2.

    Rule: a number with a fraction or exponent whose value is whole and at most 2^53 − 1 in
    magnitude is an int; anything else stays a float (and fails every integer check). The
    QR page's reader (verify.js) cannot tell ``2.0`` from ``2``, so this reader must not
    either, or the two would give different verdicts for one signed list.
    """
    value = float(text)
    if value.is_integer() and abs(value) <= MAX_CLAIM_INT:
        return int(value)
    return value


def strict_json(text: str | bytes, *, numbers_by_value: bool = False) -> Any:
    """Parse JSON refusing duplicate member names and the non-standard NaN/Infinity.

    ``numbers_by_value`` reads numbers as ``json_number`` does (for signed lists that the
    browser reads too).
    """

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, value in items:
            if name in result:
                raise ValueError(f"duplicate member {name!r}")
            result[name] = value
        return result

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    if numbers_by_value:
        return json.loads(
            text, object_pairs_hook=pairs, parse_constant=constant, parse_float=json_number
        )
    return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)


def canonical_json(value: Any) -> bytes:
    """The bytes a trust list payload is signed as: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _is_int(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_CLAIM_INT


def _text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def parse_entry(index: int, entry: object) -> TrustedKey:
    where = f"keys[{index}]"
    if not isinstance(entry, dict):
        raise TrustListError(f"{where} is not a JSON object")
    compromised = entry.get("status") == "compromised"
    allowed = _ENTRY_MEMBERS | (_COMPROMISE_MEMBERS if compromised else set())
    missing = sorted(allowed - set(entry))
    if missing:
        raise TrustListError(f"{where} lacks {', '.join(missing)}")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise TrustListError(f"{where} has unknown member(s) {', '.join(unknown)}")
    kid = entry["kid"]
    if not _text(kid) or len(kid.encode("utf-8")) > 64:
        raise TrustListError(f"{where}.kid must be a non-empty string of at most 64 bytes")
    where = f"key {kid}"
    jwk = entry["jwk"]
    try:
        public_key = public_key_from_jwk(jwk)
    except ValueError as exc:
        raise TrustListError(f"{where}: jwk is not a P-256 public key ({exc})") from exc
    if jwk.get("kid", kid) != kid:
        raise TrustListError(f"{where}: jwk.kid {jwk['kid']!r} differs from the entry's kid")
    issuer = entry["issuer"]
    if not isinstance(issuer, dict) or set(issuer) != _ISSUER_MEMBERS:
        raise TrustListError(f"{where}: issuer must have exactly id, name and status_list")
    if not _text(issuer["id"]):
        raise TrustListError(f"{where}: issuer.id must be a non-empty string")
    name = issuer["name"]
    if (
        not isinstance(name, dict)
        or set(name) != set(LANGUAGES)
        or not all(_text(v) for v in name.values())
    ):
        raise TrustListError(f"{where}: issuer.name must have non-empty kk, ru and en texts")
    status_list = issuer["status_list"]
    if status_list is not None and not (
        isinstance(status_list, str) and status_list.startswith(("https://", "http://"))
    ):
        raise TrustListError(f"{where}: issuer.status_list must be an http(s) URL or null")
    competences = entry["competences"]
    if (
        not isinstance(competences, list)
        or not competences
        or not all(_text(c) for c in competences)
        or len(set(competences)) != len(competences)
    ):
        raise TrustListError(
            f"{where}: competences must be a non-empty list of distinct competence codes"
        )
    valid_from, valid_to = entry["valid_from"], entry["valid_to"]
    if not _is_int(valid_from):
        raise TrustListError(f"{where}: valid_from must be a NumericDate (integer seconds)")
    if valid_to is not None and not (_is_int(valid_to) and valid_to > valid_from):
        raise TrustListError(f"{where}: valid_to must be null or a NumericDate after valid_from")
    status = entry["status"]
    if status not in STATUSES:
        raise TrustListError(f"{where}: status must be one of {', '.join(STATUSES)}")
    compromised_at, before = None, frozenset()
    if compromised:
        compromised_at = entry["compromised_at"]
        if not _is_int(compromised_at):
            raise TrustListError(f"{where}: compromised_at must be a NumericDate")
        numbers = entry["issued_before_compromise"]
        if not isinstance(numbers, list) or not all(_text(n) for n in numbers):
            raise TrustListError(
                f"{where}: issued_before_compromise must be a list of passport numbers"
            )
        before = frozenset(numbers)
    return TrustedKey(
        kid=kid,
        jwk=MappingProxyType(dict(jwk)),
        public_key=public_key,
        issuer_id=issuer["id"],
        issuer_name=MappingProxyType(dict(name)),
        status_list_url=status_list,
        competences=tuple(competences),
        valid_from=valid_from,
        valid_to=valid_to,
        status=status,
        compromised_at=compromised_at,
        issued_before_compromise=before,
    )


def parse_payload(payload: object) -> TrustList:
    """Check a trust list payload against the format and return it as a TrustList.

    Unknown members are refused (a new member means a new ``format``); kids are unique.
    """
    if not isinstance(payload, dict):
        raise TrustListError("the trust list payload is not a JSON object")
    if payload.get("format") != FORMAT or type(payload.get("format")) is not int:
        raise TrustListError(f"unsupported trust list format {payload.get('format')!r}")
    missing = sorted(PAYLOAD_MEMBERS - set(payload))
    if missing:
        raise TrustListError(f"the trust list lacks {', '.join(missing)}")
    unknown = sorted(set(payload) - PAYLOAD_MEMBERS)
    if unknown:
        raise TrustListError(f"the trust list has unknown member(s) {', '.join(unknown)}")
    if not _text(payload["anchor"]):
        raise TrustListError("anchor must be a non-empty string")
    if not isinstance(payload["development"], bool):
        raise TrustListError("development must be true or false")
    if not _is_int(payload["seq"]):
        raise TrustListError("seq must be a non-negative integer")
    issued_at, expires_at = payload["iat"], payload["exp"]
    if not _is_int(issued_at):
        raise TrustListError("iat must be a NumericDate (integer seconds)")
    if not (_is_int(expires_at) and expires_at > issued_at):
        raise TrustListError("exp must be a NumericDate after iat")
    entries = payload["keys"]
    if not isinstance(entries, list):
        raise TrustListError("keys must be a list")
    keys: dict[str, TrustedKey] = {}
    for index, entry in enumerate(entries):
        key = parse_entry(index, entry)
        if key.kid in keys:
            raise TrustListError(f"key {key.kid} is listed twice")
        keys[key.kid] = key
    return TrustList(
        anchor=payload["anchor"],
        development=payload["development"],
        seq=payload["seq"],
        issued_at=issued_at,
        expires_at=expires_at,
        keys=MappingProxyType(keys),
    )


def _header(anchor_kid: str) -> dict[str, str]:
    return {"alg": "ES256", "kid": anchor_kid, "typ": TYP}


def sign_trust_list(
    payload: Mapping[str, Any], anchor_private_key: ec.EllipticCurvePrivateKey
) -> str:
    """Check the payload, then sign it with the anchor key and return the compact JWS.

    Header and payload are canonical JSON (``canonical_json``). The ECDSA signature is
    deterministic (RFC 6979) and low-S, so one payload and key always give the same text.
    """
    if not isinstance(anchor_private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        anchor_private_key.curve, ec.SECP256R1
    ):
        raise TypeError("anchor_private_key must be a P-256 private key")
    payload = dict(payload)
    parse_payload(payload)
    header = b64url(canonical_json(_header(key_id(anchor_private_key))))
    body = b64url(canonical_json(payload))
    signature = es256_signature(
        anchor_private_key, f"{header}.{body}".encode("ascii"), deterministic=True
    )
    return f"{header}.{body}.{b64url(signature)}"


def decode_part(part: str, what: str) -> bytes:
    try:
        data = b64url_decode(part)
    except (ValueError, binascii.Error) as exc:
        raise TrustListError(f"the trust list's {what} is not base64url") from exc
    if b64url(data) != part:
        raise TrustListError(f"the trust list's {what} is not canonical base64url")
    return data


def read_trust_list(jws: str, anchor_jwk: Mapping[str, Any]) -> TrustList:
    """Verify the trust list's anchor signature and format; return the list.

    Rule: the compact JWS (surrounding whitespace ignored) has exactly the header
    ``{"alg":"ES256","kid":<anchor kid>,"typ":"skills-trust-list+jws"}``, a 64-byte ES256
    signature by the anchor key, and a payload ``parse_payload`` accepts. Expiry is not
    checked here: ``TrustList.expired`` says it, because an expired list still tells which
    keys were trusted (the verdict is then at best unchecked).
    """
    try:
        anchor_key = public_key_from_jwk(anchor_jwk)
    except ValueError as exc:
        raise TrustListError(f"the anchor JWK is not a P-256 public key: {exc}") from exc
    anchor_kid = key_id(anchor_key)
    if not isinstance(jws, str) or len(jws) > MAX_TRUST_LIST_CHARS:
        raise TrustListError("the trust list is not a compact JWS")
    parts = jws.strip().split(".")
    if len(parts) != 3:
        raise TrustListError("the trust list is not a compact JWS (three parts)")
    try:
        header = strict_json(decode_part(parts[0], "header"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TrustListError("the trust list's header is not JSON") from exc
    if not isinstance(header, dict):
        raise TrustListError("the trust list's header is not a JSON object")
    if header.get("typ") != TYP:
        raise TrustListError(f'the JWS is not a trust list (typ must be "{TYP}")')
    if header.get("alg") != "ES256":
        raise TrustListError("the trust list's alg must be ES256")
    if header.get("kid") != anchor_kid:
        raise TrustListError(
            f"the trust list is signed by anchor {header.get('kid')!r}, not by the configured "
            f"anchor {anchor_kid}"
        )
    if header != _header(anchor_kid):
        raise TrustListError("the trust list's header has members other than alg, kid and typ")
    signature = decode_part(parts[2], "signature")
    if len(signature) != 64:
        raise TrustListError("the trust list's signature must be 64 bytes (ES256 r || s)")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        anchor_key.verify(
            encode_dss_signature(r, s),
            f"{parts[0]}.{parts[1]}".encode("ascii"),
            ec.ECDSA(hashes.SHA256()),
        )
    except (InvalidSignature, ValueError) as exc:
        raise TrustListError("the trust list's signature does not verify with the anchor") from exc
    try:
        payload = strict_json(decode_part(parts[1], "payload"), numbers_by_value=True)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TrustListError(f"the trust list's payload is not JSON: {exc}") from exc
    return parse_payload(payload)


def judge_key(
    trust_list: TrustList, kid: str, *, number: str, competence_code: str, issued_at: int
) -> str | None:
    """Whether the list allows key ``kid`` to certify this passport: None, or a reason code.

    Rules, in this order: the kid must be listed ("unknown-key"); a compromised key trusts
    only passports whose number is in ``issued_before_compromise`` ("compromised"); the
    competence code must be in ``competences`` or that be ``*`` ("out-of-scope");
    ``valid_from <= issued_at`` and, when ``valid_to`` is set, ``issued_at < valid_to``
    ("outside-validity"). Active and retired keys are judged alike: retirement stops
    issuing, not verifying.
    """
    key = trust_list.keys.get(kid)
    if key is None:
        return "unknown-key"
    if key.status == "compromised" and number not in key.issued_before_compromise:
        return "compromised"
    if ANY_COMPETENCE not in key.competences and competence_code not in key.competences:
        return "out-of-scope"
    if issued_at < key.valid_from or (key.valid_to is not None and issued_at >= key.valid_to):
        return "outside-validity"
    return None
