"""The centre manager at a desktop: enrols candidates from the list, without a file."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from assessments.models import Enrolment
from assessments.services.candidates.scope import link_to_centre
from tests.assessments.test_exams import World, make_candidate
from tests.e2e.conftest import shot, sign_in
from tests.factories import CollegeFactory, UserFactory

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1366, "height": 900}
TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def centre(live_server):
    with live_server.session() as session:
        world = World(session)
        exam = world.exam()
        poly = CollegeFactory(
            name_kk="Жоғары колледж", name_ru="Высший колледж", name_en="High College"
        )
        other = CollegeFactory(
            name_kk="Басқа колледж", name_ru="Другой колледж", name_en="Other College"
        )
        people = [
            make_candidate(session, 41, "Жақсыбекова", "Меруерт", poly),
            make_candidate(session, 42, "Жұмабаев", "Ерлан", poly),
            make_candidate(session, 43, "Жанұзақов", "Бауыржан", other),
        ]
        for candidate in people:
            candidate.centre_id = world.centre.id
            link_to_centre(candidate, world.centre.id)  # staff see the centre's linked people
            candidate.search_text = f"{candidate.last_name} {candidate.first_name}".casefold()
        manager = UserFactory(role="centre_manager", centre_id=world.centre.id)
        session.flush()
        found = {
            "exam_id": exam.id,
            "college_id": poly.id,
            "email": manager.email,
            "ids": [c.id for c in people],
        }
    return found


def enrolled(live_server, exam_id: int) -> set[int]:
    with live_server.session() as session:
        query = select(Enrolment.candidate_id).where(Enrolment.exam_id == exam_id)
        return set(session.scalars(query))


def test_manager_enrols_from_the_list(live_server, page, centre):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server, centre["email"])
    page.goto(live_server("/candidates"))
    page.locator("#filter-college").select_option(str(centre["college_id"]))
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_text("Жанұзақов")).to_have_count(0)
    shot(page, "manager-enrol-list-en-desktop")

    first, second, _third = centre["ids"]
    page.get_by_label("Select Жақсыбекова Меруерт").check()
    page.get_by_role("button", name="Enrol the selected candidates").click()
    expect(page).to_have_url(live_server(f"/exams/{centre['exam_id']}#candidates"))
    expect(page.locator("#candidates ~ .table-wrap")).to_contain_text("Жақсыбекова Меруерт")
    assert enrolled(live_server, centre["exam_id"]) == {first}

    # the same candidate again with a new one: refused as a whole, the reason at the top
    page.goto(live_server(f"/candidates?college={centre['college_id']}"))
    page.get_by_label("Select Жақсыбекова Меруерт").check()
    page.get_by_label("Select Жұмабаев Ерлан").check()
    page.get_by_role("button", name="Enrol the selected candidates").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Жақсыбекова Меруерт: the candidate is already enrolled")
    assert page.evaluate("() => window.scrollY") == 0
    expect(page.get_by_label("Select Жұмабаев Ерлан")).to_be_checked()
    assert enrolled(live_server, centre["exam_id"]) == {first}
    # the refused selection in each language, at the desktop and tablet widths
    listing = f"/candidates?college={centre['college_id']}"
    for lang in ("en", "ru", "kk"):
        page.set_viewport_size(DESKTOP)
        page.goto(live_server(f"/language/{lang}?next={quote(listing)}"))
        page.locator(f"#pick-{first}").check()
        page.locator(f"#pick-{second}").check()
        page.locator("#enrol-form button[type=submit]").click()
        expect(page.locator("[data-error-summary]")).to_be_focused()
        for name, size in (("desktop", DESKTOP), ("tablet", TABLET)):
            page.set_viewport_size(size)
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= size["width"], f"the candidate list is {width}px wide ({lang})"
            shot(page, f"manager-enrol-list-{lang}-{name}")
    page.goto(live_server("/language/en?next=/candidates"))
    page.set_viewport_size(DESKTOP)

    page.goto(live_server(f"/candidates/{second}"))
    page.locator("#enrol ~ .card button[type=submit]").click()
    expect(page).to_have_url(live_server(f"/exams/{centre['exam_id']}#candidates"))
    assert enrolled(live_server, centre["exam_id"]) == {first, second}

    # both are registered until the manager (or the chief) marks them present on the day
    exam_page = f"/exams/{centre['exam_id']}"
    for lang in ("ru", "kk", "en"):
        page.goto(live_server(f"/language/{lang}?next={quote(exam_page)}"))
        for name, size in (("desktop", DESKTOP), ("tablet", TABLET)):
            page.set_viewport_size(size)
            shot(page, f"manager-exam-registered-{lang}-{name}")
    page.set_viewport_size(DESKTOP)
    expect(page.locator("table.data .badge", has_text="Registered")).to_have_count(2)
    page.get_by_role("button", name="Mark all present").click()
    expect(page.locator(".flash-success")).to_contain_text("2 candidates marked present.")
    expect(page.locator("table.data .badge", has_text="Present")).to_have_count(2)


def test_planning_narrows_the_schemes_to_the_chosen_competence(live_server, page):
    from tests.assessments.test_exams import make_scheme
    from tests.factories import CentreFactory, CompetenceFactory

    with live_server.session() as session:
        first, second = CompetenceFactory(), CompetenceFactory(name_en="Welding")
        centre = CentreFactory()
        centre.competences.extend([first, second])
        scheme, welding = make_scheme(session, first), make_scheme(session, second)
        welding.name = "Welding scheme"
        manager = UserFactory(role="centre_manager", centre_id=centre.id)
        session.flush()
        ids = {"first": first.id, "second": second.id, "scheme": scheme.id}
        ids["welding"], email = welding.id, manager.email
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server, email)
    page.goto(live_server("/exams/new"))
    scheme = page.locator("#scheme_id")
    page.locator("#competence_id").select_option(str(ids["second"]))
    expect(scheme).to_have_value(str(ids["welding"]))
    expect(scheme.locator(f"option[value='{ids['scheme']}']")).to_be_disabled()
    page.locator("#competence_id").select_option(str(ids["first"]))
    expect(scheme).to_have_value(str(ids["scheme"]))
    expect(scheme.locator(f"option[value='{ids['welding']}']")).to_be_disabled()
    for lang in ("en", "ru", "kk"):
        page.goto(live_server(f"/language/{lang}?next=/exams/new"))
        for name, size in (("desktop", DESKTOP), ("tablet", TABLET)):
            page.set_viewport_size(size)
            shot(page, f"manager-plan-exam-{lang}-{name}")
