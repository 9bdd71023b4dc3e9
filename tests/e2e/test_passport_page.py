"""The QR verification page in Chromium: the signature is checked in the browser."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from passports.services import status
from passports.settings import current_settings
from tests.e2e.conftest import shot
from tests.passports.factories import DEMO_NAME

pytestmark = pytest.mark.e2e


def open_passport(page, live_server, token: str) -> None:
    page.goto(live_server(f"/V#{token}"))
    expect(page.locator("#verify")).to_have_attribute("data-done", "true")


def test_a_passport_url_shows_signature_verified_in_the_browser(live_server, page, tokens):
    open_passport(page, live_server, tokens["genuine"])
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-status", "genuine")
    expect(verdict).to_contain_text("Genuine Skills Passport")
    expect(page.locator('[data-check="ok"]').first).to_contain_text(
        "Signature verified in your browser"
    )
    expect(page.locator(".holder-name")).to_have_text(" ".join(DEMO_NAME))
    expect(page.locator("#passport")).to_contain_text("87.50 of 100.00")
    expect(page.locator("#passport")).to_contain_text("5 of 5")  # the grade with its scale
    shot(page, "passport-genuine")
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_tampered_token_is_not_genuine(live_server, page, tokens):
    token = tokens["genuine"]
    position = len(token) // 2
    tampered = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
    open_passport(page, live_server, tampered)
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-status", "invalid")
    expect(verdict).to_contain_text("Not genuine")
    expect(page.locator(".holder-name")).to_have_count(0)
    shot(page, "passport-tampered")


@pytest.mark.parametrize(
    ("name", "text"),
    [("revoked", "Выдан по ошибке"), ("superseded", "Open the current passport")],
)
def test_revoked_and_superseded_are_shown_with_reason_and_link(
    live_server, page, tokens, name, text
):
    open_passport(page, live_server, tokens[name])
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-status", name)
    expect(verdict).to_contain_text(text)


def test_without_a_token_the_page_points_to_the_manual_check(live_server, page):
    page.goto(live_server("/V#%20%0A"))  # only what a chat app inserts is no token either
    expect(page.locator("#verdict")).to_have_attribute("data-status", "empty")
    page.goto(live_server("/V"))
    expect(page.locator("#verdict")).to_have_attribute("data-status", "empty")
    page.get_by_role("link", name="Check a passport by its number and verification code").click()
    expect(page).to_have_url(live_server("/check"))


def test_without_webcrypto_the_page_says_so_and_relies_on_the_server(live_server, browser, tokens):
    """On plain http to a college server (no secure context) the browser cannot verify."""
    from urllib.parse import urlsplit

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    port = urlsplit(live_server.url).port
    rules = "--host-resolver-rules=MAP college.test 127.0.0.1"
    insecure = browser.browser_type.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, rules]
    )
    try:
        page = insecure.new_page(locale="en-US")
        page.goto(f"http://college.test:{port}/V#{tokens['genuine']}")
        expect(page.locator("#verify")).to_have_attribute("data-done", "true")
        assert page.evaluate("window.isSecureContext") is False
        expect(page.locator("#verdict")).to_have_attribute("data-status", "genuine")
        expect(page.locator("#checks")).to_contain_text("cannot verify signatures")
        expect(page.locator("#checks")).not_to_contain_text("Signature verified")
    finally:
        insecure.close()


# --- verdicts that never mislead (issue 10) -------------------------------------------------

KEPT_LIST = "skills-passport:status-message"


def block(page, *patterns: str) -> None:
    """Make requests to these URLs fail, as on a dropped network."""
    for pattern in patterns:
        page.route(pattern, lambda route: route.abort())


VERIFY_DATA = '<script type="application/json" id="verify-data">'


def embedding(page, **members) -> None:
    """Serve /V with these members of its embedded #verify-data replaced.

    The page embeds the signed status list, so a status answer needs no request; a page
    without it (``statusList=None``) or with an old one is what these tests are about.
    """

    def handle(route):
        response = route.fetch()
        html = response.text()
        start = html.index(VERIFY_DATA) + len(VERIFY_DATA)
        end = html.index("</script>", start)
        data = json.loads(html[start:end]) | members
        route.fulfill(response=response, body=html[:start] + json.dumps(data) + html[end:])

    page.route("**/V", handle)


def test_status_requests_blocked_a_revoked_passport_is_amber_unchecked(live_server, page, tokens):
    embedding(page, statusList=None)
    block(page, "**/api/v1/verify", "**/status/**")
    open_passport(page, live_server, tokens["revoked"])
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-status", "unchecked")
    expect(verdict).to_have_class("verdict verdict-warn")
    expect(verdict).to_contain_text("we could not check whether it was revoked")
    expect(verdict).not_to_contain_text("Genuine Skills Passport")
    expect(page.locator(".verdict-ok")).to_have_count(0)
    expect(page.locator('[data-check="ok"]').first).to_contain_text("Signature verified")
    verdict.get_by_role("link", name="Check a passport by its number").click()
    expect(page).to_have_url(live_server("/check"))


@pytest.mark.parametrize("name", ["revoked", "superseded", "genuine"])
def test_without_the_api_the_signed_status_list_answers(live_server, page, tokens, name):
    block(page, "**/api/v1/verify")
    open_passport(page, live_server, tokens[name])
    expect(page.locator("#verdict")).to_have_attribute("data-status", name)
    expect(page.locator("#checks")).to_contain_text("signed status list")


def test_a_status_list_older_than_the_allowed_age_is_not_relied_on(live_server, page, tokens):
    from datetime import timedelta

    from app.db import utcnow

    hours = live_server.app.config["STATUS_LIST_MAX_AGE_HOURS"]
    with live_server.session() as session:
        old = status.signed_list(
            session, current_settings(), "message", now=utcnow() - timedelta(hours=hours, minutes=5)
        )
    block(page, "**/api/v1/verify")
    embedding(page, statusList=old)
    page.route(
        "**/status/message", lambda route: route.fulfill(body=old, content_type="text/plain")
    )
    open_passport(page, live_server, tokens["revoked"])
    expect(page.locator("#verdict")).to_have_attribute("data-status", "unchecked")


def test_a_list_kept_from_an_earlier_check_answers_offline(live_server, page, tokens):
    open_passport(page, live_server, tokens["genuine"])
    page.wait_for_function(f"() => localStorage.getItem({KEPT_LIST!r}) !== null")
    block(page, "**/api/v1/verify", "**/status/**", "**/.well-known/jwks.json")
    embedding(page, statusList=None)
    page.goto("about:blank")
    open_passport(page, live_server, tokens["revoked"])
    expect(page.locator("#verdict")).to_have_attribute("data-status", "revoked")
    expect(page.locator("#verdict")).to_contain_text("revoked and is no longer valid")


def test_a_lower_cased_link_broken_by_a_chat_app_is_genuine(live_server, page, tokens):
    token = tokens["genuine"].lower()
    open_passport(page, live_server, token[:90] + "%20" + token[90:180] + "%0A" + token[180:])
    expect(page.locator("#verdict")).to_have_attribute("data-status", "genuine")
    expect(page.locator(".holder-name")).to_have_text(" ".join(DEMO_NAME))


def test_a_cut_off_link_is_damaged_and_offers_the_manual_check(live_server, page, tokens):
    open_passport(page, live_server, tokens["genuine"][:-30])
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-status", "damaged")
    expect(verdict).to_contain_text("This link is incomplete")
    expect(verdict).not_to_contain_text("Not genuine")
    expect(page.locator(".holder-name")).to_have_count(0)
    expect(verdict.get_by_role("link", name="Check a passport by its number")).to_be_visible()


def test_a_forged_signature_is_invalid(live_server, page, tokens):
    token = tokens["genuine"]
    at = len(token) - 20  # inside the signature's r || s
    forged = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]
    open_passport(page, live_server, forged)
    expect(page.locator("#verdict")).to_have_attribute("data-status", "invalid")
    expect(page.locator('[data-check="bad"]').first).to_contain_text("signature check")


def test_the_manual_check_accepts_the_number_as_digits_only(live_server, page, tokens):
    page.goto(live_server("/check"))
    number = page.get_by_label("Passport number")
    expect(number).to_have_attribute("inputmode", "numeric")
    number.fill(tokens["genuine_number"].replace("-", ""))
    page.get_by_label("Verification code").fill(tokens["genuine_code"].replace("-", "").lower())
    page.get_by_role("button", name="Check").click()
    expect(page.locator(".verdict")).to_have_attribute("data-status", "genuine")


def test_amber_and_damaged_verdicts_on_a_phone_in_kazakh(live_server, browser, tokens):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="kk-KZ")
    page = context.new_page()
    try:
        block(page, "**/api/v1/verify", "**/status/**")
        embedding(page, statusList=None)
        for name, token in (("unchecked", tokens["revoked"]), ("damaged", tokens["genuine"][:-30])):
            page.goto("about:blank")
            open_passport(page, live_server, token)
            expect(page.locator("#verdict")).to_have_attribute("data-status", name)
            expect(page.locator("html")).to_have_attribute("lang", "kk")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            shot(page, f"passport-{name}-kk-phone")
    finally:
        context.close()


def test_a_share_link_switched_off_says_so_in_three_languages(live_server, browser, tokens):
    from sqlalchemy import select

    from passports.models import Passport

    with live_server.session() as session:
        passport = session.scalar(select(Passport).where(Passport.token == tokens["superseded"]))
        passport.share_enabled = False
        slug, number = passport.share_slug, passport.number
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="kk-KZ")
    page = context.new_page()
    try:
        response = page.goto(live_server(f"/s/{slug}"))
        assert response.status == 404
        notices = page.locator(".share-off")
        expect(notices).to_have_count(3)
        expect(notices.nth(1)).to_contain_text("QR-код на паспорте по-прежнему проверяется")
        expect(page.locator("main")).not_to_contain_text(number)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "share-link-off-kk-phone")
    finally:
        context.close()
