"""A test trust anchor and trust lists over given keys (for verifier tests)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from passports import trust

ANCHOR = ec.derive_private_key(0x5EED_A1C4, ec.SECP256R1())
ANCHOR_JWK = trust.anchor_public_jwk(ANCHOR)
# 2100-01-01: lists in tests that are not about expiry never expire
FAR_FUTURE = 4_102_444_800
# a competence centre as a regional list names it
ASTANA = {
    "id": "kz-astana-cc-01",
    "name": {"kk": "Астана орталығы", "ru": "Центр Астаны", "en": "Astana centre"},
    "status_list": "https://skills.example.kz/status/message",
}


def entry(jwk: Mapping[str, Any], issuer_id: str = "test-issuer", **changes) -> dict[str, Any]:
    """A key entry for a public JWK: any competence, valid from 1970, active."""
    result = {
        "kid": jwk["kid"],
        "jwk": dict(jwk),
        "issuer": {
            "id": issuer_id,
            "name": {"kk": "Сынақ орталығы", "ru": "Тестовый центр", "en": "Test centre"},
            "status_list": "https://skills.example.kz/status/message",
        },
        "competences": ["*"],
        "valid_from": 0,
        "valid_to": None,
        "status": "active",
    }
    result.update(changes)
    return result


def payload(entries: Iterable[Mapping[str, Any]], **changes) -> dict[str, Any]:
    """A trust list's payload over ``entries``: sequence 1, issued 2023-11-14, never expiring."""
    result = {
        "format": 1,
        "anchor": "KZ-TEST",
        "development": False,
        "seq": 1,
        "iat": 1_700_000_000,
        "exp": FAR_FUTURE,
        "keys": list(entries),
    }
    result.update(changes)
    return result


def signed_list(entries: Iterable[Mapping[str, Any]], **changes) -> str:
    """A trust list of ``entries`` signed by the test anchor."""
    return trust.sign_trust_list(payload(entries, **changes), ANCHOR)


def list_of_jwks(jwks: Mapping[str, Any], **changes) -> str:
    """A trust list allowing every ES256 key of a JWK Set to certify anything."""
    return signed_list(
        [entry(k) for k in jwks["keys"] if k.get("alg", "ES256") == "ES256"], **changes
    )


def write_files(folder: Path, trust_list: str) -> tuple[Path, Path]:
    """Write the trust list and the anchor's public JWK; return their paths."""
    list_path = folder / "trust-list.jws"
    list_path.write_text(trust_list + "\n", encoding="utf-8")
    anchor_path = folder / "anchor.pub.jwk"
    anchor_path.write_text(json.dumps(ANCHOR_JWK), encoding="utf-8")
    return list_path, anchor_path
