"""Tests for reading and writing marking-scheme files (CIS XLSX template, community JSON)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.scheme_files.export import export_scheme_xlsx
from assessments.scheme_files.parse import parse_scheme_files
from assessments.scheme_files.spec import (
    AspectSpec,
    CompetenceSection,
    CriterionSpec,
    Problem,
    SchemeImportError,
    SchemeSpec,
    SubCriterionSpec,
)
from assessments.scheme_files.xlsx import XLSX_HEADER
from tests.scheme_builder import (
    CORPORA,
    CORPUS_TEXTS,
    JSON_MARKS_BY_SECTION,
    MODULES,
    needs_real_schemes,
    scheme_file,
    scheme_json,
    scheme_set,
    scheme_workbook,
)


@pytest.fixture(params=CORPORA)
def corpus(request: pytest.FixtureRequest) -> str:
    """The built sample scheme, and the real competition files where they are present."""
    return request.param


def fixture(name: str, corpus: str = "built") -> tuple[str, bytes]:
    return scheme_file(name, corpus)


def fixture_set(ext: str, corpus: str = "built") -> list[tuple[str, bytes]]:
    return scheme_set(ext, corpus)


def mixed_set(corpus: str = "built") -> list[tuple[str, bytes]]:
    return [
        fixture(n, corpus)
        for n in ("module-a.xlsx", "module-b.json", "module-c.xlsx", "module-d.json")
    ]


# Edits applied to a copy of a fixture workbook: ("set", "K9", value), ("delete", row, count),
# ("insert", row, {"F": 0, "G": "text"}).
Edit = tuple[Any, ...]


def xlsx_copy(
    tmp_path: Path, module: str, edits: list[Edit], corpus: str = "built"
) -> tuple[str, bytes]:
    """Return a broken copy of module-<module>.xlsx, built in tmp_path."""
    workbook = scheme_workbook(f"module-{module}.xlsx", corpus)
    sheet = workbook.active
    for edit in edits:
        if edit[0] == "set":
            sheet[edit[1]] = edit[2]
        elif edit[0] == "delete":
            sheet.delete_rows(edit[1], edit[2])
        elif edit[0] == "insert":
            sheet.insert_rows(edit[1])
            for column, value in edit[2].items():
                sheet[f"{column}{edit[1]}"] = value
    path = tmp_path / f"module-{module}.xlsx"
    workbook.save(path)
    return path.name, path.read_bytes()


def json_copy(
    tmp_path: Path, module: str, edit: Callable[[dict[str, Any]], object], corpus: str = "built"
) -> tuple[str, bytes]:
    """Return a broken copy of module-<module>.json, built in tmp_path."""
    data = scheme_json(f"module-{module}.json", corpus)
    edit(data)
    path = tmp_path / f"module-{module}.json"
    path.write_text(json.dumps(data, indent=2), "utf-8")
    return path.name, path.read_bytes()


def cells(**values: Any) -> list[Any]:
    """Return one template row (columns A…K) from column-letter keywords."""
    return [values.get(chr(ord("A") + i)) for i in range(len(XLSX_HEADER))]


def build_xlsx(
    tmp_path: Path, rows: list[list[Any]], name: str = "scheme.xlsx"
) -> tuple[str, bytes]:
    """Return a template workbook with the given rows under the header (None rows stay empty)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(XLSX_HEADER)
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=number, column=column, value=value)
    path = tmp_path / name
    workbook.save(path)
    return name, path.read_bytes()


def problems_of(files: list[tuple[str, bytes]], **kwargs: Any) -> list[Problem]:
    with pytest.raises(SchemeImportError) as caught:
        parse_scheme_files(files, **kwargs)
    return caught.value.problems


def competence(weights: list[Any], names: list[str] | None = None) -> list[CompetenceSection]:
    names = names or BD_SECTION_NAMES
    return [
        CompetenceSection(number, names[number - 1], Decimal(str(weight)))
        for number, weight in enumerate(weights, start=1)
    ]


# Section names as modules B–D number them (module A numbers 4 and 5 differently).
BD_SECTION_NAMES = [
    "Work organization and self-management",
    "Communication and interpersonal skills",
    "Design Implementation",
    "Front-End Development",
    "Back-End Development",
]


# --------------------------------------------------------------------------- the four modules

# module letter: (sub-criteria, M aspects, J aspects, max mark), alike in both corpora
MODULE_TABLE = {
    "A": (9, 9, 0, Decimal(9)),
    "B": (8, 22, 2, Decimal(30)),
    "C": (9, 59, 1, Decimal(30)),
    "D": (7, 53, 2, Decimal(31)),
}


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(lambda corpus: fixture_set("xlsx", corpus), id="xlsx"),
        pytest.param(lambda corpus: fixture_set("json", corpus), id="json"),
        pytest.param(mixed_set, id="mixed"),
    ],
)
def test_the_four_modules_add_up(
    files: Callable[[str], list[tuple[str, bytes]]], corpus: str
) -> None:
    spec = parse_scheme_files(files(corpus))

    assert [c.letter for c in spec.criteria] == ["A", "B", "C", "D"]
    assert spec.sub_criteria_count == 33
    assert spec.aspects_count == 148
    assert (spec.measurement_count, spec.judgement_count) == (143, 5)
    assert spec.max_total == Decimal(100)
    assert isinstance(spec.max_total, Decimal)
    assert spec.warnings == []
    for criterion in spec.criteria:
        subs, measurement, judgement, max_mark = MODULE_TABLE[criterion.letter]
        aspects = [a for s in criterion.sub_criteria for a in s.aspects]
        assert len(criterion.sub_criteria) == subs
        assert sum(a.kind == "M" for a in aspects) == measurement
        assert sum(a.kind == "J" for a in aspects) == judgement
        assert sum(a.max_mark for a in aspects) == max_mark
        assert criterion.name == ""


