"""The trust list on the deployment: install, status, /readyz, the well-known URL, the
production refusal, issuing within the key's scope, server verdicts and ``reissue --key``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import delete, func, select

from app.db import utcnow
from assessments.models import AuditEntry
from passports import trust
from passports.models import Passport, TrustList
from passports.services import PassportError, issuance, keys, trust_lists, verification
from passports.settings import current_settings
from tests.passports.factories import finalised_exam


def api(client, url: str) -> dict:
    return client.post("/api/v1/verify", json={"url": url}).get_json()


def url_of(passport: Passport) -> str:
    return verification.passport_url(passport, current_settings().public_base_url)


def signed_list(session, *, seq: int | None = None, days: float = 30, edit=None) -> str:
    """A list signed by the test app's (development) anchor: every key, then ``edit(entry)``."""
    settings = current_settings()
    now = utcnow().replace(microsecond=0)
    installed = trust_lists.current_row(session)
    number = seq if seq is not None else (installed.seq + 1 if installed else 1)
    payload = trust_lists.development_payload(session, settings, number, now)
    payload["exp"] = int((now + timedelta(days=days)).timestamp())
    if days <= 0:
        payload["iat"] = payload["exp"] - 3600
    for entry in payload["keys"]:
        if edit is not None:
            edit(entry)
    return trust.sign_trust_list(payload, trust_lists._development_key(settings))


def install(session, text: str) -> TrustList:
    return trust_lists.install(session, current_settings(), text, force=True)


# --- install and status ----------------------------------------------------------------


def test_install_takes_only_a_newer_list_signed_by_the_anchor(app, session, signing_key, tmp_path):
    runner = app.test_cli_runner()
    before = trust_lists.current_row(session).seq
    newer = tmp_path / "newer.jws"
    newer.write_text(signed_list(session, seq=before + 5))
    result = runner.invoke(args=["trust", "install", str(newer)])
    assert result.exit_code == 0, result.output
    assert f"installed trust list {before + 5} (1 keys" in result.output
    assert "Z)" in result.output and "+00:00" not in result.output  # as trust status writes it
    assert trust_lists.current_row(session).seq == before + 5
    count = session.scalar(select(func.count()).select_from(TrustList))

    older = tmp_path / "older.jws"
    older.write_text(signed_list(session, seq=before + 5))
    result = runner.invoke(args=["trust", "install", str(older)])
    assert result.exit_code == 1
    assert f"not newer than the installed list's {before + 5}" in result.output
    assert "--force" in result.output
    assert session.scalar(select(func.count()).select_from(TrustList)) == count  # nothing added

    result = runner.invoke(args=["trust", "install", "--force", str(older)])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(TrustList)) == count + 1


def test_install_refuses_a_list_of_another_anchor_a_broken_one_and_an_expired_one(
    app, session, signing_key, tmp_path
):
    runner = app.test_cli_runner()
    settings = current_settings()
    now = utcnow().replace(microsecond=0)
    payload = trust_lists.development_payload(session, settings, 99, now)
    foreign = tmp_path / "foreign.jws"
    foreign.write_text(trust.sign_trust_list(payload, trust.new_anchor_key()))
    broken = tmp_path / "broken.jws"
    broken.write_text("not.a.jws")
    expired = tmp_path / "expired.jws"
    expired.write_text(signed_list(session, days=-1))
    count = session.scalar(select(func.count()).select_from(TrustList))
    for path, message in (
        (foreign, "The trust list is not valid"),
        (broken, "The trust list is not valid"),
        (expired, "The trust list expired at"),
        (tmp_path / "missing.jws", "cannot read"),
    ):
        result = runner.invoke(args=["trust", "install", str(path)])
        assert result.exit_code == 1, path
        assert str(path) in result.output and message in result.output, result.output
    assert session.scalar(select(func.count()).select_from(TrustList)) == count


