"""verify.js in Debian's Chromium: the browser reaches the same verdicts as token.py."""

from __future__ import annotations

import functools
import http.server
import shutil
import string
import threading
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passports.token import (
    PassportClaims,
    TokenInvalid,
    key_id,
    new_signing_key,
    public_jwk,
    sign_token,
    verify_token,
)
from tests.conftest import CHROMIUM
from tests.passports import test_token as token_tests  # the forged-token catalogue

pytestmark = pytest.mark.e2e

VERIFY_JS = Path(__file__).resolve().parents[2] / "passports" / "static" / "verify.js"
ALPHABET = string.ascii_uppercase + "234567"
DEMO_NAME = "Әлібекова Айгерім Нұрланқызы"
INSECURE_HOST = "passport.test"  # mapped to 127.0.0.1, but not a secure context


def demo_claims(**changes) -> PassportClaims:
    return token_tests.demo_claims(**changes)


def js_claims(claims: PassportClaims) -> dict:
    return {
        "number": claims.number,
        "holderName": claims.holder_name,
        "competenceCode": claims.competence_code,
        "totalHundredths": claims.total_hundredths,
        "grade": claims.grade,
        "issuedAt": claims.issued_at,
        "expiresAt": claims.expires_at,
        "profile": None if claims.profile is None else list(claims.profile),
    }


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify-js")
    shutil.copy(VERIFY_JS, root / "verify.js")
    (root / "index.html").write_text(
        '<!doctype html><meta charset="utf-8"><title>verify.js test</title>', "utf-8"
    )
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1",
        ],
    )
    yield browser
    browser.close()


def _open(browser, url: str):
    page = browser.new_page()
    page.goto(url)
    page.evaluate("async () => { window.verifier = await import('/verify.js'); }")
    return page


@pytest.fixture(scope="module")
def page(browser, site):
    page = _open(browser, f"http://127.0.0.1:{site}/index.html")
    yield page
    page.close()


@pytest.fixture(scope="module")
def key():
    return new_signing_key()


@pytest.fixture(scope="module")
def kid(key):
    return key_id(key)


@pytest.fixture(scope="module")
def jwks(key, kid):
    return {"keys": [public_jwk(key.public_key(), kid)]}


@pytest.fixture(scope="module")
def token(key, kid):
    return sign_token(demo_claims(), key, kid)


def js_verify(page, fragment, jwks, now=None) -> dict:
    return page.evaluate(
        "([f, k, now]) => window.verifier.verifyFragment(f, k, now === null ? {} : {now})",
        [fragment, jwks, now],
    )


def js_verify_all(page, fragments, jwks) -> list[dict]:
    return page.evaluate(
        "async ([fs, k]) => { const out = [];"
        " for (const f of fs) out.push(await window.verifier.verifyFragment(f, k));"
        " return out; }",
        [fragments, jwks],
    )


# --- genuine tokens ---------------------------------------------------------------------------


def test_localhost_is_a_secure_context_with_webcrypto(page):
    assert page.evaluate("() => window.isSecureContext")
    assert page.evaluate("() => window.verifier.webCryptoAvailable()") is True


def test_genuine_token_verifies_and_decodes_the_cyrillic_name(page, token, jwks, kid):
    result = js_verify(page, "#" + token, jwks)
    assert result == {
        "ok": True,
        "reason": None,
        "claims": js_claims(demo_claims()),
        "kid": kid,
        "detail": None,
    }
    assert result["claims"]["holderName"] == DEMO_NAME


def test_fragment_without_hash_sign_verifies(page, token, jwks):
    assert js_verify(page, token, jwks)["ok"] is True


def test_rotated_keys_keep_old_tokens_valid(page, key, kid, jwks):
    new = new_signing_key()
    both = {"keys": [*jwks["keys"], public_jwk(new.public_key(), key_id(new))]}
    old_token = sign_token(demo_claims(), key, kid)
    new_token = sign_token(demo_claims(number="2026-000001"), new, key_id(new))
    old_result, new_result = js_verify_all(page, [old_token, new_token], both)
    assert old_result["ok"] and new_result["ok"]
    assert new_result["claims"]["number"] == "2026-000001"
    assert js_verify(page, old_token, {"keys": both["keys"][1:]})["reason"] == "unknown-key"


def test_expired_token_reports_expired_with_claims(page, key, kid, jwks):
    claims = demo_claims(expires_at=1_800_000_000)
    token = sign_token(claims, key, kid)
    assert js_verify(page, token, jwks, now=1_799_999_999)["ok"] is True
    result = js_verify(page, token, jwks, now=1_800_000_000)
    assert (result["ok"], result["reason"]) == (False, "expired")
    assert result["claims"] == js_claims(claims)
    past = sign_token(demo_claims(expires_at=1_750_400_000), key, kid)
    assert js_verify(page, past, jwks)["reason"] == "expired"  # by the device clock


TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=30).map(
    lambda s: unicodedata.normalize("NFC", s)
)


@settings(max_examples=40, database=None, deadline=None)
@given(
    number=TEXT,
    name=TEXT | st.just(DEMO_NAME),
    code=TEXT,
    total=st.integers(0, 2**53 - 1),
    grade=st.integers(0, 2**53 - 1),
    issued_at=st.integers(0, 2**40),
    lifetime=st.none() | st.integers(1, 2**40),
    profile=st.none() | st.lists(st.integers(0, 100), min_size=1, max_size=32).map(tuple),
)
def test_random_claims_decode_as_in_python(
    page, key, kid, jwks, number, name, code, total, grade, issued_at, lifetime, profile
):
    claims = PassportClaims(
        number=number,
        holder_name=name,
        competence_code=code,
        total_hundredths=total,
        grade=grade,
        issued_at=issued_at,
        expires_at=None if lifetime is None else issued_at + lifetime,
        profile=profile,
    )
    token = sign_token(claims, key, kid)
    result = js_verify(page, token, jwks, now=0)
    assert verify_token(token, {kid: key.public_key()}, now=0) == claims
    assert result["ok"] is True, result
    assert result["claims"] == js_claims(claims)


def test_the_skills_profile_decodes_and_old_tokens_have_none(page, key, kid, jwks):
    with_profile = demo_claims(profile=token_tests.DEMO_PROFILE)
    tokens = [sign_token(with_profile, key, kid), sign_token(demo_claims(), key, kid)]
    new, old = js_verify_all(page, tokens, jwks)
    assert new["ok"] and new["claims"]["profile"] == list(token_tests.DEMO_PROFILE)
    assert old["ok"] and old["claims"]["profile"] is None
    hand_built = token_tests.forge(
        key,
        kid,
        payload=token_tests.claims_bytes(
            token_tests.profile_entries(token_tests.canonical(list(token_tests.DEMO_PROFILE)))
        ),
    )
    assert js_verify(page, hand_built, jwks)["claims"] == js_claims(with_profile)


# --- anything else is refused -----------------------------------------------------------------


def test_every_character_change_is_refused(page, token, jwks):
    changed = []
    for i, original in enumerate(token):
        changed.append(token[:i] + ALPHABET[(ALPHABET.index(original) + 1) % 32] + token[i + 1 :])
        changed.append(token[:i] + ALPHABET[(ALPHABET.index(original) + 17) % 32] + token[i + 1 :])
    results = js_verify_all(page, changed, jwks)
    assert [r["ok"] for r in results] == [False] * len(changed)
    # A changed kid character names a key nobody published; a changed length byte makes
    # the CBOR end early, as a cut-off link does.
    assert {r["reason"] for r in results} <= {
        "malformed",
        "damaged",
        "unknown-key",
        "bad-signature",
        "bad-claims",
    }


def test_lower_case_letters_and_line_breaks_are_forgiven(page, token, jwks):
    chunks = [token[i : i + 37] for i in range(0, len(token), 37)]
    damaged = [
        token.lower(),
        *(token[:i] + token[i].lower() + token[i + 1 :] for i in range(0, len(token), 7)),
        "\r\n".join(chunks),
        "%20".join(chunks).lower(),
        "#" + " ".join(chunks) + "\n",
        "%0a".join(c.swapcase() for c in chunks),
    ]
    results = js_verify_all(page, damaged, jwks)
    assert [(r["ok"], r["claims"]) for r in results] == [(True, js_claims(demo_claims()))] * len(
        damaged
    )


def test_normalise_token_on_the_shared_cases(page):
    cases = token_tests.text_cases()
    answers = page.evaluate(
        "(raws) => raws.map((raw) => { try { return window.verifier.normaliseToken(raw); }"
        " catch (error) { return error.reason === 'malformed' ? null : String(error); } })",
        [raw for _case, raw, _wanted in cases],
    )
    assert {case: got for (case, _raw, _w), got in zip(cases, answers, strict=True)} == {
        case: wanted for case, _raw, wanted in cases
    }


def test_every_cut_off_token_is_damaged_and_a_forged_signature_invalid(page, token, jwks):
    results = js_verify_all(page, [token[:n] for n in range(1, len(token))], jwks)
    assert {r["reason"] for r in results} == {"damaged"}
    signature = [
        token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        for i in range(len(token) - 100, len(token) - 1)
    ]
    assert {r["reason"] for r in js_verify_all(page, signature, jwks)} == {"bad-signature"}


