"""The QR verification page in Chromium: the signature is checked in the browser."""

from __future__ import annotations

from fractions import Fraction

import pytest
from playwright.sync_api import expect

from passports.services import issuance, keys
from tests.e2e.conftest import shot
from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tokens(live_server) -> dict[str, str]:
    """Tokens of three passports of one exam: genuine, revoked, superseded."""
    with live_server.session() as session:
        keys.ensure_key(session)
        exam = finalised_exam(
            [Sitting(names=DEMO_NAME, share=Fraction(7, 8)), Sitting(), Sitting()],
            start=__import__("datetime").date(2026, 5, 20),
        )
        genuine, revoked, superseded = issuance.issue_for_exam(session, exam.exam).new_passports
        issuance.revoke(session, revoked, "Выдан по ошибке")
        issuance.reissue(session, superseded)
        return {
            "genuine": genuine.token,
            "revoked": revoked.token,
            "superseded": superseded.token,
        }


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
