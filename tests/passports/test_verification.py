"""The verify API, the manual check and the share page: statuses, precedence, privacy."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from assessments.personal_data import decrypt_iin
from passports.services import holders, issuance, secrets, verification
from passports.settings import current_settings
from passports.token import token_from_url
from tests.passports.factories import finalised_exam


def api(client, body):
    return client.post("/api/v1/verify", json=body)


@pytest.fixture
def expired(app, session, signing_key):
    """A passport issued in 2020 with a one-year validity."""
    app.config["PASSPORT_VALIDITY_YEARS"] = 1
    try:
        exam = finalised_exam()
        summary = issuance.issue_for_exam(
            session, current_settings(), exam.exam, now=datetime(2020, 6, 1, 9, tzinfo=UTC)
        )
    finally:
        app.config["PASSPORT_VALIDITY_YEARS"] = 0
    return summary.new_passports


def test_genuine_by_url_and_by_token(client, issued):
    passport = issued.passport
    url = verification.passport_url(passport, current_settings().public_base_url)
    for body in ({"url": url}, {"token": token_from_url(url)}):
        response = api(client, body)
        assert response.status_code == 200
        data = response.get_json()
        assert data["valid"] is True and data["status"] == "genuine"
        assert data["passport"]["number"] == passport.number
        assert data["passport"]["holder"]["name"] == "Әлібекова Айгерім Нұрланқызы"
        assert data["passport"]["result"] == {
            "total": "87.50",
            "max": "100.00",
            "percent": "87.50",
            "grade": 5,
        }
        assert data["passport"]["matches_token"] is True
        assert response.headers["Cache-Control"] == "no-store"


def test_statuses_and_their_precedence(client, session, issued, expired):
    first, second, third = expired
    issuance.revoke(session, first, "Ошибка в протоколе")
    issuance.reissue(session, current_settings(), second)
    cases = {
        issued.passport.token: "genuine",
        first.token: "revoked",  # revoked and expired: revoked wins
        second.token: "superseded",  # superseded and expired: superseded wins
        third.token: "expired",
        issued.passport.token[:-4] + "AAAA": "invalid",
    }
    for token, status in cases.items():
        data = api(client, {"token": token}).get_json()
        assert data["status"] == status, status
        assert data["valid"] is (status == "genuine")
        assert (data["passport"] is None) is (status == "invalid")
    revoked = api(client, {"token": first.token}).get_json()["passport"]
    assert revoked["revocation_reason"] == "Ошибка в протоколе" and revoked["revoked_at"]
    superseded = api(client, {"token": second.token}).get_json()["passport"]
    assert superseded["superseded_by"]["url"].startswith("HTTPS://SKILLS.EXAMPLE.KZ/V#")


def test_a_link_lower_cased_or_broken_by_a_chat_app_is_still_genuine(client, issued):
    url = verification.passport_url(issued.passport, current_settings().public_base_url)
    token = token_from_url(url)
    damaged = [
        {"url": url.lower()},
        {"url": url[:60] + "\r\n" + url[60:]},
        {"url": url[:40] + "%0a" + url[40:120] + "%20" + url[120:]},
        {"token": token.lower()},
        {"token": " ".join(token[i : i + 40] for i in range(0, len(token), 40))},
        {"token": token[:100] + "\t" + token[100:].lower()},
    ]
    for body in damaged:
        data = api(client, body).get_json()
        assert (data["status"], data["valid"]) == ("genuine", True), body
        assert data["passport"]["number"] == issued.passport.number


def test_a_cut_off_link_is_damaged_and_a_forged_one_invalid(client, issued):
    url = verification.passport_url(issued.passport, current_settings().public_base_url)
    for cut in (1, 2, 5, 40, len(token_from_url(url)) - 3):
        data = api(client, {"url": url[:-cut]}).get_json()
        assert data == {"valid": False, "status": "damaged", "passport": None}, cut
    token = token_from_url(url)
    signature_changed = token[:-20] + ("A" if token[-20] != "A" else "B") + token[-19:]
    assert api(client, {"token": signature_changed}).get_json()["status"] == "invalid"
    # Unicode case mapping is not applied: a dotless ı never becomes the letter I
    dotless = token.replace("I", "ı", 1)
    assert dotless != token
    assert api(client, {"token": dotless}).get_json()["status"] == "invalid"


def test_a_token_of_another_issuer_is_invalid(client, issued):
    from passports.token import PassportClaims, key_id, new_signing_key, sign_token

    forger = new_signing_key()
    claims = PassportClaims(
        number=issued.passport.number,
        holder_name=issued.passport.holder_name,
        competence_code="X",
        total_hundredths=10000,
        grade=5,
        issued_at=1_750_000_000,
    )
    for kid in (key_id(forger), issued.passport.kid):  # unknown kid, or our kid: both fail
        forged = sign_token(claims, forger, kid)
        data = api(client, {"token": forged}).get_json()
        assert data == {"valid": False, "status": "invalid", "passport": None}


def test_every_changed_character_makes_the_token_invalid(session, issued):
    token = issued.passport.token
    for position in range(len(token)):
        replacement = "A" if token[position] != "A" else "B"
        tampered = token[:position] + replacement + token[position + 1 :]
        verdict = verification.verify(session, current_settings(), tampered).status
        # a changed length byte can make the CBOR end early, like a cut-off link
        assert verdict in ("invalid", "damaged"), position


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (None, 400),
        ([], 400),
        ({}, 422),
        ({"url": "x", "token": "y"}, 422),
        ({"token": 5}, 422),
        ({"token": "A" * 5000}, 422),
        ({"url": "https://skills.example.kz/V"}, 200),
        ({"token": "not base32!"}, 200),
    ],
)
def test_bad_requests_are_problems_never_500(client, signing_key, body, status):
    response = client.post(
        "/api/v1/verify",
        data=json.dumps(body) if body is not None else "{",
        content_type="application/json",
    )
    assert response.status_code == status
    if status != 200:
        assert response.mimetype == "application/problem+json"
    else:
        assert response.get_json() == {"valid": False, "status": "invalid", "passport": None}


def test_the_iin_is_never_in_public_output(client, session, issued):
    iin = decrypt_iin(issued.candidate(0).iin_encrypted)
    passport = issued.passport
    code = secrets.printed_code(current_settings(), passport.number, passport.code_nonce)
    token = holders.private_link_token(current_settings(), passport)
    outputs = [
        api(client, {"token": passport.token}).get_data(as_text=True),
        client.get("/V").get_data(as_text=True),
        client.get(f"/s/{passport.share_slug}").get_data(as_text=True),
        client.post("/check", data={"number": passport.number, "code": code}).get_data(
            as_text=True
        ),
        client.get(f"/my/{token}").get_data(as_text=True),
        client.get(f"/my/{token}/credential.jwt").get_data(as_text=True),
        client.get("/status/message").get_data(as_text=True),
        client.get("/.well-known/jwks.json").get_data(as_text=True),
    ]
    from passports.jws import b64url_decode

    for index in (5, 6):  # the VC-JWTs: look inside header and payload
        header, payload, _signature = outputs[index].strip().split(".")
        outputs.append(b64url_decode(header).decode() + b64url_decode(payload).decode())
    for text in outputs:
        assert iin not in text
    assert json.loads(outputs[0])["passport"]["holder"]["name"] == passport.holder_name
    assert passport.holder_name in outputs[2] and passport.holder_name in outputs[3]
    assert passport.holder_name in outputs[-2]  # the credential names its holder


def test_manual_check_misses_look_the_same(client, session, issued):
    passport = issued.passport
    code = secrets.printed_code(current_settings(), passport.number, passport.code_nonce)
    hit = client.post("/check", data={"number": passport.number, "code": code.lower()})
    assert hit.status_code == 200 and 'data-status="genuine"' in hit.get_data(as_text=True)

    def miss(number, typed):
        page = client.post("/check", data={"number": number, "code": typed})
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert 'data-status="not-found"' in body and "Әлібекова" not in body
        return body.replace(number, "N").replace(typed, "C")

    wrong_code = miss(passport.number, "ZZZZ-ZZZZ")
    unknown = miss("26-999999-0", code)
    passport.lookup_enabled = False
    session.flush()
    switched_off = miss(passport.number, code)
    assert wrong_code == unknown == switched_off


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("{digits}", "{code}"),
        ("{spaced}", "{code_plain}"),
        ("{en_dash}", "{code_minus}"),
        ("{minus}", "{code_lower}"),
    ],
)
def test_manual_check_reads_the_number_and_code_as_typed(client, issued, number, code):
    passport = issued.passport
    printed = secrets.printed_code(current_settings(), passport.number, passport.code_nonce)
    forms = {
        "digits": passport.number.replace("-", ""),
        "spaced": passport.number.replace("-", " "),
        "en_dash": passport.number.replace("-", "\u2013"),
        "minus": passport.number.replace("-", "\u2212"),
        "code": printed,
        "code_plain": printed.replace("-", ""),
        "code_minus": printed.replace("-", "\u2212").lower(),
        "code_lower": printed.lower().replace("-", ""),
    }
    page = client.post(
        "/check", data={"number": number.format(**forms), "code": code.format(**forms)}
    )
    assert page.status_code == 200
    assert 'data-status="genuine"' in page.get_data(as_text=True)


def test_share_page_and_holder_switching_it_off(client, session, issued):
    passport = issued.passport
    page = client.get(f"/s/{passport.share_slug}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Әлібекова Айгерім Нұрланқызы" in body and 'data-status="genuine"' in body
    assert "<svg" in body  # QR code and skills profile chart
    token = holders.private_link_token(current_settings(), passport)
    response = client.post(f"/my/{token}", data={"lookup_enabled": "y"})
    assert response.status_code == 302
    assert passport.share_enabled is False and passport.lookup_enabled is True
    switched_off = client.get(f"/s/{passport.share_slug}")
    assert switched_off.status_code == 404
    assert switched_off.headers["Cache-Control"] == "no-store"
    body = switched_off.get_data(as_text=True)
    # in all three languages, whatever the page language, and that the QR still verifies
    for said in (
        "Паспорт иесі бұл сілтемені өшіріп қойған",
        "Владелец отключил эту ссылку",
        "The holder has switched this link off",
        "QR код бұрынғыдай тексеріледі",
        "QR-код на паспорте по-прежнему проверяется",
        "The QR code on the passport still verifies",
    ):
        assert said in body
    # and nothing of the passport
    for private in (passport.number, "Әлібекова", passport.token[:20], "<svg"):
        assert private not in body
    unknown = client.get("/s/unknownslug")
    assert unknown.status_code == 404
    assert "switched this link off" not in unknown.get_data(as_text=True)
    # the QR still verifies
    assert api(client, {"token": passport.token}).get_json()["status"] == "genuine"


def test_rate_limits_apply_to_the_api_and_the_check_form(_app, monkeypatch):
    from app.extensions import limiter
    from tests.conftest import make_app

    monkeypatch.setattr(limiter, "enabled", limiter.enabled)  # restored after the test
    limited = make_app(
        _app.config["DATABASE_URL"],
        RATELIMIT_ENABLED=True,
        VERIFY_API_RATE_LIMIT="3 per minute",
        PASSPORT_CHECK_RATE_LIMIT="2 per minute",
    )
    client = limited.test_client()
    try:
        _check_limits(client)
    finally:
        from app.extensions import db

        with limited.app_context():
            db.engine.dispose()


def _check_limits(client) -> None:
    codes = [client.post("/api/v1/verify", json={"token": "AAAA"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.post("/api/v1/verify", json={"token": "AAAA"}).mimetype == (
        "application/problem+json"
    )
    checks = [
        client.post("/check", data={"number": "26-000001-0", "code": "AAAA-AAAA"}).status_code
        for _ in range(3)
    ]
    assert checks == [200, 200, 429]
    assert client.get("/check").status_code == 200  # the form itself stays reachable
    # over the limit: the same form with what was typed, and how long to wait, translated
    typed = {"number": "26 000001 0", "code": "abcd-efgh"}
    waits = {
        "kk": r"(\d+) секундтан кейін қайталап көріңіз\.",
        "ru": r"Повторите попытку через (\d+) секунд[уы]?\.",
        "en": r"Try again in (\d+) seconds?\.",
    }
    for language, wait in waits.items():
        page = client.post("/check", data=typed, headers={"Accept-Language": language})
        assert page.status_code == 429
        body = page.get_data(as_text=True)
        seconds = re.search(wait, body)
        assert seconds is not None, language
        assert 1 <= int(seconds.group(1)) <= 61  # the window, rounded up by a second
        assert page.headers["Retry-After"] == seconds.group(1)
        assert 'value="26 000001 0"' in body and 'value="abcd-efgh"' in body
        assert '<form method="post"' in body and page.headers["Cache-Control"] == "no-store"
