"""Signed status lists and the offline verifier (``flask passports verify``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from passports import jws
from passports import status_list as bitstring
from passports.offline import verify_offline
from passports.services import PassportError, issuance, keys, status, verification
from passports.settings import current_settings
from passports.token import public_key_from_jwk
from tests.passports import trust_helpers
from tests.passports.factories import finalised_exam


@given(
    st.dictionaries(st.integers(0, 300_000), st.integers(1, 3), max_size=50),
    st.sampled_from([1, 2]),
)
def test_bitstring_round_trip(entries, size):
    entries = {i: v & ((1 << size) - 1) or 1 for i, v in entries.items()}
    bits = bitstring.build_bitstring(entries, size)
    assert len(bits) * 8 >= bitstring.MIN_BITS and len(bits) * 8 % bitstring.MIN_BITS == 0
    decoded = bitstring.decode(bitstring.encode(bits))
    assert decoded == bits
    for index, value in entries.items():
        assert bitstring.entry(decoded, index, size) == value
    free = next(i for i in range(10**6) if i not in entries)
    assert bitstring.entry(decoded, free, size) == 0
    with pytest.raises(IndexError):
        bitstring.entry(decoded, len(decoded) * 8 // size, size)


def test_bit_order_is_most_significant_first():
    bits = bitstring.build_bitstring({0: 1, 9: 1}, 1)
    assert bits[:2] == bytes([0b1000_0000, 0b0100_0000])
    two = bitstring.build_bitstring({1: 2}, 2)
    assert two[0] == 0b0010_0000
    assert bitstring.encode(bits).startswith("u")


@pytest.mark.parametrize("encoded", ["", "u", "u!!!!", "uAAAA", "not gzip"])
def test_broken_lists_are_refused(encoded):
    with pytest.raises(bitstring.StatusListInvalid):
        bitstring.decode(encoded)


def _jwks_file(tmp_path, session):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.jwks(session)), encoding="utf-8")
    return path


@pytest.fixture
def three(app, session, signing_key):
    """Three passports: one stays genuine, one is revoked, one superseded; plus one expired."""
    exam = finalised_exam()
    genuine, revoked, superseded = issuance.issue_for_exam(
        session, current_settings(), exam.exam
    ).new_passports
    issuance.revoke(session, revoked, "Подлог")
    newer = issuance.reissue(session, current_settings(), superseded).new
    app.config["PASSPORT_VALIDITY_YEARS"] = 1
    try:
        expired = issuance.issue_for_exam(
            session, current_settings(), finalised_exam().exam, now=datetime(2020, 1, 1, tzinfo=UTC)
        ).new_passports[0]
    finally:
        app.config["PASSPORT_VALIDITY_YEARS"] = 0
    return {
        "genuine": genuine,
        "revoked": revoked,
        "superseded": superseded,
        "newer": newer,
        "expired": expired,
    }


@pytest.mark.parametrize("purpose", ["message", "revocation"])
def test_signed_list_says_what_the_server_says(client, session, three, purpose):
    response = client.get(f"/status/{purpose}")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    listed = status.read_list(response.get_data(as_text=True), keys.public_keys(session))
    assert listed.purpose == purpose
    expected = {
        "genuine": "valid",
        "revoked": "revoked",
        "superseded": "superseded" if purpose == "message" else "revoked",
        "newer": "valid",
        "expired": "valid",  # expiry is in the token, not the list
    }
    for name, passport in three.items():
        assert listed.status(passport.sequence) == expected[name], name


def test_a_tampered_status_list_is_refused(session, three):
    text = status.signed_list(session, current_settings(), "message")
    header, payload, signature = text.split(".")
    with pytest.raises(PassportError):
        status.read_list(f"{header}.{payload[:-2]}AA.{signature}", keys.public_keys(session))
    with pytest.raises(PassportError):
        status.read_list(text, {})


def test_offline_verification_matches_the_api(client, session, three):
    public = keys.public_keys(session)
    listed = status.read_list(status.signed_list(session, current_settings(), "message"), public)
    for name, passport in three.items():
        url = verification.passport_url(passport, current_settings().public_base_url)
        offline = verify_offline(
            url,
            public,
            listed,
            trust_list=trust_helpers.list_of_jwks(keys.jwks(session)),
            anchor=trust_helpers.ANCHOR_JWK,
        )
        online = client.post("/api/v1/verify", json={"url": url}).get_json()["status"]
        expected = "genuine" if name == "newer" else name
        assert offline.status == online == expected, name
        assert offline.status_checked
    # no list: the signature is genuine, but nothing says whether it was revoked
    assert verify_offline(three["revoked"].token, public).status == "unchecked"
    assert verify_offline(three["genuine"].token, public).status == "unchecked"


def test_an_expired_status_list_is_not_relied_on(session, three):
    public = keys.public_keys(session)
    listed = status.read_list(status.signed_list(session, current_settings(), "message"), public)
    later = listed.expires_at + 1
    result = verify_offline(three["revoked"].token, public, listed, now=later)
    assert not result.status_checked
    assert "expired" in result.detail
    assert result.status == "unchecked"
    current = verify_offline(three["revoked"].token, public, listed, now=listed.expires_at - 60)
    assert current.status == "revoked" and current.status_checked


@pytest.mark.parametrize(
    ("name", "exit_code", "shown"),
    [
        ("genuine", 0, "GENUINE"),
        ("revoked", 4, "REVOKED"),
        ("superseded", 5, "SUPERSEDED"),
        ("expired", 6, "EXPIRED"),
    ],
)
def test_verify_cli_with_jwks_and_status_files(
    app, session, tmp_path, three, name, exit_code, shown
):
    jwks = _jwks_file(tmp_path, session)
    status_file = tmp_path / "status.jwt"
    trust_file, anchor_file = trust_helpers.write_files(
        tmp_path, trust_helpers.list_of_jwks(keys.jwks(session))
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["passports", "status-list", "-o", str(status_file)]).exit_code == 0
    url = verification.passport_url(three[name], current_settings().public_base_url)
    files = ["--jwks", str(jwks), "--status", str(status_file)]
    trusted = [*files, "--trust-list", str(trust_file), "--anchor", str(anchor_file)]
    result = runner.invoke(args=["passports", "verify", url, *trusted])
    assert result.exit_code == exit_code, result.output
    assert result.output.startswith(shown)
    data = json.loads(runner.invoke(args=["passports", "verify", url, *trusted, "--json"]).output)
    assert data["status"] == name and data["claims"]["number"] == three[name].number
    # without a trust list nothing says the key may certify it: at best unchecked
    untrusted = runner.invoke(args=["passports", "verify", url, *files])
    assert untrusted.exit_code == (7 if name == "genuine" else exit_code), untrusted.output
    assert "no trust list given" in untrusted.output


@pytest.mark.parametrize(
    ("name", "exit_code", "shown"),
    [("genuine", 0, "GENUINE"), ("revoked", 4, "REVOKED"), ("superseded", 5, "SUPERSEDED")],
)
def test_verify_cli_on_the_deployment_reads_its_own_status_list(
    app, session, tmp_path, three, name, exit_code, shown
):
    """No --status and no --jwks: the passport's revocation is what this deployment's
    records say now, as on the page and the API (a fresh clone's demo passport is genuine)."""
    trust_file, anchor_file = trust_helpers.write_files(
        tmp_path, trust_helpers.list_of_jwks(keys.jwks(session))
    )
    runner = app.test_cli_runner()
    url = verification.passport_url(three[name], current_settings().public_base_url)
    trusted = ["--trust-list", str(trust_file), "--anchor", str(anchor_file)]
    result = runner.invoke(args=["passports", "verify", url, *trusted])
    assert result.exit_code == exit_code, result.output
    assert result.output.startswith(shown)
    # another issuer's JWK Set: this deployment's status list is not its answer
    jwks = _jwks_file(tmp_path, session)
    other = runner.invoke(args=["passports", "verify", url, *trusted, "--jwks", str(jwks)])
    assert other.exit_code == 7 and "no status list given" in other.output


def test_verify_cli_without_files_uses_the_deployments_keys(app, session, three, tmp_path):
    runner = app.test_cli_runner()
    token = three["genuine"].token
    # the installed trust list and this deployment's current status list
    genuine = runner.invoke(args=["passports", "verify", token])
    assert genuine.exit_code == 0 and genuine.output.startswith("GENUINE"), genuine.output
    tampered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    result = runner.invoke(args=["passports", "verify", tampered, "--json"])
    assert result.exit_code == 3 and json.loads(result.output)["status"] == "invalid"
    cut_off = runner.invoke(args=["passports", "verify", token[:-40], "--json"])
    assert cut_off.exit_code == 8 and json.loads(cut_off.output)["status"] == "damaged"
    # a JWK Set of another issuer verifies nothing
    other = tmp_path / "other.json"
    from passports.token import key_id, new_signing_key, public_jwk

    foreign = new_signing_key()
    other.write_text(json.dumps({"keys": [public_jwk(foreign.public_key(), key_id(foreign))]}))
    assert runner.invoke(args=["passports", "verify", token, "--jwks", str(other)]).exit_code == 3
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = runner.invoke(args=["passports", "verify", token, "--jwks", str(bad)])
    assert result.exit_code == 1 and "--jwks" in result.output


def test_jwks_from_the_endpoint_verifies_offline(client, three):
    published = client.get("/.well-known/jwks.json").get_json()
    public = {k["kid"]: public_key_from_jwk(k) for k in published["keys"]}
    result = verify_offline(three["genuine"].token, public)
    assert result.status == "unchecked" and result.claims is not None


def test_the_list_is_valid_for_the_allowed_age_and_older_ones_are_not_relied_on(
    app, session, three, monkeypatch
):
    monkeypatch.setitem(app.config, "STATUS_LIST_MAX_AGE_HOURS", 6)
    public = keys.public_keys(session)
    listed = status.read_list(status.signed_list(session, current_settings(), "message"), public)
    assert listed.expires_at - listed.signed_at == 6 * 3600
    token = three["revoked"].token
    fresh = verify_offline(token, public, listed, now=listed.signed_at + 3600, max_age=3 * 3600)
    assert (fresh.status, fresh.status_checked) == ("revoked", True)
    stale = verify_offline(token, public, listed, now=listed.signed_at + 4 * 3600, max_age=3 * 3600)
    assert (stale.status, stale.status_checked) == ("unchecked", False)
    assert "too old" in stale.detail


@pytest.mark.parametrize("hours", [0, -1, "24"])
def test_the_allowed_age_must_be_whole_hours(hours):
    from flask import Flask

    from app.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="STATUS_LIST_MAX_AGE_HOURS"):
        load_config(
            Flask(__name__),
            {"STATUS_LIST_MAX_AGE_HOURS": hours, "DATABASE_URL": "sqlite://"},
        )


