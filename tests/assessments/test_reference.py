"""Reference data: the rules, the file imports (`flask reference import`) and `reference list`."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from assessments.models import Centre, College, Competence, Enterprise, WsosSection
from assessments.services.reference.saving import save_college, save_competence
from assessments.tabular import Rejected
from tests.assessments.test_reference_tabular import xlsx
from tests.factories import CentreFactory, CollegeFactory, CompetenceFactory, EnterpriseFactory

WEB_SECTIONS = (
    "code,name_kk,name_ru,name_en,section,section_name_kk,section_name_en,weight\n"
    "17,Веб-технологиялар,Веб-технологии,Web Technologies,1,Жұмысты ұйымдастыру,"
    "Work organization and self-management,5\n"
    "17,,,,2,Коммуникация,Communication and interpersonal skills,5\n"
    "17,,,,3,Дизайнды іске асыру,Design Implementation,10\n"
    "17,,,,4,Front-End әзірлеу,Front-End Development,50\n"
    "17,,,,5,Back-End әзірлеу,Back-End Development,30\n"
)


def file_writer(tmp_path, monkeypatch):
    """Write files into a temporary working directory, so messages show short names."""
    monkeypatch.chdir(tmp_path)

    def write(name: str, content: str | bytes) -> str:
        data = content.encode() if isinstance(content, str) else content
        (tmp_path / name).write_bytes(data)
        return name

    return write


@pytest.fixture
def files(tmp_path, monkeypatch):
    return file_writer(tmp_path, monkeypatch)


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- competences ---------------------------------------------------------------------


def test_import_competences_creates_sections_and_reimport_updates(app, session, files):
    name = files("competences.csv", WEB_SECTIONS)
    result = run(app, "reference", "import", "competences", name)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "competences.csv: competences: 1 created, 0 updated"
    competence = session.scalar(select(Competence).where(Competence.code == "17"))
    assert [(s.number, s.weight) for s in competence.sections] == [
        (1, Decimal("5.00")),
        (2, Decimal("5.00")),
        (3, Decimal("10.00")),
        (4, Decimal("50.00")),
        (5, Decimal("30.00")),
    ]
    assert competence.sections[3].name_en == "Front-End Development"
    assert competence.name_ru == "Веб-технологии"

    # the file is the whole definition: section 5 goes, the weights move, ids of kept ones stay
    kept_id = competence.sections[0].id
    changed = "\n".join(WEB_SECTIONS.splitlines()[:5]).replace(",50", ",80") + "\n"
    files("competences.csv", changed)
    result = run(app, "reference", "import", "competences", name)
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated" in result.stdout
    session.expire_all()
    competence = session.scalar(select(Competence).where(Competence.code == "17"))
    assert [s.number for s in competence.sections] == [1, 2, 3, 4]
    assert competence.sections[3].weight == Decimal("80.00")
    assert competence.sections[0].id == kept_id
    # optional columns absent from the file keep what is stored; present ones replace it
    assert competence.name_ru == "Веб-технологии"


def test_competence_rows_may_be_spread_over_the_file_and_come_from_xlsx(app, session, files):
    data = xlsx(
        [
            ["Code", "Name_KK", "Section", "Section_Name_KK", "Weight"],
            ["A1", "Бірінші", 1, "Бөлім", 60],
            [10, "Дәнекерлеу", 1, "Жұмыс", 100],
            ["A1", None, 2, "Екінші бөлім", 40.0],
        ]
    )
    result = run(app, "reference", "import", "competences", files("c.xlsx", data))
    assert result.exit_code == 0, result.output
    assert "2 created" in result.stdout
    codes = session.scalars(select(Competence.code).order_by(Competence.code)).all()
    assert codes == ["10", "A1"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (  # weights not summing to 100 are reported on the competence's first row
            ["17,Веб,1,Бір,5", "17,,2,Екі,90"],
            ["competences.csv:2: weight: the section weights of competence 17 sum to 95, not 100"],
        ),
        (
            ["17,Веб,1,Бір,50", "17,,1,Тағы,50"],
            ["competences.csv:3: section: section 1 appears twice in competence 17"],
        ),
        (
            ["17,Веб,1,Бір,12;5", "17,,2,Екі,0", "17,,x,Үш,10", "17,,3,Төрт,33.333"],
            [
                "competences.csv:2: weight: must be a number of percent, such as 12.5",
                "competences.csv:3: weight: must be more than 0 and at most 100 percent",
                "competences.csv:4: section: must be a whole number from 1 to 99",
                "competences.csv:5: weight: may have at most two decimal places",
            ],
        ),
        (
            ["17,Веб,1,Бір,50", "17,Басқа,2,Екі,50"],
            ["competences.csv:3: name_kk: differs from row 2, which names competence 17"],
        ),
        (
            [",Веб,1,Бір,100", "18 b,Электр,1,,100"],
            [
                "competences.csv:2: code: is required",
                "competences.csv:3: code: use letters, digits, dots, hyphens or underscores,"
                " without spaces",
                "competences.csv:3: section_name_kk: is required",
            ],
        ),
    ],
)
def test_competence_file_problems(app, session, files, rows, expected):
    header = "code,name_kk,section,section_name_kk,weight\n"
    files("competences.csv", header + "\n".join(rows) + "\n")
    result = run(app, "reference", "import", "competences", "competences.csv")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == expected
    assert result.stdout == ""
    assert count(session, Competence) == 0
    assert count(session, WsosSection) == 0


def test_a_bad_row_leaves_the_stored_competences_untouched(app, session, files):
    CompetenceFactory(code="17")
    session.commit()  # as if stored earlier: the failed command rolls back its own work only
    files("c.csv", "code,name_kk,section,section_name_kk,weight\n17,Веб,1,Бір,100\n99,Х,1,Б,50\n")
    result = run(app, "reference", "import", "competences", "c.csv")
    assert result.exit_code == 1
    session.expire_all()
    competence = session.scalar(select(Competence).where(Competence.code == "17"))
    assert len(competence.sections) == 4  # the factory's four sections are still there


def test_missing_header_names_the_column(app, files):
    files("c.csv", "code,name_kk,section,weight\n17,Веб,1,100\n")
    result = run(app, "reference", "import", "competences", "c.csv")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["c.csv:1: section_name_kk: required column is missing"]


# --- centres ----------------------------------------------------------------------------


CENTRE_HEADER = "code,name_kk,city,address,workstations,competences\n"


def test_import_centres_with_accredited_competences(app, session, files):
    CompetenceFactory(code="17")
    CompetenceFactory(code="39")
    files("centres.csv", CENTRE_HEADER + 'ALM-01,Орталық,Алматы,"Төле би, 285",16,"39; 17"\n')
    result = run(app, "reference", "import", "centres", "centres.csv")
    assert result.exit_code == 0, result.output
    centre = session.scalar(select(Centre).where(Centre.code == "ALM-01"))
    assert [c.code for c in centre.competences] == ["17", "39"]
    assert (centre.workstations, centre.address) == (16, "Төле би, 285")

    # without the competences column the accreditations stay as they are
    files("centres.csv", "code,name_kk,city,workstations\nALM-01,Жаңа атау,Алматы,20\n")
    result = run(app, "reference", "import", "centres", "centres.csv")
    assert result.exit_code == 0, result.output
    session.expire_all()
    centre = session.scalar(select(Centre).where(Centre.code == "ALM-01"))
    assert (centre.name_kk, centre.workstations) == ("Жаңа атау", 20)
    assert [c.code for c in centre.competences] == ["17", "39"]
    assert centre.address == "Төле би, 285"


def test_centre_file_problems(app, session, files):
    CompetenceFactory(code="17")
    files(
        "centres.csv",
        CENTRE_HEADER
        + "ALM-01,Орталық,Алматы,,16,17 99 R5\n"
        + "ALM-02,Екінші,,,0,\n"
        + "ALM-01,Қайта,Алматы,,ten,17\n",
    )
    result = run(app, "reference", "import", "centres", "centres.csv")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "centres.csv:2: competences: unknown competence code 99, R5; import the competences first",
        "centres.csv:3: city: is required",
        "centres.csv:3: workstations: must be a whole number from 1 to 1000",
        "centres.csv:4: workstations: must be a whole number from 1 to 1000",
        "centres.csv:4: code: ALM-01 already appears in row 2",
    ]
    assert count(session, Centre) == 0


# --- colleges and enterprises ------------------------------------------------------------


def test_import_colleges_upserts_by_code(app, session, files):
    CollegeFactory(code="C01", name_kk="Ескі атау", name_ru="Старое")
    files("colleges.csv", "code;name_kk;city\nC01;Жаңа атау;Алматы\nC02;Екінші;Алматы\n")
    result = run(app, "reference", "import", "colleges", "colleges.csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "colleges.csv: colleges: 1 created, 1 updated"
    college = session.scalar(select(College).where(College.code == "C01"))
    assert college.name_kk == "Жаңа атау"
    assert college.name_ru == "Старое"  # no name_ru column: kept


def test_import_enterprises_checks_the_bin(app, session, files):
    from assessments.iin import make_bin

    good = make_bin(2010, 5, 123)
    wrong_digit = good[:11] + str((int(good[11]) + 1) % 10)
    files(
        "enterprises.csv",
        "bin,name_kk\n"
        f"{good},«Бір» ЖШС\n"
        f"{wrong_digit},«Екі» ЖШС\n"
        "1234,«Үш» ЖШС\n"
        f"{good[:2]}13{good[4:]},«Төрт» ЖШС\n"
        f"{good},«Бір» қайта\n",
    )
    result = run(app, "reference", "import", "enterprises", "enterprises.csv")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "enterprises.csv:3: bin: has a wrong check digit (the last digit does not match)",
        "enterprises.csv:4: bin: must be 12 digits",
        "enterprises.csv:5: bin: digits 3–4 (registration month) must be 01–12",
        f"enterprises.csv:6: bin: {good} already appears in row 2",
    ]
    assert count(session, Enterprise) == 0

    files("enterprises.csv", f"bin,name_kk\n{good},«Бір» ЖШС\n")
    result = run(app, "reference", "import", "enterprises", "enterprises.csv")
    assert result.exit_code == 0, result.output
    assert session.scalar(select(Enterprise.name_kk).where(Enterprise.bin == good)) == "«Бір» ЖШС"


def test_dry_run_stores_nothing(app, session, files):
    files("colleges.csv", "code,name_kk,city\nC01,Бір,Алматы\n")
    result = run(app, "reference", "import", "colleges", "colleges.csv", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout
    assert count(session, College) == 0


def test_unreadable_and_missing_files(app, files):
    files("bad.csv", "code;name_kk;city\nC01;Алматы;Алматы\n".encode("cp1251"))
    result = run(app, "reference", "import", "colleges", "bad.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith("bad.csv: is not UTF-8 text")
    result = run(app, "reference", "import", "colleges", "nowhere.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith("nowhere.csv: cannot be read")


# --- listing --------------------------------------------------------------------------------


def test_reference_list_json_shapes(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "kk")
    web = CompetenceFactory(code="17", name_kk="Веб-технологиялар", name_en="Web Technologies")
    CompetenceFactory(code="5")
    centre = CentreFactory(code="ALM-01", name_kk="Орталық", workstations=16)
    centre.competences = [web]
    CollegeFactory(code="C01", name_kk="Колледж", city="Алматы")
    enterprise = EnterpriseFactory(name_kk="«Бір» ЖШС")
    session.flush()

    competences = json.loads(run(app, "reference", "list", "competences", "--json").stdout)
    assert [c["code"] for c in competences] == ["5", "17"]  # natural order of skill numbers
    assert competences[1]["name"] == "Веб-технологиялар"  # DEFAULT_LOCALE is kk
    assert competences[1]["sections"][0] == {
        "number": 1,
        "name": "Бөлім 1",
        "name_kk": "Бөлім 1",
        "name_ru": "Раздел 1",
        "name_en": "Section 1",
        "weight": 10,
    }
    assert [s["weight"] for s in competences[1]["sections"]] == [10, 20, 30, 40]

    (listed,) = json.loads(run(app, "reference", "list", "centres", "--json").stdout)
    assert listed["code"] == "ALM-01" and listed["name"] == "Орталық"
    assert listed["competences"] == ["17"] and listed["workstations"] == 16

    (college,) = json.loads(run(app, "reference", "list", "colleges", "--json").stdout)
    assert {k: college[k] for k in ("code", "name", "city")} == {
        "code": "C01",
        "name": "Колледж",
        "city": "Алматы",
    }
    (listed,) = json.loads(run(app, "reference", "list", "enterprises", "--json").stdout)
    assert listed["code"] == enterprise.bin == listed["bin"]
    assert listed["name"] == "«Бір» ЖШС"

    plain = run(app, "reference", "list", "colleges")
    assert plain.stdout == "C01\tКолледж\n"


def test_list_name_follows_default_locale(app, session, monkeypatch):
    CollegeFactory(code="C01", name_kk="Колледж", name_ru="Колледж РУ", name_en="")
    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "en")
    (college,) = json.loads(run(app, "reference", "list", "colleges", "--json").stdout)
    assert college["name"] == "Колледж"  # no English name: falls back to Kazakh


# --- the same rules through the forms' service calls ---------------------------------------------


def test_save_competence_reports_section_rows_by_index(session):
    with pytest.raises(Rejected) as exc:
        save_competence(
            session,
            None,
            {"code": "17", "name_kk": "Веб"},
            [
                {"section": "1", "section_name_kk": "Бір", "weight": "60"},
                {},  # empty rows are skipped
                {"section": "2", "section_name_kk": "", "weight": "50"},
            ],
        )
    assert [(p.row, p.field, p.text) for p in exc.value.problems] == [
        (2, "section_name_kk", "is required")
    ]

    with pytest.raises(Rejected) as exc:
        save_competence(
            session,
            None,
            {"code": "17", "name_kk": "Веб"},
            [
                {"section": "1", "section_name_kk": "Бір", "weight": "60"},
                {"section": "2", "section_name_kk": "Екі", "weight": "39,5"},
            ],
        )
    assert [p.format() for p in exc.value.problems] == [
        "weight: the section weights of competence 17 sum to 99.5, not 100"
    ]
    assert count(session, Competence) == 0


def test_codes_must_stay_unique(session):
    CollegeFactory(code="C01")
    other = CollegeFactory(code="C02")
    with pytest.raises(Rejected) as exc:
        save_college(session, other, {"code": "C01", "name_kk": "Х", "city": "Алматы"})
    assert [p.format() for p in exc.value.problems] == [
        "code: another college already has this code"
    ]
    # keeping its own code is fine
    save_college(session, other, {"code": "C02", "name_kk": "Жаңа", "city": "Алматы"})
    assert other.name_kk == "Жаңа"
