"""The marking form on a tablet (1024×768): focus, visible rows, refusals on the cell."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assessments.services.marks import seats
from tests.assessments.marking_setup import build_exam
from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.e2e

LAYOUT = {"A1": (("M", 100), ("M", 50), ("J", 200))}
TABLET = {"width": 1024, "height": 768}


def tablet_exam(live_server, serial: int, candidates: int = 12) -> dict:
    with live_server.session() as session:
        setup = build_exam(session, layout=LAYOUT, candidates=candidates, serial=serial)
        # the first expert sits in judge seat 1 of A1, the two others in seats 2 and 3:
        # a judge seat is written by the expert seated there only (rules.seat_refusal)
        for seat, expert in enumerate(setup.experts, start=1):
            seats.assign_seat(session, setup.forms["A1"], seat, expert, setup.chief)
        session.flush()
        return {
            "url": live_server(
                f"/exams/{setup.exam.id}/forms/{setup.forms['A1'].sub_criterion_id}"
            ),
            "expert": setup.experts[0].email,
            "chief": setup.chief.email,
        }


@pytest.fixture
def tablet(browser):
    context = browser.new_context(viewport=TABLET, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def rows_in_view(page) -> int:
    """Candidate rows whose whole box lies inside the viewport and the grid's scroll box."""
    return page.evaluate(
        """() => {
        const wrap = document.querySelector('.marking-wrap').getBoundingClientRect();
        const top = Math.max(0, wrap.top), bottom = Math.min(innerHeight, wrap.bottom);
        return [...document.querySelectorAll('#marking-grid tbody tr')].filter(row => {
            const box = row.getBoundingClientRect();
            return box.height > 0 && box.top >= top && box.bottom <= bottom;
        }).length;
    }"""
    )


def test_opening_a_form_focuses_the_first_empty_cell_and_shows_eight_rows(live_server, tablet):
    ids = tablet_exam(live_server, serial=8100)
    sign_in(tablet, live_server, ids["expert"])
    tablet.goto(ids["url"])
    expect(tablet.locator("#cell-0-0")).to_be_focused()
    assert rows_in_view(tablet) >= 8

    # typed at once, without touching the screen: the first mark goes where the focus is
    tablet.keyboard.type("1")
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#save-status")).to_have_text("All saved")
    tablet.reload()
    expect(tablet.locator("#cell-1-0")).to_be_focused()
    assert rows_in_view(tablet) >= 8


def test_a_judge_cell_refuses_4_and_1_5_on_the_cell_and_a_saved_correction_clears_it(
    live_server, tablet
):
    ids = tablet_exam(live_server, serial=8200, candidates=3)
    sign_in(tablet, live_server, ids["expert"])
    tablet.goto(ids["url"])
    tablet.locator("#cell-0-2").focus()
    tablet.keyboard.type("4")
    tablet.keyboard.press("Enter")
    tablet.keyboard.type("1,5")
    tablet.keyboard.press("Enter")

    refusals = ("must be 0, 1, 2 or 3", "must be a whole number 0, 1, 2 or 3")
    for r, refusal in enumerate(refusals):
        cell = tablet.locator(f"#cell-{r}-2")
        expect(cell).to_have_attribute("aria-invalid", "true")
        expect(cell).to_have_attribute("aria-describedby", f"cell-error-{r}-2")
        expect(tablet.locator(f"#cell-error-{r}-2")).to_have_text(f"Not saved: {refusal}")
        expect(tablet.locator(f"td.cell.invalid:has(#cell-{r}-2)")).to_have_count(1)
    expect(tablet.locator("#cell-0-2")).to_have_value("4")  # kept for the expert to correct
    expect(tablet.locator("#cell-1-2")).to_have_value("1,5")
    # the reason shows beside the cell that has the focus (no hover on a tablet)
    tablet.locator("#cell-0-2").focus()
    expect(tablet.locator("#cell-error-0-2")).to_be_visible()
    expect(tablet.locator("#cell-error-1-2")).to_be_hidden()

    tablet.keyboard.press("Control+a")
    tablet.keyboard.type("3")
    tablet.keyboard.press("Enter")
    expect(tablet.locator("#cell-0-2")).not_to_have_attribute("aria-invalid", "true")
    expect(tablet.locator("#cell-error-0-2")).to_have_count(0)
    expect(tablet.locator("td.cell.invalid:has(#cell-0-2)")).to_have_count(0)
    expect(tablet.locator("#cell-1-2")).to_have_attribute("aria-invalid", "true")


