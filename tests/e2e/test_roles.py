"""Each role signs in through the browser, switches to Kazakh and sees Kazakh text."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from tests.e2e.conftest import shot, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e

ROLES = ("admin", "centre_manager", "chief_expert", "expert")


def kazakh(live_server, text: str) -> str:
    with live_server.app.test_request_context(), force_locale("kk"):
        return gettext(text)


@pytest.mark.parametrize("role", ROLES)
def test_role_signs_in_and_switches_to_kazakh(live_server, page, role):
    with live_server.session():
        UserFactory(role=role, email=f"e2e-{role}@example.kz", name=f"Сынақ {role}")
    sign_in(page, live_server, f"e2e-{role}@example.kz")
    assert page.locator(".userbox").inner_text().startswith("Сынақ")
    page.get_by_role("link", name="KK", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    sign_out = kazakh(live_server, "Sign out")
    assert sign_out != "Sign out", "the Kazakh catalog lacks 'Sign out'"
    expect(page.get_by_role("button", name=sign_out)).to_be_visible()
    menu = page.locator("nav .nav").inner_text()
    assert menu.strip(), "signed-in users see a menu"
    shot(page, f"role-{role}-kk-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"dashboard is {width}px wide on a phone"
    shot(page, f"role-{role}-kk-phone")


def test_wrong_password_shows_an_error_in_the_users_language(live_server, page):
    page.goto(live_server("/language/ru?next=/login"))
    page.locator("#email").fill("nobody@example.kz")
    page.locator("#password").fill("wrong-password")
    page.locator("#password").press("Enter")
    with live_server.app.test_request_context(), force_locale("ru"):
        expected = gettext("Wrong email or password.")
    expect(page.get_by_text(expected)).to_be_visible()