@pytest.mark.parametrize("ext", ["xlsx", "json"])
@pytest.mark.parametrize("module", MODULES)
def test_one_module_alone(module: str, ext: str, corpus: str) -> None:
    spec = parse_scheme_files([fixture(f"module-{module}.{ext}", corpus)])

    # An XLSX file's IDs name the criterion; a lone JSON file is first, so criterion A.
    letter = module.upper() if ext == "xlsx" else "A"
    subs, measurement, judgement, max_mark = MODULE_TABLE[module.upper()]
    [criterion] = spec.criteria
    assert criterion.letter == letter
    assert criterion.source_file == f"module-{module}.{ext}"
    assert [s.id for s in criterion.sub_criteria] == [f"{letter}{n}" for n in range(1, subs + 1)]
    assert (spec.measurement_count, spec.judgement_count) == (measurement, judgement)
    assert spec.max_total == max_mark


def test_json_letter_comes_from_position_among_all_files(corpus: str) -> None:
    spec = parse_scheme_files([fixture("module-d.xlsx", corpus), fixture("module-a.json", corpus)])

    assert [(c.letter, c.source_file) for c in spec.criteria] == [
        ("B", "module-a.json"),
        ("D", "module-d.xlsx"),
    ]
    assert spec.criteria[0].sub_criteria[3].id == "B4"


def test_criteria_are_sorted_by_letter_whatever_the_file_order(corpus: str) -> None:
    files = list(reversed(fixture_set("xlsx", corpus)))

    spec = parse_scheme_files(files)

    assert [c.letter for c in spec.criteria] == ["A", "B", "C", "D"]


@pytest.mark.parametrize(
    ("ext", "source"), [("xlsx", "row 24"), ("json", "subCriterions[3].aspects[1]")]
)
def test_c4_2_addresses_the_second_aspect_of_the_fourth_sub_criterion(
    ext: str, source: str, corpus: str
) -> None:
    spec = parse_scheme_files(fixture_set(ext, corpus))

    criterion = spec.criteria[2]
    sub = criterion.sub_criteria[3]
    aspect = sub.aspects[1]
    name, description = CORPUS_TEXTS[corpus]["C4"], CORPUS_TEXTS[corpus]["C4.2"]
    assert (criterion.letter, sub.id, sub.name) == ("C", "C4", name)
    assert aspect.description == description
    assert aspect.max_mark == Decimal("0.5")
    assert aspect.source == source
    for criterion in spec.criteria:
        for position, sub in enumerate(criterion.sub_criteria, start=1):
            assert sub.id == f"{criterion.letter}{position}"


@pytest.mark.parametrize("ext", ["xlsx", "json"])
def test_sub_criterion_names_are_kept_whole_and_never_parsed_for_ids(ext: str, corpus: str) -> None:
    spec = parse_scheme_files(fixture_set(ext, corpus))

    first, fourth, ninth = (CORPUS_TEXTS[corpus][sub] for sub in ("A1", "A4", "A9"))
    module_a = spec.criteria[0].sub_criteria
    assert (module_a[0].id, module_a[0].name) == ("A1", first)
    assert (module_a[3].id, module_a[3].name) == ("A4", fourth)
    assert (module_a[8].id, module_a[8].name) == ("A9", ninth)


def test_xlsx_and_json_forms_say_the_same_except_sections_and_days(corpus: str) -> None:
    from_xlsx = parse_scheme_files(fixture_set("xlsx", corpus))
    from_json = parse_scheme_files(fixture_set("json", corpus))

    for cx, cj in zip(from_xlsx.criteria, from_json.criteria, strict=True):
        for sx, sj in zip(cx.sub_criteria, cj.sub_criteria, strict=True):
            assert (sx.id, sx.name) == (sj.id, sj.name)
            assert (sx.day, sj.day) == (1, None)
            for ax, aj in zip(sx.aspects, sj.aspects, strict=True):
                assert (ax.kind, ax.description, ax.max_mark, ax.levels) == (
                    aj.kind,
                    aj.description,
                    aj.max_mark,
                    aj.levels,
                )
                assert ax.wsos_section == 1  # the tool that wrote the XLSX files filled in 1
                if (sx.id, aj.kind) != ("C9", "J"):
                    assert ax.extra_description == aj.extra_description


@needs_real_schemes
def test_real_xlsx_dropped_one_extra_description() -> None:
    from_xlsx = parse_scheme_files(fixture_set("xlsx", "real"))
    from_json = parse_scheme_files(fixture_set("json", "real"))

    # The one difference in text: the XLSX file dropped C9's judgement extra description.
    c9_judgement = from_json.criteria[2].sub_criteria[8].aspects[3]
    assert c9_judgement.extra_description.startswith("Holistic judgement")
    assert from_xlsx.criteria[2].sub_criteria[8].aspects[3].extra_description == ""