def test_the_sticky_status_bar_counts_unsaved_entries_and_leaving_asks_first(live_server, tablet):
    ids = tablet_exam(live_server, serial=8300)
    sign_in(tablet, live_server, ids["expert"])
    tablet.goto(ids["url"])
    tablet.route("**/api/v1/exams/*/marks", lambda route: route.abort())  # Wi-Fi gone
    expect(tablet.locator("#cell-0-0")).to_be_focused()
    tablet.keyboard.type("1")
    tablet.keyboard.press("Enter")
    tablet.keyboard.type("0,5")
    tablet.keyboard.press("Enter")
    status = tablet.locator("#save-status")
    expect(status).to_have_text("2 not saved yet — retrying")

    # an unsaved cell looks unlike an empty one (colour and border)
    def look(selector: str) -> list[str]:
        return tablet.locator(selector).evaluate(
            "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).borderTopStyle,"
            " getComputedStyle(e).borderTopColor]"
        )

    unsaved, empty = look("#cell-0-0"), look("#cell-2-0")
    assert unsaved[0] != empty[0] and unsaved[1:] != empty[1:]

    # scrolled to the bottom of the page and of the grid, the bar is still in view
    tablet.evaluate(
        "() => { document.querySelector('.marking-wrap').scrollTop = 10000;"
        " window.scrollTo(0, document.body.scrollHeight); }"
    )
    box = tablet.locator("#marking-summary").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768
    expect(status).to_be_in_viewport()

    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.accept()

    tablet.on("dialog", answer)
    tablet.reload()  # the entries are on the device; the browser asks before leaving
    assert asked == ["beforeunload"]
    expect(tablet.locator("td.cell.pending")).to_have_count(2)

    tablet.unroute("**/api/v1/exams/*/marks")
    tablet.evaluate("window.dispatchEvent(new Event('online'))")
    expect(status).to_have_text("All saved")
    tablet.locator("#cell-3-0").focus()  # the user touched the page again
    tablet.keyboard.type("1")
    tablet.keyboard.press("Enter")
    expect(status).to_have_text("All saved")
    tablet.reload()  # nothing unsaved: no question
    expect(tablet.locator("#cell-0-0")).to_have_value("1.00")
    assert asked == ["beforeunload"]


@pytest.mark.parametrize(
    ("language", "maximum"),
    [("kk", "макс. 1,00"), ("ru", "макс. 1,00"), ("en", "max 1.00")],
)
def test_the_focused_aspect_is_described_beside_the_grid_without_hovering(
    live_server, tablet, language, maximum
):
    ids = tablet_exam(live_server, serial={"kk": 8400, "ru": 8500, "en": 8600}[language])
    sign_in(tablet, live_server, ids["expert"])
    tablet.goto(ids["url"] + f"?lang={language}")
    panel = tablet.locator("#cell-panel")
    header = tablet.locator("#marking-grid thead th.col-head").first
    expect(tablet.locator("#cell-0-0")).to_be_focused()
    expect(panel).to_be_in_viewport(ratio=1)
    expect(tablet.locator("#panel-max")).to_have_text(maximum)
    expect(tablet.locator("#panel-description")).to_have_text(
        header.get_attribute("data-description")
    )
    # beside the grid, not under it: the panel's top is level with the grid's
    grid_box = tablet.locator(".marking-wrap").bounding_box()
    panel_box = panel.bounding_box()
    assert panel_box["x"] >= grid_box["x"] + grid_box["width"]
    assert abs(panel_box["y"] - grid_box["y"]) < 40
    ARTIFACTS.mkdir(exist_ok=True)  # what the tablet shows, not the whole page
    tablet.screenshot(path=str(ARTIFACTS / f"marking-grid-1024x768-{language}.png"))

    tablet.keyboard.press("ArrowRight")
    tablet.keyboard.press("ArrowRight")  # a judgement aspect: its four levels
    third = tablet.locator("#marking-grid thead th.col-head").nth(2)
    expect(tablet.locator("#panel-description")).to_have_text(
        third.get_attribute("data-description")
    )
    expect(tablet.locator("#panel-levels li")).to_have_count(4)
    expect(tablet.locator("#panel-max")).not_to_contain_text(maximum)


