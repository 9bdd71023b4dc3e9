"""The QR page and the national trust list: which issuer signed, and `untrusted` in red.

The live server's development list allows its own keys for any competence. A passport
signed by a key the list limits to other competences must be shown as `untrusted` in each
of the page's languages, with the precise reason and the issuer the list names; the demo
passport stays `genuine` and names its issuer. Screenshots at phone, tablet and desktop.
"""

from __future__ import annotations

import json
from datetime import date
from fractions import Fraction

import pytest
from playwright.sync_api import expect

from app.db import utcnow
from passports import trust
from passports.services import issuance, keys, trust_lists
from passports.settings import current_settings
from passports.token import key_id, new_signing_key, public_jwk, sign_token, verify_token
from tests.e2e.conftest import shot
from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam

pytestmark = pytest.mark.e2e

OUTSIDER = {"kk": "Түркістан орталығы", "ru": "Центр Туркестана", "en": "Turkestan centre"}
# locale, verdict title, the precise reason (out of scope), in the page's language
LANGUAGES = {
    "kk": ("kk-KZ", "Сенімсіз", "Қол қою кілтіне бұл құзыретті куәландыруға рұқсат жоқ"),
    "ru": ("ru-RU", "Не заслуживает доверия", "Ключу подписи не разрешено удостоверять"),
    "en": ("en-US", "Not trusted", "The signing key is not allowed to certify this competence"),
}
SIZES = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 900)}


@pytest.fixture(scope="module")
def tokens(live_server):
    """The demo passport's token, and the same claims signed by a key outside its scope.

    The outsider key joins the installed list limited to competence "R1" (the list is
    re-signed with the development anchor); the development list is restored afterwards.
    """
    settings = current_settings
    with live_server.session() as session:
        keys.ensure_key(session, settings())
        exam = finalised_exam(
            [Sitting(names=DEMO_NAME, share=Fraction(7, 8))], start=date(2026, 5, 21)
        )
        (genuine,) = issuance.issue_for_exam(session, settings(), exam.exam).new_passports
        claims = verify_token(genuine.token, keys.public_keys(session), check_expiry=False)
        outsider = new_signing_key()
        kid = key_id(outsider)
        listed = trust.read_trust_list(
            trust_lists.current_row(session).jws, trust_lists.anchor_jwk(settings())
        )
        anchor_key, _created = trust_lists.ensure_development_anchor(settings().development_anchor)
        payload = trust_lists.development_payload(
            session, settings(), listed.seq + 1, utcnow().replace(microsecond=0)
        )
        payload["keys"].append(
            {
                "kid": kid,
                "jwk": public_jwk(outsider.public_key(), kid),
                "issuer": {"id": "kz-turkestan-cc-07", "name": OUTSIDER, "status_list": None},
                "competences": ["R1"],
                "valid_from": 0,
                "valid_to": None,
                "status": "active",
            }
        )
        trust_lists.install(session, settings(), trust.sign_trust_list(payload, anchor_key))
        made = {"genuine": genuine.token, "out_of_scope": sign_token(claims, outsider, kid)}
        assert claims.competence_code != "R1"
    try:
        yield made
    finally:
        with live_server.session() as session:
            trust_lists.sign_development_list(session, settings())


def open_in(browser, live_server, token: str, language: str, size: str):
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale=LANGUAGES[language][0]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server(f"/V#{token}"))
    expect(page.locator("#verify")).to_have_attribute("data-done", "true")
    expect(page.locator("html")).to_have_attribute("lang", language)
    return context, page


@pytest.mark.parametrize(
    ("language", "size"), [("kk", "phone"), ("ru", "tablet"), ("en", "desktop")]
)
def test_a_key_outside_its_scope_is_untrusted_in_red(live_server, browser, tokens, language, size):
    context, page = open_in(browser, live_server, tokens["out_of_scope"], language, size)
    try:
        verdict = page.locator("#verdict")
        expect(verdict).to_have_attribute("data-status", "untrusted")
        expect(verdict).to_have_class("verdict verdict-bad")
        _locale, title, reason = LANGUAGES[language]
        expect(verdict).to_contain_text(title)
        expect(verdict).to_contain_text(OUTSIDER[language])  # who signed, in this language
        expect(page.locator('[data-check="bad"]').first).to_contain_text(reason)
        expect(page.locator(".holder-name")).to_have_count(0)  # nothing to rely on
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0]
        shot(page, f"passport-untrusted-{language}-{size}")
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_the_demo_passport_is_genuine_and_names_its_issuer(live_server, browser, tokens, size):
    context, page = open_in(browser, live_server, tokens["genuine"], "ru", size)
    try:
        expect(page.locator("#verdict")).to_have_attribute("data-status", "genuine")
        names = json.loads(page.locator("#verify").get_attribute("data-i18n"))
        issuer = current_settings_name(live_server, "ru")
        expect(page.locator("#checks")).to_contain_text(
            names["trust_allowed"].replace("%(issuer)s", issuer)
        )
        expect(page.locator(".holder-name")).to_have_text(" ".join(DEMO_NAME))
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0]
        shot(page, f"passport-genuine-trusted-ru-{size}")
    finally:
        context.close()


def current_settings_name(live_server, language: str) -> str:
    with live_server.app.app_context():
        return current_settings().issuer_name[language]


def test_an_expired_trust_list_leaves_a_genuine_passport_amber(live_server, page, tokens):
    """Past the list's exp nobody can say the key is still allowed: never green."""
    settings = current_settings
    with live_server.session() as session:
        anchor_key, _created = trust_lists.ensure_development_anchor(settings().development_anchor)
        now = utcnow().replace(microsecond=0)
        payload = trust_lists.development_payload(
            session, settings(), trust_lists.current_row(session).seq + 1, now
        )
        payload |= {"iat": payload["iat"] - 400 * 86_400, "exp": payload["iat"] - 60}
        expired = trust.sign_trust_list(payload, anchor_key)
        trust_lists.install(session, settings(), expired, force=True)
    try:
        page.goto(live_server(f"/V#{tokens['genuine']}"))
        expect(page.locator("#verify")).to_have_attribute("data-done", "true")
        verdict = page.locator("#verdict")
        expect(verdict).to_have_attribute("data-status", "unchecked")
        expect(verdict).to_have_class("verdict verdict-warn")
        expect(verdict).to_contain_text("Signature genuine, authority not checked")
        expect(page.locator('[data-check="warn"]').first).to_contain_text(
            "The trust list has expired"
        )
        expect(page.locator(".verdict-ok")).to_have_count(0)
        shot(page, "passport-trust-list-expired")
    finally:
        with live_server.session() as session:
            trust_lists.sign_development_list(session, settings())
