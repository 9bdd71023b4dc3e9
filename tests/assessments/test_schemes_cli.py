"""``flask schemes …``: import with --json, errors that store nothing, list, show, export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assessments.models import MarkingScheme
from assessments.scheme_files.spec import Problem
from assessments.services.schemes.export import scheme_spec
from assessments.services.schemes.settings import freeze
from tests.assessments.test_schemes_service import (
    competence_1_to_5,
    json_copy,
    set_section,
    table_counts,
    xlsx_copy,
)
from tests.factories import CompetenceFactory
from tests.scheme_builder import CORPORA, scheme_paths


@pytest.fixture
def fixture_paths(tmp_path):
    """Paths of the four scheme files of one kind (the built ones are written to tmp_path)."""

    def paths(ext: str, corpus: str = "built") -> list[str]:
        return scheme_paths(ext, tmp_path / "schemes", corpus)

    return paths


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["schemes", *args])

    return invoke


@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.parametrize("ext", ["xlsx", "json"])
def test_import_json_prints_exactly_one_object(fixture_paths, run, session, ext, corpus):
    competence = competence_1_to_5()
    files = fixture_paths(ext, corpus)
    result = run("import", *files, "--competence", competence.code, "--name", "Web", "--json")
    assert result.exit_code == 0, result.output
    scheme_id = session.scalar(select(MarkingScheme.id))
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == {
        "id": scheme_id,
        "criteria": 4,
        "sub_criteria": 33,
        "aspects": 148,
        "measurement": 143,
        "judgement": 5,
        "max_total": "100.00",
    }


def test_import_json_flag(fixture_paths, run, session):
    competence = competence_1_to_5()
    result = run(
        "import", *fixture_paths("xlsx"), "--competence", competence.code, "--name", "Web", "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == [
        "id",
        "criteria",
        "sub_criteria",
        "aspects",
        "measurement",
        "judgement",
        "max_total",
    ]
    assert data["max_total"] == "100.00" and isinstance(data["aspects"], int)
    # the weights warning goes to stderr, never into the JSON
    assert "warning: WSOS Section: WSOS section 1: 100.00 % of the marks" in result.stderr
    # stored as the problem's parts, so the scheme page words it in its own language
    stored = Problem.from_record(session.scalar(select(MarkingScheme.warnings))[0])
    assert str(stored).startswith("WSOS Section: WSOS section 1: 100.00 % of the marks")
    assert stored.template.startswith("WSOS section %(number)s: %(share)s %% of the marks")


def test_import_without_json_prints_a_summary(fixture_paths, run):
    competence = competence_1_to_5()
    result = run("import", *fixture_paths("json"), "--competence", competence.code, "--name", "W")
    assert result.exit_code == 0, result.output
    assert "148 aspects (143 M, 5 J), max 100.00" in result.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)


def test_broken_xlsx_exits_1_naming_file_row_field_and_stores_nothing(
    fixture_paths, run, session, tmp_path
):
    competence = competence_1_to_5()
    broken = tmp_path / "broken"
    broken.mkdir()
    name, _content = xlsx_copy(broken, "c", {"K23": "abc", "F70": 7})
    files = [path for path in fixture_paths("xlsx") if not path.endswith("module-c.xlsx")]
    before = table_counts(session)

    result = run(
        "import", *files[:2], str(broken / name), files[2], "--competence", competence.code,
        "--name", "Web", "--json",
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "module-c.xlsx:row 23: Max Mark: must be a positive decimal, got 'abc'",
        "module-c.xlsx:row 70: Judg Score: must be a whole number from 0 to 3, got 7",
    ]
    assert table_counts(session) == before


def test_section_the_competence_lacks_exits_1(fixture_paths, run, session, tmp_path):
    competence = competence_1_to_5()
    name, _content = json_copy(tmp_path, "a", lambda d: set_section(d, 2, 0, 7))
    files = [str(tmp_path / name), *fixture_paths("json")[1:]]
    result = run("import", *files, "--competence", competence.code, "--name", "Web")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "module-a.json:subCriterions[2].aspects[0]: wsosSection: "
        "the competence has no WSOS section 7 (it has 1, 2, 3, 4, 5)"
    ]
    assert session.scalar(select(func.count()).select_from(MarkingScheme)) == 0


def test_unknown_competence_exits_1(fixture_paths, run, session):
    result = run("import", *fixture_paths("xlsx"), "--competence", "NOPE", "--name", "Web")
    assert result.exit_code == 1
    assert result.stderr.strip() == "competence: no competence with code NOPE"
    assert session.scalar(select(func.count()).select_from(MarkingScheme)) == 0


def test_missing_file_is_a_usage_error(run, tmp_path):
    competence = competence_1_to_5()
    result = run(
        "import", str(tmp_path / "nope.xlsx"), "--competence", competence.code, "--name", "W"
    )
    assert result.exit_code == 2
    assert "nope.xlsx" in result.output


def test_reimport_bumps_the_version(fixture_paths, run, session):
    competence = competence_1_to_5()
    args = ("--competence", competence.code, "--name", "Web", "--json")
    first = json.loads(run("import", *fixture_paths("xlsx"), *args).stdout)
    second = json.loads(run("import", *fixture_paths("json"), *args).stdout)
    scheme = session.get(MarkingScheme, second["id"])
    assert (scheme.version, scheme.previous_id) == (2, first["id"])


def test_list_json_and_show(fixture_paths, run, session):
    competence = CompetenceFactory(code="R17", sections=("100",))
    imported = json.loads(
        run(
            "import", *fixture_paths("xlsx"), "--competence", "R17", "--name", "Web", "--json"
        ).stdout
    )
    freeze(session.get(MarkingScheme, imported["id"]))
    session.flush()

    listed = run("list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [
        {
            "id": imported["id"],
            "competence": competence.code,
            "name": "Web",
            "version": 1,
            "criteria": 4,
            "sub_criteria": 33,
            "aspects": 148,
            "measurement": 143,
            "judgement": 5,
            "max_total": "100.00",
            "frozen": True,
            "warnings": 0,
        }
    ]
    other = CompetenceFactory(sections=("100",))
    assert json.loads(run("list", "--json", "--competence", other.code).stdout) == []
    unknown = run("list", "--competence", "NOPE")
    assert unknown.exit_code == 1 and "no competence with code NOPE" in unknown.output

    shown = run("show", str(imported["id"]))
    assert shown.exit_code == 0, shown.output
    assert f"marking scheme {imported['id']}: Web v1" in shown.stdout
    assert "148 aspects (143 M, 5 J), max 100.00" in shown.stdout
    assert "frozen" in shown.stdout
    assert "  D: 7 sub-criteria, max 31.00" in shown.stdout

    missing = run("show", "999999")
    assert missing.exit_code == 1 and "no marking scheme with id 999999" in missing.output


def test_export_round_trip_through_the_cli(fixture_paths, run, session, tmp_path):
    competence = competence_1_to_5()
    args = ("--competence", competence.code, "--name", "Web", "--json")
    original = json.loads(run("import", *fixture_paths("json"), *args).stdout)
    target = tmp_path / "exported.xlsx"

    result = run("export", str(original["id"]), "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:2] == b"PK"

    again = json.loads(run("import", str(target), *args).stdout)
    assert again | {"id": 0} == original | {"id": 0}
    first = session.get(MarkingScheme, original["id"])
    second = session.get(MarkingScheme, again["id"])
    assert second.version == 2
    assert scheme_spec(second) == scheme_spec(first)


def test_settings_on_a_frozen_scheme_prints_the_new_version(fixture_paths, run, session):
    competence = competence_1_to_5()
    args = ("--competence", competence.code, "--name", "Web", "--json")
    imported = json.loads(run("import", *fixture_paths("json"), *args).stdout)
    freeze(session.get(MarkingScheme, imported["id"]))
    session.flush()

    result = run("settings", str(imported["id"]), "--judges", "2", "--bands", "75:5,50:4", "--json")
    assert result.exit_code == 0, result.output
    new = json.loads(result.stdout)
    assert new["version"] == 2 and new["id"] != imported["id"]
    scheme = session.get(MarkingScheme, new["id"])
    assert (scheme.judges, scheme.grade_bands) == (2, [["75", 5], ["50", 4]])

    bad = run("settings", str(new["id"]), "--spread", "7", "--bands", "40:4,70:5")
    assert bad.exit_code == 1
    assert bad.stderr.splitlines() == [
        "allowed_spread: must be a whole number from 0 to 3, got 7",
        "grade_bands: band 2: thresholds must go strictly down, but 70 comes after 40",
    ]


def test_export_refuses_an_unwritable_target(fixture_paths, run, session, tmp_path: Path):
    competence = competence_1_to_5()
    args = ("--competence", competence.code, "--name", "Web", "--json")
    imported = json.loads(run("import", *fixture_paths("json"), *args).stdout)
    result = run("export", str(imported["id"]), "-o", str(tmp_path / "missing-dir" / "x.xlsx"))
    assert result.exit_code == 1
    assert "cannot be written" in result.output
