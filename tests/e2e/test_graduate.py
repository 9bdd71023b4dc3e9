"""The graduate's private page on a phone: copy or share the one link, see the code."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from passports.services import holders, issuance, keys, secrets
from passports.settings import current_settings
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, shot
from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
SHOTS = Path("/tmp/h8b-shots")


@pytest.fixture(scope="module")
def graduate(live_server) -> dict[str, str]:
    with live_server.session() as session:
        keys.ensure_key(session, current_settings())
        exam = finalised_exam([Sitting(names=DEMO_NAME, share=Fraction(7, 8))])
        passport = issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports[0]
        return {
            "private": f"/my/{holders.private_link_token(current_settings(), passport)}",
            "share": f"/s/{passport.share_slug}",
            "code": secrets.printed_code(current_settings(), passport.number, passport.code_nonce),
            "number": passport.number,
        }


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_graduate_copies_the_share_link_on_a_phone(live_server, browser, graduate, lang):
    context = browser.new_context(viewport=PHONE, locale="en-US", has_touch=True, is_mobile=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    try:
        page.goto(live_server(f"{graduate['private']}?lang={lang}"))
        link = page.locator("#share-link")
        expect(link).to_have_value(
            live_server.app.config["PUBLIC_BASE_URL"].rstrip("/") + graduate["share"]
        )
        expect(page.locator(".code")).to_have_text(graduate["code"])
        expect(page.locator("main")).to_contain_text(graduate["number"])
        page.get_by_role(
            "button", name={"kk": "Көшіру", "ru": "Копировать", "en": "Copy"}[lang]
        ).click()
        expect(page.locator("[data-share-link] [data-status]")).not_to_be_empty()
        assert page.evaluate("navigator.clipboard.readText()") == link.input_value()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for label, size in (
            ("phone", PHONE),
            ("tablet", {"width": 1024, "height": 768}),
            ("desktop", {"width": 1366, "height": 900}),
        ):
            page.set_viewport_size(size)
            assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
            path = shot(page, f"graduate-share-link-{lang}-{label}")
            SHOTS.mkdir(parents=True, exist_ok=True)
            (SHOTS / path.name).write_bytes(path.read_bytes())
    finally:
        context.close()


def test_on_plain_http_the_link_is_selected_for_copying_by_hand(live_server, browser, graduate):
    """A college server without https: no clipboard API, so the page selects and says so."""
    port = urlsplit(live_server.url).port
    rules = "--host-resolver-rules=MAP college.test 127.0.0.1"
    insecure = browser.browser_type.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, rules]
    )
    try:
        page = insecure.new_page(viewport=PHONE, locale="ru-RU")
        page.goto(f"http://college.test:{port}{graduate['private']}?lang=ru")
        assert page.evaluate("window.isSecureContext") is False
        page.get_by_role("button", name="Копировать").click()
        expect(page.locator("[data-share-link] [data-status]")).to_contain_text("не разрешает")
        selected = page.evaluate(
            "(() => { const i = document.getElementById('share-link');"
            " return i.value.substring(i.selectionStart, i.selectionEnd); })()"
        )
        assert selected == page.locator("#share-link").input_value()
        # Web Share API: offered only where the browser has it (not in headless Chromium)
        has_share = page.evaluate("'share' in navigator")
        expect(page.locator("[data-share]")).to_be_visible() if has_share else expect(
            page.locator("[data-share]")
        ).to_be_hidden()
    finally:
        insecure.close()