def test_every_byte_change_is_refused(page, token, jwks):
    data = token_tests.b32decode(token)
    changed = [
        token_tests.b32encode(data[:i] + bytes([data[i] ^ 1 << bit]) + data[i + 1 :])
        for i in range(len(data))
        for bit in (0, 3, 7)
    ]
    results = js_verify_all(page, changed, jwks)
    assert [r["ok"] for r in results] == [False] * len(changed)
    assert "error" not in {r["reason"] for r in results}


@pytest.mark.parametrize("extra", range(5))
def test_unused_trailing_bits_must_be_zero(page, key, kid, jwks, extra):
    token = sign_token(demo_claims(number="2025-000123" + "7" * extra), key, kid)
    unused = len(token) * 5 - len(token_tests.b32decode(token)) * 8
    last = ALPHABET.index(token[-1])
    changed = [token[:-1] + ALPHABET[last | 1 << bit] for bit in range(unused)]
    lowered = [text.lower() for text in changed]  # normalising does not forgive them either
    results = js_verify_all(page, [token, *changed, *lowered], jwks)
    assert [r["ok"] for r in results] == [True] + [False] * unused * 2
    assert {r["reason"] for r in results[1:]} <= {"malformed"}


def _swap_first(text: str, letter: str, lookalike: str) -> str:
    """Put a Unicode look-alike where ``letter`` first is (the claims always hold both)."""
    at = text.index(letter)
    return text[:at] + lookalike + text[at + 1 :]


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t + "=" * (-len(t) % 8),
        lambda t: t + "=",
        lambda t: t + "\u00a0",
        lambda t: "##" + t,
        lambda t: t.replace("A", "\u0410", 1),
        lambda t: _swap_first(t.lower(), "i", "\u0131"),
        lambda t: _swap_first(t.lower(), "s", "\u017f"),
        lambda t: "",
        lambda t: "A" * 2000,
        lambda t: t + " " * 4000,
    ],
    ids=[
        "padding",
        "one-pad",
        "no-break space",
        "two-hash",
        "cyrillic",
        "dotless i",
        "long s",
        "empty",
        "long",
        "over the cap",
    ],
)
def test_text_changes_are_refused(page, token, jwks, change):
    result = js_verify(page, change(token), jwks)
    assert (result["ok"], result["reason"]) == (False, "malformed")


PROFILE_ENCODING_CASES = {
    "profile: not shortest",
    "profile: array length not shortest",
    "profile: indefinite length",
    "profile: float",
    "profile: tagged",
    "profile: true",
    "profile: null",
}


def test_genuinely_signed_non_canonical_tokens_are_refused_like_python(page, key, kid, jwks):
    forged = token_tests.forged_tokens(key, kid)
    for token in forged.values():
        with pytest.raises(TokenInvalid):
            verify_token(token, {kid: key.public_key()}, check_expiry=False)
    control = token_tests.forge(key, kid)
    results = js_verify_all(page, [control, *forged.values()], jwks)
    assert results[0]["ok"] is True
    verdicts = {case: r for case, r in zip(forged, results[1:], strict=True)}
    accepted = [case for case, r in verdicts.items() if r["ok"]]
    assert accepted == []
    assert all(r["reason"] in {"malformed", "bad-signature", "bad-claims"} for r in results[1:])
    assert verdicts["signature: high S"]["reason"] == "bad-signature"
    assert verdicts["unprotected kid"]["reason"] == "malformed"
    profile_cases = [case for case in verdicts if case.startswith("profile: ")]
    assert len(profile_cases) >= 10
    # what CBOR forbids here (non-shortest, indefinite, tags, floats, simple values) is
    # caught by the reader; the rest by the claim rules
    for case in profile_cases:
        expected = "malformed" if case in PROFILE_ENCODING_CASES else "bad-claims"
        assert verdicts[case]["reason"] == expected, case


def test_unknown_kid_and_wrong_key_are_refused(page, token, kid):
    other = new_signing_key()
    unknown = js_verify(page, token, {"keys": [public_jwk(other.public_key(), key_id(other))]})
    assert (unknown["ok"], unknown["reason"], unknown["kid"]) == (False, "unknown-key", kid)
    wrong = js_verify(page, token, {"keys": [public_jwk(other.public_key(), kid)]})
    assert (wrong["ok"], wrong["reason"]) == (False, "bad-signature")


@pytest.mark.parametrize(
    "change",
    [
        {"alg": "ES384"},
        {"use": "enc"},
        {"kty": "RSA"},
        {"crv": "P-384"},
        {"x": "AAAA"},
        {"key_ops": ["sign"]},
    ],
    ids=repr,
)
def test_unusable_published_keys_are_refused(page, token, jwks, change):
    result = js_verify(page, token, {"keys": [jwks["keys"][0] | change]})
    assert (result["ok"], result["reason"]) == (False, "unknown-key")