PASTE = """(text) => {
    const data = new DataTransfer();
    data.setData('text/plain', text);
    document.activeElement.dispatchEvent(
        new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
}"""


def test_a_block_pasted_from_a_spreadsheet_is_checked_cell_by_cell(live_server, tablet):
    ids = tablet_exam(live_server, serial=8700, candidates=3)
    sign_in(tablet, live_server, ids["expert"])
    tablet.goto(ids["url"])
    expect(tablet.locator("#cell-0-0")).to_be_focused()
    # columns: A1.1 (max 1,00), A1.2 (max 0,50), A1.3 judged by seats 1–3; the expert
    # holds seat 1 only: seats 2 and 3 are closed to them and say whose they are
    for r in range(3):
        for c in (3, 4):
            expect(tablet.locator(f"#cell-{r}-{c}")).to_be_disabled()
    expect(tablet.locator("#cell-0-3")).to_have_attribute(
        "title", "Judge seat 2 is Сарапшы 2's: only they, or the chief expert, write its scores."
    )
    tablet.evaluate(PASTE, "1\t0,5\t4\t3\t3\r\n0,75\t0,6\t1,5\t1\t2\r\n1\t\t3\t3\t3\r\n")
    expect(tablet.locator("td.cell.pending")).to_have_count(0)
    refused = {
        "#cell-0-2": "Not saved: must be 0, 1, 2 or 3",
        "#cell-1-1": "Not saved: is above the maximum 0.50",
        "#cell-1-2": "Not saved: must be a whole number 0, 1, 2 or 3",
    }
    for cell, message in refused.items():
        expect(tablet.locator(cell)).to_have_attribute("aria-invalid", "true")
        error_id = tablet.locator(cell).get_attribute("aria-describedby")
        expect(tablet.locator(f"#{error_id}")).to_have_text(message)
    expect(tablet.locator("[aria-invalid=true]")).to_have_count(3)
    expect(tablet.locator("#cell-2-1")).to_have_value("")  # an empty spreadsheet cell
    tablet.reload()
    saved = {"#cell-0-0": "1.00", "#cell-0-1": "0.50", "#cell-1-0": "0.75", "#cell-2-2": "3"}
    # refused values and the other judges' seats were not written
    saved |= {"#cell-0-2": "", "#cell-1-1": "", "#cell-0-3": "", "#cell-1-4": "", "#cell-2-4": ""}
    for cell, value in saved.items():
        expect(tablet.locator(cell)).to_have_value(value)

    # what falls on closed cells (other judges' seats) is not used, and the status bar says so
    tablet.locator("#cell-1-2").focus()
    tablet.evaluate(PASTE, "2\t1\t3\n1\t1\t1\n")
    expect(tablet.locator("#save-status")).to_have_text(
        "4 pasted values were not used: closed cells or beyond the grid"
    )
    expect(tablet.locator("#cell-1-2")).to_have_value("2")
    expect(tablet.locator("#cell-2-2")).to_have_value("1")
    expect(tablet.locator("#cell-1-3")).to_have_value("")
    expect(tablet.locator("#cell-2-4")).to_have_value("")
    expect(tablet.locator("td.cell.pending")).to_have_count(0)
    expect(tablet.locator("[aria-invalid=true]")).to_have_count(0)