def test_status_prints_seq_expiry_and_keys_and_warns_a_week_before_expiry(
    app, session, signing_key
):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["trust", "status"])
    assert result.exit_code == 0, result.output
    seq = trust_lists.current_row(session).seq
    assert f"trust list {seq} (development): ok" in result.output
    assert f"{signing_key.kid}\tactive\t" in result.output
    assert "warning" not in result.output

    install(session, signed_list(session, days=3))
    result = runner.invoke(args=["trust", "status", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["state"] == "expiring" and data["seq"] == seq + 1
    assert [k["kid"] for k in data["keys"]] == [signing_key.kid]
    assert "expires within 7 days" in result.output

    session.execute(delete(TrustList))
    trust_lists.clear_cache(current_settings())
    result = runner.invoke(args=["trust", "status"])
    assert result.exit_code == 1
    assert "no trust list is installed" in result.output


# --- /readyz and the well-known URL ----------------------------------------------------


def test_readyz_reports_the_list_and_fails_only_for_a_development_list_in_production(
    app, client, session, signing_key, monkeypatch
):
    body = client.get("/readyz").get_json()
    assert body["status"] == "ok" and body["trust_list"]["state"] == "ok"
    assert "warnings" not in body

    install(session, signed_list(session, days=2))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["trust_list"]["state"] == "expiring"
    assert "expires within 7 days" in response.get_json()["warnings"][0]

    install(session, signed_list(session, days=-1))
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["trust_list"]["state"] == "expired"

    monkeypatch.setitem(app.config, "ENVIRONMENT", "production")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "development trust list" in response.get_json()["warnings"][0]

    session.execute(delete(TrustList))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["trust_list"]["state"] == "missing"
    assert "no trust list is installed" in response.get_json()["warnings"][0]


def test_well_known_serves_the_installed_list_parsed_once(
    client, session, signing_key, monkeypatch
):
    text = signed_list(session)
    install(session, text)
    calls = []
    real = trust.read_trust_list
    monkeypatch.setattr(trust, "read_trust_list", lambda *a: calls.append(1) or real(*a))
    trust_lists.clear_cache(current_settings())

    path = "/.well-known/skills-passport/trust-list.jws"
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == text
    assert response.headers["Content-Type"] == "application/jose"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    etag = response.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    for _ in range(5):
        client.get(path)
        api(client, url_of(finalised_passport(session)))
    assert len(calls) == 1  # parsed once for this installed list, not per request

    install(session, signed_list(session))
    changed = client.get(path)
    assert changed.headers["ETag"] != etag

    session.execute(delete(TrustList))
    trust_lists.clear_cache(current_settings())
    assert client.get(path).status_code == 404


def finalised_passport(session) -> Passport:
    existing = session.scalars(select(Passport).limit(1)).first()
    if existing is not None:
        return existing
    exam = finalised_exam()
    return issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports[0]


# --- production ------------------------------------------------------------------------


def test_production_refuses_to_start_without_an_anchor_or_with_a_development_one(
    tmp_path, monkeypatch
):
    from app import create_app
    from app.config import ConfigError
    from tests.conftest import TEST_SECRETS, development_anchor_path

    monkeypatch.delenv("TRUST_ANCHOR_JWK", raising=False)
    config = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        # the rate limiter is shared by every app object: keep it off as in the test app
        "RATELIMIT_ENABLED": False,
        **TEST_SECRETS,
    }
    with pytest.raises(ConfigError, match="without TRUST_ANCHOR_JWK"):
        create_app(config)
    dev_jwk = trust.anchor_public_path(development_anchor_path())
    with pytest.raises(ConfigError, match="development trust anchor"):
        create_app({**config, "TRUST_ANCHOR_JWK": str(dev_jwk)})
    with pytest.raises(ConfigError, match="development trust anchor"):
        create_app({**config, "TRUST_ANCHOR_JWK": dev_jwk.read_text()})
    national = trust.anchor_public_jwk(trust.new_anchor_key())
    app = create_app({**config, "TRUST_ANCHOR_JWK": json.dumps(national)})
    assert json.loads(app.config["TRUST_ANCHOR_JWK"])["kid"] == national["kid"]
    # an anchor that verifies nothing would make every verdict quietly unchecked
    rsa_like = {"kty": "RSA", "n": "AQAB", "e": "AQAB"}
    for wrong, says in (
        (json.dumps(rsa_like), "not a P-256 public key"),
        ('{"kty": "EC"', "not JSON"),
        (str(tmp_path / "missing.jwk"), "cannot read the anchor JWK file"),
        (json.dumps({**national, "kid": "WRONGKID"}), "is not its thumbprint"),
    ):
        with pytest.raises(ConfigError, match=says):
            create_app({**config, "TRUST_ANCHOR_JWK": wrong})


def test_production_refuses_a_development_list(app, session, signing_key, monkeypatch, tmp_path):
    path = tmp_path / "dev.jws"
    path.write_text(signed_list(session))
    monkeypatch.setitem(app.config, "ENVIRONMENT", "production")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "ensure"])
    assert result.exit_code == 1
    assert "development trust list is installed on this production deployment" in result.output
    result = runner.invoke(args=["trust", "install", str(path)])
    assert result.exit_code == 1
    assert "cannot be installed in production" in result.output


