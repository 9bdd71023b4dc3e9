"""The QR page shows the skills profile signed in the token when the server cannot answer."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from playwright.sync_api import expect

from passports.services import issuance, keys
from passports.settings import current_settings
from tests.e2e.conftest import shot
from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam

pytestmark = pytest.mark.e2e

KEPT_SECTIONS = "skills-passport:sections"


@pytest.fixture(scope="module")
def token(live_server) -> str:
    """A passport whose holder scored 7/8 of every aspect: 88 % in each of four sections."""
    with live_server.session() as session:
        keys.ensure_key(session, current_settings())
        exam = finalised_exam(
            [Sitting(names=DEMO_NAME, share=Fraction(7, 8))], start=date(2026, 4, 6)
        )
        (passport,) = issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports
        return passport.token


def open_offline(page, live_server, token: str) -> None:
    """Open the page with the server's API unreachable (the signature is still checked here)."""
    page.route("**/api/v1/verify", lambda route: route.abort())
    page.goto(live_server(f"/V#{token}"))
    expect(page.locator("#verify")).to_have_attribute("data-done", "true")


def test_offline_the_profile_comes_from_the_token_with_numbered_sections(live_server, page, token):
    open_offline(page, live_server, token)
    expect(page.locator(".holder-name")).to_have_text(" ".join(DEMO_NAME))
    profile = page.locator('#passport .profile[data-source="token"]')
    expect(profile).to_have_attribute("data-named", "false")
    expect(profile.locator("h3")).to_have_text("Skills profile by WSOS section")
    expect(profile.locator(".bar-label")).to_have_text(
        ["Section 1", "Section 2", "Section 3", "Section 4"]
    )
    expect(profile.locator(".bar-value")).to_have_text(["88\u00a0%"] * 4)
    expect(profile).to_contain_text("From the QR code alone")
    widths = profile.locator(".bar-fill").evaluate_all("bars => bars.map(b => b.style.width)")
    assert widths == ["88%"] * 4  # the bar is as long as the percent


def test_online_the_profile_is_the_servers_and_its_names_are_kept(live_server, page, token):
    page.goto(live_server(f"/V#{token}"))
    expect(page.locator("#verify")).to_have_attribute("data-done", "true")
    expect(page.locator('#passport .profile[data-source="token"]')).to_have_count(0)
    expect(page.locator("#passport .profile").first).to_contain_text("1. Section 1")
    kept = page.evaluate(f"() => JSON.parse(localStorage.getItem({KEPT_SECTIONS!r}))")
    assert [s["key"] for s in kept[-1]["sections"]] == ["1", "2", "3", "4"]

    # the same browser offline later: the kept names label the token's percents
    page.goto("about:blank")
    open_offline(page, live_server, token)
    profile = page.locator('#passport .profile[data-source="token"]')
    expect(profile).to_have_attribute("data-named", "true")
    expect(profile.locator(".bar-label").first).to_have_text("1. Section 1")
    expect(profile.locator(".bar-value")).to_have_text(["88\u00a0%"] * 4)


@pytest.mark.parametrize(
    ("locale", "heading", "first", "note"),
    [
        ("kk-KZ", "WSOS бөлімдері бойынша дағдылар бейіні", "1-бөлім", "Тек QR кодтың өзінен"),
        ("ru-RU", "Профиль навыков по разделам WSOS", "Раздел 1", "Только по QR-коду"),
    ],
)
def test_the_offline_profile_is_translated(
    live_server, browser, token, locale, heading, first, note
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
    page = context.new_page()
    try:
        open_offline(page, live_server, token)
        profile = page.locator('#passport .profile[data-source="token"]')
        expect(profile.locator("h3")).to_have_text(heading)
        expect(profile.locator(".bar-label").first).to_have_text(first)
        expect(profile).to_contain_text(note)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, f"passport-offline-profile-{locale[:2]}")
    finally:
        context.close()
