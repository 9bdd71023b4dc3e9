"""A visitor with a passport in hand, on a phone: from the home page to the verdict."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from playwright.sync_api import expect

from passports.services import issuance, keys, secrets
from passports.settings import current_settings
from tests.e2e.conftest import shot
from tests.passports.factories import Sitting, finalised_exam

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
HOLDER = ("Жұмабекова", "Әйгерім", "Серікқызы")


@pytest.fixture(scope="module")
def printed(live_server) -> tuple[str, str]:
    """The number and verification code printed on a genuine passport."""
    with live_server.session() as session:
        keys.ensure_key(session, current_settings())
        exam = finalised_exam([Sitting(names=HOLDER, share=Fraction(3, 4))], start=date(2026, 5, 4))
        passport = issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports[0]
        return passport.number, secrets.printed_code(
            current_settings(), passport.number, passport.code_nonce
        )


@pytest.fixture
def phone(browser, request):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="ru-RU"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.mark.parametrize(
    ("lang", "check", "genuine", "grade"),
    [
        ("kk", "Паспортты тексеру", "Түпнұсқа Дағдылар паспорты", "5 ішінен 5"),
        ("ru", "Проверить паспорт", "Подлинный Паспорт навыков", "5 из 5"),
        ("en", "Check the passport", "Genuine Skills Passport", "5 of 5"),
    ],
)
def test_visitor_checks_a_passport_from_the_home_page_on_a_phone(
    live_server, phone, printed, lang, check, genuine, grade
):
    number, code = printed
    phone.goto(live_server(f"/?lang={lang}"))
    # the check comes first on the small screen, signing in last
    button = phone.get_by_role("button", name=check)
    expect(button).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, f"visitor-home-{lang}-phone")
    phone.locator("#number").fill(number)
    phone.locator("#code").fill(code.lower())
    button.tap()
    verdict = phone.locator(".verdict")
    expect(verdict).to_have_attribute("data-status", "genuine")
    expect(verdict).to_contain_text(genuine)
    expect(phone.locator(".holder-name")).to_have_text(" ".join(HOLDER))
    expect(phone.locator(".passport-card")).to_contain_text(grade)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, f"visitor-verdict-{lang}-phone")
