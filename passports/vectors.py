"""The public test vectors (docs/test-vectors/): passports, keys, lists and expected verdicts.

Pure: fixed keys (derived from fixed labels), fixed times, deterministic ECDSA (RFC 6979,
low-S), so ``build()`` returns the same bytes on every run and the committed folder can be
checked byte for byte. ``flask passports test-vectors OUTDIR`` writes them.

``index.json`` is a JSON array; each entry has ``name``, ``description``, ``qr`` (the QR
text), ``files`` (paths relative to the index), ``at`` (ISO 8601), ``expected`` (the
verdict) and ``argv`` (the arguments of ``flask passports verify`` that reproduce it, file
paths relative to the index's folder).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from passports import jws, trust
from passports import status_list as bitstring
from passports.moments import numeric_date
from passports.numbers import format_passport_number
from passports.token import (
    CLAIM_COMPETENCE_CODE,
    CLAIM_GRADE,
    CLAIM_HOLDER_NAME,
    CLAIM_IAT,
    CLAIM_NUMBER,
    CLAIM_TOTAL_HUNDREDTHS,
    P256_ORDER,
    PassportClaims,
    es256_signature,
    key_id,
    public_jwk,
    sign_token,
    verification_url,
)

BASE_URL = "https://skills.example.kz"
HOLDER = "Әлібекова Айгерім Нұрланқызы"
ISSUER_ID = "kz-test-centre"
ISSUER_NAME = {
    "kk": "Сынақ құзыреттер орталығы",
    "ru": "Тестовый центр компетенций",
    "en": "Test competence centre",
}
STATUS_URL = f"{BASE_URL}/status/message"

README = """\
# Public test vectors

Passports, keys, trust lists and status lists with the verdict every conforming verifier
must give (docs/trust-list.md §5, docs/passport-token.md §8). Built by
`flask passports test-vectors OUTDIR` from fixed keys and times with deterministic
ECDSA (RFC 6979), so rebuilding reproduces these files byte for byte; the test suite
checks that, and checks every vector with the Python verifier and with the QR page's
JavaScript in Chromium.

`index.json` is a JSON array; each entry has:

- `name`, `description`;
- `qr`: the text of the QR code (the verification link);
- `files`: the files it needs, relative to this folder;
- `at`: the moment to verify at (ISO 8601, UTC);
- `expected`: the verdict;
- `argv`: the arguments of `flask passports verify` (or `skills-passport-verify`) that
  reproduce it, file paths relative to this folder.

Files: `anchor.pub.jwk` (the test trust anchor's public key), `trust-list.jws` (signed by
it), `trust-list-expired.jws` (an older list, past its `exp` at the vectors' moment),
`jwks.json` (the test issuer's published keys), `status.jwt` (its signed status list,
2 bits per passport). The keys are test keys: never trust this anchor in production.

From this folder, for example:

    skills-passport-verify "$(jq -r '.[0].qr' index.json)" \\
        --jwks jwks.json --trust-list trust-list.jws --anchor anchor.pub.jwk \\
        --status status.jwt --at 2026-03-02T09:00:00Z

and every vector, comparing the printed verdict with `expected`:

    for i in $(seq 0 $(($(jq length index.json) - 1))); do
        mapfile -t args < <(jq -r ".[$i].argv[]" index.json)
        echo "$(jq -r ".[$i].name" index.json): expected" \\
            "$(jq -r ".[$i].expected" index.json | tr a-z A-Z)," \\
            "got $(skills-passport-verify "${args[@]}" | head -n 1)"
    done

(`skills-passport-verify` is installed with the package; from a source checkout without
installing it, `python -m passports.verifier` is the same program.)

## Using them with your own verifier

A verifier built from docs/trust-list.md §5 and docs/passport-token.md takes, for each
entry:

- the QR text: `qr` (a verification URL; normalise it as docs/passport-token.md §2 says —
  the `lower-cased-link` vector needs that);
- the moment: `at` as integer seconds since 1970-01-01T00:00:00Z
  (`2026-03-02T09:00:00Z` is 1772442000);
- the files by their role, which `argv` names: `--anchor` the anchor's public JWK (the one
  verifier setting), `--trust-list` the trust list (compact JWS), `--status` the issuer's
  status list (VC-JWT), `--jwks` the issuer's JWK Set. Each file ends with a newline:
  ignore surrounding white space.

Then it compares its verdict with `expected`, one of the lower-case verdicts of
docs/passport-token.md §8. Notes:

- Every verdict here comes from the trust list: a verifier that never reads `jwks.json`
  gets the same verdicts. The JWK Set matters only without a usable list, or for a kid the
  list lacks (docs/trust-list.md §5 step 3).
