"""Marking-scheme pages: list, upload (admins only), the scheme page, settings and export."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from assessments.models import MarkingScheme
from assessments.scheme_files.parse import parse_scheme_files
from assessments.services.schemes.export import scheme_spec
from assessments.services.schemes.importing import import_scheme
from assessments.services.schemes.reading import summary
from assessments.services.schemes.settings import freeze
from tests.assessments.test_schemes_service import (
    MODULES,
    competence_1_to_5,
    fixture_set,
    table_counts,
    with_replaced,
    xlsx_copy,
)
from tests.factories import CompetenceFactory
from tests.scheme_builder import CORPORA, CORPUS_TEXTS


def upload_data(competence, name, files):
    return {
        "competence_id": str(competence.id),
        "name": name,
        "files": [(io.BytesIO(content), file_name) for file_name, content in files],
    }


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def xlsx_scheme(session):
    competence = competence_1_to_5()
    return import_scheme(session, fixture_set("xlsx"), competence.code, "Web")


@pytest.mark.parametrize("role", ["expert", "chief_expert", "centre_manager", "admin"])
def test_staff_see_the_list_and_the_scheme_page(sign_in, client, xlsx_scheme, role):
    sign_in(role)
    listing = client.get("/schemes/")
    assert listing.status_code == 200
    assert f'href="/schemes/{xlsx_scheme.id}"' in text(listing)
    page = client.get(f"/schemes/{xlsx_scheme.id}?lang=en")
    assert page.status_code == 200
    html = text(page)
    assert 'id="aspect-C4-2"' in html and ">C4.2<" in html
    # the settings form is for administrators only
    assert (f'action="/schemes/{xlsx_scheme.id}/settings' in html) == (role == "admin")
    assert ("/schemes/import" in html) == (role == "admin")


@pytest.mark.parametrize("corpus", CORPORA)
def test_scheme_page_is_readable(sign_in, client, session, corpus):
    competence = competence_1_to_5()
    scheme = import_scheme(session, fixture_set("xlsx", corpus), competence.code, "Web")
    sign_in("expert")
    html = text(client.get(f"/schemes/{scheme.id}?lang=ru"))
    # criteria, collapsible sub-criteria with code, name and day
    assert html.count('<details class="sub"') == 33
    c4_name = re.escape(CORPUS_TEXTS[corpus]["C4"])
    c4 = rf'<span class="sub-code">C4</span>\s*<span class="sub-name">{c4_name}</span>'
    assert re.search(c4 + r'\s*<span class="sub-meta muted">\s*\w+ 1 ·', html)  # day 1
    # a judgement aspect with its four level descriptions 0-3
    b11 = re.search(r'<tr id="aspect-B1-1">(.*?)</tr>', html, re.S).group(1)
    assert "kind-j" in b11
    scores = re.findall(r'<span class="score"[^>]*>(\d)</span>', b11)
    assert scores == ["0", "1", "2", "3"]
    assert CORPUS_TEXTS[corpus]["B1.1 level 0"] in b11
    # decimal comma in Russian: max 1,50 on B1.1 and the total 100,00
    assert re.search(r'data-label="[^"]*">1,50</td>', b11)
    assert "<strong>100,00</strong>" in html


def test_weights_warning_is_stored_and_shown_with_the_section_table(sign_in, client, xlsx_scheme):
    sign_in("expert")
    html = text(client.get(f"/schemes/{xlsx_scheme.id}?lang=en"))
    warnings = re.search(r'<section class="callout warn".*?</section>', html, re.S).group(0)
    assert "5 warnings from the import" in warnings
    assert "WSOS section 1: 100.00 % of the marks, competence weight 10.00 %" in warnings
    table = re.search(r'aria-labelledby="sections-title">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r"<tr( class=\"flagged\")?>\s*<td class=\"num\">(\d)</td>", table)
    assert [(number, bool(flag)) for flag, number in rows] == [
        ("1", True),
        ("2", True),
        ("3", True),
        ("4", True),
        ("5", True),
    ]
    assert "+90.00" in table and "-10.00" in table


@pytest.mark.parametrize("role", ["expert", "chief_expert", "centre_manager"])
def test_upload_is_forbidden_for_non_admins(sign_in, client, session, role):
    competence = competence_1_to_5()
    sign_in(role)
    assert client.get("/schemes/import").status_code == 403
    response = client.post(
        "/schemes/import",
        data=upload_data(competence, "Web", fixture_set("xlsx")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(MarkingScheme)) == 0


def hidden(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    return unescape(found.group(1)) if found else ""


def confirm_data(html: str, **overrides) -> dict:
    """The confirmation step's form as the browser posts it back (no file chosen again)."""
    data = {
        "competence_id": hidden_select(html),
        "name": hidden(html, "name") or re.search(r'name="name"[^>]*value="([^"]*)"', html)[1],
        "kept_files": hidden(html, "kept_files"),
        "checked": hidden(html, "checked"),
        "step": "confirm",
        "confirm_weights": "y",
    }
    return data | overrides


