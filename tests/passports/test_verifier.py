"""The offline verifier with a trust list: verdicts, precedence, and the standalone script."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from passports import jws, trust, verifier
from passports import status_list as bitstring
from passports.numbers import format_passport_number
from passports.offline import verify_offline
from passports.token import PassportClaims, key_id, public_jwk, sign_token
from passports.verifier import VERDICT_EXIT
from tests.passports import trust_helpers

ROOT = Path(__file__).resolve().parents[2]
IAT = 1_765_000_000
AT = IAT + 86_400
KEY = ec.derive_private_key(0xC0FFEE, ec.SECP256R1())
KID = key_id(KEY)
OTHER = ec.derive_private_key(0xBADC0DE, ec.SECP256R1())
OTHER_KID = key_id(OTHER)
JWK = public_jwk(KEY.public_key(), KID)
OTHER_JWK = public_jwk(OTHER.public_key(), OTHER_KID)
NUMBER = format_passport_number(2025, 123)
REVOKED_NUMBER = format_passport_number(2025, 124)


def _token(number=NUMBER, competence="17", iat=IAT, exp=None, key=KEY, kid=KID):
    claims = PassportClaims(number, "Әлібекова Айгерім", competence, 8750, 5, iat, exp)
    return sign_token(claims, key, kid)


def _status(key=KEY, kid=KID, signed_at=IAT, revoked=(124,)):
    payload = {
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "credentialSubject": {
            "statusPurpose": "message",
            "encodedList": bitstring.encode(
                bitstring.build_bitstring(dict.fromkeys(revoked, 1), 2)
            ),
        },
        "iat": signed_at,
        "exp": signed_at + 7 * 86_400,
    }
    return jws.sign({"kid": kid, "typ": "vc+jwt"}, payload, key)


def _read_status(text=None):
    return bitstring.read_signed_list(
        text or _status(), {KID: KEY.public_key(), OTHER_KID: OTHER.public_key()}
    )


def _list(*entries, **changes):
    return trust_helpers.signed_list(
        entries or [trust_helpers.entry(JWK, competences=["17"])], **changes
    )


def _verify(token, trust_list="default", status="default", keys=None, at=AT, anchor=None):
    return verify_offline(
        token,
        {} if keys is None else keys,
        _read_status() if status == "default" else status,
        trust_list=_list() if trust_list == "default" else trust_list,
        anchor=trust_helpers.ANCHOR_JWK if anchor is None else anchor,
        at=at,
    )


def test_a_listed_key_in_scope_with_a_status_answer_is_genuine():
    result = _verify(_token())
    assert (result.status, result.trust_checked, result.status_checked) == ("genuine", True, True)
    assert result.issuer == {
        "id": "test-issuer",
        "name": dict(trust_helpers.entry(JWK)["issuer"]["name"]),
    }
    assert result.as_dict()["issuer"]["id"] == "test-issuer"


def test_the_trust_list_also_accepts_a_parsed_list():
    parsed = trust.read_trust_list(_list(), trust_helpers.ANCHOR_JWK)
    assert _verify(_token(), trust_list=parsed).status == "genuine"


def test_without_a_trust_list_a_genuine_signature_is_at_best_unchecked():
    keys = {KID: KEY.public_key()}
    result = _verify(_token(), trust_list=None, keys=keys)
    assert (result.status, result.trust_checked) == ("unchecked", False)
    assert "no trust list given" in result.detail
    # what the status list says still stands
    assert _verify(_token(REVOKED_NUMBER), trust_list=None, keys=keys).status == "revoked"
    # and an unknown kid is invalid, as before trust lists: nothing says more
    assert _verify(_token(), trust_list=None, keys={}).status == "invalid"


def test_a_kid_the_list_lacks_is_untrusted():
    result = _verify(_token(key=OTHER, kid=OTHER_KID))
    assert (result.status, result.trust_reason, result.claims) == ("untrusted", "unknown-key", None)
    assert result.kid == OTHER_KID
    assert "not in the trust list" in result.detail


def test_a_kid_only_in_the_jwks_is_untrusted_after_its_signature_is_checked():
    keys = {OTHER_KID: OTHER.public_key()}
    result = _verify(_token(key=OTHER, kid=OTHER_KID), keys=keys)
    assert (result.status, result.trust_reason) == ("untrusted", "unknown-key")
    assert result.claims is not None and result.claims.number == NUMBER
    # signed by another key under that kid: the signature fails first
    forged = _token(key=KEY, kid=OTHER_KID)
    assert _verify(forged, keys=keys).status == "invalid"


def test_the_listed_key_decides_over_the_jwks_for_the_same_kid():
    # the JWK Set (say, a tampered copy) maps the kid to another key; the list wins
    forged = _token(key=OTHER, kid=KID)
    assert _verify(forged, keys={KID: OTHER.public_key()}).status == "invalid"
    assert _verify(_token(), keys={KID: OTHER.public_key()}).status == "genuine"


@pytest.mark.parametrize(
    ("entry_changes", "token_changes", "reason"),
    [
        ({"competences": ["18"]}, {}, "out-of-scope"),
        ({"valid_from": IAT + 1}, {}, "outside-validity"),
        ({"valid_to": IAT}, {}, "outside-validity"),
        (
            {"status": "compromised", "compromised_at": IAT - 1, "issued_before_compromise": []},
            {},
            "compromised",
        ),
    ],
)
def test_a_key_the_list_does_not_allow_is_untrusted(entry_changes, token_changes, reason):
    trust_list = _list(trust_helpers.entry(JWK, **{"competences": ["17"], **entry_changes}))
    result = _verify(_token(**token_changes), trust_list=trust_list)
    assert (result.status, result.trust_reason) == ("untrusted", reason)
    assert result.detail == trust.REASONS[reason]
    assert result.claims is not None


def test_untrusted_comes_before_revoked_and_expired():
    trust_list = _list(trust_helpers.entry(JWK, competences=["18"]))
    assert _verify(_token(REVOKED_NUMBER), trust_list=trust_list).status == "untrusted"
    expired = _token(exp=IAT + 10)
    assert _verify(expired, trust_list=trust_list).status == "untrusted"
    # and invalid comes before untrusted
    tampered = _token()[:-20] + "A" * 20
    assert _verify(tampered, trust_list=trust_list).status == "invalid"


def test_retired_and_listed_compromised_keys_verify_what_they_signed():
    retired = _list(trust_helpers.entry(JWK, status="retired", valid_to=IAT + 1))
    assert _verify(_token(), trust_list=retired).status == "genuine"
    compromised = _list(
        trust_helpers.entry(
            JWK, status="compromised", compromised_at=IAT + 5, issued_before_compromise=[NUMBER]
        ),
        trust_helpers.entry(OTHER_JWK),  # the issuer's new key signs its status list
    )
    fresh = _read_status(_status(key=OTHER, kid=OTHER_KID))
    assert _verify(_token(), trust_list=compromised, status=fresh).status == "genuine"
    other = _token(format_passport_number(2025, 125))
    assert _verify(other, trust_list=compromised, status=fresh).status == "untrusted"


def test_an_expired_trust_list_gives_at_best_unchecked():
    expired_list = _list(iat=IAT - 10, exp=AT)
    result = _verify(_token(), trust_list=expired_list)
    assert (result.status, result.trust_checked) == ("unchecked", False)
    assert "trust list has expired" in result.detail
    assert _verify(_token(), trust_list=expired_list, at=AT - 1).status == "genuine"
    # verdicts worse than unchecked stay
    assert _verify(_token(REVOKED_NUMBER), trust_list=expired_list).status == "revoked"
    scoped = _list(trust_helpers.entry(JWK, competences=["18"]), iat=IAT - 10, exp=AT)
    assert _verify(_token(), trust_list=scoped).status == "untrusted"


def test_a_list_not_signed_by_the_anchor_counts_as_no_list():
    other_anchor = trust.anchor_public_jwk(OTHER)
    result = _verify(_token(), anchor=other_anchor, keys={KID: KEY.public_key()})
    assert result.status == "unchecked"
    assert "not usable" in result.detail and "configured anchor" in result.detail
    unsigned = verify_offline(_token(), {KID: KEY.public_key()}, trust_list=_list(), at=AT)
    assert unsigned.status == "unchecked" and "no trust anchor" in unsigned.detail


def _other_issuer(status_list_url: str) -> dict:
    other = trust_helpers.entry(OTHER_JWK, issuer_id="another-issuer")
    other["issuer"]["status_list"] = status_list_url
    return other


def test_a_status_list_of_another_issuer_is_not_relied_on():
    trust_list = _list(
        trust_helpers.entry(JWK, competences=["17"]),
        _other_issuer("https://elsewhere.example.kz/status/message"),
    )
    foreign = _read_status(_status(key=OTHER, kid=OTHER_KID, revoked=()))
    result = _verify(_token(REVOKED_NUMBER), trust_list=trust_list, status=foreign)
    assert (result.status, result.status_checked) == ("unchecked", False)
    assert "not signed by a trusted key of this passport's issuer" in result.detail


def test_a_centre_key_relies_on_the_status_list_its_deployment_signs():
    # a centre's own key signs its passports; the deployment's key, listed under another
    # issuer id with the same status-list URL, signs the one status list of both
    trust_list = _list(
        trust_helpers.entry(JWK, issuer_id="kz-ast-cc-01", competences=["17"]),
        _other_issuer(trust_helpers.entry(JWK)["issuer"]["status_list"]),
    )
    shared = _read_status(_status(key=OTHER, kid=OTHER_KID, revoked=(124,)))
    assert _verify(_token(), trust_list=trust_list, status=shared).status == "genuine"
    result = _verify(_token(REVOKED_NUMBER), trust_list=trust_list, status=shared)
    assert (result.status, result.status_checked) == ("revoked", True)


def test_a_status_list_signed_by_a_compromised_key_is_not_relied_on():
    trust_list = _list(
        trust_helpers.entry(JWK, competences=["17"]),
        trust_helpers.entry(
            OTHER_JWK, status="compromised", compromised_at=IAT, issued_before_compromise=[]
        ),
    )
    stolen = _read_status(_status(key=OTHER, kid=OTHER_KID, revoked=()))
    result = _verify(_token(REVOKED_NUMBER), trust_list=trust_list, status=stolen)
    assert (result.status, result.status_checked) == ("unchecked", False)
    assert "trusted key" in result.detail


def test_at_is_the_moment_for_every_expiry():
    token = _token(exp=AT + 10)
    assert _verify(token, at=AT).status == "genuine"
    assert _verify(token, at=AT + 10).status == "expired"
    late = IAT + 8 * 86_400  # after the status list's exp
    result = _verify(_token(), at=late)
    assert result.status == "unchecked" and "status list has expired" in result.detail


def test_a_cut_off_link_stays_damaged_with_a_list():
    assert _verify(_token()[:-3]).status == "damaged"


# --- the command line ------------------------------------------------------------------------


def _files(folder: Path, trust_list: str | None = None) -> dict[str, Path]:
    trust_path, anchor_path = trust_helpers.write_files(folder, trust_list or _list())
    status_path = folder / "status.jwt"
    status_path.write_text(_status() + "\n", encoding="utf-8")
    jwks_path = folder / "jwks.json"
    jwks_path.write_text(json.dumps({"keys": [JWK]}), encoding="utf-8")
    return {"trust": trust_path, "anchor": anchor_path, "status": status_path, "jwks": jwks_path}


def _argv(files, *extra):
    return [
        "--trust-list",
        str(files["trust"]),
        "--anchor",
        str(files["anchor"]),
        "--status",
        str(files["status"]),
        *extra,
    ]


@pytest.mark.parametrize(
    ("token", "at", "expected"),
    [
        (_token(), "2025-12-06T12:00:00Z", "genuine"),
        (_token(REVOKED_NUMBER), "2025-12-06T12:00:00Z", "revoked"),
        (_token(competence="18"), "2025-12-06T12:00:00Z", "untrusted"),
        (_token(), "2025-12-20T06:00:00+00:00", "unchecked"),  # status list expired
    ],
)
def test_flask_passports_verify_with_trust_list_anchor_and_at(app, tmp_path, token, at, expected):
    files = _files(tmp_path)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["passports", "verify", token, *_argv(files, "--at", at, "--json")])
    assert result.exit_code == VERDICT_EXIT[expected], result.output
    assert json.loads(result.output)["status"] == expected


def test_flask_passports_verify_refuses_bad_options(app, tmp_path, monkeypatch):
    files = _files(tmp_path)
    runner = app.test_cli_runner()
    # no anchor configured (the test app's default is the development anchor)
    monkeypatch.setitem(app.config, "TRUST_ANCHOR_JWK", "")
    bad_at = runner.invoke(args=["passports", "verify", _token(), *_argv(files, "--at", "soon")])
    assert bad_at.exit_code == 2 and "--at" in bad_at.output and "ISO 8601" in bad_at.output
    no_anchor = runner.invoke(
        args=["passports", "verify", _token(), "--trust-list", str(files["trust"])]
    )
    assert no_anchor.exit_code == 2 and "--anchor" in no_anchor.output
    (tmp_path / "bad.jwk").write_text("{}", encoding="utf-8")
    bad_anchor = runner.invoke(
        args=[
            "passports",
            "verify",
            _token(),
            "--trust-list",
            str(files["trust"]),
            "--anchor",
            str(tmp_path / "bad.jwk"),
        ]
    )
    assert bad_anchor.exit_code == 1 and "--anchor" in bad_anchor.output
    missing = runner.invoke(
        args=[
            "passports",
            "verify",
            _token(),
            "--trust-list",
            str(tmp_path / "none.jws"),
            "--anchor",
            str(files["anchor"]),
        ]
    )
    assert missing.exit_code == 1 and "--trust-list" in missing.output


def _standalone(*args: str) -> subprocess.CompletedProcess:
    # an empty environment: no DATABASE_URL, no SECRET_KEY, no FLASK_APP, no PYTHONPATH
    return subprocess.run(
        [sys.executable, "-m", "passports.verifier", *args],
        cwd=ROOT,
        env={},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_standalone_verifier_needs_no_database_or_configuration(tmp_path):
    files = _files(tmp_path)
    at = ["--at", "2025-12-06T12:00:00Z"]
    genuine = _standalone(_token(), *_argv(files, *at))
    assert genuine.returncode == 0, genuine.stderr
    assert genuine.stdout.startswith("GENUINE")
    assert "issuer:     test-issuer (Test centre)" in genuine.stdout
    untrusted = _standalone(_token(competence="18"), *_argv(files, *at, "--json"))
    assert untrusted.returncode == 9, untrusted.stderr
    assert json.loads(untrusted.stdout)["trust_reason"] == "out-of-scope"
    jwks_only = _standalone(_token(), "--jwks", str(files["jwks"]), *at)
    assert jwks_only.returncode == 7 and "no trust list given" in jwks_only.stdout
    nothing = _standalone(_token())
    assert nothing.returncode == 2 and "--trust-list" in nothing.stderr


def test_the_standalone_verifier_imports_neither_the_app_nor_the_models():
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, passports.verifier; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('app', 'flask_sqlalchemy', 'flask_migrate') or m.endswith('.models')))",
        ],
        cwd=ROOT,
        env={},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert probe.stdout.strip() == "[]"


def test_the_console_script_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["skills-passport-verify"] == "passports.verifier:main"


def test_load_jwks_keeps_the_ec_keys_and_skips_rsa_and_non_objects(tmp_path):
    rsa_jwk = jws.rsa_public_jwk(jws.new_rsa_key().public_key(), "rsa-1")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": ["kid", rsa_jwk, JWK, OTHER_JWK]}), encoding="utf-8")
    assert set(verifier.load_jwks(str(path))) == {KID, OTHER_KID}


@pytest.mark.parametrize("document", [{"keys": "none"}, ["keys"], {"key": [JWK]}])
def test_load_jwks_refuses_what_is_not_a_jwk_set(tmp_path, document):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(click.ClickException, match="not a JWK Set"):
        verifier.load_jwks(str(path))
