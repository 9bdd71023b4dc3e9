"""The trust list in the browser: verify.js's readTrustList, judgeKey and verifyPassport.

Every rule of the trust list (docs/trust-list.md) checked in Debian's Chromium against lists
and tokens made in the test with the Python modules: scope, validity, retirement, compromise,
the list's expiry and its anchor, and the precedence of the verdicts.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from passports import jws, trust
from passports.numbers import format_passport_number
from passports.token import PassportClaims, key_id, new_signing_key, public_jwk, sign_token
from tests.conftest import CHROMIUM
from tests.passports import trust_helpers
from tests.passports.test_verify_js import signed_status_list
from tests.passports.trust_helpers import ASTANA

pytestmark = pytest.mark.e2e

VERIFY_JS = Path(__file__).resolve().parents[2] / "passports" / "static" / "verify.js"
ORIGIN = "http://localhost:9"  # a secure context (WebCrypto), served by page routes only
ISSUED = 1_790_000_000  # the passports' iat
AT = 1_800_000_000  # the moment of verification
NUMBER = format_passport_number(2026, 17)
DAY = 86_400


def claims(**changes) -> PassportClaims:
    fields = {
        "number": NUMBER,
        "holder_name": "Әлібекова Айгерім Нұрланқызы",
        "competence_code": "17",
        "total_hundredths": 8750,
        "grade": 5,
        "issued_at": ISSUED,
        "expires_at": None,
    }
    return PassportClaims(**(fields | changes))


class Party:
    """A P-256 key with its kid and public JWK."""

    def __init__(self) -> None:
        self.key = new_signing_key()
        self.kid = key_id(self.key)
        self.jwk = public_jwk(self.key.public_key(), self.kid)


@pytest.fixture(scope="module")
def anchor() -> Party:
    return Party()


@pytest.fixture(scope="module")
def issuer() -> Party:
    return Party()


def entry(party: Party, **changes) -> dict:
    astana = {"issuer": ASTANA, "competences": ["17", "R1"], "valid_from": ISSUED - 100 * DAY}
    return trust_helpers.entry(party.jwk) | astana | changes


def trust_list(by: Party, entries: list[dict], signer: Party | None = None, **changes) -> str:
    """A trust list JWS by anchor `by`: trust.py's own signing when the payload is well-formed."""
    payload = trust_helpers.payload(
        entries, **({"seq": 7, "iat": AT - DAY, "exp": AT + 30 * DAY} | changes)
    )
    if signer is not None:  # the anchor's kid in the header, another key's signature
        return signed(by.kid, payload, signer.key)
    try:
        trust.parse_payload(payload)
    except trust.TrustListError:
        return signed(by.kid, payload, by.key)
    return trust.sign_trust_list(payload, by.key)


def signed(kid: str, payload: dict, key, **header) -> str:
    """A JWS of any header and payload, as a careless or hostile signer might write it."""
    return jws.sign({"kid": kid, "typ": "skills-trust-list+jws"} | header, payload, key)


def python_reads(text: str, anchor: Party) -> bool:
    try:
        trust.read_trust_list(text, anchor.jwk)
    except trust.TrustListError:
        return False
    return True


def status(issuer: Party, value: int = 0, **kwargs) -> str:
    """The issuer's signed 2-bit message list: NUMBER has `value` (1 revoked, 2 superseded)."""
    return signed_status_list(issuer.key, issuer.kid, {17: value}, iat=AT - 3600, **kwargs)


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
    )
    yield browser
    browser.close()


def open_verifier(browser):
    """A blank page of a secure origin with verify.js imported as window.verifier."""
    page = browser.new_page()
    page.route(
        f"{ORIGIN}/verify.js",
        lambda route: route.fulfill(path=str(VERIFY_JS), content_type="text/javascript"),
    )
    page.route(
        f"{ORIGIN}/",
        lambda route: route.fulfill(
            body="<!doctype html><title>verifier</title>", content_type="text/html"
        ),
    )
    page.goto(f"{ORIGIN}/")
    page.evaluate("async () => { window.verifier = await import('/verify.js'); }")
    return page


@pytest.fixture(scope="module")
def page(browser):
    page = open_verifier(browser)
    yield page
    page.close()


def verify(page, token: str, **options) -> dict:
    return page.evaluate(
        "async (options) => window.verifier.verifyPassport(options)",
        {"fragment": "#" + token, "at": AT} | options,
    )


