"""The marking form in Chromium: keyboard entry, autosave, nothing lost, conflicts, sign-off."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.models import User, UserSession
from app.db import utcnow
from assessments.models import Aspect, Enrolment, Exam, Mark, MarkingForm
from assessments.services.marks import entry
from tests.assessments.marking_setup import build_exam
from tests.e2e.conftest import shot, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

LAYOUT = {"A1": (("M", 100), ("M", 50), ("J", 200))}


def make_exam(live_server, serial: int) -> dict:
    with live_server.session() as session:
        setup = build_exam(session, layout=LAYOUT, candidates=3, serial=serial)
        session.flush()
        return {
            "exam": setup.exam.id,
            "sub": setup.forms["A1"].sub_criterion_id,
            "form": setup.forms["A1"].id,
            "expert": setup.experts[0].email,
            "other": setup.experts[1].id,
            "chief": setup.chief.email,
            "enrolments": [e.id for e in setup.enrolments],
            "aspects": {a: x.id for a, x in setup.aspects.items()},
        }


def seat_the_judges(live_server, ids, prefilled: dict[int, tuple[int, ...]]) -> None:
    """Seat experts 1-3 in the judge seats of A1; the others' paper scores are in already.

    ``prefilled`` maps seats 2 and 3 to their scores for the three candidates: a judge seat
    is written by the expert seated there only (rules.seat_refusal).
    """
    from assessments.services.marks import seats

    with live_server.session() as session:
        exam = session.get(Exam, ids["exam"])
        form = session.get(MarkingForm, ids["form"])
        experts = [session.get(User, e.user_id) for e in exam.experts]
        experts.sort(key=lambda u: u.name)
        for seat, expert in enumerate(experts, start=1):
            seats.assign_seat(session, form, seat, expert, exam.chief_expert)
        for seat, scores in prefilled.items():
            for enrolment_id, score in zip(ids["enrolments"], scores, strict=True):
                entry.save_mark(
                    session,
                    exam=exam,
                    enrolment=session.get(Enrolment, enrolment_id),
                    aspect=session.get(Aspect, ids["aspects"]["A1.3"]),
                    seat=seat,
                    value=str(score),
                    user=experts[seat - 1],
                    expected_version=None,
                )


def form_url(live_server, ids) -> str:
    return live_server(f"/exams/{ids['exam']}/forms/{ids['sub']}")


def stored(live_server, ids) -> dict:
    with live_server.session() as session:
        rows = session.scalars(select(Mark).where(Mark.exam_id == ids["exam"])).all()
        return {(m.enrolment_id, m.aspect_id, m.seat): (m.value, m.reason) for m in rows}


def test_an_expert_fills_a_form_from_the_keyboard_and_the_chief_locks_it(
    live_server, page, browser
):
    ids = make_exam(live_server, serial=2000)
    # the expert sits in judge seat 1; seats 2 and 3 were scored by their own experts
    seat_the_judges(live_server, ids, {2: (2, 2, 3), 3: (3, 2, 2)})
    sign_in(page, live_server, ids["expert"])
    page.goto(form_url(live_server, ids))
    expect(page.locator("#count-missing")).to_have_text("9 marks missing")
    keyboard = page.keyboard

    page.locator("#cell-0-0").focus()
    # A1.1 (max 1.00) down the column; Enter on the last row wraps to the next column
    keyboard.type("1")
    keyboard.press("Enter")
    keyboard.type("1")
    keyboard.press("Enter")
    # one input event, so the grid's 1.5 s idle save cannot fall between "0" and ",5" on a
    # loaded machine (the history below starts with this value)
    keyboard.insert_text("0,5")  # a deduction: R jumps to its reason, Enter comes back
    keyboard.press("r")
    expect(page.locator("#panel-reason")).to_be_focused()
    keyboard.type("crooked link on the contacts page")
    keyboard.press("Enter")
    expect(page.locator("#cell-2-0")).to_be_focused()
    keyboard.press("Enter")
    # A1.2 (max 0.50)
    expect(page.locator("#cell-0-1")).to_be_focused()
    for _ in range(3):
        keyboard.type("0,5")
        keyboard.press("Enter")
    # A1.3, judge seat 1 (the expert's own; seats 2 and 3 are closed to them): down the rows
    expect(page.locator("#cell-0-2")).to_be_focused()
    expect(page.locator("#cell-0-3")).to_be_disabled()
    keyboard.type("2")
    keyboard.press("ArrowDown")
    keyboard.type("1")
    keyboard.press("ArrowDown")
    keyboard.type("3")
    keyboard.press("ArrowUp")  # leaving the cell saves it too

    expect(page.locator("#save-status")).to_have_text("All saved", timeout=20_000)
    expect(page.locator("#count-missing")).to_have_text("Every mark is entered")
    expect(page.locator("#count-rescore")).to_be_hidden()
    shot(page, "marking-form-filled")

    values = stored(live_server, ids)
    first, _second, third = ids["enrolments"]
    assert len(values) == 15
    assert values[(third, ids["aspects"]["A1.1"], 0)] == (50, "crooked link on the contacts page")
    assert values[(first, ids["aspects"]["A1.3"], 3)] == (3, "")

    page.reload()
    expect(page.locator("#cell-0-0")).to_have_value("1.00")
    expect(page.locator("#cell-2-0")).to_have_value("0.50")
    expect(page.locator("#cell-1-1")).to_have_value("0.50")
    expect(page.locator("#cell-1-2")).to_have_value("1")
    expect(page.locator("#cell-2-4")).to_have_value("2")
    expect(page.locator("td.cell.missing")).to_have_count(0)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the grid scrolls, the page not
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "marking-form-phone")

    chief_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    chief = chief_context.new_page()
    try:
        sign_in(chief, live_server, ids["chief"])
        chief.goto(form_url(live_server, ids))
        expect(chief.locator("select.seat-select")).to_have_count(3)
        chief.locator("#cell-2-0").focus()  # the chief sees the history of any cell
        chief.locator("#panel-history").click()
        history = chief.locator("#panel-history-list")
        # one entry, or two when the mark was sent before its reason was typed
        expect(history.locator("li").first).to_contain_text("∅ → 0.50")
        expect(history).to_contain_text("→ 0.50 (crooked link on the contacts page)")
        expect(history).to_contain_text(ids["expert"])
        shot(chief, "marking-form-chief-history")
        chief.locator("#lock-button").focus()
        chief.keyboard.press("Enter")
        expect(chief.locator("#what-happens")).to_be_visible()  # asks first
        chief.locator("#confirm-lock").click()
        expect(chief.get_by_text("Signed off and locked", exact=True)).to_be_visible()
        expect(chief.locator(".flash-success")).to_have_text("Form A1 is signed off and locked.")
        expect(chief.locator("#cell-0-0")).to_be_disabled()
        shot(chief, "marking-form-locked")
    finally:
        chief_context.close()
    with live_server.session() as session:
        assert session.get(MarkingForm, ids["form"]).locked


def test_entries_survive_a_dropped_connection_and_a_reload(live_server, page):
    ids = make_exam(live_server, serial=3000)
    sign_in(page, live_server, ids["expert"])
    page.goto(form_url(live_server, ids))
    page.route("**/api/v1/exams/*/marks", lambda route: route.abort())  # Wi-Fi gone

    page.locator("#cell-0-0").focus()
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.keyboard.type("0,75")
    page.keyboard.press("Enter")
    expect(page.locator("#save-status")).to_contain_text("not saved yet", timeout=10_000)

    page.reload()  # the page itself still loads; the entries come back from the device
    expect(page.locator("#cell-0-0")).to_have_value("1")
    expect(page.locator("#cell-1-0")).to_have_value("0,75")
    expect(page.locator("td.cell.pending")).to_have_count(2)
    assert stored(live_server, ids) == {}

    page.unroute("**/api/v1/exams/*/marks")
    # Wi-Fi back: the browser says so, and the queue is sent at once (not at the next pause)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#save-status")).to_have_text("All saved")
    values = stored(live_server, ids)
    first, second, _third = ids["enrolments"]
    assert values[(first, ids["aspects"]["A1.1"], 0)][0] == 100
    assert values[(second, ids["aspects"]["A1.1"], 0)][0] == 75


def test_a_server_that_cannot_save_keeps_the_entry_until_a_retry_succeeds(live_server, page):
    ids = make_exam(live_server, serial=5000)
    sign_in(page, live_server, ids["expert"])
    page.goto(form_url(live_server, ids))
    sent = []
    unavailable = json.dumps({"type": "about:blank", "status": 503, "code": "database_unavailable"})
    troubles = [
        # the database restarting: the app's own answer
        {"status": 503, "headers": {"Retry-After": "1"}, "body": unavailable,
         "content_type": "application/problem+json"},
        # then the proxy in front gives up on the instance
        {"status": 502, "body": "<html>Bad Gateway</html>", "content_type": "text/html"},
    ]  # fmt: skip

    def flaky_server(route):
        sent.append(route.request.post_data_json)
        if len(sent) <= len(troubles):
            route.fulfill(**troubles[len(sent) - 1])
        else:
            route.continue_()

    page.route("**/api/v1/exams/*/marks", flaky_server)
    page.locator("#cell-0-0").focus()
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(page.locator("#save-status")).to_contain_text("not saved yet: the server cannot save")
    expect(page.locator("td.cell.pending")).to_have_count(1)
    shot(page, "marking-form-server-busy")
    expect(page.locator("#save-status")).to_have_text("All saved", timeout=15_000)
    first = ids["enrolments"][0]
    assert stored(live_server, ids)[(first, ids["aspects"]["A1.1"], 0)][0] == 100
    assert [body["value"] for body in sent] == ["1", "1", "1"]

    # a value the server refuses (above the maximum 1.00) is shown, not retried for ever
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    expect(page.locator("td.cell.invalid")).to_have_count(1)
    expect(page.locator("#save-status")).to_contain_text("Not saved")
    # refused for good: out of the queue and off the device, so nothing can send it again
    expect(page.locator("td.cell.pending")).to_have_count(0)
    page.wait_for_function(
        "prefix => !Object.keys(localStorage).some((key) => key.startsWith(prefix))",
        arg=f"skills-passport:mark:{ids['exam']}:{ids['sub']}:",
    )
    assert len(sent) == 4
    expect(page.locator("#cell-1-0")).to_have_attribute("aria-invalid", "true")
    assert len(stored(live_server, ids)) == 1


def test_a_conflicting_change_is_shown_and_the_expert_chooses(live_server, page):
    ids = make_exam(live_server, serial=4000)
    sign_in(page, live_server, ids["expert"])
    page.goto(form_url(live_server, ids))
    # meanwhile a colleague marks the same cell
    with live_server.session() as session:
        entry.save_mark(
            session,
            exam=session.get(Exam, ids["exam"]),
            enrolment=session.get(Enrolment, ids["enrolments"][0]),
            aspect=session.get(Aspect, ids["aspects"]["A1.1"]),
            seat=0,
            value="0.5",
            user=session.get(User, ids["other"]),
            expected_version=None,
        )
    page.locator("#cell-0-0").focus()
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    conflict = page.locator(".conflict")
    expect(conflict).to_contain_text("changed this to 0.50")
    expect(page.locator("#save-status")).to_have_text("1 conflicts wait for your choice")
    shot(page, "marking-form-conflict")
    conflict.get_by_role("button", name="Keep mine").click()
    expect(page.locator("#save-status")).to_have_text("All saved", timeout=10_000)
    value = stored(live_server, ids)[(ids["enrolments"][0], ids["aspects"]["A1.1"], 0)]
    assert value[0] == 100


def test_entries_typed_after_the_session_ended_are_sent_once_the_expert_signs_in_again(
    live_server, page
):
    ids = make_exam(live_server, serial=7300)
    sign_in(page, live_server, ids["expert"])
    page.goto(form_url(live_server, ids))
    # the session ends on the server while the grid is open (idle longer than allowed)
    with live_server.session() as session:
        expert = session.scalar(select(User).where(User.email == ids["expert"]))
        for row in session.scalars(select(UserSession).where(UserSession.user_id == expert.id)):
            row.last_seen_at = utcnow() - timedelta(hours=1)

    page.locator("#cell-0-0").focus()
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.keyboard.type("0,75")
    page.keyboard.press("Enter")
    expect(page.locator("#sign-in-again")).to_be_visible()
    expect(page.locator("#save-status")).to_contain_text("Signed out: 2 entries kept")
    expect(page.locator("td.cell.pending")).to_have_count(2)
    assert stored(live_server, ids) == {}
    shot(page, "marking-form-signed-out")

    page.locator("#sign-in-again-link").click()
    page.wait_for_url(lambda url: "/login" in url)
    page.locator("#email").fill(ids["expert"])
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda url: url.startswith(form_url(live_server, ids)))
    expect(page.locator("#save-status")).to_have_text("All saved", timeout=15_000)
    expect(page.locator("#sign-in-again")).to_be_hidden()
    values = stored(live_server, ids)
    first, second, _third = ids["enrolments"]
    assert values[(first, ids["aspects"]["A1.1"], 0)][0] == 100
    assert values[(second, ids["aspects"]["A1.1"], 0)][0] == 75


def test_signing_in_again_in_another_tab_sends_the_entries_when_the_expert_comes_back(
    live_server, page
):
    ids = make_exam(live_server, serial=7400)
    sign_in(page, live_server, ids["expert"])
    page.goto(form_url(live_server, ids))
    page.locator("#cell-0-0").focus()
    # signed out in another tab of the same browser
    other = page.context.new_page()
    other.goto(live_server("/dashboard"))
    other.locator("form[action$='/logout'] button").click()
    other.wait_for_url(lambda url: "/dashboard" not in url)

    page.bring_to_front()
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(page.locator("#sign-in-again")).to_be_visible()
    sign_in(other, live_server, ids["expert"])
    page.bring_to_front()
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    expect(page.locator("#save-status")).to_have_text("All saved", timeout=5_000)
    first = ids["enrolments"][0]
    assert stored(live_server, ids)[(first, ids["aspects"]["A1.1"], 0)][0] == 100