@pytest.mark.parametrize("ext", ["xlsx", "json"])
def test_judgement_aspects_carry_four_levels_and_measurements_none(ext: str, corpus: str) -> None:
    spec = parse_scheme_files(fixture_set(ext, corpus))

    judgement = spec.criteria[1].sub_criteria[0].aspects[0]
    assert (judgement.kind, judgement.max_mark) == ("J", Decimal("1.5"))
    assert len(judgement.levels) == 4
    assert judgement.levels[0].startswith(CORPUS_TEXTS[corpus]["B1.1 level 0"])
    assert judgement.levels[3].startswith(CORPUS_TEXTS[corpus]["B1.1 level 3"])
    for aspect in (a for c in spec.criteria for s in c.sub_criteria for a in s.aspects):
        assert len(aspect.levels) == (4 if aspect.kind == "J" else 0)


def test_json_keeps_calculation_and_section_names_as_information(corpus: str) -> None:
    spec = parse_scheme_files(fixture_set("json", corpus))

    aspects = [a for c in spec.criteria for s in c.sub_criteria for a in s.aspects]
    assert {a.calculation for a in aspects if a.kind == "M"} == {"pass-or-fail"}
    assert {a.calculation for a in aspects if a.kind == "J"} == {""}
    assert spec.criteria[0].section_names[4] == "Layout"
    assert len(spec.criteria[0].section_names) == 7
    assert spec.criteria[1].section_names[4] == "Front-End Development"
    assert parse_scheme_files(fixture_set("xlsx", corpus)).criteria[0].section_names == {}


# --------------------------------------------------------------------------- exact decimals


@pytest.mark.parametrize("ext", ["xlsx", "json"])
def test_max_marks_are_exact_decimals(ext: str, corpus: str) -> None:
    spec = parse_scheme_files(fixture_set(ext, corpus))

    c1 = spec.criteria[2].sub_criteria[0]
    assert [a.max_mark for a in c1.aspects] == [Decimal("0.5"), Decimal("0.25"), Decimal("0.25")]
    assert str(c1.aspects[1].max_mark) == "0.25"
    assert str(spec.criteria[1].sub_criteria[0].aspects[0].max_mark) == "1.5"
    assert str(spec.criteria[3].sub_criteria[0].aspects[1].max_mark) == "0.75"
    assert all(isinstance(a.max_mark, Decimal) for a in spec.aspects())
    assert sum(spec.marks_by_section().values()) == spec.max_total == Decimal(100)


def test_json_marks_by_section_are_exact(corpus: str) -> None:
    spec = parse_scheme_files(fixture_set("json", corpus))

    assert spec.marks_by_section() == {
        n: Decimal(mark) for n, mark in enumerate(JSON_MARKS_BY_SECTION[corpus], start=1)
    }


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (0.25, "0.25"),
        (1.5, "1.5"),
        (0.1 + 0.2, "0.3"),  # a formula result read as Excel shows it, not 0.30000000000000004
        (2, "2"),
        ("1,5", "1.5"),  # decimal comma typed as text
        (" 0.75 ", "0.75"),
    ],
)
def test_spreadsheet_numbers_become_exact_decimals(
    tmp_path: Path, cell: Any, expected: str
) -> None:
    files = [build_xlsx(tmp_path, [cells(A="A1", B="Task"), cells(D="M", E="Works", I=1, K=cell)])]

    [aspect] = parse_scheme_files(files).aspects()

    assert aspect.max_mark == Decimal(expected)
    assert str(aspect.max_mark) == expected


# --------------------------------------------------------------------------- XLSX problems