def read(page, text: str, anchor_jwk: dict) -> dict:
    return page.evaluate(
        "async ([text, anchor]) => { const r = await window.verifier.readTrustList(text, anchor);"
        " return r.ok ? {ok: true, seq: r.list.seq, kids: [...r.list.keys.keys()]}"
        " : {ok: false, reason: r.reason}; }",
        [text, anchor_jwk],
    )


def test_a_key_in_scope_with_a_fresh_status_list_is_genuine(page, anchor, issuer):
    token = sign_token(claims(), issuer.key, issuer.kid)
    result = verify(
        page,
        token,
        anchorJwk=anchor.jwk,
        trustList=trust_list(anchor, [entry(issuer)]),
        statusList=status(issuer),
    )
    assert result["verdict"] == "genuine", result
    assert result["issuer"]["name"]["en"] == "Astana centre"
    assert result["trustList"] == {
        "seq": 7,
        "expiresAt": AT + 30 * DAY,
        "development": False,
        "expired": False,
    }
    assert result["status"]["listed"] == "valid"
    assert result["claims"]["number"] == NUMBER


def test_the_list_reads_with_its_kids_and_a_wildcard_scope_covers_any_competence(
    page, anchor, issuer
):
    text = trust_list(anchor, [entry(issuer, competences=["*"])])
    assert read(page, text, anchor.jwk) == {"ok": True, "seq": 7, "kids": [issuer.kid]}
    token = sign_token(claims(competence_code="R9"), issuer.key, issuer.kid)
    result = verify(page, token, anchorJwk=anchor.jwk, trustList=text, statusList=status(issuer))
    assert result["verdict"] == "genuine"


@pytest.mark.parametrize(
    ("changes", "token_changes", "reason"),
    [
        ({"competences": ["R1"]}, {}, "out-of-scope"),
        ({"valid_from": ISSUED + 1}, {}, "outside-validity"),
        ({"valid_to": ISSUED}, {}, "outside-validity"),
        (
            {"status": "compromised", "compromised_at": AT - DAY, "issued_before_compromise": []},
            {},
            "compromised",
        ),
        (
            {
                "status": "compromised",
                "compromised_at": AT - DAY,
                "issued_before_compromise": ["26-000018-0"],
            },
            {},
            "compromised",
        ),
    ],
    ids=["scope", "before-valid-from", "at-valid-to", "compromised", "compromised-other-number"],
)
def test_a_key_the_list_does_not_allow_is_untrusted(
    page, anchor, issuer, changes, token_changes, reason
):
    token = sign_token(claims(**token_changes), issuer.key, issuer.kid)
    result = verify(
        page,
        token,
        anchorJwk=anchor.jwk,
        trustList=trust_list(anchor, [entry(issuer, **changes)]),
        statusList=status(issuer),
    )
    assert (result["verdict"], result["reason"]) == ("untrusted", reason), result


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "retired", "valid_to": ISSUED + 1},
        {"valid_from": ISSUED, "valid_to": ISSUED + 1},
        {
            "status": "compromised",
            "compromised_at": ISSUED + DAY,
            "issued_before_compromise": [NUMBER],
        },
    ],
    ids=["retired", "validity-edges", "compromised-but-listed-as-before"],
)
def test_keys_the_list_still_allows_verify_what_they_signed(page, anchor, issuer, changes):
    token = sign_token(claims(), issuer.key, issuer.kid)
    successor = Party()  # the issuer's current key signs its status list
    result = verify(
        page,
        token,
        anchorJwk=anchor.jwk,
        trustList=trust_list(anchor, [entry(issuer, **changes), entry(successor)]),
        statusList=status(successor),
    )
    assert result["verdict"] == "genuine", result


def test_a_kid_not_in_the_list_is_untrusted(page, anchor, issuer):
    stranger = Party()
    token = sign_token(claims(), stranger.key, stranger.kid)
    result = verify(
        page,
        token,
        anchorJwk=anchor.jwk,
        trustList=trust_list(anchor, [entry(issuer)]),
        jwks={"keys": [stranger.jwk]},  # the issuer's own JWKS does not make a key trusted
    )
    assert (result["verdict"], result["reason"]) == ("untrusted", "unknown-key")
    assert result["claims"] is None


