"""The QR page embeds what its verdict needs (``#verify-data``): the JWK Set and the signed
status list the site publishes at that moment, so the page asks for nothing but the API."""

from __future__ import annotations

import json
from datetime import timedelta

from app.db import utcnow
from passports.services import issuance, keys, status
from passports.settings import current_settings
from passports.token import public_key_from_jwk
from tests.factories import CentreFactory

DATA_OPEN = '<script type="application/json" id="verify-data">'


def embedded(client) -> dict:
    body = client.get("/V").get_data(as_text=True)
    start = body.index(DATA_OPEN) + len(DATA_OPEN)
    return json.loads(body[start : body.index("</script>", start)])


def test_the_page_embeds_the_keys_and_the_status_list_the_site_publishes(client, session, issued):
    data = embedded(client)
    assert set(data) == {"anchor", "trustList", "jwks", "statusList"}
    published = client.get("/.well-known/jwks.json").get_json()["keys"]
    # the page checks ES256 tokens and status lists: the credential's RSA key stays out
    assert {k["alg"] for k in published} == {"ES256", "RS256"}
    assert data["jwks"] == {"keys": [k for k in published if k["alg"] == "ES256"]}
    assert data["statusList"] == client.get("/status/message").get_data(as_text=True)
    listed = status.read_list(data["statusList"], keys.public_keys(session))
    assert listed.purpose == "message"
    assert listed.status(issued.passport.sequence) == "valid"
    # the signed list is kept, not signed again per request (ES256 signatures differ each time)
    assert embedded(client)["statusList"] == data["statusList"]


def test_after_a_revocation_the_page_embeds_a_list_that_says_so(client, session, issued):
    before = embedded(client)["statusList"]
    issuance.revoke(session, issued.passport, "Выдан по ошибке")
    session.flush()
    after = embedded(client)["statusList"]
    assert after != before
    assert after == client.get("/status/message").get_data(as_text=True)
    listed = status.read_list(after, keys.public_keys(session))
    assert listed.status(issued.passport.sequence) == "revoked"


def test_a_kept_list_is_signed_again_after_its_ttl_and_after_a_key_rotation(session, issued):
    settings = current_settings()
    signed = utcnow()
    first = status.current_list(session, settings, "message", now=signed)
    later = signed + status.RESIGN_AFTER - timedelta(seconds=1)
    assert status.current_list(session, settings, "message", now=later) == first
    expired = signed + status.RESIGN_AFTER
    renewed = status.current_list(session, settings, "message", now=expired)
    assert renewed != first
    assert status.read_list(renewed, keys.public_keys(session)).signed_at == int(
        expired.timestamp()
    )
    new_key, _retired = keys.rotate_key(session, settings)
    rotated = status.current_list(session, settings, "message", now=expired)
    assert rotated != renewed
    # signed by the new key: it verifies with that key alone
    status.read_list(rotated, {new_key.kid: public_key_from_jwk(new_key.public_jwk)})


def test_a_kept_list_is_signed_again_when_an_older_default_key_signs_again(session, issued):
    # a centre's own key is the newest active key; the list is signed by the default key
    settings = current_settings()
    moment = utcnow()
    first_default = keys.active_key(session)
    second_default, _retired = keys.rotate_key(session, settings)
    keys.generate_key(session, settings, activate=True, centre=CentreFactory())
    before = status.current_list(session, settings, "message", now=moment)
    status.read_list(before, {second_default.kid: public_key_from_jwk(second_default.public_jwk)})
    keys.activate_key(session, settings, first_default.kid)
    after = status.current_list(session, settings, "message", now=moment)
    status.read_list(after, {first_default.kid: public_key_from_jwk(first_default.public_jwk)})


def test_without_a_signing_key_the_page_embeds_no_list_and_fetches_it(client, session):
    keys.clear_cache(current_settings())
    data = embedded(client)
    assert data["statusList"] is None
    assert data["jwks"] == {"keys": []}


def test_the_verify_api_does_not_read_the_sign_in_session(client, sign_in, monkeypatch, issued):
    from app.auth import views

    looked_up = []
    find = views.sessions.find_session
    monkeypatch.setattr(
        views.sessions, "find_session", lambda *args: looked_up.append(1) or find(*args)
    )
    sign_in("admin")
    looked_up.clear()
    answer = client.post("/api/v1/verify", json={"token": issued.passport.token})
    assert answer.get_json()["status"] == "genuine"
    assert looked_up == []  # the page calls it with the visitor's cookies: nothing to look up
    assert client.get("/dashboard").status_code == 200
    assert looked_up == [1]