# (edits to module-b.xlsx, [(location, field, words in the message)])
XLSX_ERRORS = {
    "J aspect with three score rows": (
        [("delete", 7, 1)],
        [("row 3", "Judg Score", "exactly four score rows (0, 1, 2, 3) below it, found 3")],
    ),
    "J aspect with five score rows": (
        [("insert", 8, {"F": 3, "G": "Again"})],
        [("row 3", "Judg Score", "found 5")],
    ),
    "score rows out of order": (
        [("set", "F5", 2), ("set", "F6", 1)],
        [("row 5", "Judg Score", "expected score 1"), ("row 6", "Judg Score", "expected score 2")],
    ),
    "score above 3": ([("set", "F7", 4)], [("row 7", "Judg Score", "from 0 to 3, got 4")]),
    "score below 0": ([("set", "F4", -1)], [("row 4", "Judg Score", "from 0 to 3, got -1")]),
    "score not whole": ([("set", "F5", 1.5)], [("row 5", "Judg Score", "got 1.5")]),
    "score as text": ([("set", "F6", "two")], [("row 6", "Judg Score", "got 'two'")]),
    "score missing": ([("set", "F6", None)], [("row 6", "Judg Score", "is missing")]),
    "level description missing": (
        [("set", "G17", None)],
        [("row 17", "Judgement Score Description", "missing for score 1")],
    ),
    "score row under an M aspect": (
        [("insert", 10, {"F": 0, "G": "Stray level"})],
        [("row 10", "Judg Score", "must follow a J aspect row")],
    ),
    "max mark as text": (
        [("set", "K9", "abc")],
        [("row 9", "Max Mark", "must be a positive decimal, got 'abc'")],
    ),
    "max mark zero": ([("set", "K9", 0)], [("row 9", "Max Mark", "positive decimal, got 0")]),
    "max mark negative": ([("set", "K9", -1)], [("row 9", "Max Mark", "got -1")]),
    "max mark with 3 decimals": (
        [("set", "K9", 0.125)],
        [("row 9", "Max Mark", "at most 2 decimal places, got 0.125")],
    ),
    "max mark missing": ([("set", "K15", None)], [("row 15", "Max Mark", "is missing")]),
    "max mark true": ([("set", "K9", True)], [("row 9", "Max Mark", "got True")]),
    "section missing": ([("set", "I9", None)], [("row 9", "WSOS Section", "is missing")]),
    "section as text": ([("set", "I9", "one")], [("row 9", "WSOS Section", "got 'one'")]),
    "section not whole": ([("set", "I9", 1.5)], [("row 9", "WSOS Section", "got 1.5")]),
    "section zero": ([("set", "I9", 0)], [("row 9", "WSOS Section", "got 0")]),
    "unknown aspect type": (
        [("set", "D9", "X")],
        [("row 9", "Aspect Type", "must be M (measurement) or J (judgement), got 'X'")],
    ),
    "aspect type missing": ([("set", "D9", None)], [("row 9", "Aspect Type", "is missing")]),
    "description missing": ([("set", "E9", "  ")], [("row 9", "Aspect Description", "missing")]),
    "malformed ID": (
        [("set", "A8", "B-2")],
        [("row 8", "Sub Criterion ID", "letter followed by a number, e.g. C4; got 'B-2'")],
    ),
    "ID without a number": ([("set", "A8", "B")], [("row 8", "Sub Criterion ID", "got 'B'")]),
    "ID numbered from zero": ([("set", "A8", "B0")], [("row 8", "Sub Criterion ID", "got 'B0'")]),
    "duplicate ID": (
        [("set", "A22", "B1")],
        [("row 22", "Sub Criterion ID", "duplicate sub-criterion ID B1 (also at row 2)")],
    ),
    "aspect before any sub-criterion": (
        [("set", "A2", None), ("set", "B2", None), ("set", "C2", None)],
        [("row 3", "Sub Criterion ID", "comes before any sub-criterion row")],
    ),
    "sub-criterion without aspects": (
        [("delete", 21, 1)],
        [("row 20", "Sub Criterion ID", "sub-criterion B3 has no aspects")],
    ),
    "last sub-criterion without aspects": (
        [("delete", 40, 2)],
        [("row 39", "Sub Criterion ID", "sub-criterion B8 has no aspects")],
    ),
    "sub-criterion name missing": (
        [("set", "B8", None)],
        [("row 8", "Sub Criterion Name", "is missing")],
    ),
    "day of marking not a number": (
        [("set", "C2", "first")],
        [("row 2", "Day of Marking", "must be a whole number, got 'first'")],
    ),
    "day of marking zero": ([("set", "C8", 0)], [("row 8", "Day of Marking", "got 0")]),
    "sub-criterion row without ID": (
        [("insert", 20, {"B": "Orphan name", "C": 1})],
        [("row 20", "Sub Criterion ID", "is missing")],
    ),
    "note without type": (
        [("insert", 10, {"H": "a stray note"})],
        [("row 10", "Aspect Type", "no sub-criterion ID, aspect type or score")],
    ),
    "J aspect and its score rows both broken": (
        [("set", "K3", "abc"), ("set", "F5", 7)],
        [("row 3", "Max Mark", "got 'abc'"), ("row 5", "Judg Score", "got 7")],
    ),
    "score rows under an unknown type are not judged again": (
        [("set", "D3", "Q"), ("delete", 7, 1)],
        [("row 3", "Aspect Type", "got 'Q'")],
    ),
    "no header row": (
        [("delete", 1, 1)],
        [
            ("row 1", "", "must be the header row"),
            ("row 2", "Sub Criterion ID", "before any sub-criterion"),
        ],
    ),
}


@pytest.mark.parametrize(("edits", "expected"), XLSX_ERRORS.values(), ids=XLSX_ERRORS.keys())
def test_xlsx_problem_names_file_row_and_field(
    tmp_path: Path, edits: list[Edit], expected: list[tuple[str, str, str]], corpus: str
) -> None:
    problems = problems_of([xlsx_copy(tmp_path, "b", edits, corpus)])

    assert [(p.file, p.location, p.field) for p in problems] == [
        ("module-b.xlsx", location, field) for location, field, _ in expected
    ]
    for problem, (_, _, words) in zip(problems, expected, strict=True):
        assert words in problem.message


def test_xlsx_section_the_competence_lacks_is_an_error(tmp_path: Path, corpus: str) -> None:
    files = [xlsx_copy(tmp_path, "b", [("set", "I9", 6)], corpus)]

    problems = problems_of(files, sections=competence([20, 20, 20, 20, 20]))

    assert [(p.location, p.field) for p in problems] == [("row 9", "WSOS Section")]
    assert problems[0].message == "the competence has no WSOS section 6 (it has 1, 2, 3, 4, 5)"


