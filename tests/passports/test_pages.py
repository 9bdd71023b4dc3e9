"""Passport pages: verification page, graduate's page, staff pages and their permissions."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from urllib.parse import parse_qs, urlsplit

from passports import jws
from passports.credentials import credential_id
from passports.models import Passport
from passports.services import holders, issuance, keys, verification
from passports.settings import current_settings
from tests.factories import CentreFactory
from tests.passports.factories import Sitting, finalised_exam, store_result


def test_verify_page_loads_the_browser_verifier_and_needs_no_token(client):
    for path in ("/V", "/v"):
        page = client.get(path)
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert 'id="verify"' in body and "js/verify-page.js" in body and 'type="module"' in body
        assert "data-i18n=" in body and "/api/v1/verify" in body
    with client.get("/static/passports/verify.js") as module:
        assert module.status_code == 200 and "verifyFragment" in module.get_data(as_text=True)
    with client.get("/static/js/verify-page.js") as page_script:
        assert "/static/passports/verify.js" in page_script.get_data(as_text=True)


def test_graduate_page_shows_the_passport_and_the_credential(
    client, session, issued, credential_key
):
    passport = issued.passport
    token = holders.private_link_token(current_settings(), passport)
    page = client.get(f"/my/{token}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    body = page.get_data(as_text=True)
    assert "Әлібекова Айгерім Нұрланқызы" in body
    assert f"/s/{passport.share_slug}" in body
    assert f"/my/{token}/passport.pdf" in body
    start = body.index("https://www.linkedin.com/profile/add?")
    link = body[start : body.index('"', start)].replace("&amp;", "&")
    params = parse_qs(urlsplit(link).query)
    assert params["startTask"] == ["CERTIFICATION_NAME"]
    assert params["certId"] == [passport.number]
    assert params["certUrl"][0].endswith(f"/s/{passport.share_slug}")
    assert client.get("/my/not-a-real-link").status_code == 404

    jwt = client.get(f"/my/{token}/credential.jwt")
    assert jwt.status_code == 200 and jwt.mimetype == "application/vc+jwt"
    text = jwt.get_data(as_text=True)
    header = jws.read_header(text)  # the signature: tests/passports/test_credentials.py
    payload = json.loads(jws.b64url_decode(text.split(".")[1]))
    assert header["alg"] == "RS256" and header["kid"].endswith(f"/{credential_key.kid}.json")
    assert "OpenBadgeCredential" in payload["type"]
    assert payload["jti"] == payload["id"] == credential_id(passport)
    assert payload["iss"] == payload["issuer"]["id"] == "https://skills.example.kz"
    subject = payload["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == passport.holder_name
    results = {r["resultDescription"].rsplit("#", 1)[1]: r["value"] for r in subject["result"]}
    assert results["total"] == "87.50" and results["grade"] == "5"
    assert results["criterion-A"] and results["wsos-1"]
    assert payload["credentialStatus"]["statusPurpose"] == "revocation"
    assert payload["credentialStatus"]["statusListIndex"] == str(passport.sequence)


def test_graduate_link_regenerated_by_an_admin_replaces_the_old_one(
    sign_in, client, session, issued
):
    old = holders.private_link_token(current_settings(), issued.passport)
    sign_in("admin")
    response = client.post(f"/passports/{issued.passport.number}/link")
    assert response.status_code == 302
    new = holders.private_link_token(current_settings(), issued.passport)
    assert new != old
    assert client.get(f"/my/{old}").status_code == 404
    assert client.get(f"/my/{new}").status_code == 200


def test_admin_issues_from_the_exam_page(sign_in, client, session, signing_key):
    exam = finalised_exam()
    sign_in("admin")
    page = client.get(f"/passports/exams/{exam.exam.id}")
    assert page.status_code == 200 and "/issue" in page.get_data(as_text=True)
    response = client.post(f"/passports/exams/{exam.exam.id}/issue", follow_redirects=True)
    assert response.status_code == 200
    assert session.query(Passport).filter_by(exam_id=exam.exam.id).count() == 3
    listing = client.get("/passports/").get_data(as_text=True)
    assert f"/passports/exams/{exam.exam.id}" in listing
    number = session.query(Passport).first().number
    found = client.get("/passports/", query_string={"q": number}).get_data(as_text=True)
    assert f"/passports/{number}" in found


def test_issue_refused_for_an_unfinished_exam(sign_in, client, session, signing_key):
    exam = finalised_exam()
    exam.exam.status = "marking"
    session.flush()
    sign_in("admin")
    response = client.post(f"/passports/exams/{exam.exam.id}/issue", follow_redirects=True)
    assert response.status_code == 200
    assert session.query(Passport).count() == 0


def test_revoke_and_reissue_from_the_passport_page(sign_in, client, session, issued):
    sign_in("admin")
    number = issued.passport.number
    page = client.get(f"/passports/{number}")
    assert page.status_code == 200 and "Әлібекова" in page.get_data(as_text=True)
    response = client.post(f"/passports/{number}/revoke", data={"reason": ""})
    assert response.status_code == 302 and issued.passport.revoked_at is None
    client.post(f"/passports/{number}/revoke", data={"reason": "Қате берілген"})
    assert issued.passport.status() == "revoked"
    api = client.post("/api/v1/verify", json={"token": issued.passport.token}).get_json()
    assert api["status"] == "revoked" and api["passport"]["revocation_reason"] == "Қате берілген"
    # a revoked passport cannot be re-issued from its page
    client.post(f"/passports/{number}/reissue")
    assert session.query(Passport).count() == 1


def test_reissue_from_the_passport_page_supersedes(sign_in, client, session, issued):
    sign_in("admin")
    response = client.post(f"/passports/{issued.passport.number}/reissue")
    assert response.status_code == 302
    assert issued.passport.status() == "superseded"
    new = session.get(Passport, issued.passport.superseded_by_id)
    assert response.headers["Location"].endswith(f"/passports/{new.number}")
    share = client.get(f"/s/{issued.passport.share_slug}").get_data(as_text=True)
    assert (
        'data-status="superseded"' in share
        and verification.passport_url(new, current_settings().public_base_url) in share
    )


def test_private_links_csv(sign_in, client, session, issued):
    sign_in("admin")
    response = client.get(f"/passports/exams/{issued.exam.id}/links.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    assert rows[0]["last_name"] == "Әлібекова"
    assert rows[0]["private_link"].startswith("https://skills.example.kz/my/")
    link = rows[0]["private_link"].removeprefix("https://skills.example.kz")
    assert client.get(link).status_code == 200


def test_centre_managers_see_their_centres_passports_only(sign_in, client, session, issued):
    own = issued.exam.centre
    sign_in("centre_manager", centre_id=own.id)
    number = issued.passport.number
    assert client.get(f"/passports/{number}").status_code == 200
    assert client.get(f"/passports/exams/{issued.exam.id}").status_code == 200
    assert client.post(f"/passports/{number}/revoke", data={"reason": "x"}).status_code == 403
    assert client.post(f"/passports/exams/{issued.exam.id}/issue").status_code == 403
    client.post("/logout")
    sign_in("centre_manager", centre_id=CentreFactory().id)
    # another centre's passport or exam: the same 404 as one that does not exist
    assert client.get(f"/passports/{number}").status_code == 404
    assert client.get(f"/passports/exams/{issued.exam.id}/links.csv").status_code == 404
    assert client.get("/passports/NO-SUCH-NUMBER").status_code == 404
    search = client.get("/passports/", query_string={"q": number}).get_data(as_text=True)
    assert f'href="/passports/{number}"' not in search


def test_keys_page_and_rotation(sign_in, client, session, signing_key):
    sign_in("admin")
    page = client.get("/passports/keys")
    assert page.status_code == 200 and signing_key.kid in page.get_data(as_text=True)
    assert client.post("/passports/keys/rotate").status_code == 302
    assert keys.active_key(session).kid != signing_key.kid
    client.post("/logout")
    sign_in("centre_manager")
    assert client.get("/passports/keys").status_code == 403


def test_passports_list_counts_only_what_can_be_issued_now(sign_in, client, session, issued):
    """After a revocation the list no longer asks to issue what issuing would not give."""
    two = finalised_exam(
        [
            Sitting(share=Fraction(9, 10)),
            Sitting(share=Fraction(8, 10)),
            Sitting(share=Fraction(1, 10)),
        ]
    )
    assert issuance.issuable_counts(session, [issued.exam.id, two.exam.id]) == {two.exam.id: 2}
    sign_in("admin")
    assert "2 to issue" in client.get("/passports/").get_data(as_text=True)

    issuance.issue_for_exam(session, current_settings(), two.exam)
    assert issuance.issuable_counts(session, [two.exam.id]) == {}
    number = issued.passport.number
    client.post(f"/passports/{number}/revoke", data={"reason": "Қате берілген"})
    assert issued.passport.status() == "revoked"
    # revoked by hand: issuing again would not give it back, so nothing is "to issue"
    assert issuance.issuable_counts(session, [issued.exam.id, two.exam.id]) == {}
    body = client.get("/passports/").get_data(as_text=True)
    assert "to issue" not in body
    assert issuance.issue_for_exam(session, current_settings(), issued.exam).issued == 0

    # revoked automatically because a correction made it fail: passing again counts again
    second = issuance.issue_for_exam(session, current_settings(), two.exam)
    assert second.issued == 0
    store_result(two.enrolments[1], Fraction(1, 10), two.scheme)
    issuance.issue_for_exam(session, current_settings(), two.exam)
    assert issuance.issuable_counts(session, [two.exam.id]) == {}
    store_result(two.enrolments[1], Fraction(8, 10), two.scheme)
    assert issuance.issuable_counts(session, [two.exam.id]) == {two.exam.id: 1}
    assert issuance.issue_for_exam(session, current_settings(), two.exam).issued == 1