- `status.jwt` is signed by the active key `3QCEXV3Z` at 2026-03-02T08:00:00Z and expires
  24 hours later: at `at` it is one hour old, so any maximum status age of an hour or more
  gives these verdicts. Its entries: index 3 (`26-000003-5`) revoked, index 4
  (`26-000004-3`) superseded, every other index valid (docs/trust-list.md §5.1 works these
  out bit by bit).
- The trust lists are signed by the anchor `SCKHZHZV`: `trust-list.jws` (`seq` 2) expires
  2026-05-01, `trust-list-expired.jws` (`seq` 1, the same keys) expired 2026-01-01.
- The vectors cover the verdicts and the commonest damage, not every rule: a verifier that
  passes them can still be wrong on a case they lack (say a status list signed by another
  issuer's key); docs/trust-list.md §5 decides those.
"""


AT = "2026-03-02T09:00:00Z"
AT_SECONDS = numeric_date(AT)


def _key(label: str) -> ec.EllipticCurvePrivateKey:
    """A fixed P-256 key derived from a label (test keys only)."""
    digest = hashlib.sha256(f"skills-passport test vector key: {label}".encode()).digest()
    return ec.derive_private_key(
        int.from_bytes(digest, "big") % (P256_ORDER - 1) + 1, ec.SECP256R1()
    )


ANCHOR = _key("anchor")
ACTIVE = _key("issuer active")
RETIRED = _key("issuer retired")
COMPROMISED = _key("issuer compromised")
UNLISTED = _key("issuer not listed")


def _jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    return public_jwk(key.public_key(), key_id(key))


def _sign_es256(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return es256_signature(key, data, deterministic=True)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


# --- lists -----------------------------------------------------------------------------------


COMPROMISE_LISTED = format_passport_number(2026, 6)
REVOKED_SEQUENCE, SUPERSEDED_SEQUENCE = 3, 4


def _entry(key, status="active", **changes) -> dict[str, Any]:
    entry = {
        "kid": key_id(key),
        "jwk": _jwk(key),
        "issuer": {"id": ISSUER_ID, "name": ISSUER_NAME, "status_list": STATUS_URL},
        "competences": ["17", "R1"],
        "valid_from": numeric_date("2024-01-01T00:00:00Z"),
        "valid_to": None,
        "status": status,
    }
    entry.update(changes)
    return entry


def _trust_payload(seq: int, issued: str, expires: str) -> dict[str, Any]:
    return {
        "format": 1,
        "anchor": "KZ-TEST-VECTORS",
        "development": False,
        "seq": seq,
        "iat": numeric_date(issued),
        "exp": numeric_date(expires),
        "keys": [
            _entry(ACTIVE),
            _entry(
                RETIRED,
                "retired",
                valid_from=numeric_date("2023-01-01T00:00:00Z"),
                valid_to=numeric_date("2025-01-01T00:00:00Z"),
            ),
            _entry(
                COMPROMISED,
                "compromised",
                compromised_at=numeric_date("2026-02-15T00:00:00Z"),
                issued_before_compromise=[COMPROMISE_LISTED],
            ),
        ],
    }


def _status_list() -> str:
    """The issuer's signed 2-bit status list (VC-JWT), signed an hour before the moment."""
    signed = AT_SECONDS - 3600
    values = {REVOKED_SEQUENCE: 1, SUPERSEDED_SEQUENCE: 2}
    payload = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": STATUS_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": BASE_URL,
        "validFrom": "2026-03-02T08:00:00Z",
        "validUntil": "2026-03-03T08:00:00Z",
        "credentialSubject": {
            "id": f"{STATUS_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "message",
            "statusSize": 2,
            "encodedList": bitstring.encode(bitstring.build_bitstring(values, 2)),
        },
        "iss": BASE_URL,
        "iat": signed,
        "exp": signed + 86_400,
        "jti": STATUS_URL,
    }
    header = {"alg": "ES256", "kid": key_id(ACTIVE), "typ": "vc+jwt", "cty": "vc"}
    return jws.sign(header, payload, ACTIVE, deterministic=True)


# --- passports -------------------------------------------------------------------------------


def _claims(sequence: int, issued: str, **changes) -> PassportClaims:
    values: dict[str, Any] = {
        "number": format_passport_number(int(issued[:4]), sequence),
        "holder_name": HOLDER,
        "competence_code": "17",
        "total_hundredths": 8750,
        "grade": 5,
        "issued_at": numeric_date(issued),
    }
    values.update(changes)
    return PassportClaims(**values)