def test_a_forgery_under_a_published_but_unlisted_key_is_invalid(page, anchor, issuer):
    stranger = Party()
    forged = sign_token(claims(), Party().key, stranger.kid)
    result = verify(
        page,
        forged,
        anchorJwk=anchor.jwk,
        trustList=trust_list(anchor, [entry(issuer)]),
        jwks={"keys": [stranger.jwk]},
    )
    assert (result["verdict"], result["reason"]) == ("invalid", "bad-signature")


def test_a_listed_kid_with_a_different_key_is_invalid_not_untrusted(page, anchor, issuer):
    impostor = Party()
    token = sign_token(claims(competence_code="R9"), impostor.key, issuer.kid)  # also out of scope
    result = verify(
        page, token, anchorJwk=anchor.jwk, trustList=trust_list(anchor, [entry(issuer)])
    )
    assert (result["verdict"], result["reason"]) == ("invalid", "bad-signature")


def test_an_expired_list_gives_at_best_unchecked(page, anchor, issuer):
    expired = trust_list(anchor, [entry(issuer)], iat=AT - 30 * DAY, exp=AT)  # at == exp
    token = sign_token(claims(), issuer.key, issuer.kid)
    result = verify(page, token, anchorJwk=anchor.jwk, trustList=expired, statusList=status(issuer))
    assert (result["verdict"], result["reason"]) == ("unchecked", "trust-list-expired")
    assert result["trustList"]["expired"] is True
    # a verdict worse than unchecked stays what it is
    revoked = verify(
        page, token, anchorJwk=anchor.jwk, trustList=expired, statusList=status(issuer, 1)
    )
    assert revoked["verdict"] == "revoked"
    out_of_scope = trust_list(
        anchor, [entry(issuer, competences=["R1"])], iat=AT - 30 * DAY, exp=AT
    )
    result = verify(page, token, anchorJwk=anchor.jwk, trustList=out_of_scope)
    assert (result["verdict"], result["reason"]) == ("untrusted", "out-of-scope")


def test_a_list_not_signed_by_the_anchor_counts_as_no_list(page, anchor, issuer):
    other = Party()
    token = sign_token(claims(), issuer.key, issuer.kid)
    cases = {
        "another anchor's list": (trust_list(other, [entry(issuer)]), "wrong-anchor"),
        "the anchor's kid, another key": (
            trust_list(anchor, [entry(issuer)], signer=other),
            "wrong-anchor",
        ),
    }
    for name, (text, reason) in cases.items():
        assert read(page, text, anchor.jwk) == {"ok": False, "reason": reason}, name
        result = verify(
            page,
            token,
            anchorJwk=anchor.jwk,
            trustList=text,
            statusList=status(issuer),
            jwks={"keys": [issuer.jwk]},
        )
        assert (result["verdict"], result["reason"]) == ("unchecked", reason), name
        assert "not signed by the configured anchor" in result["detail"]


def test_without_a_list_the_jwks_tells_forged_from_unchecked(page, issuer):
    token = sign_token(claims(), issuer.key, issuer.kid)
    jwks = {"keys": [issuer.jwk]}
    result = verify(page, token, jwks=jwks, statusList=status(issuer))
    assert (result["verdict"], result["reason"]) == ("unchecked", "no-trust-list")
    assert verify(page, token, jwks=jwks, statusList=status(issuer, 1))["verdict"] == "revoked"
    forged = sign_token(claims(), Party().key, issuer.kid)
    assert verify(page, forged, jwks=jwks)["verdict"] == "invalid"
    assert verify(page, token)["verdict"] == "unchecked"  # nothing at all to check with


def precedence_token(issuer: Party, **changes) -> str:
    return sign_token(claims(**changes), issuer.key, issuer.kid)


def test_precedence_untrusted_over_revoked_over_expired(page, anchor, issuer):
    expiring = precedence_token(issuer, expires_at=AT)  # expired at AT
    in_scope = trust_list(anchor, [entry(issuer)])
    out_of_scope = trust_list(anchor, [entry(issuer, competences=["R1"])])
    revoked, valid = status(issuer, 1), status(issuer, 0)
    superseded = status(issuer, 2)

    def verdict(token, text, listed):
        return verify(page, token, anchorJwk=anchor.jwk, trustList=text, statusList=listed)[
            "verdict"
        ]

    assert verdict(expiring, out_of_scope, revoked) == "untrusted"
    assert verdict(expiring, in_scope, revoked) == "revoked"
    assert verdict(expiring, in_scope, superseded) == "superseded"
    assert verdict(expiring, in_scope, valid) == "expired"
    assert verdict(expiring, in_scope, None) == "expired"
    assert verdict(precedence_token(issuer), in_scope, None) == "unchecked"


