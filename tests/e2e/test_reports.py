"""The reports dashboard in a browser: choose a period, the numbers change; tables sort."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot, sign_in
from tests.factories import UserFactory
from tests.reports.reports_data import build_reports_data

pytestmark = pytest.mark.e2e


def choose(page, kind: str, year: str) -> None:
    page.locator("#kind").select_option(kind)
    page.locator("#year").fill(year)
    page.get_by_role("button", name="Show").click()
    # the form is sent by GET: the page of that period is the one whose URL names it
    page.wait_for_url(lambda url: f"kind={kind}" in url and f"year={year}" in url)


def test_dashboard_period_changes_the_numbers(live_server, page):
    # a centre manager of C1 sees only C1's exams: X1 (2025-01-10, 3 sat) and X2 (2025-12-31, 2)
    with live_server.session() as session:
        data = build_reports_data(session)
        UserFactory(
            role="centre_manager", email="e2e-reports@example.kz", centre_id=data.centres["C1"].id
        )
        competence_id = data.competences["K1"].id
    sign_in(page, live_server, "e2e-reports@example.kz")
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page).to_have_url(re.compile(r"/reports/?$"))
    sat = page.locator('[data-figure="sat"]')

    choose(page, "calendar", "2025")
    expect(sat).to_have_text("5")
    expect(page.locator('[data-figure="pass_rate"]')).to_have_text("80.00 %")
    shot(page, "reports-dashboard-2025")

    choose(page, "academic", "2024")  # September 2024 – August 2025: X1 only
    expect(sat).to_have_text("3")
    assert "academic" in page.url

    # sortable table: sorting the college table by "Sat" puts the larger group first
    table = page.locator("#rows-college")
    heading = table.get_by_role("button", name="Sat")
    heading.click()
    heading.click()
    counts = [int(c) for c in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert counts == sorted(counts, reverse=True)

    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the dashboard is {width}px wide on a phone"
    shot(page, "reports-dashboard-phone")

    page.get_by_role("link", name="Skills profile of a competence").click()
    page.locator("#competence").select_option(str(competence_id))
    page.get_by_role("button", name="Show").first.click()
    page.wait_for_url(lambda url: f"competence={competence_id}" in url)
    expect(page.locator("main")).to_contain_text("Candidates with a result: 3")  # a b c of X1
    expect(page.locator("svg.chart")).to_have_count(2)
    shot(page, "reports-profile-phone")


def test_public_statistics_page_needs_no_sign_in(live_server, page):
    with live_server.session() as session:
        build_reports_data(session)
    page.goto(live_server("/stats"))
    assert page.locator("h1").inner_text() == "Demonstration exam statistics"
    assert "fewer than 5" in page.locator("#table-centres").inner_text()
    shot(page, "reports-public-stats")
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the public page is {width}px wide on a phone"
    shot(page, "reports-public-stats-phone")