@pytest.mark.parametrize(
    ("iat", "exp", "expected"),
    [
        (1_765_000_000.0, 1_765_086_400.0, (1_765_000_000, 1_765_086_400)),
        (1_765_000_000, 1.7650864e9, (1_765_000_000, 1_765_086_400)),
        (1_765_000_000.5, 1_765_086_400, None),
        (1_765_000_000, 2**53, None),
        (True, 1_765_086_400, None),
    ],
)
def test_status_list_times_are_read_by_value_as_the_page_reads_them(iat, exp, expected):
    """verify.js reads iat/exp with Number.isSafeInteger, which cannot tell 5.0 from 5."""
    key = ec.derive_private_key(0x5EED, ec.SECP256R1())
    payload = {
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "credentialSubject": {
            "statusPurpose": "message",
            "encodedList": bitstring.encode(bitstring.build_bitstring({}, 2)),
        },
        "iat": iat,
        "exp": exp,
    }
    text = jws.sign({"kid": "K"}, payload, key)
    if expected is None:
        with pytest.raises(bitstring.StatusListInvalid):
            bitstring.read_signed_list(text, {"K": key.public_key()})
    else:
        read = bitstring.read_signed_list(text, {"K": key.public_key()})
        assert (read.signed_at, read.expires_at) == expected
        assert type(read.signed_at) is int and type(read.expires_at) is int


def test_the_status_list_reads_only_the_passports_no_longer_valid(session):
    # every QR page reads them: a partial index keeps that from scanning every passport
    if session.bind.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's planner scans a tiny test table whatever the indexes")
    query = str(status.NO_LONGER_VALID_QUERY.compile(session.bind))
    plan = " ".join(str(row[-1]) for row in session.execute(text("EXPLAIN QUERY PLAN " + query)))
    assert "ix_passports_no_longer_valid" in plan