def test_a_status_list_signed_by_another_issuer_or_a_compromised_key_is_no_answer(
    page, anchor, issuer
):
    other, stolen = Party(), Party()
    other_entry = entry(other)
    other_entry["issuer"] = other_entry["issuer"] | {
        "id": "kz-almaty-cc-02",
        "status_list": "https://almaty.example.kz/status/message",
    }
    compromised = entry(
        stolen, status="compromised", compromised_at=AT - DAY, issued_before_compromise=[]
    )
    text = trust_list(anchor, [entry(issuer), other_entry, compromised])
    token = sign_token(claims(), issuer.key, issuer.kid)
    for signer in (other, stolen):
        listed = signed_status_list(signer.key, signer.kid, {17: 0}, iat=AT - 3600)
        result = verify(page, token, anchorJwk=anchor.jwk, trustList=text, statusList=listed)
        assert (result["verdict"], result["reason"]) == ("unchecked", "no-status")


def test_a_centre_key_relies_on_the_status_list_its_deployment_signs(page, anchor, issuer):
    deployment = Party()
    deployment_entry = entry(deployment)
    deployment_entry["issuer"] = deployment_entry["issuer"] | {"id": "kz-astana"}
    text = trust_list(anchor, [entry(issuer), deployment_entry])
    token = sign_token(claims(), issuer.key, issuer.kid)
    for value, verdict in ((0, "genuine"), (1, "revoked")):
        listed = signed_status_list(deployment.key, deployment.kid, {17: value}, iat=AT - 3600)
        result = verify(page, token, anchorJwk=anchor.jwk, trustList=text, statusList=listed)
        assert result["verdict"] == verdict


def test_a_status_list_older_than_the_allowed_age_is_no_answer(page, anchor, issuer):
    text = trust_list(anchor, [entry(issuer)])
    token = sign_token(claims(), issuer.key, issuer.kid)
    listed = status(issuer)  # signed an hour before AT

    def verdict(max_age):
        options = {"anchorJwk": anchor.jwk, "trustList": text, "statusList": listed}
        return verify(page, token, statusMaxAge=max_age, **options)["verdict"]

    assert verdict(3599) == "unchecked"
    assert verdict(3600) == "genuine"


def test_damaged_and_empty_links_stand_alone(page, anchor, issuer):
    token = sign_token(claims(), issuer.key, issuer.kid)
    text = trust_list(anchor, [entry(issuer)])
    assert verify(page, token[:-30], anchorJwk=anchor.jwk, trustList=text)["verdict"] == "damaged"
    assert verify(page, "%20%0A", anchorJwk=anchor.jwk, trustList=text)["verdict"] == "empty"


def tampered(text: str, change) -> str:
    """Re-sign nothing: replace the payload of a signed list (its signature then fails)."""
    header, payload, signature = text.split(".")
    body = json.loads(jws.b64url_decode(payload))
    change(body)
    return ".".join([header, jws.b64url(json.dumps(body).encode()), signature])