def _token(claims: PassportClaims, key=ACTIVE, kid: str | None = None) -> str:
    return sign_token(claims, key, kid or key_id(key), deterministic=True)


def _url(token: str) -> str:
    """The link as printed: ``HTTPS://HOST/V#TOKEN`` (also for tokens made invalid)."""
    prefix = verification_url(BASE_URL, "AA").removesuffix("AA")
    return prefix + token


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _b32decode(token: str) -> bytes:
    return base64.b32decode(token + "=" * (-len(token) % 8))


def _wrong_algorithm_token() -> str:
    """A token whose protected header says ES384 (-35), signed with the ES256 key."""
    protected = cbor2.dumps({1: -35, 4: key_id(ACTIVE).encode()}, canonical=True)
    claims = {
        CLAIM_IAT: numeric_date("2026-03-01T10:00:00Z"),
        CLAIM_NUMBER: format_passport_number(2026, 10),
        CLAIM_HOLDER_NAME: HOLDER,
        CLAIM_COMPETENCE_CODE: "17",
        CLAIM_TOTAL_HUNDREDTHS: 8750,
        CLAIM_GRADE: 5,
    }
    payload = cbor2.dumps(claims, canonical=True)
    structure = cbor2.dumps(["Signature1", protected, b"", payload], canonical=True)
    signature = _sign_es256(ACTIVE, structure)
    return _b32(cbor2.dumps([protected, {}, payload, signature], canonical=True))


def _non_canonical_cbor(token: str) -> str:
    """The same signed token with the protected header's length in a longer form.

    ``84 4D …`` (array of 4, byte string of 13) becomes ``84 58 0D …``: the same value in
    a non-shortest encoding. The signature still verifies; deterministic CBOR is broken.
    """
    raw = _b32decode(token)
    assert raw[:2] == b"\x84\x4d", raw[:2]
    return _b32(b"\x84\x58\x0d" + raw[2:])


def _tampered_byte(token: str) -> str:
    """One base32 character in the middle of the signature changed (another valid letter)."""
    at = len(token) - 30
    replacement = "B" if token[at] != "B" else "C"
    return token[:at] + replacement + token[at + 1 :]


def _tampered_trailing_bits(token: str) -> str:
    """The last character changed only in the bits after the last byte (must be zero)."""
    spare = len(token) * 5 % 8
    assert spare, "the token has no unused trailing bits"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    value = alphabet.index(token[-1])
    return token[:-1] + alphabet[value | 1]


def _cut_off(url: str) -> str:
    """The link cut to a length that unpadded base32 cannot have."""
    for end in range(len(url) - 20, 0, -1):
        fragment = url[:end].split("#", 1)[1]
        if len(fragment) % 8 in (1, 3, 6):
            return url[:end]
    raise AssertionError("no cut-off length")


# --- the vectors -----------------------------------------------------------------------------


def _argv(qr: str, trust_list: str = "trust-list.jws") -> list[str]:
    return [
        qr,
        "--jwks",
        "jwks.json",
        "--trust-list",
        trust_list,
        "--anchor",
        "anchor.pub.jwk",
        "--status",
        "status.jwt",
        "--at",
        AT,
    ]


def _vector(name: str, description: str, qr: str, expected: str, trust_list="trust-list.jws"):
    files = ["anchor.pub.jwk", "jwks.json", trust_list, "status.jwt"]
    return {
        "name": name,
        "description": description,
        "qr": qr,
        "files": files,
        "at": AT,
        "expected": expected,
        "argv": _argv(qr, trust_list),
    }