def test_xlsx_accepts_what_people_type(tmp_path: Path) -> None:
    rows = [
        cells(A=" c1 ", B="Setup", C="C2"),
        cells(D="m", E="Runs", H="Starts without errors", I="2", K="0,5"),
        None,  # blank rows are skipped, row numbers stay the spreadsheet's
        cells(D="j", E="Looks right", G="Overall view", I=3, K=1.5),
        *[cells(F=score, G=f"Level {score}", I=3) for score in range(4)],
        cells(A="A1", B="Other module", C=2.0),
        cells(D="M", E="Done", I=1, K=1),
    ]
    files = [build_xlsx(tmp_path, [r or cells() for r in rows])]

    spec = parse_scheme_files(files)

    [a, c] = spec.criteria
    assert (a.letter, [s.id for s in a.sub_criteria], a.sub_criteria[0].day) == ("A", ["A1"], 2)
    [sub] = c.sub_criteria
    assert (sub.id, sub.name, sub.day) == ("C1", "Setup", 2)
    measurement, judgement = sub.aspects
    assert measurement == AspectSpec(
        "M", "Runs", "", "Starts without errors", 2, Decimal("0.5"), []
    )
    assert measurement.source == "row 3"
    assert (judgement.kind, judgement.extra_description, judgement.source) == (
        "J",
        "Overall view",
        "row 5",
    )
    assert judgement.levels == ["Level 0", "Level 1", "Level 2", "Level 3"]


def test_one_xlsx_file_may_hold_several_criteria(tmp_path: Path) -> None:
    rows = [
        cells(A="B1", B="First B"),
        cells(D="M", E="x", I=1, K=1),
        cells(A="A1", B="First A"),
        cells(D="M", E="y", I=1, K=2),
        cells(A="B2", B="Second B"),
        cells(D="M", E="z", I=1, K=3),
    ]

    spec = parse_scheme_files([build_xlsx(tmp_path, rows)])

    assert [(c.letter, [s.id for s in c.sub_criteria]) for c in spec.criteria] == [
        ("A", ["A1"]),
        ("B", ["B1", "B2"]),
    ]


def test_xlsx_with_only_a_header_holds_nothing(tmp_path: Path) -> None:
    problems = problems_of([build_xlsx(tmp_path, [], name="empty.xlsx")])

    assert [(p.file, p.location, p.field) for p in problems] == [("empty.xlsx", "", "")]
    assert "no sub-criteria" in problems[0].message


# --------------------------------------------------------------------------- JSON problems


def _aspect(data: dict[str, Any], sub: int, aspect: int) -> dict[str, Any]:
    return data["subCriterions"][sub]["aspects"][aspect]


def _set(sub: int, aspect: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: _aspect(data, sub, aspect).__setitem__(key, value)


def _drop(sub: int, aspect: int, key: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: _aspect(data, sub, aspect).pop(key)


LEVELS = "judgementScoreDescription"

# (edit of module-b.json, [(location, field, words in the message)])
JSON_ERRORS = {
    "three levels": (
        lambda d: _aspect(d, 0, 0)[LEVELS].pop(),
        [
            (
                "subCriterions[0].aspects[0]",
                LEVELS,
                "exactly 4 level descriptions (scores 0-3), got 3",
            )
        ],
    ),
    "five levels": (
        lambda d: _aspect(d, 1, 6)[LEVELS].append("More"),
        [("subCriterions[1].aspects[6]", LEVELS, "got 5")],
    ),
    "levels missing": (_drop(0, 0, LEVELS), [("subCriterions[0].aspects[0]", LEVELS, "got 0")]),
    "level blank": (
        lambda d: _aspect(d, 0, 0)[LEVELS].__setitem__(2, "  "),
        [("subCriterions[0].aspects[0]", LEVELS, "for score 2 is missing")],
    ),
    "levels on a measurement": (
        _set(1, 0, LEVELS, ["a", "b", "c", "d"]),
        [("subCriterions[1].aspects[0]", LEVELS, "should its type be judgement?")],
    ),
    "maxMark as text": (
        _set(1, 1, "maxMark", "abc"),
        [("subCriterions[1].aspects[1]", "maxMark", "must be a positive decimal, got 'abc'")],
    ),
    "maxMark zero": (
        _set(1, 1, "maxMark", 0),
        [("subCriterions[1].aspects[1]", "maxMark", "got 0")],
    ),
    "maxMark negative": (
        _set(1, 1, "maxMark", -1.5),
        [("subCriterions[1].aspects[1]", "maxMark", "got -1.5")],
    ),
    "maxMark with 3 decimals": (
        _set(1, 1, "maxMark", 0.125),
        [("subCriterions[1].aspects[1]", "maxMark", "at most 2 decimal places, got 0.125")],
    ),
    "maxMark null": (
        _set(1, 1, "maxMark", None),
        [("subCriterions[1].aspects[1]", "maxMark", "is missing")],
    ),
    "maxMark boolean": (
        _set(1, 1, "maxMark", True),
        [("subCriterions[1].aspects[1]", "maxMark", "got True")],
    ),
    "wsosSection missing": (
        _drop(2, 0, "wsosSection"),
        [("subCriterions[2].aspects[0]", "wsosSection", "is missing")],
    ),
    "wsosSection as text": (
        _set(2, 0, "wsosSection", "x"),
        [("subCriterions[2].aspects[0]", "wsosSection", "got 'x'")],
    ),
    "wsosSection not whole": (
        _set(2, 0, "wsosSection", 2.5),
        [("subCriterions[2].aspects[0]", "wsosSection", "got 2.5")],
    ),
    "unknown type": (
        _set(3, 1, "type", "rating"),
        [("subCriterions[3].aspects[1]", "type", "must be measurement or judgement, got 'rating'")],
    ),
    "description missing": (
        _set(3, 1, "description", ""),
        [("subCriterions[3].aspects[1]", "description", "is missing")],
    ),
    "aspect not an object": (
        lambda d: d["subCriterions"][3]["aspects"].__setitem__(1, "M"),
        [("subCriterions[3].aspects[1]", "", "must be an object")],
    ),
    "totalMark disagrees": (
        lambda d: d.__setitem__("totalMark", 31),
        [("", "totalMark", "says 31 but the aspects' max marks add up to 30")],
    ),
    "totalMark not a number": (
        lambda d: d.__setitem__("totalMark", "thirty"),
        [("", "totalMark", "must be a number, got 'thirty'")],
    ),
    "sub-criterion without aspects": (
        lambda d: d["subCriterions"][2].__setitem__("aspects", []),
        [
            ("subCriterions[2]", "aspects", "sub-criterion A3 has no aspects"),
            ("", "totalMark", "says 30 but the aspects' max marks add up to 28.5"),
        ],
    ),
    "sub-criterion name missing": (
        lambda d: d["subCriterions"][1].pop("name"),
        [("subCriterions[1]", "name", "is missing")],
    ),
    "sub-criterion not an object": (
        lambda d: d["subCriterions"].__setitem__(1, ["x"]),
        [("subCriterions[1]", "", "must be an object")],
    ),
    "subCriterions missing": (
        lambda d: d.pop("subCriterions"),
        [("", "subCriterions", "is missing or empty")],
    ),
    "subCriterions empty": (
        lambda d: d.__setitem__("subCriterions", []),
        [("", "subCriterions", "is missing or empty")],
    ),
    "wsosSections not an object": (
        lambda d: d.__setitem__("wsosSections", ["a"]),
        [("", "wsosSections", "must be an object")],
    ),
    "wsosSections key not a number": (
        lambda d: d["wsosSections"].__setitem__("one", "Extra"),
        [('wsosSections["one"]', "wsosSections", "got 'one': 'Extra'")],
    ),
}


@pytest.mark.parametrize(("edit", "expected"), JSON_ERRORS.values(), ids=JSON_ERRORS.keys())
def test_json_problem_names_file_path_and_field(
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], object],
    expected: list[tuple[str, str, str]],
    corpus: str,
) -> None:
    problems = problems_of([json_copy(tmp_path, "b", edit, corpus)])

    assert [(p.file, p.location, p.field) for p in problems] == [
        ("module-b.json", location, field) for location, field, _ in expected
    ]
    for problem, (_, _, words) in zip(problems, expected, strict=True):
        assert words in problem.message