@pytest.mark.parametrize(
    ("changes", "entry_changes", "reason"),
    [
        ({"format": 2}, {}, "format"),
        ({"extra": 1}, {}, "malformed"),
        ({"exp": AT - 30 * DAY}, {}, "malformed"),  # exp before iat
        ({}, {"status": "revoked"}, "malformed"),
        ({}, {"competences": []}, "malformed"),
        ({}, {"compromised_at": 5}, "malformed"),  # only with status compromised
        (
            {},
            {"jwk": {"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "B" * 43, "d": "C" * 43}},
            "malformed",
        ),
        ({}, {"jwk": {"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "B" * 43}}, "malformed"),
        ({}, {"competences": ["17", " "]}, "malformed"),
        ({}, {"valid_to": ISSUED - 200 * DAY}, "malformed"),  # before valid_from
        ({"anchor": " "}, {}, "malformed"),
    ],
    ids=[
        "format",
        "unknown-member",
        "exp-before-iat",
        "unknown-status",
        "no-competences",
        "stray-compromise",
        "private-jwk",
        "point-off-the-curve",
        "blank-competence",
        "valid-to-before-from",
        "blank-anchor",
    ],
)
def test_a_list_of_another_shape_is_refused(page, anchor, issuer, changes, entry_changes, reason):
    text = trust_list(anchor, [entry(issuer, **entry_changes)], **changes)
    assert read(page, text, anchor.jwk) == {"ok": False, "reason": reason}
    assert not python_reads(text, anchor)  # trust.py refuses the same list


@pytest.mark.parametrize(
    "issuer_changes",
    [
        {"name": {"kk": "Орталық", "ru": "Центр"}},
        {"name": {"kk": "Орталық", "ru": "Центр", "en": "Centre", "de": "Zentrum"}},
        {"name": {"kk": "Орталық", "ru": "Центр", "en": ""}},
        {"status_list": "ftp://skills.example.kz/status"},
        {"id": "  "},
    ],
    ids=[
        "name-without-en",
        "name-extra-language",
        "name-blank",
        "status-list-not-http",
        "blank-id",
    ],
)
def test_an_issuer_of_another_shape_is_refused(page, anchor, issuer, issuer_changes):
    listed = entry(issuer)
    listed["issuer"] = listed["issuer"] | issuer_changes
    text = trust_list(anchor, [listed])
    assert read(page, text, anchor.jwk) == {"ok": False, "reason": "malformed"}
    assert not python_reads(text, anchor)


def test_an_issuer_without_a_status_list_url_is_allowed(page, anchor, issuer):
    listed = entry(issuer)
    listed["issuer"] = listed["issuer"] | {"status_list": None}
    text = trust_list(anchor, [listed])
    assert read(page, text, anchor.jwk)["ok"] is True
    assert python_reads(text, anchor)


def test_the_header_and_duplicate_kids_are_checked(page, anchor, issuer):
    payload = {
        "format": 1,
        "anchor": "KZ-TEST",
        "development": False,
        "seq": 1,
        "iat": AT - DAY,
        "exp": AT + DAY,
        "keys": [entry(issuer)],
    }
    wrong_typ = jws.sign({"kid": anchor.kid, "typ": "JWT"}, payload, anchor.key)
    extra_member = jws.sign(
        {"kid": anchor.kid, "typ": "skills-trust-list+jws", "x5u": "u"}, payload, anchor.key
    )
    twice = jws.sign(
        {"kid": anchor.kid, "typ": "skills-trust-list+jws"},
        payload | {"keys": [entry(issuer), entry(issuer)]},
        anchor.key,
    )
    header = jws.b64url(trust.canonical_json({"alg": "ES256", "kid": anchor.kid, "typ": trust.TYP}))
    body = trust.canonical_json(payload).decode()
    repeated = body.replace('"seq":1', '"seq":1,"seq":2')
    duplicate_member = sign_raw(anchor, header, jws.b64url(repeated.encode()))
    # the unused low bits of the last base64url character set: the same bytes, another text
    padded = body + " " * (1 if len(body.encode()) % 3 == 0 else 0)
    exact = jws.b64url(padded.encode())
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    loose = exact[:-1] + alphabet[alphabet.index(exact[-1]) | 1]
    assert jws.b64url_decode(loose) == padded.encode() and loose != exact
    trailing_bits = sign_raw(anchor, header, loose)
    assert python_reads(sign_raw(anchor, header, exact), anchor)
    for text in (wrong_typ, extra_member, twice, duplicate_member, trailing_bits):
        assert read(page, text, anchor.jwk) == {"ok": False, "reason": "malformed"}
        assert not python_reads(text, anchor)
    assert read(page, "not.a.list", anchor.jwk)["ok"] is False
    good = trust_list(anchor, [entry(issuer)])
    assert read(page, good, {"kty": "EC", "crv": "P-256"}) == {"ok": False, "reason": "no-anchor"}
    assert read(page, tampered(good, lambda body: body.update(seq=8)), anchor.jwk) == {
        "ok": False,
        "reason": "wrong-anchor",
    }


def sign_raw(anchor: Party, header: str, body: str) -> str:
    """Sign the given base64url parts as they are (to test what the reader accepts)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    der = anchor.key.sign(f"{header}.{body}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{header}.{body}.{jws.b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