def vectors() -> list[dict[str, Any]]:
    """Every vector, in a fixed order."""
    base = _token(_claims(1, "2026-03-01T10:00:00Z"))
    profiled = _token(
        _claims(
            2,
            "2026-03-01T10:00:00Z",
            profile=(100, 95, 88, 76, 64, 50, 43, 31, 12, 0),
        )
    )
    return [
        _vector(
            "genuine",
            "A passport without the skills profile (claim -6 is optional), signed by an "
            "active listed key allowed for competence 17; the status list says valid.",
            _url(base),
            "genuine",
        ),
        _vector(
            "genuine-profile-10-sections",
            "A passport carrying the skills profile of a 10-section competence (claim -6).",
            _url(profiled),
            "genuine",
        ),
        _vector(
            "lower-cased-link",
            "The genuine link lower-cased by a chat app or OCR: verifiers upper-case ASCII "
            "letters before decoding (docs/passport-token.md §2).",
            _url(base).lower(),
            "genuine",
        ),
        _vector(
            "tampered-byte",
            "One base32 character of the signature changed: the signature does not verify.",
            _url(_tampered_byte(base)),
            "invalid",
        ),
        _vector(
            "tampered-trailing-bits",
            "The last character changed only in the unused bits after the last byte; "
            "canonical base32 has them zero.",
            _url(_tampered_trailing_bits(base)),
            "invalid",
        ),
        _vector(
            "non-canonical-cbor",
            "The genuine token with the protected header's length encoded in a longer form "
            "(58 0D instead of 4D): the signature holds, deterministic CBOR does not.",
            _url(_non_canonical_cbor(base)),
            "invalid",
        ),
        _vector(
            "wrong-algorithm",
            "The protected header says ES384 (-35); the profile allows exactly {1: -7, 4: kid}.",
            _url(_wrong_algorithm_token()),
            "invalid",
        ),
        _vector(
            "cut-off-link",
            "The genuine link cut short, to a length base32 cannot have.",
            _cut_off(_url(base)),
            "damaged",
        ),
        _vector(
            "unknown-kid",
            "Signed by a key that is in neither the trust list nor the JWK Set.",
            _url(_token(_claims(8, "2026-03-01T10:00:00Z"), UNLISTED)),
            "untrusted",
        ),
        _vector(
            "same-kid-different-key",
            "Carries the listed key's kid but is signed by another key: a forgery.",
            _url(_token(_claims(9, "2026-03-01T10:00:00Z"), UNLISTED, key_id(ACTIVE))),
            "invalid",
        ),
        _vector(
            "expired",
            "Genuine, but past its own exp (claim 4).",
            _url(
                _token(
                    _claims(
                        5,
                        "2024-06-01T10:00:00Z",
                        expires_at=numeric_date("2025-06-01T10:00:00Z"),
                    )
                )
            ),
            "expired",
        ),
        _vector(
            "revoked",
            f"Genuine; the status list marks sequence {REVOKED_SEQUENCE} revoked (value 1).",
            _url(_token(_claims(REVOKED_SEQUENCE, "2026-03-01T10:00:00Z"))),
            "revoked",
        ),
        _vector(
            "superseded",
            f"Genuine; the status list marks sequence {SUPERSEDED_SEQUENCE} superseded (value 2).",
            _url(_token(_claims(SUPERSEDED_SEQUENCE, "2026-03-01T10:00:00Z"))),
            "superseded",
        ),
        _vector(
            "retired-key",
            "Signed by a retired key inside its validity (before valid_to): still genuine.",
            _url(_token(_claims(11, "2024-09-01T10:00:00Z"), RETIRED)),
            "genuine",
        ),
        _vector(
            "compromised-key",
            "Signed by a compromised key; its number is not among issued_before_compromise.",
            _url(_token(_claims(7, "2026-01-10T10:00:00Z"), COMPROMISED)),
            "untrusted",
        ),
        _vector(
            "compromised-key-listed-number",
            "Signed by the compromised key; its number is listed as issued before the "
            "compromise, so it still verifies.",
            _url(_token(_claims(6, "2026-01-10T10:00:00Z"), COMPROMISED)),
            "genuine",
        ),
        _vector(
            "outside-scope",
            "Competence 40 is not among the key's competences (17, R1).",
            _url(_token(_claims(12, "2026-03-01T10:00:00Z", competence_code="40"))),
            "untrusted",
        ),
        _vector(
            "trust-list-expired",
            "The genuine passport judged with a trust list past its exp: at best unchecked.",
            _url(base),
            "unchecked",
            trust_list="trust-list-expired.jws",
        ),
    ]


def build() -> dict[str, bytes]:
    """Every file of docs/test-vectors/ by name."""
    anchor = trust.anchor_public_jwk(ANCHOR)
    current = trust.sign_trust_list(
        _trust_payload(2, "2026-02-01T00:00:00Z", "2026-05-01T00:00:00Z"), ANCHOR
    )
    expired = trust.sign_trust_list(
        _trust_payload(1, "2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z"), ANCHOR
    )
    jwks = {"keys": [_jwk(ACTIVE), _jwk(RETIRED), _jwk(COMPROMISED)]}
    texts = {
        "README.md": README,
        "anchor.pub.jwk": _json_text(anchor),
        "jwks.json": _json_text(jwks),
        "trust-list.jws": current + "\n",
        "trust-list-expired.jws": expired + "\n",
        "status.jwt": _status_list() + "\n",
        "index.json": _json_text(vectors()),
    }
    return {name: text.encode("utf-8") for name, text in texts.items()}


def write(folder: str | Path) -> Mapping[str, bytes]:
    """Write the vectors into ``folder`` (created when missing); return what was written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = build()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files
