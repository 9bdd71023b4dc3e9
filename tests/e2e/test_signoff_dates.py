"""Dates and sign-off in Chromium: an administrator allows marks before the first day; the
chief expert finalises only with a note acknowledging deductions without a reason.

The date comes from the live app's injectable clock (``CLOCK``), never the machine's.
Screenshots of the changed pages in kk, ru and en at desktop, tablet and phone widths.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from assessments.models import AuditEntry, Exam, MarkingForm
from tests.assessments.marking_setup import build_exam, save_paper_marks
from tests.e2e.conftest import shot, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e

SIZES = {
    "desktop": {"width": 1366, "height": 900},
    "tablet": {"width": 1024, "height": 768},
    "phone": {"width": 390, "height": 844},
}
LAYOUT = {"A1": (("M", 100), ("J", 200)), "A2": (("M", 150), ("M", 50))}
# build_exam's exam runs 20–21 May 2026; Almaty is UTC+5
EVE = datetime(2026, 5, 19, 12, 0, tzinfo=UTC)
LAST_DAY = datetime(2026, 5, 21, 10, 0, tzinfo=UTC)
NOTE = "Candidate 2 stopped early; the deduction was checked by me"


@pytest.fixture
def clock(live_server):
    def set_to(moment: datetime) -> None:
        live_server.app.config["CLOCK"] = lambda: moment

    yield set_to
    live_server.app.config.pop("CLOCK", None)


def each_language_and_width(page, live_server, path: str, name: str, ready) -> None:
    for lang in ("kk", "ru", "en"):
        page.goto(live_server(f"/language/{lang}?next={quote(path)}"))
        expect(page.locator("html")).to_have_attribute("lang", lang)
        ready(page)
        for width_name, size in SIZES.items():
            page.set_viewport_size(size)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["width"], f"{name} is {width}px wide ({lang}, {width_name})"
            shot(page, f"{name}-{lang}-{width_name}")
    page.set_viewport_size(SIZES["desktop"])


def test_an_administrator_allows_marks_before_the_first_day(live_server, browser, clock):
    with live_server.session() as session:
        setup = build_exam(session, layout=LAYOUT, serial=6100)
        admin = UserFactory(role="admin", name="Әкімші Дана")
        session.flush()
        ids = {
            "exam": setup.exam.id,
            "admin": admin.email,
            "expert": setup.experts[0].email,
            "a1": setup.forms["A1"].sub_criterion_id,
        }
    clock(EVE)
    context = browser.new_context(viewport=SIZES["desktop"], locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, live_server, ids["admin"])
        exam_page = f"/exams/{ids['exam']}"
        page.goto(live_server(exam_page))
        page.locator("#early-marking-button").click()  # no reason: refused, at the top
        expect(page.locator(".error-summary")).to_be_visible()
        # the language switch on the refused page leads to the exam page, not a 405
        page.locator("header").get_by_role("link", name="RU").click()
        expect(page).to_have_url(live_server(exam_page))
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        page.goto(live_server(f"/language/en?next={quote(exam_page)}"))

        page.locator("#early-marking textarea").fill("Rehearsal approved by the department")
        page.locator("#early-marking-button").click()
        expect(page.locator("#early-marking-note")).to_contain_text("Әкімші Дана")
        expect(page.locator("#early-marking-note")).to_contain_text("Rehearsal approved")
        each_language_and_width(
            page,
            live_server,
            exam_page,
            "early-marking-exam",
            lambda p: expect(p.locator("#early-marking-note")).to_be_visible(),
        )

        context.close()
        context = browser.new_context(viewport=SIZES["tablet"], locale="en-US")
        page = context.new_page()
        sign_in(page, live_server, ids["expert"])
        grid = f"/exams/{ids['exam']}/forms/{ids['a1']}"
        each_language_and_width(
            page,
            live_server,
            grid,
            "early-marking-grid",
            lambda p: expect(p.locator("#early-marking-note")).to_contain_text("Әкімші Дана"),
        )
        # on the eve, the grid saves a typed mark
        page.locator("#cell-0-0").focus()
        page.keyboard.type("1")
        page.keyboard.press("Enter")
        expect(page.locator("#save-status")).to_have_text("All saved", timeout=20_000)
    finally:
        context.close()
    with live_server.session() as session:
        assert session.get(Exam, ids["exam"]).early_marking
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.exam_id == ids["exam"])
            .order_by(AuditEntry.seq)  # the log's order; PostgreSQL returns rows in any
        ).all()
        assert actions == ["exam.early_marking", "mark.set"]


def complete_exam(live_server, serial: int) -> dict:
    """Every mark entered; one deduction in A2 has no reason."""
    with live_server.session() as session:
        setup = build_exam(session, layout=LAYOUT, serial=serial)
        save_paper_marks(session, setup, lambda n: (2, 2, 2))
        return {"exam": setup.exam.id, "chief": setup.chief.email, "a2": setup.forms["A2"].id}


def test_the_chief_finalises_only_with_a_note_on_deductions_without_a_reason(
    live_server, browser, clock
):
    ids = complete_exam(live_server, 6200)
    clock(LAST_DAY)
    context = browser.new_context(viewport=SIZES["desktop"], locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, live_server, ids["chief"])
        confirm = f"/exams/{ids['exam']}/finalise"
        page.goto(live_server(confirm))
        expect(page.locator("#finalise-deductions")).to_contain_text("A2.1")
        page.locator("#confirm-finalise").click()  # no note: refused, nothing changes
        expect(page.locator(".error-summary")).to_contain_text("Deductions without a reason: 1.")
        with live_server.session() as session:
            assert session.get(Exam, ids["exam"]).status != "finalised"
        each_language_and_width(
            page,
            live_server,
            confirm,
            "finalise-note",
            lambda p: expect(p.locator("#acknowledgement")).to_be_visible(),
        )
        page.get_by_label("Note acknowledging the deductions without a reason").fill(NOTE)
        page.locator("#confirm-finalise").click()
        expect(page.locator(".flash-success")).to_contain_text("The exam is finalised")

        progress = f"/exams/{ids['exam']}/progress?show=deduction"
        page.goto(live_server(progress))
        expect(page.locator("#acknowledged-A2")).to_contain_text(NOTE)
        each_language_and_width(
            page,
            live_server,
            progress,
            "finalise-progress-note",
            lambda p: expect(p.locator("#acknowledged-A2")).to_contain_text(NOTE),
        )
    finally:
        context.close()
    with live_server.session() as session:
        assert session.get(MarkingForm, ids["a2"]).deductions_note == NOTE
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.exam_id == ids["exam"]).order_by(AuditEntry.seq)
        ).all()
        acknowledged = [e for e in entries if e.action == "form.deductions_acknowledged"]
        assert [(e.target, e.reason) for e in acknowledged] == [("form:A2", NOTE)]
        assert entries[-1].action == "finalise"