def hidden_select(html: str) -> str:
    select_html = re.search(r'<select[^>]*name="competence_id".*?</select>', html, re.S).group(0)
    return re.search(
        r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', select_html
    )[1]


def test_admin_uploads_the_fixture_set(sign_in, client, session):
    competence = CompetenceFactory(sections=("5", "10", "15", "35", "35"))
    sign_in("admin")
    response = client.post(
        "/schemes/import",
        data=upload_data(competence, "Web", fixture_set("json")),
        content_type="multipart/form-data",
    )
    # every section within 5 points of its weight: imported at once, nothing to confirm
    assert response.status_code == 302
    scheme = session.scalar(select(MarkingScheme))
    assert response.headers["Location"].endswith(f"/schemes/{scheme.id}")
    assert summary(session, scheme)["aspects"] == 148
    assert scheme.source_files == [f"module-{m}.json" for m in MODULES]


def test_upload_with_a_broken_file_shows_every_error_and_stores_nothing(
    sign_in, client, session, tmp_path
):
    competence = competence_1_to_5()
    sign_in("admin")
    files = with_replaced(
        fixture_set("xlsx"), xlsx_copy(tmp_path, "d", {"K3": "много", "I4": 9, "A2": None})
    )
    before = table_counts(session)
    response = client.post(
        "/schemes/import?lang=en",
        data=upload_data(competence, "Web", files),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = text(response)
    table = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    cells = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
    rows = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells.findall(row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]
    assert ["module-d.xlsx", "row 3", "Max mark (column K)"] in [row[:3] for row in rows]
    assert [
        "module-d.xlsx",
        "row 4",
        "WSOS section (column I)",
        "the competence has no WSOS section 9 (it has 1, 2, 3, 4, 5)",
    ] in rows
    assert all(row[0] == "module-d.xlsx" for row in rows)
    assert "Nothing was stored" in html
    assert table_counts(session) == before


def test_upload_without_files_or_name_is_refused(sign_in, client, session):
    competence = competence_1_to_5()
    sign_in("admin")
    response = client.post(
        "/schemes/import?lang=en",
        data={"competence_id": str(competence.id), "name": ""},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Choose at least one file." in text(response)
    assert session.scalar(select(func.count()).select_from(MarkingScheme)) == 0


def settings_data(**overrides):
    data = {
        "judges": "3",
        "allowed_spread": "1",
        "bands-0-threshold": "70",
        "bands-0-grade": "5",
        "bands-1-threshold": "40",
        "bands-1-grade": "4",
        "bands-2-threshold": "20",
        "bands-2-grade": "3",
        "bands-3-threshold": "",
        "bands-3-grade": "",
        "fallback_grade": "2",
        "pass_min_grade": "3",
    }
    return data | overrides


def test_settings_of_a_frozen_scheme_make_a_new_version(sign_in, client, session, xlsx_scheme):
    freeze(xlsx_scheme)
    session.flush()
    sign_in("admin")
    response = client.post(
        f"/schemes/{xlsx_scheme.id}/settings",
        data=settings_data(judges="2", **{"bands-0-threshold": "75,5"}),
    )
    assert response.status_code == 302
    new = session.scalar(select(MarkingScheme).where(MarkingScheme.version == 2))
    assert response.headers["Location"].endswith(f"/schemes/{new.id}#content")
    assert (new.judges, new.grade_bands[0], new.previous_id) == (2, ["75.5", 5], xlsx_scheme.id)
    session.refresh(xlsx_scheme)
    assert (xlsx_scheme.judges, xlsx_scheme.grade_bands[0]) == (3, ["70", 5])
    page = text(client.get(f"/schemes/{new.id}?lang=en"))
    assert "the new settings were saved as version 2" in page


def test_settings_in_place_and_refused_bands(sign_in, client, session, xlsx_scheme):
    sign_in("admin")
    saved = client.post(
        f"/schemes/{xlsx_scheme.id}/settings", data=settings_data(pass_min_grade="4")
    )
    assert saved.status_code == 302
    session.refresh(xlsx_scheme)
    assert xlsx_scheme.pass_min_grade == 4

    refused = client.post(
        f"/schemes/{xlsx_scheme.id}/settings?lang=en",
        data=settings_data(**{"bands-1-threshold": "80", "judges": "12"}),
    )
    assert refused.status_code == 422
    html = text(refused)
    assert 'id="judges-error"' in html
    session.refresh(xlsx_scheme)
    assert xlsx_scheme.grade_bands == [["70", 5], ["40", 4], ["20", 3]]

    bands = client.post(
        f"/schemes/{xlsx_scheme.id}/settings?lang=en",
        data=settings_data(**{"bands-1-threshold": "80"}),
    )
    assert bands.status_code == 422
    assert "thresholds must go strictly down, but 80 comes after 70" in text(bands)
    assert session.scalar(select(func.count()).select_from(MarkingScheme)) == 1


def test_settings_are_forbidden_for_non_admins(sign_in, client, session, xlsx_scheme):
    sign_in("chief_expert")
    response = client.post(f"/schemes/{xlsx_scheme.id}/settings", data=settings_data(judges="2"))
    assert response.status_code == 403
    session.refresh(xlsx_scheme)
    assert xlsx_scheme.judges == 3


def test_export_downloads_the_xlsx_that_reimports(sign_in, client, xlsx_scheme):
    sign_in("expert")
    response = client.get(f"/schemes/{xlsx_scheme.id}/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response.headers["Content-Disposition"]
    code = xlsx_scheme.competence.code
    assert response.headers["Content-Disposition"].endswith(f"{code}-web-v1.xlsx")
    spec = parse_scheme_files([("export.xlsx", response.data)])
    assert spec == scheme_spec(xlsx_scheme)


def test_unknown_scheme_is_404(sign_in, client):
    sign_in("admin")
    assert client.get("/schemes/999999").status_code == 404
    assert client.get("/schemes/999999/export.xlsx").status_code == 404
    assert client.post("/schemes/999999/settings", data=settings_data()).status_code == 404


def test_empty_list_invites_admins_to_import(sign_in, client):
    sign_in("admin")
    html = text(client.get("/schemes/?lang=en"))
    assert "No marking scheme has been imported yet." in html
    assert 'href="/schemes/import"' in html


def test_sections_off_by_more_than_5_points_ask_for_confirmation_first(sign_in, client, session):
    """Web-technology files into a competence weighted otherwise: compare, confirm, import."""
    competence = competence_1_to_5()  # weights 10, 10, 25, 30, 25: the files give 6.5 … 34
    sign_in("admin")
    before = table_counts(session)
    first = client.post(
        "/schemes/import?lang=en",
        data=upload_data(competence, "Web", fixture_set("json")),
        content_type="multipart/form-data",
    )
    assert first.status_code == 422
    html = text(first)
    assert 'id="confirm"' in html and "Nothing has been stored yet" in html
    table = re.search(r'<table[^>]*id="sections".*?</table>', html, re.S).group(0)
    # the competence's section names beside the files' own names, and the shares
    assert competence.sections[0].name_en in table
    assert "Work organization and self-management" in table
    assert table.count('class="flagged"') == 3  # sections 3, 4, 5: 12.5, 36, 34 % of the marks
    assert table_counts(session) == before

    # not ticked: asked again, still nothing stored, the files stay with the page
    again = client.post(
        "/schemes/import?lang=en",
        data=confirm_data(html, confirm_weights=""),
        content_type="multipart/form-data",
    )
    assert again.status_code == 422
    assert "Tick the box" in text(again) and table_counts(session) == before
    assert hidden(text(again), "kept_files") == hidden(html, "kept_files")

    # ticked but the name emptied: the tick survives the re-render
    no_name = client.post(
        "/schemes/import?lang=en",
        data=confirm_data(html, name=""),
        content_type="multipart/form-data",
    )
    assert no_name.status_code == 422 and table_counts(session) == before
    assert re.search(
        r'<input[^>]*checked[^>]*name="confirm_weights"|name="confirm_weights"[^>]*checked',
        text(no_name),
    )

    # a tick given for other files does not count
    forged = client.post(
        "/schemes/import?lang=en",
        data=confirm_data(html, checked="0" * 64),
        content_type="multipart/form-data",
    )
    assert forged.status_code == 422 and table_counts(session) == before

    done = client.post(
        "/schemes/import?lang=en",
        data=confirm_data(text(no_name), name="Web"),
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    scheme = session.scalar(select(MarkingScheme))
    assert scheme.name == "Web" and summary(session, scheme)["aspects"] == 148
    assert scheme.source_files == [f"module-{m}.json" for m in MODULES]


# the English UI words of the import page's problems (msgids); none may show on kk/ru pages
ENGLISH_ON_THE_IMPORT_PAGE = (
    "must be a positive decimal",
    "got",
    "is missing",
    "the competence has no WSOS section",
    "Max mark",
    "Max Mark",
    "WSOS Section",
    "Sub-criterion ID",
    "Sub Criterion ID",
    "column",
    "row ",
    "Nothing was stored",
    "The files were not imported",
    "File",
    "Location",
    "Field",
    "Problem",
    "is not valid JSON",
    "must be",
)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_import_problems_are_worded_in_the_page_language(sign_in, client, session, tmp_path, lang):
    competence = competence_1_to_5()
    sign_in("admin")
    files = [
        *with_replaced(
            fixture_set("xlsx"), xlsx_copy(tmp_path, "d", {"K3": "abc", "I4": 9, "A2": None})
        ),
        ("broken.json", b'{"totalMark": 9,'),
    ]
    response = client.post(
        f"/schemes/import?lang={lang}",
        data=upload_data(competence, "Web", files),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = text(response)
    main = re.search(r"<main.*?</main>", html, re.S).group(0)
    main = re.sub(r"<(script|style)\b.*?</\1>", "", main, flags=re.S)
    visible = unescape(re.sub(r"<[^>]+>", " ", main))
    # the file names and the file's own values are data, not UI words
    visible = visible.replace("module-d.xlsx", "").replace("broken.json", "").replace("'abc'", "")
    found = [word for word in ENGLISH_ON_THE_IMPORT_PAGE if word in visible]
    assert found == [], found
    assert ("строка 3" if lang == "ru" else "3-жол") in visible
    assert (
        "Максимальный балл (столбец K)" if lang == "ru" else "Ең жоғары балл (K бағаны)"
    ) in visible