def test_a_jwk_with_a_private_part_is_refused(page, key, kid, token):
    private = public_jwk(key.public_key(), kid) | {"d": "AAAA"}
    assert js_verify(page, token, {"keys": [private]})["reason"] == "unknown-key"


@pytest.mark.parametrize("jwks_value", [None, {}, {"keys": None}, [], "x"], ids=repr)
def test_malformed_jwks_mean_unknown_key(page, token, jwks_value):
    assert js_verify(page, token, jwks_value)["reason"] == "unknown-key"


def test_non_string_fragment_is_malformed(page, jwks):
    assert page.evaluate(
        "async (k) => (await window.verifier.verifyFragment(42, k)).reason", jwks
    ) == ("malformed")


# --- without WebCrypto ----------------------------------------------------------------------------


def test_plain_http_host_has_no_webcrypto(browser, site, token, jwks):
    page = _open(browser, f"http://{INSECURE_HOST}:{site}/index.html")
    try:
        assert page.evaluate("() => window.isSecureContext") is False
        assert page.evaluate("() => window.verifier.webCryptoAvailable()") is False
        result = js_verify(page, token, jwks)
        assert (result["ok"], result["reason"], result["claims"]) == (False, "no-webcrypto", None)
    finally:
        page.close()


# --- the signed status list, read in the browser when the server does not answer ------------


def signed_status_list(key, kid, entries, purpose="message", iat=1_800_000_000) -> str:
    from passports import jws
    from passports import status_list as bitstring

    size = bitstring.PURPOSES[purpose]
    subject = {
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": bitstring.encode(bitstring.build_bitstring(entries, size)),
    }
    if purpose == "message":
        subject["statusSize"] = size
    payload = {
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "credentialSubject": subject,
        "iat": iat,
        "exp": iat + 86_400,
    }
    return jws.sign({"kid": kid, "typ": "vc+jwt"}, payload, key)


def js_read_list(page, text, jwks, indexes) -> dict:
    return page.evaluate(
        "async ([text, k, indexes]) => { try {"
        " const list = await window.verifier.readStatusList(text, k);"
        " return {purpose: list.purpose, signedAt: list.signedAt, expiresAt: list.expiresAt,"
        " entries: indexes.map((i) => window.verifier.listedStatus(list, i))};"
        " } catch (error) { return {error: error.reason || String(error)}; } }",
        [text, jwks, indexes],
    )


def test_the_message_list_tells_revoked_from_superseded(page, key, kid, jwks):
    text = signed_status_list(key, kid, {3: 1, 4: 2, 131_071: 1})
    answer = js_read_list(page, text, jwks, [0, 3, 4, 5, 131_071, 131_072])
    assert answer == {
        "purpose": "message",
        "signedAt": 1_800_000_000,
        "expiresAt": 1_800_086_400,
        "entries": ["valid", "revoked", "superseded", "valid", "revoked", None],
    }
    one_bit = signed_status_list(key, kid, {3: 1}, purpose="revocation")
    assert js_read_list(page, one_bit, jwks, [3, 4])["entries"] == ["revoked", "valid"]


def test_a_status_list_that_does_not_verify_is_refused(page, key, kid, jwks):
    text = signed_status_list(key, kid, {3: 1})
    header, payload, signature = text.split(".")
    other = new_signing_key()
    cases = {
        "changed payload": f"{header}.{payload[:-4]}AAAA.{signature}",
        "other key": signed_status_list(other, kid, {3: 1}),
        "unknown kid": signed_status_list(other, key_id(other), {3: 1}),
        "two parts": f"{header}.{payload}",
        "not base64url": f"{header}.{payload}.{signature}+",
    }
    answers = {case: js_read_list(page, value, jwks, [3]) for case, value in cases.items()}
    assert answers == {case: {"error": "status-list"} for case in cases}


def test_status_index_is_the_sequence_of_a_checked_number(page):
    from passports.numbers import format_passport_number, parse_passport_number

    numbers = [format_passport_number(26, n) for n in (1, 25, 123, 999_999, 1_000_000)]
    numbers += ["26-000123-0", "26-000123-5", "2025-000123", "26-00123-4", "٢٦-000123-4", ""]
    answers = page.evaluate("(ns) => ns.map((n) => window.verifier.statusIndex(n))", numbers)
    assert answers == [parse_passport_number(n) for n in numbers]
    assert answers[:5] == [1, 25, 123, 999_999, 1_000_000]
