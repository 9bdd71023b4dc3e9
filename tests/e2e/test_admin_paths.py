"""The administrator's paths in Chromium: scheme import in the page's language, the
confirmation when sections stray from the weights, one header layout in every language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import func, select

from assessments.models import MarkingScheme
from passports.settings import current_settings
from tests.assessments.test_schemes_service import fixture_set, with_replaced, xlsx_copy
from tests.e2e.conftest import shot, sign_in
from tests.factories import CompetenceFactory, UserFactory

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": (1366, 900), "tablet": (1024, 768), "phone": (390, 844)}
LANGS = ("kk", "ru", "en")
ADMIN = "e2e-schemes-admin@example.kz"
# The English UI words of the import page with problems (msgids shown there); the file's
# own names and values are data and are taken out of the text before looking.
ENGLISH = (
    "Import a marking scheme",
    "The files were not imported",
    "Nothing was stored",
    "problem",
    "row ",
    "column",
    "is missing",
    "must be",
    "got",
    "Max mark",
    "WSOS section",
    "Sub-criterion",
    "Location",
    "Field",
    "File",
    "is not valid JSON",
    "Check and import",
    "Competence",
    "Scheme name",
    "Sign out",
)


@pytest.fixture(scope="module")
def world(live_server):
    with live_server.session():
        UserFactory(role="admin", email=ADMIN, name="Әкімші Жанар Серікқызы")
        competence = CompetenceFactory(sections=("10", "10", "25", "30", "25"))
        return {"competence": competence.id, "code": competence.code}


def _files(kind: str) -> list[dict]:
    return [
        {"name": name, "mimeType": "application/octet-stream", "buffer": content}
        for name, content in fixture_set(kind)
    ]


def _upload(page, live_server, world, lang: str, files: list[dict], name: str = "Web") -> None:
    page.goto(live_server(f"/schemes/import?lang={lang}"))
    page.locator("#competence_id").select_option(str(world["competence"]))
    page.locator("#name").fill(name)
    page.locator("#files").set_input_files(files)
    page.locator("form.stacked button[type=submit]").click()


def _save(page, name: str) -> None:
    path = shot(page, name)
    target = Path("/tmp/h8b-shots")
    target.mkdir(parents=True, exist_ok=True)
    (target / path.name).write_bytes(path.read_bytes())


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_scheme_import_problems_show_no_english_words(live_server, browser, world, lang, tmp_path):
    files = with_replaced(
        fixture_set("xlsx"), xlsx_copy(tmp_path, "d", {"K3": "abc", "I4": 9, "A2": None})
    )
    files = [*files, ("broken.json", b'{"totalMark": 9,')]
    for label, (width, height) in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
        page = context.new_page()
        try:
            sign_in(page, live_server, ADMIN)
            _upload(
                page,
                live_server,
                world,
                lang,
                [
                    {"name": n, "mimeType": "application/octet-stream", "buffer": c}
                    for n, c in files
                ],
            )
            expect(page.locator("#problems")).to_be_visible()
            text = page.locator("main").inner_text()
            for data in ("module-d.xlsx", "broken.json", "'abc'", world["code"]):
                text = text.replace(data, "")
            assert [word for word in ENGLISH if word in text] == []
            expect(page.locator("#problems")).to_contain_text(
                {"kk": "3-жол", "ru": "строка 3"}[lang]
            )
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            _save(page, f"scheme-import-problems-{lang}-{label}")
        finally:
            context.close()


def test_sections_off_the_weights_are_confirmed_before_anything_is_stored(
    live_server, browser, world
):
    with live_server.session() as session:
        before = session.scalar(select(func.count()).select_from(MarkingScheme))
    for lang in LANGS:
        for label, (width, height) in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            try:
                sign_in(page, live_server, ADMIN)
                _upload(page, live_server, world, lang, _files("json"))
                expect(page.locator("#confirm")).to_be_visible()
                table = page.locator("#sections")
                expect(table).to_contain_text("Work organization and self-management")
                expect(table.locator("tr.flagged")).to_have_count(3)
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                _save(page, f"scheme-import-confirm-{lang}-{label}")
            finally:
                context.close()
    with live_server.session() as session:
        assert session.scalar(select(func.count()).select_from(MarkingScheme)) == before

    # not ticked: asked again, still nothing stored; ticked: imported without choosing again
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server, ADMIN)
        _upload(page, live_server, world, "en", _files("json"), name="Web confirmed")
        page.get_by_role("button", name="Import after all").click()
        expect(page.locator("#confirm_weights-error")).to_contain_text("Tick the box")
        expect(page.locator(".kept-files")).to_contain_text("module-a.json")
        page.locator("#confirm_weights").check()
        page.get_by_role("button", name="Import after all").click()
        page.wait_for_url(re.compile(r"/schemes/\d+"))
        expect(page.locator("h1")).to_contain_text("Web confirmed")
    finally:
        context.close()
    with live_server.session() as session:
        assert session.scalar(select(func.count()).select_from(MarkingScheme)) == before + 1


def _header_boxes(page) -> dict:
    return page.evaluate(
        """() => {
          const box = (sel) => { const e = document.querySelector(sel);
            if (!e) return null; const r = e.getBoundingClientRect();
            return [Math.round(r.top), Math.round(r.height)]; };
          return { header: box('header.topbar'), brand: box('.brand'), langs: box('.langs'),
                   user: box('.userbox'), nav: box('header nav'),
                   navRows: new Set([...document.querySelectorAll('.nav li')]
                     .map((li) => Math.round(li.getBoundingClientRect().top))).size };
        }"""
    )


def test_the_header_has_one_layout_in_every_language(live_server, browser, world):
    for label, (width, height) in WIDTHS.items():
        layouts = {}
        for lang in LANGS:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            try:
                sign_in(page, live_server, ADMIN)
                page.goto(live_server(f"/passports/?lang={lang}"))
                layouts[lang] = _header_boxes(page)
                # the current page's menu item is in view, even where the menu scrolls
                current = page.locator('.nav a[aria-current="page"]').bounding_box()
                assert current["x"] >= 0 and current["x"] + current["width"] <= width
                assert layouts[lang]["navRows"] == 1, (label, lang)
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                _save(page, f"header-passports-{lang}-{label}")
            finally:
                context.close()
        assert layouts["kk"] == layouts["ru"] == layouts["en"], (label, layouts)


def test_report_dates_are_typed_day_first_in_three_languages(live_server, browser, world):
    for lang in LANGS:
        for label, (width, height) in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            try:
                sign_in(page, live_server, ADMIN)
                page.goto(live_server(f"/reports?kind=dates&from=31.02.2026&lang={lang}"))
                with live_server.app.test_request_context(), force_locale(lang):
                    hint = gettext("dd.mm.yyyy")
                expect(page.locator("#from")).to_have_attribute("placeholder", hint)
                expect(page.locator(".flash-error")).to_contain_text("25.05.2026")
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                _save(page, f"reports-dates-{lang}-{label}")
            finally:
                context.close()


def test_passports_list_after_a_revocation_asks_to_issue_nothing(live_server, browser, world):
    from fractions import Fraction

    from passports.services import issuance, keys
    from tests.passports.factories import Sitting, finalised_exam

    with live_server.session() as session:
        keys.ensure_key(session, current_settings())
        exam = finalised_exam([Sitting(share=Fraction(9, 10)), Sitting(share=Fraction(8, 10))])
        first, _second = issuance.issue_for_exam(
            session, current_settings(), exam.exam
        ).new_passports
        issuance.revoke(session, first, "Қате берілген")
        exam_id = exam.exam.id
    for lang in LANGS:
        for label, (width, height) in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            try:
                sign_in(page, live_server, ADMIN)
                page.goto(live_server(f"/passports/?lang={lang}"))
                row = page.locator("tr", has=page.locator(f"a[href$='/exams/{exam_id}']"))
                expect(row).to_have_count(1)
                expect(row.locator(".badge.warn")).to_have_count(0)
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                _save(page, f"passports-list-{lang}-{label}")
            finally:
                context.close()


def test_planning_an_exam_with_an_impossible_date_says_so_in_the_page_language(
    live_server, browser, world
):
    for lang in LANGS:
        for label, (width, height) in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            try:
                sign_in(page, live_server, ADMIN)
                page.goto(live_server(f"/exams/new?lang={lang}"))
                start = page.locator("#start")
                assert start.get_attribute("type") == "text"
                start.fill("31.02.2026")
                page.locator("form.stacked button[type=submit]").click()
                with live_server.app.test_request_context(), force_locale(lang):
                    message = gettext("Enter the date as dd.mm.yyyy, for example 25.05.2026.")
                expect(page.locator("#start-error")).to_have_text(message)
                expect(start).to_have_value("31.02.2026")
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                _save(page, f"exam-new-bad-date-{lang}-{label}")
            finally:
                context.close()
