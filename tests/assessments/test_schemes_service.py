"""Marking-scheme services: import into the database, versions, settings, freezing, export."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from assessments.models import Aspect, Criterion, MarkingScheme, SubCriterion
from assessments.scheme_files.parse import parse_scheme_files
from assessments.scheme_files.spec import Problem, SchemeImportError
from assessments.scoring import DEFAULT_BANDS, GradeBands, grade
from assessments.services.schemes import importing
from assessments.services.schemes.errors import SchemeError
from assessments.services.schemes.export import export_filename, export_xlsx, scheme_spec
from assessments.services.schemes.importing import import_scheme
from assessments.services.schemes.reading import section_table, summary, versions
from assessments.services.schemes.settings import freeze, in_use, scoring_bands, update_settings
from tests.factories import CompetenceFactory, ExamFactory, UserFactory
from tests.scheme_builder import (
    CORPORA,
    CORPUS_TEXTS,
    JSON_MARKS_BY_SECTION,
    MODULES,
    scheme_json,
    scheme_set,
    scheme_workbook,
)

# Weights of a competence with sections 1-5; the fixture XLSX files put every mark in 1.
WEIGHTS_1_TO_5 = ("10", "10", "25", "30", "25")
SCHEME_TABLES = (MarkingScheme, Criterion, SubCriterion, Aspect)


# --------------------------------------------------------------------------- helpers


def fixture_set(ext: str, corpus: str = "built") -> list[tuple[str, bytes]]:
    """Return the four scheme files of one kind, module A first (tests/scheme_builder.py)."""
    return scheme_set(ext, corpus)


def xlsx_copy(tmp_path: Path, module: str, cells: dict[str, Any]) -> tuple[str, bytes]:
    """Return a copy of module-<module>.xlsx with some cells changed, built in tmp_path."""
    workbook = scheme_workbook(f"module-{module}.xlsx")
    sheet = workbook.active
    for ref, value in cells.items():
        sheet[ref] = value
    path = tmp_path / f"module-{module}.xlsx"
    workbook.save(path)
    return path.name, path.read_bytes()


def xlsx_without_row(tmp_path: Path, module: str, row: int) -> tuple[str, bytes]:
    """Return a copy of module-<module>.xlsx with one row removed."""
    workbook = scheme_workbook(f"module-{module}.xlsx")
    workbook.active.delete_rows(row, 1)
    path = tmp_path / f"module-{module}.xlsx"
    workbook.save(path)
    return path.name, path.read_bytes()


def json_copy(
    tmp_path: Path, module: str, edit: Callable[[dict[str, Any]], object]
) -> tuple[str, bytes]:
    """Return a copy of module-<module>.json changed by ``edit``, built in tmp_path."""
    data = scheme_json(f"module-{module}.json")
    edit(data)
    path = tmp_path / f"module-{module}.json"
    path.write_text(json.dumps(data, indent=2), "utf-8")
    return path.name, path.read_bytes()


def with_replaced(
    files: list[tuple[str, bytes]], replacement: tuple[str, bytes]
) -> list[tuple[str, bytes]]:
    """Return the set with the file of the same name swapped for ``replacement``."""
    return [replacement if name == replacement[0] else (name, data) for name, data in files]


def table_counts(session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in SCHEME_TABLES
    }


def competence_1_to_5():
    return CompetenceFactory(sections=WEIGHTS_1_TO_5)


def aspect_at(scheme: MarkingScheme, address: str) -> Aspect:
    code, position = address.split(".")
    for criterion in scheme.criteria:
        for sub in criterion.sub_criteria:
            if sub.code == code:
                return sub.aspects[int(position) - 1]
    raise KeyError(address)


def first_aspect(data: dict[str, Any]) -> dict[str, Any]:
    return data["subCriterions"][0]["aspects"][0]


def set_section(data: dict[str, Any], sub: int, aspect: int, value: Any) -> None:
    data["subCriterions"][sub]["aspects"][aspect]["wsosSection"] = value


# --------------------------------------------------------------------------- import


@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.parametrize("ext", ["xlsx", "json"])
def test_fixture_set_imports_as_one_scheme(session, ext, corpus):
    competence = competence_1_to_5()
    user = UserFactory(role="admin")

    scheme = import_scheme(session, fixture_set(ext, corpus), competence.code, "Web", user=user)

    assert summary(session, scheme) == {
        "id": scheme.id,
        "criteria": 4,
        "sub_criteria": 33,
        "aspects": 148,
        "measurement": 143,
        "judgement": 5,
        "max_total": "100.00",
    }
    assert scheme.max_total_hundredths == 10000
    assert (scheme.version, scheme.previous_id, scheme.created_by_id) == (1, None, user.id)
    assert scheme.source_files == [f"module-{m}.{ext}" for m in MODULES]
    assert [c.letter for c in scheme.criteria] == ["A", "B", "C", "D"]
    assert [s.code for s in scheme.criteria[2].sub_criteria][:4] == ["C1", "C2", "C3", "C4"]
    assert scheme.criteria[1].source_file == f"module-b.{ext}"
    # B1.1 is the judgement aspect on code organisation, max 1.5
    b11 = aspect_at(scheme, "B1.1")
    assert (b11.kind, b11.max_hundredths, b11.address) == ("J", 150, "B1.1")
    assert len(b11.levels) == 4 and b11.levels[0].startswith(CORPUS_TEXTS[corpus]["B1.1 level 0"])
    assert aspect_at(scheme, "B2.5").max_hundredths == 50
    # defaults of the settings
    assert (scheme.judges, scheme.allowed_spread, scheme.pass_min_grade) == (3, 1, 3)
    assert scheme.grade_bands == [["70", 5], ["40", 4], ["20", 3]]
    assert scheme.fallback_grade == 2
    assert not scheme.frozen


@pytest.mark.parametrize("corpus", CORPORA)
def test_json_keeps_sections_and_calculation_as_information(session, corpus):
    competence = competence_1_to_5()
    scheme = import_scheme(session, fixture_set("json", corpus), competence.code, "Web")
    rows = {row.number: row.marks for row in section_table(scheme)}
    assert rows == {
        n: Decimal(marks) for n, marks in enumerate(JSON_MARKS_BY_SECTION[corpus], start=1)
    }
    assert aspect_at(scheme, "A1.1").calculation == "pass-or-fail"
    assert aspect_at(scheme, "A1.1").wsos_section == 5
    # JSON carries no day of marking
    assert scheme.criteria[0].sub_criteria[0].day is None


def test_xlsx_against_spread_weights_stores_the_weights_warning(session):
    competence = competence_1_to_5()
    scheme = import_scheme(session, fixture_set("xlsx"), competence.code, "Web")
    session.expire_all()
    stored = session.get(MarkingScheme, scheme.id)
    assert any(
        "WSOS section 1: 100.00 % of the marks, competence weight 10.00 %"
        in str(Problem.from_record(warning))
        for warning in stored.warnings
    )
    assert len(stored.warnings) == 5  # all five sections are off by more than 5 points
    flagged = [row.number for row in section_table(stored) if row.flagged]
    assert flagged == [1, 2, 3, 4, 5]


def test_xlsx_against_matching_weights_has_no_warning(session):
    competence = CompetenceFactory(sections=("100",))
    scheme = import_scheme(session, fixture_set("xlsx"), competence.code, "Web")
    assert scheme.warnings == []
    [row] = section_table(scheme)
    assert (row.number, row.marks, row.share, row.weight, row.flagged) == (
        1,
        Decimal(100),
        Decimal(100),
        Decimal(100),
        False,
    )


def test_section_table_shows_unused_sections_with_zero_and_flags_by_5_points(session):
    competence = CompetenceFactory(sections=("97", "3"))
    scheme = import_scheme(session, fixture_set("xlsx"), competence.code, "Web")
    rows = section_table(scheme)
    assert [(r.number, r.marks, r.difference, r.flagged) for r in rows] == [
        (1, Decimal(100), Decimal(3), False),
        (2, Decimal(0), Decimal(-3), False),
    ]


def test_reimport_under_the_same_name_makes_the_next_version(session):
    competence = competence_1_to_5()
    first = import_scheme(session, fixture_set("xlsx"), competence.code, "Web")
    second = import_scheme(session, fixture_set("json"), competence.code, " Web ")
    other = import_scheme(session, fixture_set("json"), competence.code, "Other")
    assert (second.version, second.previous_id, second.name) == (2, first.id, "Web")
    assert (other.version, other.previous_id) == (1, None)
    assert [s.version for s in versions(session, first)] == [2, 1]


def test_a_version_taken_at_the_same_moment_is_refused_cleanly(session, monkeypatch):
    competence = competence_1_to_5()
    first = import_scheme(session, fixture_set("json"), competence.code, "Web")
    before = table_counts(session)
    # a concurrent import computed the same next version: the unique constraint decides
    monkeypatch.setattr(importing, "next_version", lambda *args: (1, None))
    with pytest.raises(SchemeImportError) as caught:
        import_scheme(session, fixture_set("json"), competence.code, "Web")
    assert "stored by someone else at the same moment" in str(caught.value)
    # the savepoint was rolled back; the session and the first scheme are intact
    assert table_counts(session) == before
    assert session.get(MarkingScheme, first.id).version == 1


# broken copies: (label, files builder, expected (file, location, field), message part)
def _broken_cases():
    return [
        (
            "xlsx max mark text",
            lambda tmp: with_replaced(
                fixture_set("xlsx"), xlsx_copy(tmp, "b", {"K10": "one point"})
            ),
            ("module-b.xlsx", "row 10", "Max Mark"),
            "must be a positive decimal, got 'one point'",
        ),
        (
            "xlsx max mark zero",
            lambda tmp: with_replaced(fixture_set("xlsx"), xlsx_copy(tmp, "b", {"K9": 0})),
            ("module-b.xlsx", "row 9", "Max Mark"),
            "must be a positive decimal",
        ),
        (
            "xlsx J aspect with three level rows",
            lambda tmp: with_replaced(fixture_set("xlsx"), xlsx_without_row(tmp, "b", 7)),
            ("module-b.xlsx", "row 3", "Judg Score"),
            "needs exactly four score rows",
        ),
        (
            "xlsx judgement score outside 0-3",
            lambda tmp: with_replaced(fixture_set("xlsx"), xlsx_copy(tmp, "b", {"F7": 4})),
            ("module-b.xlsx", "row 7", "Judg Score"),
            "from 0 to 3, got 4",
        ),
        (
            "xlsx missing WSOS section",
            lambda tmp: with_replaced(fixture_set("xlsx"), xlsx_copy(tmp, "b", {"I9": None})),
            ("module-b.xlsx", "row 9", "WSOS Section"),
            "is missing",
        ),
        (
            "xlsx section the competence does not have",
            lambda tmp: with_replaced(fixture_set("xlsx"), xlsx_copy(tmp, "b", {"I9": 7})),
            ("module-b.xlsx", "row 9", "WSOS Section"),
            "the competence has no WSOS section 7 (it has 1, 2, 3, 4, 5)",
        ),
        (
            "xlsx duplicate sub-criterion ID",
            lambda tmp: with_replaced(fixture_set("xlsx"), xlsx_copy(tmp, "b", {"A8": "B1"})),
            ("module-b.xlsx", "row 8", "Sub Criterion ID"),
            "duplicate sub-criterion ID B1",
        ),
        (
            "xlsx max mark too large to store",
            lambda tmp: with_replaced(fixture_set("xlsx"), xlsx_copy(tmp, "b", {"K9": 5000})),
            ("module-b.xlsx", "row 9", "Max Mark"),
            "must be at most 1000",
        ),
        (
            "json J aspect with three levels",
            lambda tmp: with_replaced(
                fixture_set("json"),
                json_copy(tmp, "b", lambda d: first_aspect(d)["judgementScoreDescription"].pop()),
            ),
            ("module-b.json", "subCriterions[0].aspects[0]", "judgementScoreDescription"),
            "exactly 4 level descriptions",
        ),
        (
            "json section 7 the competence does not have",
            lambda tmp: with_replaced(
                fixture_set("json"), json_copy(tmp, "a", lambda d: set_section(d, 0, 0, 7))
            ),
            ("module-a.json", "subCriterions[0].aspects[0]", "wsosSection"),
            "the competence has no WSOS section 7",
        ),
        (
            "json max mark negative",
            lambda tmp: with_replaced(
                fixture_set("json"),
                json_copy(
                    tmp, "c", lambda d: d["subCriterions"][1]["aspects"][0].update(maxMark=-1)
                ),
            ),
            ("module-c.json", "subCriterions[1].aspects[0]", "maxMark"),
            "must be a positive decimal",
        ),
    ]


@pytest.mark.parametrize(
    ("build", "where", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in _broken_cases()],
)
def test_broken_copies_are_refused_and_nothing_is_stored(session, tmp_path, build, where, message):
    competence = competence_1_to_5()
    before = table_counts(session)
    with pytest.raises(SchemeImportError) as caught:
        import_scheme(session, build(tmp_path), competence.code, "Web")
    found = [(p.file, p.location, p.field, p.message) for p in caught.value.problems]
    assert any((f, loc, fld) == where and message in msg for f, loc, fld, msg in found), found
    assert table_counts(session) == before


def test_json_against_a_competence_without_section_5_names_every_aspect(session):
    competence = CompetenceFactory(sections=("25", "25", "25", "25"))
    with pytest.raises(SchemeImportError) as caught:
        import_scheme(session, fixture_set("json"), competence.code, "Web")
    problems = caught.value.problems
    section_5 = [p for p in problems if "no WSOS section 5 (it has 1, 2, 3, 4)" in p.message]
    # module A: 9 aspects in section 5; module C: 49 (B and D use only 1-4)
    assert {p.file for p in section_5} == {"module-a.json", "module-c.json"}
    assert len(section_5) == 9 + 49
    assert str(section_5[0]) == (
        "module-a.json:subCriterions[0].aspects[0]: wsosSection: "
        "the competence has no WSOS section 5 (it has 1, 2, 3, 4)"
    )
    assert table_counts(session) == dict.fromkeys(table_counts(session), 0)


@pytest.mark.parametrize(
    ("code", "name", "field", "message"),
    [
        ("NOPE", "Web", "competence", "no competence with code NOPE"),
        ("", "Web", "competence", "is missing"),
        (None, "  ", "name", "is missing"),
        (None, "x" * 201, "name", "longer than 200"),
    ],
)
def test_bad_competence_or_name_is_refused(session, code, name, field, message):
    competence = competence_1_to_5()
    with pytest.raises(SchemeImportError) as caught:
        import_scheme(session, fixture_set("xlsx"), competence.code if code is None else code, name)
    assert any(p.field == field and message in p.message for p in caught.value.problems)
    assert table_counts(session) == dict.fromkeys(table_counts(session), 0)


def test_two_files_claiming_one_letter_are_refused(session, tmp_path):
    competence = competence_1_to_5()
    files = fixture_set("xlsx")
    copy = xlsx_copy(tmp_path, "b", {})
    with pytest.raises(SchemeImportError) as caught:
        import_scheme(session, [*files, ("again-" + copy[0], copy[1])], competence.code, "Web")
    assert any("also holds criterion B" in p.message for p in caught.value.problems)
    assert table_counts(session) == dict.fromkeys(table_counts(session), 0)


# --------------------------------------------------------------------------- export


@pytest.mark.parametrize("ext", ["xlsx", "json"])
def test_export_reimports_to_the_same_scheme(session, ext):
    competence = competence_1_to_5()
    scheme = import_scheme(session, fixture_set(ext), competence.code, "Web")
    exported = export_xlsx(scheme)

    again = import_scheme(session, [("export.xlsx", exported)], competence.code, "Web")

    assert again.version == 2
    assert scheme_spec(again) == scheme_spec(scheme)
    original = parse_scheme_files(fixture_set(ext))
    assert scheme_spec(again) == original
    assert summary(session, again) | {"id": 0} == summary(session, scheme) | {"id": 0}


def test_export_filename_is_safe(session):
    competence = CompetenceFactory(code="R17/Web", sections=("100",))
    scheme = import_scheme(session, fixture_set("xlsx"), competence.code, "Веб / Web Tech 2026")
    assert export_filename(scheme) == "R17-Web-web-tech-2026-v1.xlsx"


# --------------------------------------------------------------------------- settings


@pytest.fixture
def scheme(session):
    competence = competence_1_to_5()
    return import_scheme(session, fixture_set("json"), competence.code, "Web")


def test_settings_change_in_place_while_not_frozen(session, scheme):
    result = update_settings(
        session,
        scheme,
        judges=5,
        allowed_spread=2,
        grade_bands=[("75,5", 5), ("50", 4), ("25", 3)],
        fallback_grade=2,
        pass_min_grade=4,
    )
    assert result is scheme
    session.expire_all()
    stored = session.get(MarkingScheme, scheme.id)
    assert (stored.judges, stored.allowed_spread, stored.pass_min_grade) == (5, 2, 4)
    assert stored.grade_bands == [["75.5", 5], ["50", 4], ["25", 3]]
    assert session.scalar(select(func.count()).select_from(MarkingScheme)) == 1


def test_frozen_scheme_gets_a_new_version_and_stays_untouched(session, scheme):
    freeze(scheme)
    frozen_at = scheme.frozen_at
    before = table_counts(session)

    result = update_settings(session, scheme, judges=2, pass_min_grade=4)

    assert result.id != scheme.id
    assert (result.version, result.previous_id, result.frozen) == (2, scheme.id, False)
    assert (result.judges, result.pass_min_grade) == (2, 4)
    session.expire_all()
    old = session.get(MarkingScheme, scheme.id)
    assert (old.judges, old.pass_min_grade, old.frozen_at) == (3, 3, frozen_at)
    # a deep copy: the same criteria, sub-criteria and aspects once more
    after = table_counts(session)
    assert after == {table: count * 2 for table, count in before.items()} | {"marking_schemes": 2}
    new = session.get(MarkingScheme, result.id)
    assert scheme_spec(new) == scheme_spec(old)
    assert aspect_at(new, "B1.1").id != aspect_at(old, "B1.1").id
    assert aspect_at(new, "B1.1").levels == aspect_at(old, "B1.1").levels
    assert new.warnings == old.warnings and new.max_total_hundredths == 10000


def test_scheme_used_by_an_exam_counts_as_frozen(session, scheme):
    ExamFactory(
        scheme=scheme,
        start_date=date(2026, 6, 1),
        end_date=date(2026, 6, 1) + timedelta(days=1),
    )
    assert in_use(session, scheme)
    result = update_settings(session, scheme, allowed_spread=0)
    assert result.id != scheme.id and scheme.allowed_spread == 1


def test_unchanged_settings_on_a_frozen_scheme_make_no_version(session, scheme):
    freeze(scheme)
    result = update_settings(
        session, scheme, judges=3, grade_bands=[("70.00", 5), ("40", 4), ("20", 3)]
    )
    assert result is scheme
    assert session.scalar(select(func.count()).select_from(MarkingScheme)) == 1


def test_freeze_keeps_the_first_moment(scheme):
    freeze(scheme)
    first = scheme.frozen_at
    freeze(scheme)
    assert scheme.frozen and scheme.frozen_at == first


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"judges": 0}, "judges", "from 1 to 9"),
        ({"judges": 10}, "judges", "from 1 to 9"),
        ({"judges": "three"}, "judges", "from 1 to 9"),
        ({"allowed_spread": 4}, "allowed_spread", "from 0 to 3"),
        ({"allowed_spread": -1}, "allowed_spread", "from 0 to 3"),
        ({"pass_min_grade": 1}, "pass_min_grade", "from 2 to 5"),
        ({"pass_min_grade": 6}, "pass_min_grade", "from 2 to 5"),
        ({"fallback_grade": 6}, "fallback_grade", "from 2 to 5"),
        ({"fallback_grade": 4}, "fallback_grade", "must not be above the last band's grade"),
        ({"grade_bands": []}, "grade_bands", "at least one band"),
        ({"grade_bands": [("40", 4), ("70", 5)]}, "grade_bands", "strictly down"),
        ({"grade_bands": [("70", 5), ("70", 4)]}, "grade_bands", "strictly down"),
        ({"grade_bands": [("101", 5)]}, "grade_bands", "from 0 to 100"),
        ({"grade_bands": [("-1", 5)]}, "grade_bands", "from 0 to 100"),
        ({"grade_bands": [("seventy", 5)]}, "grade_bands", "from 0 to 100"),
        ({"grade_bands": [("70.005", 5)]}, "grade_bands", "at most 2 decimals"),
        ({"grade_bands": [(70.5, 5)]}, "grade_bands", "from 0 to 100"),
        ({"grade_bands": [("70", 6)]}, "grade_bands", "2, 3, 4 or 5"),
        ({"grade_bands": [("70", 1)]}, "grade_bands", "2, 3, 4 or 5"),
        ({"grade_bands": [("70", 4), ("40", 5)]}, "grade_bands", "must not give a higher grade"),
        ({"grade_bands": ["70:5"]}, "grade_bands", "percent threshold and a grade"),
    ],
)
def test_invalid_settings_are_refused_and_change_nothing(session, scheme, changes, field, message):
    freeze(scheme)
    with pytest.raises(SchemeError) as caught:
        update_settings(session, scheme, **changes)
    assert message in caught.value.errors[field]
    assert (scheme.judges, scheme.allowed_spread, scheme.pass_min_grade) == (3, 1, 3)
    assert scheme.grade_bands == [["70", 5], ["40", 4], ["20", 3]]
    assert session.scalar(select(func.count()).select_from(MarkingScheme)) == 1


def test_scoring_bands_follow_the_settings(session, scheme):
    assert scoring_bands(scheme) == DEFAULT_BANDS
    update_settings(
        session, scheme, grade_bands=[("75.5", 5), ("50", 4), ("25", 3)], fallback_grade=2
    )
    bands = scoring_bands(scheme)
    assert isinstance(bands, GradeBands)
    assert grade(Fraction(7549, 100), bands) == 4
    assert grade(Decimal("75.5"), bands) == 5
    assert grade(Fraction(2499, 100), bands) == 2
