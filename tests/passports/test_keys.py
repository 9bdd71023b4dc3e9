"""Signing keys: encrypted at rest, one active, rotation keeps old passports verifying."""

from __future__ import annotations

import json

import pytest

from passports.models import SigningKey
from passports.services import SigningKeyError, issuance, keys, verification
from passports.settings import current_settings
from passports.token import public_key_from_jwk, read_token_kid, verify_token
from tests.passports.factories import finalised_exam


def test_private_key_is_stored_encrypted_and_bound_to_its_kid(app, session, signing_key):
    stored = signing_key.private_key_encrypted
    assert "PRIVATE KEY" not in stored and "BEGIN" not in stored
    private = keys.open_private_key(current_settings(), stored, signing_key.kid)
    assert (
        private.public_key().public_numbers()
        == public_key_from_jwk(signing_key.public_jwk).public_numbers()
    )
    with pytest.raises(SigningKeyError):
        keys.open_private_key(
            current_settings(), stored, "OTHERKID"
        )  # the kid is the associated data
    app.config["KEY_ENCRYPTION_SECRET"], secret = (
        "another-secret-" * 3,
        app.config["KEY_ENCRYPTION_SECRET"],
    )
    try:
        with pytest.raises(SigningKeyError) as caught:
            keys.signer(session, current_settings())
        assert caught.value.code == "key_undecryptable"
    finally:
        app.config["KEY_ENCRYPTION_SECRET"] = secret


def test_ensure_is_idempotent_and_generate_does_not_steal_the_signing_role(session):
    first, created = keys.ensure_key(session, current_settings())
    again, created_again = keys.ensure_key(session, current_settings())
    assert created and not created_again and again.id == first.id
    spare = keys.generate_key(session, current_settings())
    assert spare.state == "published" and keys.active_key(session).id == first.id
    assert {k["kid"] for k in keys.jwks(session)["keys"]} == {first.kid, spare.kid}


def test_no_key_means_nothing_is_issued(session):
    exam = finalised_exam()
    with pytest.raises(SigningKeyError):
        issuance.issue_for_exam(session, current_settings(), exam.exam)
    from passports.models import Passport

    assert session.query(Passport).count() == 0


def test_rotation_old_passports_still_verify_new_ones_use_the_new_key(session, signing_key):
    old_exam = finalised_exam()
    old = issuance.issue_for_exam(session, current_settings(), old_exam.exam).new_passports
    new_key, retired = keys.rotate_key(session, current_settings())
    assert retired.id == signing_key.id and retired.state == "retired"
    assert [k.kid for k in session.query(SigningKey).filter_by(active=True)] == [new_key.kid]

    new = issuance.issue_for_exam(session, current_settings(), finalised_exam().exam).new_passports
    assert {read_token_kid(p.token) for p in old} == {signing_key.kid}
    assert {read_token_kid(p.token) for p in new} == {new_key.kid}
    published = {k["kid"]: public_key_from_jwk(k) for k in keys.jwks(session)["keys"]}
    for passport in old + new:
        assert verify_token(passport.token, published).number == passport.number
        assert verification.verify(session, current_settings(), passport.token).status == "genuine"


def test_jwks_endpoint_publishes_public_parts_with_cors_and_caching(client, session, signing_key):
    keys.rotate_key(session, current_settings())
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    body = json.loads(response.data)
    assert len(body["keys"]) == 2
    for jwk in body["keys"]:
        assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
        public_key_from_jwk(jwk)
        one = client.get(f"/.well-known/jwks/{jwk['kid']}.json")
        assert one.status_code == 200 and one.mimetype == "application/jwk+json"
        assert json.loads(one.data) == jwk and one.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/.well-known/jwks/NOSUCHKY.json").status_code == 404


def test_keys_cli(app, session):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["keys", "ensure"]).output
    assert "(ES256)" in created and "(RS256)" in created and created.count("created") == 2
    assert runner.invoke(args=["keys", "ensure"]).output.count("signing key is") == 2
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "retired" in result.output and "ES256" in result.output
    listed = json.loads(runner.invoke(args=["keys", "list", "--json"]).output)
    assert sorted((row["alg"], row["state"]) for row in listed) == [
        ("ES256", "active"),
        ("ES256", "retired"),
        ("RS256", "active"),
    ]
    rotated = runner.invoke(args=["keys", "rotate", "--alg", "RS256"])
    assert rotated.exit_code == 0 and "RS256" in rotated.output and "retired" in rotated.output
    jwks = json.loads(runner.invoke(args=["keys", "jwks"]).output)
    assert len(jwks["keys"]) == 4 and all("d" not in k for k in jwks["keys"])
    assert sorted(k["alg"] for k in jwks["keys"]) == ["ES256", "ES256", "RS256", "RS256"]
    generated = runner.invoke(args=["keys", "generate"])
    assert "published" in generated.output
    assert runner.invoke(args=["keys", "generate", "--alg", "HS256"]).exit_code == 2


def test_each_algorithm_has_its_own_active_key_and_rotation(session, signing_key):
    rsa_key, created = keys.ensure_key(session, current_settings(), keys.RS256)
    assert created and rsa_key.kty == "RSA" and rsa_key.alg == "RS256"
    assert signing_key.kty == "EC" and signing_key.alg == "ES256"
    assert keys.active_key(session).id == signing_key.id  # the passport key is untouched
    assert keys.active_key(session, keys.RS256).id == rsa_key.id
    private = keys.open_private_key(
        current_settings(), rsa_key.private_key_encrypted, rsa_key.kid, keys.RS256
    )
    assert private.key_size == 2048 and private.public_key().public_numbers().e == 65537
    with pytest.raises(SigningKeyError) as caught:  # sealed RSA key asked for as ES256
        keys.open_private_key(current_settings(), rsa_key.private_key_encrypted, rsa_key.kid)
    assert caught.value.code == "key_wrong_type"

    new_rsa, retired = keys.rotate_key(session, current_settings(), keys.RS256)
    assert retired.id == rsa_key.id and retired.state == "retired"
    assert keys.active_key(session, keys.RS256).id == new_rsa.id
    assert keys.active_key(session).id == signing_key.id and signing_key.state == "active"
    # token and status-list verification see only the ES256 keys
    assert set(keys.public_keys(session)) == {signing_key.kid}
    assert [k.kid for k in keys.all_keys(session)] == [signing_key.kid]
    published = {k["kid"]: k for k in keys.jwks(session)["keys"]}
    assert set(published) == {signing_key.kid, rsa_key.kid, new_rsa.kid}
    for kid in (rsa_key.kid, new_rsa.kid):
        assert set(published[kid]) == {"kty", "n", "e", "kid", "alg", "use"}
        assert (published[kid]["kty"], published[kid]["alg"], published[kid]["use"]) == (
            "RSA",
            "RS256",
            "sig",
        )
    assert published[signing_key.kid]["alg"] == "ES256"