def test_json_section_the_competence_lacks_is_an_error(corpus: str) -> None:
    # Module A puts every aspect in its section 5; this competence stops at 4.
    problems = problems_of(
        [fixture("module-a.json", corpus)], sections=competence([25, 25, 25, 25])
    )

    assert [(p.location, p.field) for p in problems] == [
        (f"subCriterions[{n}].aspects[0]", "wsosSection") for n in range(9)
    ]
    assert problems[0].message == "the competence has no WSOS section 5 (it has 1, 2, 3, 4)"


# --------------------------------------------------------------------------- whole files

UNREADABLE = {
    "zip header, no zip": ("broken.xlsx", b"PK\x03\x04 not really a zip", "XLSX workbook"),
    "not a zip at all": ("broken.xlsx", b"hello", "XLSX workbook"),
    "truncated workbook": ("cut.xlsx", None, "XLSX workbook"),
    "invalid JSON": ("broken.json", b'{"totalMark": 9,', "is not valid JSON"),
    "empty JSON file": ("empty.json", b"", "is not valid JSON"),
    "JSON not UTF-8": ("latin.json", '{"a": "é"}'.encode("latin-1"), "not UTF-8"),
    "JSON list": ("list.json", b"[1, 2]", "must hold a JSON object"),
    "neither": ("notes.txt", b"hello", "neither an XLSX workbook nor a JSON"),
}


@pytest.mark.parametrize(("name", "content", "words"), UNREADABLE.values(), ids=UNREADABLE.keys())
def test_unreadable_file_is_one_whole_file_problem(
    name: str, content: bytes | None, words: str
) -> None:
    if content is None:
        whole = fixture("module-a.xlsx")[1]
        content = whole[: len(whole) // 2]

    problems = problems_of([(name, content)])

    assert [(p.file, p.location, p.field) for p in problems] == [(name, "", "")]
    assert words in problems[0].message


def test_empty_file_list_is_an_error() -> None:
    problems = problems_of([])

    assert [str(p) for p in problems] == ["no marking-scheme files were given"]


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("upload-1", "module-b.xlsx"),  # no extension: sniffed as a zip
        ("upload-2", "module-b.json"),  # no extension: sniffed as JSON
        ("MODULE-B.XLSX", "module-b.xlsx"),
        ("Module-B.Json", "module-b.json"),
    ],
)
def test_file_type_from_extension_or_content(name: str, source: str, corpus: str) -> None:
    spec = parse_scheme_files([(name, fixture(source, corpus)[1])])

    assert spec.aspects_count == 24
    assert spec.criteria[0].source_file == name


def test_file_names_are_reduced_to_their_basename() -> None:
    content = fixture("module-a.xlsx")[1]

    spec = parse_scheme_files([("C:\\Users\\expert\\Desktop\\module-a.xlsx", content)])
    problems = problems_of([("/tmp/uploads/module-a.xlsx", b"junk")])

    assert spec.criteria[0].source_file == "module-a.xlsx"
    assert problems[0].file == "module-a.xlsx"