# --- issuing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda e: e.update(competences=["NOT-THIS-ONE"]), "key_out_of_scope"),
        (lambda e: e.update(status="retired"), "key_retired"),
        (
            lambda e: e.update(status="compromised", compromised_at=1, issued_before_compromise=[]),
            "key_compromised",
        ),
        (lambda e: e.update(kid="ZZZZZZZZ", jwk={**e["jwk"], "kid": "ZZZZZZZZ"}), None),
        (lambda e: e.update(valid_to=1), "key_outside_validity"),
    ],
)
def test_issuing_refuses_a_key_the_list_does_not_allow(session, signing_key, edit, code):
    exam = finalised_exam()
    install(session, signed_list(session, edit=edit))
    with pytest.raises(PassportError) as refused:
        issuance.issue_for_exam(session, current_settings(), exam.exam)
    assert refused.value.code == (code or "key_not_in_trust_list")
    assert signing_key.kid in str(refused.value)
    assert session.scalar(select(func.count()).select_from(Passport)) == 0


def test_issuing_names_the_competence_in_every_language(session, signing_key):
    exam = finalised_exam()
    install(session, signed_list(session, edit=lambda e: e.update(competences=["X1"])))
    with pytest.raises(PassportError) as refused:
        issuance.issue_for_exam(session, current_settings(), exam.exam)
    code = exam.exam.competence.code
    with force_locale("ru"):
        assert f"удостоверять компетенцию {code}" in refused.value.translated()
    with force_locale("kk"):
        assert f"{code} құзыретін куәландыруға" in refused.value.translated()


def test_issuing_without_any_list_is_refused(session, signing_key):
    exam = finalised_exam()
    session.execute(delete(TrustList))
    trust_lists.clear_cache(current_settings())
    with pytest.raises(PassportError) as refused:
        issuance.issue_for_exam(session, current_settings(), exam.exam)
    assert refused.value.code == "no_trust_list"


def test_a_centre_key_signs_its_centres_passports(session, signing_key):
    exam = finalised_exam()
    centre_key = keys.generate_key(session, current_settings(), centre=exam.exam.centre)
    assert centre_key.active and signing_key.active  # one active key per issuer
    assert centre_key.issuer_id == f"kz-almaty-education-{exam.exam.centre.code.lower()}"
    other = finalised_exam()
    issued = issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports
    default = issuance.issue_for_exam(session, current_settings(), other.exam).new_passports
    assert {p.kid for p in issued} == {centre_key.kid}
    assert {p.kid for p in default} == {signing_key.kid}
    listed = trust_lists.current(session, current_settings()).trust_list
    assert listed.keys[centre_key.kid].issuer_id == centre_key.issuer_id


# --- verdicts --------------------------------------------------------------------------


