"""The chief expert in Chromium (desktop): filter the exam to its problems, lock with a confirm."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from assessments.models import AuditEntry, MarkingForm
from tests.assessments.marking_setup import build_exam, save_paper_marks
from tests.e2e.conftest import shot, sign_in

pytestmark = pytest.mark.e2e

LAYOUT = {"A1": (("M", 100), ("J", 200)), "A2": (("M", 150), ("M", 50))}
# screenshots of the progress view for review (PROGRESS_SHOTS, else under test-artifacts/)
SHOTS = Path(os.environ.get("PROGRESS_SHOTS", "")) if os.environ.get("PROGRESS_SHOTS") else None


def make_exam(live_server, serial: int) -> dict:
    """A1 has a judge spread to re-score; A2 is complete but one deduction has no reason."""
    with live_server.session() as session:
        setup = build_exam(session, layout=LAYOUT, candidates=3, serial=serial)
        save_paper_marks(session, setup, lambda n: (0, 3, 3) if n == 0 else (2, 2, 2))
        return {
            "exam": setup.exam.id,
            "chief": setup.chief.email,
            "a1": setup.forms["A1"].id,
            "a2": setup.forms["A2"].id,
            "enrolment": setup.enrolments[1].id,
            "a2_sub": setup.forms["A2"].sub_criterion_id,
        }


def test_the_chief_filters_to_problems_and_locks_a_form_with_confirmation(live_server, browser):
    ids = make_exam(live_server, 5100)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, live_server, ids["chief"])
        page.goto(live_server(f"/exams/{ids['exam']}"))
        page.locator("#progress-link").click()
        expect(page.locator("h1")).to_have_text("Marking progress")
        expect(page.locator("#form-A1")).to_be_visible()
        expect(page.locator("#form-A2")).to_be_visible()
        shot(page, "progress-all")

        page.locator('[data-filter="deduction"]').click()
        expect(page.locator('[data-filter="deduction"]')).to_have_attribute("aria-current", "page")
        expect(page.locator("#form-A1")).to_have_count(0)  # A1 has no deduction problem
        problem = page.locator("#problems-A2-deduction + ul li")
        expect(problem).to_have_count(1)
        expect(problem).to_contain_text("A2.1")
        link = problem.locator("a")
        expect(link).to_have_attribute(
            "href", f"/exams/{ids['exam']}/forms/{ids['a2_sub']}#enrolment-{ids['enrolment']}"
        )
        shot(page, "progress-deductions")

        page.locator("#form-A2").get_by_role("link", name="Lock…").click()
        expect(page.locator("#what-happens")).to_be_visible()
        expect(page.locator(".confirm")).to_contain_text("can no longer be changed")
        page.locator("#confirm-lock").click()  # no note yet: refused, nothing locked
        expect(page.locator(".flash-error")).to_contain_text("Deductions without a reason: 1.")
        with live_server.session() as session:
            assert not session.get(MarkingForm, ids["a2"]).locked
        page.get_by_label("Note acknowledging the deductions without a reason").fill(
            "Candidate stopped early; deduction checked by me"
        )
        shot(page, "progress-confirm-lock")
        page.locator("#confirm-lock").click()

        expect(page.locator(".flash-success")).to_have_text("Form A2 is signed off and locked.")
        expect(page.locator("h1")).to_have_text("Marking progress")
        page.locator('[data-filter="rescore"]').click()
        expect(page.locator("#form-A2")).to_have_count(0)
        expect(page.locator("#form-A1")).to_contain_text("Lock…")  # still open, to re-score
        page.goto(live_server(f"/exams/{ids['exam']}/progress"))
        expect(page.locator("#form-A2")).to_contain_text("Locked")
    finally:
        context.close()
    with live_server.session() as session:
        assert session.get(MarkingForm, ids["a2"]).locked
        assert not session.get(MarkingForm, ids["a1"]).locked
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.exam_id == ids["exam"])
            .order_by(AuditEntry.seq)  # the log's order; PostgreSQL returns rows in any
        ).all()
        assert actions[-2:] == ["form.deductions_acknowledged", "form.locked"]


@pytest.mark.parametrize(("lang", "serial"), [("kk", 5200), ("ru", 5300), ("en", 5400)])
def test_the_progress_view_in_each_language_and_width(live_server, browser, lang, serial):
    ids = make_exam(live_server, serial)
    for width, height in ((1366, 900), (1024, 768)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        try:
            sign_in(page, live_server, ids["chief"])
            target = f"/exams/{ids['exam']}/progress?show=action"
            page.goto(live_server(f"/language/{lang}?next={quote(target)}"))
            expect(page.locator("html")).to_have_attribute("lang", lang)
            expect(page.locator("#form-A1")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            name = f"progress-{lang}-{width}x{height}"
            path = shot(page, name)
            if SHOTS is not None:
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
            assert path.exists()
        finally:
            context.close()


def test_the_chief_changes_judge_seats_in_place_and_a_compatriot_is_refused(live_server, browser):
    with live_server.session() as session:
        setup = build_exam(session, layout=LAYOUT, candidates=2, serial=5500)
        judge, compatriot = setup.experts[0], setup.experts[1]
        compatriot.college_id = setup.candidate(0).college_id
        session.flush()
        ids = {
            "exam": setup.exam.id,
            "sub": setup.forms["A1"].sub_criterion_id,
            "form": setup.forms["A1"].id,
            "chief": setup.chief.email,
            "judge": judge.id,
            "judge_first": judge.name.split(" ")[0],
            "compatriot": compatriot.id,
            "compatriot_name": compatriot.name,
        }
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, live_server, ids["chief"])
        page.goto(live_server(f"/exams/{ids['exam']}/forms/{ids['sub']}"))
        expect(page.locator(".seat-save").first).to_be_hidden()  # the script sends changes
        page.evaluate("window.stayedOnThePage = true")
        seat1 = page.locator('select.seat-select[data-seat="1"]')
        seat1.select_option(str(ids["judge"]))
        expect(page.locator("#save-status")).to_have_text("Judge seat 1 saved.")
        expect(page.locator('.seat-name[data-seat="1"]')).to_have_text(f" · {ids['judge_first']}")
        seat2 = page.locator('select.seat-select[data-seat="2"]')
        seat2.select_option(str(ids["compatriot"]))
        expect(page.get_by_text(f"Judge seat 2 is {ids['compatriot_name']}")).to_be_visible()
        expect(seat2).to_have_value("")  # back to what is saved
        expect(page.locator('.seat-name[data-seat="2"]')).to_have_text("")
        assert page.evaluate("window.stayedOnThePage") is True  # no reload
        shot(page, "marking-seats-in-place")
    finally:
        context.close()
    with live_server.session() as session:
        seats = session.get(MarkingForm, ids["form"]).seats
        assert seats == {"1": ids["judge"]}