def test_two_xlsx_files_with_the_same_letter_name_both_files(tmp_path: Path, corpus: str) -> None:
    copy = xlsx_copy(tmp_path, "c", [], corpus)
    files = [fixture("module-c.xlsx", corpus), ("module-c-again.xlsx", copy[1])]

    problems = problems_of(files)

    assert [(p.file, p.location, p.field) for p in problems] == [
        ("module-c-again.xlsx", "row 2", "Sub Criterion ID")
    ]
    assert "module-c.xlsx also holds criterion C" in problems[0].message


def test_json_position_letter_clashing_with_an_xlsx_letter_names_both_files(corpus: str) -> None:
    problems = problems_of([fixture("module-b.xlsx", corpus), fixture("module-a.json", corpus)])

    assert [(p.file, p.location) for p in problems] == [("module-a.json", "")]
    assert "takes criterion letter B from its position" in problems[0].message
    assert "module-b.xlsx also holds criterion B" in problems[0].message


def test_all_problems_in_all_files_are_collected(tmp_path: Path, corpus: str) -> None:
    broken_json = json_copy(
        tmp_path,
        "a",
        lambda d: (_set(2, 0, "maxMark", "abc")(d), _set(4, 0, "description", None)(d)),
        corpus,
    )
    broken_xlsx = xlsx_copy(
        tmp_path, "b", [("set", "K9", "abc"), ("set", "F7", 4), ("set", "A22", "B1")], corpus
    )
    files = [broken_json, broken_xlsx, ("corrupt.xlsx", b"PK\x03\x04")]

    with pytest.raises(SchemeImportError) as caught:
        parse_scheme_files(files)

    assert [(p.file, p.location, p.field) for p in caught.value.problems] == [
        ("module-a.json", "subCriterions[2].aspects[0]", "maxMark"),
        ("module-a.json", "subCriterions[4].aspects[0]", "description"),
        ("module-b.xlsx", "row 7", "Judg Score"),
        ("module-b.xlsx", "row 9", "Max Mark"),
        ("module-b.xlsx", "row 22", "Sub Criterion ID"),
        ("corrupt.xlsx", "", ""),
    ]
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]


# --------------------------------------------------------------------------- warnings

WEIGHTS = [10, 10, 30, 30, 20]


def test_xlsx_default_section_gives_weight_warnings_not_errors(corpus: str) -> None:
    spec = parse_scheme_files(fixture_set("xlsx", corpus), sections=competence(WEIGHTS))

    assert spec.aspects_count == 148
    assert [(w.file, w.location, w.field) for w in spec.warnings] == [("", "", "WSOS Section")] * 5
    assert [str(w.message) for w in spec.warnings] == [
        "WSOS section 1: 100.00 % of the marks, competence weight 10.00 % "
        "(differs by more than 5 points)",
        "WSOS section 2: 0.00 % of the marks, competence weight 10.00 % "
        "(differs by more than 5 points)",
        "WSOS section 3: 0.00 % of the marks, competence weight 30.00 % "
        "(differs by more than 5 points)",
        "WSOS section 4: 0.00 % of the marks, competence weight 30.00 % "
        "(differs by more than 5 points)",
        "WSOS section 5: 0.00 % of the marks, competence weight 20.00 % "
        "(differs by more than 5 points)",
    ]


def test_no_weight_warning_when_shares_match_weights(corpus: str) -> None:
    sections = competence(JSON_MARKS_BY_SECTION[corpus])

    spec = parse_scheme_files(fixture_set("json", corpus), sections=sections)

    assert [w for w in spec.warnings if w.field == "WSOS Section"] == []


@pytest.mark.parametrize(
    ("weights", "warned"),
    [
        (["50", "50"], []),  # 55 % and 45 %: exactly 5 points off is allowed
        (["49.99", "50.01"], [1, 2]),  # 5.01 points off
        (["60", "40"], []),
        (["55", "45"], []),
    ],
)
def test_weight_tolerance_is_five_points(
    tmp_path: Path, weights: list[str], warned: list[int]
) -> None:
    rows = [
        cells(A="A1", B="Only"),
        cells(D="M", E="First", I=1, K=55),
        cells(D="M", E="Second", I=2, K=45),
    ]

    spec = parse_scheme_files([build_xlsx(tmp_path, rows)], sections=competence(weights))

    assert [w.message.split(":")[0] for w in spec.warnings] == [f"WSOS section {n}" for n in warned]


def test_json_section_names_differing_from_the_competence_are_warned(corpus: str) -> None:
    spec = parse_scheme_files(fixture_set("json", corpus), sections=competence(WEIGHTS))

    named = [w for w in spec.warnings if w.field == "wsosSections"]
    assert [(w.file, w.location) for w in named] == [
        ("module-a.json", 'wsosSections["4"]'),
        ("module-a.json", 'wsosSections["5"]'),
    ]
    assert named[0].message == (
        'WSOS section 4 is "Layout" here but "Front-End Development" in the competence '
        "(same number, different meaning)"
    )
    assert "same number, different meaning" in named[1].message


def test_section_names_compare_without_case_and_spacing(corpus: str) -> None:
    names = [f"  {name.upper()}  " for name in BD_SECTION_NAMES]

    spec = parse_scheme_files(fixture_set("json", corpus)[1:], sections=competence(WEIGHTS, names))

    assert [w for w in spec.warnings if w.field == "wsosSections"] == []


