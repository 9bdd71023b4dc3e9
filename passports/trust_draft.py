"""Trust list drafts: the unsigned list the anchor holder edits (``flask trust …``). Pure.

A draft is the payload of docs/trust-list.md §4 without ``iat`` and ``exp`` (they are set
when it is signed); its ``seq`` is the seq of the last list signed from it (0 before the
first). Every operation returns a new draft and leaves the one given unchanged; every
result is checked against the format, so a draft can always be signed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from passports.token import key_id, public_jwk, public_key_from_jwk
from passports.trust import (
    FORMAT,
    PAYLOAD_MEMBERS,
    TrustList,
    TrustListError,
    decode_part,
    parse_entry,
    parse_payload,
    strict_json,
)

_DRAFT_MEMBERS = PAYLOAD_MEMBERS - {"iat", "exp"}


def new_draft(anchor: str, development: bool = False) -> dict[str, Any]:
    """Return an empty draft for anchor ``anchor`` (seq 0, no keys)."""
    draft = {"format": FORMAT, "anchor": anchor, "development": development, "seq": 0, "keys": []}
    check_draft(draft)
    return draft


def check_draft(draft: object) -> TrustList:
    """Check a draft as a payload would be checked (``iat``/``exp`` aside); return it parsed."""
    if not isinstance(draft, dict):
        raise TrustListError("the draft is not a JSON object")
    unknown = sorted(set(draft) - _DRAFT_MEMBERS)
    if unknown:
        raise TrustListError(f"the draft has unknown member(s) {', '.join(unknown)}")
    return parse_payload({**draft, "iat": 0, "exp": 1})


def read_draft(text: str) -> dict[str, Any]:
    """Parse and check a draft's JSON text."""
    try:
        draft = strict_json(text)
    except ValueError as exc:
        raise TrustListError(f"the draft is not JSON: {exc}") from exc
    check_draft(draft)
    return draft


def key_entry(
    jwk: Mapping[str, Any],
    *,
    issuer_id: str,
    issuer_name: Mapping[str, str],
    status_list: str | None,
    competences: list[str],
    valid_from: int,
    valid_to: int | None = None,
) -> dict[str, Any]:
    """Return an active key entry for a public JWK (its kid is the JWK's, else its thumbprint)."""
    try:
        public_key = public_key_from_jwk(jwk)
    except ValueError as exc:
        raise TrustListError(f"not a P-256 public key: {exc}") from exc
    kid = jwk.get("kid") or key_id(public_key)
    entry = {
        "kid": kid,
        "jwk": public_jwk(public_key, kid),
        "issuer": {"id": issuer_id, "name": dict(issuer_name), "status_list": status_list},
        "competences": list(competences),
        "valid_from": valid_from,
        "valid_to": valid_to,
        "status": "active",
    }
    parse_entry(0, entry)
    return entry


def add_keys(draft: Mapping[str, Any], entries: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Return the draft with the entries appended; a kid already listed is refused."""
    listed = {entry["kid"] for entry in draft["keys"]}
    for entry in entries:
        if entry["kid"] in listed:
            raise TrustListError(
                f"key {entry['kid']} is already in the draft (retire or compromise it instead)"
            )
        listed.add(entry["kid"])
    changed = {**draft, "keys": [*draft["keys"], *map(dict, entries)]}
    check_draft(changed)
    return changed


def _change_key(
    draft: Mapping[str, Any], kid: str, change: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    keys = [dict(entry) for entry in draft["keys"]]
    matches = [entry for entry in keys if entry["kid"] == kid]
    if not matches:
        raise TrustListError(f"key {kid} is not in the draft")
    change(matches[0])
    changed = {**draft, "keys": keys}
    check_draft(changed)
    return changed


def retire_key(draft: Mapping[str, Any], kid: str, at: int) -> dict[str, Any]:
    """Return the draft with key ``kid`` retired at ``at``.

    Rule: the key keeps verifying what it signed before ``at``: its ``valid_to`` becomes
    ``at`` unless it already ends earlier. A compromised key cannot be retired.
    """

    def retire(entry: dict[str, Any]) -> None:
        if entry["status"] == "compromised":
            raise TrustListError(f"key {kid} is compromised; it cannot be retired")
        if at <= entry["valid_from"]:
            raise TrustListError(f"key {kid}: the retirement time is not after its valid_from")
        entry["status"] = "retired"
        if entry["valid_to"] is None or entry["valid_to"] > at:
            entry["valid_to"] = at

    return _change_key(draft, kid, retire)


def compromise_key(
    draft: Mapping[str, Any], kid: str, at: int, issued_before: list[str]
) -> dict[str, Any]:
    """Return the draft with key ``kid`` compromised since ``at``.

    Rule: the key then verifies only passports whose number is in ``issued_before`` (the
    issuer's records of what it signed before the compromise); a second call replaces the
    time and the numbers.
    """
    numbers = sorted(set(issued_before))

    def compromise(entry: dict[str, Any]) -> None:
        entry["status"] = "compromised"
        entry["compromised_at"] = at
        entry["issued_before_compromise"] = numbers

    return _change_key(draft, kid, compromise)


def payload_of(draft: Mapping[str, Any], issued_at: int, expires_at: int) -> dict[str, Any]:
    """Return the payload to sign from a draft: the next seq, the given iat and exp."""
    check_draft(draft)
    payload = {**draft, "seq": draft["seq"] + 1, "iat": issued_at, "exp": expires_at}
    parse_payload(payload)
    return payload


def unverified_payload(jws: str) -> Any:
    """Return a trust list's payload WITHOUT checking its signature (for display only)."""
    parts = jws.strip().split(".") if isinstance(jws, str) else []
    if len(parts) != 3:
        raise TrustListError("not a compact JWS (three parts)")
    try:
        return strict_json(decode_part(parts[1], "payload"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TrustListError(f"the trust list's payload is not JSON: {exc}") from exc