def test_api_answers_untrusted_with_the_reason(client, session, issued):
    url = url_of(issued.passport)
    assert api(client, url)["status"] == "genuine"
    install(session, signed_list(session, edit=lambda e: e.update(competences=["OTHER"])))
    data = api(client, url)
    assert data["status"] == "untrusted" and data["valid"] is False
    assert data["passport"] is None
    assert data["reason"] == "out-of-scope"
    assert data["detail"] == "The signing key is not allowed to certify this competence."

    unknown = {"kid": "ZZZZZZZZ"}
    install(session, signed_list(session, edit=lambda e: e.update(unknown, jwk=e["jwk"] | unknown)))
    assert api(client, url)["reason"] == "unknown-key"


def test_compromised_key_keeps_only_the_passports_listed_before_the_compromise(
    client, session, issued
):
    number = issued.passport.number

    def compromise(entry, keep):
        entry.update(status="compromised", compromised_at=1, issued_before_compromise=keep)

    install(session, signed_list(session, edit=lambda e: compromise(e, [])))
    data = api(client, url_of(issued.passport))
    assert (data["status"], data["reason"]) == ("untrusted", "compromised")
    install(session, signed_list(session, edit=lambda e: compromise(e, [number])))
    assert api(client, url_of(issued.passport))["status"] == "genuine"


def test_untrusted_comes_before_revoked_and_a_missing_or_expired_list_gives_unchecked(
    client, session, issued
):
    url = url_of(issued.passport)
    issuance.revoke(session, issued.passport, "wrong person")
    install(session, signed_list(session, edit=lambda e: e.update(competences=["OTHER"])))
    assert api(client, url)["status"] == "untrusted"
    install(session, signed_list(session, days=-1))
    assert api(client, url)["status"] == "revoked"  # an expired list does not hide revoked
    issued_again = finalised_passport_fresh(session)
    data = api(client, url_of(issued_again))
    assert data["status"] == "unchecked" and data["reason"] == "expired"
    assert data["passport"]["status"] == "genuine"
    session.execute(delete(TrustList))
    trust_lists.clear_cache(current_settings())
    data = api(client, url_of(issued_again))
    assert (data["status"], data["reason"]) == ("unchecked", "missing")


def finalised_passport_fresh(session) -> Passport:
    install(session, signed_list(session))
    exam = finalised_exam()
    passport = issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports[0]
    install(session, signed_list(session, days=-1))
    return passport


def test_manual_check_page_shows_untrusted(client, session, issued):
    from passports.services import secrets

    settings = current_settings()
    passport = issued.passport
    code = secrets.verification_code(settings, passport.number, passport.code_nonce)
    install(session, signed_list(session, edit=lambda e: e.update(competences=["OTHER"])))
    page = client.post("/check", data={"number": passport.number, "code": code})
    text = page.get_data(as_text=True)
    assert 'data-status="untrusted"' in text
    assert "The signing key is not allowed to certify this competence." in text


# --- re-issuing a key's passports ------------------------------------------------------


def test_reissue_key_re_signs_every_current_passport_of_a_retired_key(app, session, issued):
    old_kid = issued.passport.kid
    runner = app.test_cli_runner()
    result = runner.invoke(args=["passports", "reissue", "--key", old_kid])
    assert result.exit_code == 1 and "rotate it first" in result.output

    new_key, _retired = keys.rotate_key(session, current_settings())
    result = runner.invoke(args=["passports", "reissue", "--key", old_kid])
    assert result.exit_code == 0, result.output
    assert "re-issued 1 passport(s)" in result.output
    current = session.scalars(
        select(Passport).where(Passport.revoked_at.is_(None), Passport.superseded_by_id.is_(None))
    ).all()
    assert [p.kid for p in current] == [new_key.kid]
    old = session.get(Passport, issued.passport.id)
    assert old.superseded_by_id == current[0].id and old.supersede_reason == "reissued"
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "passport.reissued_for_key")
    ).one()
    assert entry.target == f"passport:{old.number}" and entry.old_value == old_kid

    result = runner.invoke(args=["passports", "reissue", "--key", "NOSUCHK1"])
    assert result.exit_code == 1 and "There is no signing key NOSUCHK1" in result.output