def test_module_a_numbering_matches_a_competence_numbered_like_module_a(corpus: str) -> None:
    module_a = parse_scheme_files([fixture("module-a.json", corpus)]).criteria[0].section_names
    sections = [CompetenceSection(n, name, Decimal(0)) for n, name in module_a.items()]

    spec = parse_scheme_files([fixture("module-a.json", corpus)], sections=sections)

    assert [w for w in spec.warnings if w.field == "wsosSections"] == []


def test_no_warnings_without_competence_sections(corpus: str) -> None:
    assert parse_scheme_files(fixture_set("json", corpus)).warnings == []
    assert parse_scheme_files(fixture_set("xlsx", corpus)).warnings == []


# --------------------------------------------------------------------------- export


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(lambda corpus: fixture_set("xlsx", corpus), id="xlsx"),
        pytest.param(lambda corpus: fixture_set("json", corpus), id="json"),
        pytest.param(mixed_set, id="mixed"),
    ],
)
def test_export_then_import_gives_an_equal_scheme(
    files: Callable[[str], list[tuple[str, bytes]]], corpus: str
) -> None:
    original = parse_scheme_files(files(corpus))

    again = parse_scheme_files([("scheme.xlsx", export_scheme_xlsx(original))])

    assert again == original
    assert [s.id for c in again.criteria for s in c.sub_criteria] == [
        s.id for c in original.criteria for s in c.sub_criteria
    ]
    for a, b in zip(again.aspects(), original.aspects(), strict=True):
        assert (a.kind, a.levels, a.wsos_section, a.max_mark) == (
            b.kind,
            b.levels,
            b.wsos_section,
            b.max_mark,
        )
        assert str(a.max_mark) == str(b.max_mark)
    assert {c.source_file for c in again.criteria} == {"scheme.xlsx"}


@pytest.mark.parametrize("module", MODULES)
def test_export_reproduces_the_cis_file_cell_for_cell(module: str, corpus: str) -> None:
    name, content = fixture(f"module-{module}.xlsx", corpus)
    exported = export_scheme_xlsx(parse_scheme_files([(name, content)]))

    def values(workbook_bytes: bytes) -> list[tuple[Any, ...]]:
        sheet = openpyxl.load_workbook(io.BytesIO(workbook_bytes)).worksheets[0]
        return list(sheet.iter_rows(max_col=len(XLSX_HEADER), values_only=True))

    assert values(exported) == values(content)


def measurement(description: str, mark: str, section: int = 1, extra: str = "") -> AspectSpec:
    return AspectSpec("M", description, extra, "", section, Decimal(mark), [])


def judgement(description: str, mark: str, section: int = 1) -> AspectSpec:
    levels = [f"{description}: level {score}" for score in range(4)]
    return AspectSpec("J", description, "", "", section, Decimal(mark), levels)


def test_export_keeps_names_days_and_text_that_looks_like_a_formula() -> None:
    first = SubCriterionSpec(
        "A1",
        "=Setup",
        None,
        [
            AspectSpec("M", "=1+1", "+extra", "-requirement", 2, Decimal("0.25"), []),
            judgement("Looks right", "2", section=3),
        ],
    )
    second = SubCriterionSpec("A2", "Second day", 2, [measurement("x", "1.5")])
    other = SubCriterionSpec("B1", "B", 3, [measurement("y", "1")])
    spec = SchemeSpec(
        [CriterionSpec("A", "Speed test", [first, second]), CriterionSpec("B", "", [other])]
    )

    again = parse_scheme_files([("scheme.xlsx", export_scheme_xlsx(spec))])

    assert again == spec
    assert again.criteria[0].name == "Speed test"
    assert again.criteria[0].sub_criteria[0].aspects[0].description == "=1+1"


_text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co")),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=40, deadline=None, database=None)
@given(
    marks=st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2),
        min_size=1,
        max_size=6,
    ),
    description=_text,
)
def test_any_two_decimal_mark_survives_export_exactly(
    marks: list[Decimal], description: str
) -> None:
    aspects = [measurement(description, str(mark)) for mark in marks]
    spec = SchemeSpec([CriterionSpec("A", "", [SubCriterionSpec("A1", description, 1, aspects)])])

    again = parse_scheme_files([("scheme.xlsx", export_scheme_xlsx(spec))])

    assert again == spec
    assert again.max_total == sum(marks)


# --------------------------------------------------------------------------- problems as text


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (
            Problem("m.xlsx", "row 14", "Max Mark", "must be a positive decimal, got 'abc'"),
            "m.xlsx:row 14: Max Mark: must be a positive decimal, got 'abc'",
        ),
        (
            Problem("m.json", "subCriterions[3].aspects[1]", "maxMark", "is missing"),
            "m.json:subCriterions[3].aspects[1]: maxMark: is missing",
        ),
        (Problem("m.json", "", "", "is not valid JSON"), "m.json: is not valid JSON"),
        (Problem("m.json", "", "totalMark", "says 9"), "m.json: totalMark: says 9"),
    ],
)
def test_problem_reads_as_file_location_field_message(problem: Problem, text: str) -> None:
    assert str(problem) == text


def test_scheme_import_error_lists_one_problem_per_line() -> None:
    problems = [
        Problem("a.xlsx", "row 2", "Max Mark", "is missing"),
        Problem("b.json", "", "", "x"),
    ]

    error = SchemeImportError(problems)

    assert error.problems == problems
    assert str(error) == "a.xlsx:row 2: Max Mark: is missing\nb.json: x"
