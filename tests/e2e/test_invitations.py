"""A centre manager invites an expert; the expert sets a password through the link and marks.

The manager works at a desktop, the expert opens the link on a phone. Screenshots of the
experts page and the invitation page in kk, ru and en at the three widths.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import expect

from tests.assessments.test_exams import World
from tests.e2e.conftest import shot, sign_in
from tests.factories import CollegeFactory, UserFactory

pytestmark = pytest.mark.e2e

SIZES = {
    "desktop": {"width": 1366, "height": 900},
    "tablet": {"width": 1024, "height": 768},
    "phone": {"width": 390, "height": 844},
}
EXPERT_EMAIL = "erlan.invited@example.kz"
EXPERT_NAME = "Жұмабаев Ерлан"
PASSWORD = "Жаңа-құпиясөз-2026"


@pytest.fixture
def centre(live_server):
    with live_server.session() as session:
        world = World(session)
        exam = world.exam()
        college = CollegeFactory(
            name_kk="Политехникалық колледж",
            name_ru="Политехнический колледж",
            name_en="Polytechnic College",
        )
        manager = UserFactory(role="centre_manager", centre_id=world.centre.id)
        session.flush()
        return {
            "exam_id": exam.id,
            "college_id": college.id,
            "email": manager.email,
            "code": world.competence.code,
        }


def fits(page, size: dict[str, int], what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= size["width"], f"{what} is {width}px wide at {size['width']}px"


def test_manager_invites_an_expert_who_sets_a_password_and_sees_the_exam(
    live_server, page, browser, centre
):
    page.set_viewport_size(SIZES["desktop"])
    sign_in(page, live_server, centre["email"])
    page.get_by_role("link", name="Experts").first.click()
    expect(page).to_have_url(live_server("/centre/experts"))

    # the college is required: refused at the top, nothing created
    page.get_by_label("Name").fill(EXPERT_NAME)
    page.get_by_label("Email").fill(EXPERT_EMAIL)
    page.get_by_role("button", name="Invite").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("whom they may not mark")
    shot(page, "invite-refused-en-desktop")

    page.get_by_label("College").select_option(str(centre["college_id"]))
    page.get_by_role("button", name="Invite").click()
    link_box = page.locator("#invitation-link")
    expect(link_box).to_be_visible()
    link = link_box.input_value()
    link_box.focus()  # the whole link is selected, ready to copy (select-on-focus.js)
    selected = "() => { const i = document.getElementById('invitation-link');"
    selected += " return [i.selectionStart, i.selectionEnd, i.value.length]; }"
    assert page.evaluate(selected) == [0, len(link), len(link)]
    assert link.startswith(live_server.app.config["PUBLIC_BASE_URL"].rstrip("/") + "/invitation/")
    expect(page.locator(".table-wrap")).to_contain_text("Invited, until")
    shot(page, "invite-link-en-desktop")

    experts_page = live_server("/centre/experts")
    for lang in ("kk", "ru", "en"):
        page.goto(live_server(f"/language/{lang}?next={quote('/centre/experts')}"))
        expect(page).to_have_url(experts_page)
        for name, size in SIZES.items():
            page.set_viewport_size(size)
            fits(page, size, f"the experts page ({lang})")
            shot(page, f"invite-experts-{lang}-{name}")

    # the expert, on a phone, opens the link (on this server), sets a password, signs in
    path = urlsplit(link).path
    phone = browser.new_context(viewport=SIZES["phone"], locale="kk-KZ")
    expert = phone.new_page()
    expert.set_default_timeout(15_000)
    try:
        for lang in ("ru", "en", "kk"):
            expert.goto(live_server(f"/language/{lang}?next={quote(path)}"))
            expect(expert.locator("#password")).to_be_visible()
            for name, size in SIZES.items():
                expert.set_viewport_size(size)
                fits(expert, size, f"the invitation page ({lang})")
                shot(expert, f"invite-accept-{lang}-{name}")
        expert.set_viewport_size(SIZES["phone"])
        expect(expert.locator("main")).to_contain_text(EXPERT_NAME)
        expect(expert.locator("main")).to_contain_text("Политехникалық колледж")
        expert.locator("#password").fill(PASSWORD)
        expert.locator("#confirm").fill(PASSWORD)
        expert.locator("#set-password").click()
        expect(expert).to_have_url(live_server("/login"))

        # the manager puts the expert, now active, into the exam's expert group
        page.set_viewport_size(SIZES["desktop"])
        page.goto(live_server(f"/exams/{centre['exam_id']}"))
        page.get_by_text("Change the expert group").click()
        page.get_by_label(f"{EXPERT_NAME} <{EXPERT_EMAIL}>").check()
        page.get_by_role("button", name="Save the expert group").click()
        expect(page.locator(".people")).to_contain_text(EXPERT_NAME)
        expect(page.locator("#invitation-link")).to_have_count(0)

        sign_in(expert, live_server, EXPERT_EMAIL, PASSWORD)
        expert.goto(live_server("/exams"))
        expect(expert.locator("main")).to_contain_text(centre["code"])
        expert.locator(f"a[href='/exams/{centre['exam_id']}']").first.click()
        expect(expert).to_have_url(live_server(f"/exams/{centre['exam_id']}"))
        shot(expert, "invite-expert-sees-exam-kk-phone")

        # the link is used up
        expert.goto(live_server(path))
        expect(expert).not_to_have_url(live_server(path))
        expect(expert.locator("#password")).to_have_count(0)
    finally:
        phone.close()