def test_flask_passports_verify_judges_by_the_installed_list(app, session, issued):
    runner = app.test_cli_runner()
    url = url_of(issued.passport)
    result = runner.invoke(args=["passports", "verify", url, "--json"])
    # trusted by the installed list; not revoked by this deployment's current status list
    assert json.loads(result.output)["status"] == "genuine"
    assert result.exit_code == 0
    install(session, signed_list(session, edit=lambda e: e.update(competences=["OTHER"])))
    result = runner.invoke(args=["passports", "verify", url, "--json"])
    assert result.exit_code == 9, result.output
    assert json.loads(result.output)["status"] == "untrusted"


def test_the_verify_page_embeds_the_anchor_and_the_installed_list(client, session, issued):
    from tests.passports.test_verify_data import embedded

    data = embedded(client)
    assert data["trustList"] == client.get("/.well-known/skills-passport/trust-list.jws").text
    anchor = trust.load_anchor_jwk(current_settings().trust_anchor)
    assert data["anchor"] == anchor
    assert trust.read_trust_list(data["trustList"], data["anchor"]).keys.keys() == {
        issued.passport.kid
    }


def test_keys_activate_makes_a_published_key_sign(app, session, issued):
    runner = app.test_cli_runner()
    published = keys.generate_key(session, current_settings(), activate=False)
    assert not published.active
    result = runner.invoke(args=["keys", "activate", published.kid])
    assert result.exit_code == 0, result.output
    assert f"ES256 key {published.kid} is active; retired {issued.passport.kid}" in result.output
    assert keys.active_key(session).kid == published.kid
    result = runner.invoke(args=["keys", "activate", "NOSUCHK1"])
    assert result.exit_code == 1 and "There is no signing key NOSUCHK1" in result.output


def test_development_with_a_real_anchor_never_signs_a_list_itself(app, session, monkeypatch):
    national = trust.anchor_public_jwk(trust.new_anchor_key())
    monkeypatch.setitem(app.config, "TRUST_ANCHOR_JWK", json.dumps(national))
    before = trust_lists.current_row(session).id
    key = keys.generate_key(session, current_settings())
    assert trust_lists.current_row(session).id == before  # no development list signed
    exam = finalised_exam()
    with pytest.raises(PassportError) as refused:  # the installed list is not the anchor's
        issuance.issue_for_exam(session, current_settings(), exam.exam)
    assert refused.value.code == "trust_list_unusable" and key.kid in str(refused.value)


def test_keys_ensure_on_a_fresh_clone_creates_the_anchor_and_lists_existing_keys(
    app, client, session, issued, monkeypatch, tmp_path
):
    """An existing database (keys and passports, no list) and no development anchor yet:
    `flask keys ensure` (make run) creates the anchor and a list holding the existing key."""
    anchor = tmp_path / "instance" / "dev-trust-anchor.pem"
    monkeypatch.setitem(app.config, "DEVELOPMENT_TRUST_ANCHOR", str(anchor))
    monkeypatch.setitem(app.config, "TRUST_ANCHOR_JWK", str(anchor) + ".pub.jwk")
    session.execute(delete(TrustList))
    trust_lists.clear_cache(current_settings())
    assert api(client, url_of(issued.passport))["status"] == "unchecked"

    result = app.test_cli_runner().invoke(args=["keys", "ensure"])
    assert result.exit_code == 0, result.output
    assert "installed development trust list 1" in result.output
    assert anchor.exists() and anchor.with_suffix(".pass").exists()
    public = json.loads(Path(str(anchor) + ".pub.jwk").read_text())
    assert public["development"] is True
    installed = trust_lists.current_row(session)
    listed = trust.read_trust_list(installed.jws, trust.load_anchor_jwk(str(anchor) + ".pub.jwk"))
    assert listed.development and issued.passport.kid in listed.keys
    assert api(client, url_of(issued.passport))["status"] == "genuine"

    again = app.test_cli_runner().invoke(args=["keys", "ensure"])
    assert "installed development trust list" not in again.output  # nothing to change
