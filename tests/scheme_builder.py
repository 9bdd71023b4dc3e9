"""Marking-scheme files written by the tests: the CIS XLSX template and the community JSON.

The suite needs no file from outside the repository. ``sample_files("xlsx")`` and
``sample_files("json")`` give a four-module web-technologies scheme written for these tests
(its own tasks and texts) in the two layouts of ``../shared/BRIEF.md`` §2:

- XLSX, the CIS import template: a header row, then per sub-criterion a row with its ID
  (column A), name (B) and day of marking (C), followed by its aspect rows (type M/J in D,
  description in E, extra description in G, requirement in H, WSOS section in I, max mark
  in K); each J aspect row is followed by four rows with the score 0-3 in F and its level
  description in G.
- JSON: ``totalMark``, ``wsosSections`` (number -> name) and ``subCriterions[]`` with
  ``name`` and ``aspects[]`` (``type``, ``description``, ``maxMark``, ``wsosSection``,
  ``judgementScoreDescription``, ``extraDescription``, ``calculation``).

The sample is shaped like the real competition scheme in ``../shared/fixtures/`` (the
"real corpus"), so one set of expected figures fits both: per module the same number of
sub-criteria, M and J aspects and the same maximum (A 9/9/0/9, B 8/22/2/30, C 9/59/1/30,
D 7/53/2/31, 100 marks in all), the same row of each sub-criterion in the XLSX files, and
the same two quirks of real files: every XLSX aspect says WSOS section 1 (the default the
competition's tool filled in) and module A's JSON numbers its sections differently
(4 = Layout, 5 = Front-End Development). Tests that assert the real files' own texts run
only where those files exist: see ``REAL_SCHEMES`` and ``needs_real_schemes``.

``xlsx_bytes`` and ``json_bytes`` also write any other scheme a test describes with
``Module``, ``SubCriterion`` and ``Aspect``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import openpyxl
import pytest

from assessments.scheme_files.xlsx import XLSX_HEADER

REAL_SCHEMES = (
    Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "marking-schemes"
)
REAL_SCHEMES_MISSING = (
    f"real-corpus test: the competition's marking-scheme files are not at {REAL_SCHEMES} "
    "(they sit beside the repository in CI and on the project machine)"
)
needs_real_schemes = pytest.mark.skipif(not REAL_SCHEMES.is_dir(), reason=REAL_SCHEMES_MISSING)
# parametrize a test over both corpora: the built files always, the real ones where present
CORPORA = ("built", pytest.param("real", marks=needs_real_schemes))
MODULES = "abcd"
# texts of each corpus that tests look for on pages and in parsed schemes
CORPUS_TEXTS = {
    "built": {
        "C4": "Room list",
        "C4.2": "Rooms: requirement 2",
        "B1.1 level 0": "The markup and scripts are one tangle",
        "B1.1 level 3": "A clear, modular structure",
        "A1": "A1: Centred card with CSS grid (Easy)",
        "A4": "B1: Debounced search box (Easy)",
        "A9": "C3: Shortest path on a grid (Hard)",
    },
    "real": {
        "C4": "Course Catalog",
        "C4.2": "Course objects in list contain all required fields",
        "B1.1 level 0": "Code is entirely unorganized",
        "B1.1 level 3": "Code is excellently organized",
        "A1": "A1: CSS Heart Shape (Easy)",
        "A4": "B1: Picture in Picture (Easy)",
        "A9": "C3: Two numbers that add up (Hard)",
    },
}
# what each corpus's JSON files give WSOS sections 1-5, in marks out of 100
JSON_MARKS_BY_SECTION = {
    "built": ("6.5", "11", "12.5", "36", "34"),
    "real": ("3.5", "6.75", "9.5", "45.5", "34.75"),
}

SECTION_NAMES = {
    1: "Work organization and self-management",
    2: "Communication and interpersonal skills",
    3: "Design Implementation",
    4: "Front-End Development",
    5: "Back-End Development",
}
# module A numbers its sections its own way (as the real module A does)
MODULE_A_SECTION_NAMES = {
    1: SECTION_NAMES[1],
    2: SECTION_NAMES[2],
    3: SECTION_NAMES[3],
    4: "Layout",
    5: "Front-End Development",
    6: "Back-End Development",
    7: "Content Management Systems",
}


@dataclass(frozen=True)
class Aspect:
    kind: str  # "M" or "J"
    description: str
    max_mark: str  # a decimal as text, e.g. "0.25"
    section: int
    extra: str = ""
    requirement: str = ""
    levels: tuple[str, ...] = ()  # four level descriptions for a J aspect


@dataclass(frozen=True)
class SubCriterion:
    id: str
    name: str
    aspects: list[Aspect]
    day: int | None = 1


@dataclass(frozen=True)
class Module:
    letter: str
    sub_criteria: list[SubCriterion]
    sections: dict[int, str] = field(default_factory=lambda: dict(SECTION_NAMES))

    @property
    def max_total(self) -> Decimal:
        return sum((Decimal(a.max_mark) for s in self.sub_criteria for a in s.aspects), Decimal(0))


# --------------------------------------------------------------------------- writers


def _number(text: str) -> int | float:
    value = Decimal(text)
    # marks have at most two decimals: a float's shortest form gives them back exactly
    return int(value) if value == value.to_integral_value() else float(value)


def xlsx_bytes(module: Module, *, section: int | None = None) -> bytes:
    """Write ``module`` as a CIS-template workbook; ``section`` puts every aspect in one."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Marking Scheme"
    rows: list[dict[int, object]] = []
    for sub in module.sub_criteria:
        rows.append({1: sub.id, 2: sub.name, 3: sub.day})
        for aspect in sub.aspects:
            number = aspect.section if section is None else section
            rows.append(
                {
                    4: aspect.kind,
                    5: aspect.description,
                    7: aspect.extra,
                    8: aspect.requirement,
                    9: number,
                    10: 1,
                    11: _number(aspect.max_mark),
                }
            )
            for score, level in enumerate(aspect.levels):
                rows.append({6: score, 7: level, 9: number})
    sheet.append(XLSX_HEADER)
    for number, row in enumerate(rows, start=2):
        for column, value in row.items():
            if value is not None and value != "":
                sheet.cell(row=number, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def json_document(module: Module) -> dict:
    """Return ``module`` in the community JSON form (a dict, ready for ``json.dumps``)."""
    subs = []
    for sub in module.sub_criteria:
        aspects = []
        for aspect in sub.aspects:
            item: dict[str, object] = {
                "type": "judgement" if aspect.kind == "J" else "measurement",
                "description": aspect.description,
                "maxMark": _number(aspect.max_mark),
                "wsosSection": aspect.section,
            }
            if aspect.levels:
                item["judgementScoreDescription"] = list(aspect.levels)
            if aspect.extra:
                item["extraDescription"] = aspect.extra
            if aspect.kind == "M":
                item["calculation"] = {"type": "pass-or-fail"}
            aspects.append(item)
        subs.append({"name": sub.name, "aspects": aspects})
    return {
        "totalMark": _number(str(module.max_total)),
        "wsosSections": {str(n): name for n, name in module.sections.items()},
        "subCriterions": subs,
    }


def json_bytes(module: Module) -> bytes:
    return json.dumps(json_document(module), ensure_ascii=False, indent=2).encode("utf-8")


# --------------------------------------------------------------------------- the sample scheme


def _m(description: str, mark: str, section: int, extra: str = "") -> Aspect:
    return Aspect("M", description, mark, section, extra=extra)


def _j(description: str, mark: str, section: int, levels: tuple[str, str, str, str]) -> Aspect:
    return Aspect("J", description, mark, section, levels=levels)


def _sub(letter: str, number: int, name: str, aspects: list[Aspect]) -> SubCriterion:
    return SubCriterion(f"{letter}{number}", name, aspects)


def _checks(section: int, marks: list[str], texts: list[str]) -> list[Aspect]:
    return [_m(t, m, section, f"Check: {t.lower()}.") for t, m in zip(texts, marks, strict=True)]


def _module_a() -> Module:
    tasks = [
        "A1: Centred card with CSS grid (Easy)",
        "A2: Striped table without classes (Medium)",
        "A3: Pure-CSS accordion (Hard)",
        "B1: Debounced search box (Easy)",  # names keep other modules' IDs, as real ones do
        "B2: Countdown to a date (Medium)",
        "B3: Drag-sortable list (Hard)",
        "C1: Sum of a column (Easy)",
        "C2: Group words by first letter (Medium)",
        "C3: Shortest path on a grid (Hard)",
    ]
    subs = [
        _sub("A", n, name, [_m("The task works as the brief describes", "1", 5)])
        for n, name in enumerate(tasks, start=1)
    ]
    return Module("A", subs, dict(MODULE_A_SECTION_NAMES))


def _module_b() -> Module:
    quality = (
        "The markup and scripts are one tangle with no structure.",
        "Files are split, but responsibilities still overlap.",
        "Components are separated and named consistently.",
        "A clear, modular structure another developer could extend at once.",
    )
    look = (
        "The page ignores the supplied style guide.",
        "The style guide is applied in places.",
        "The style guide is applied throughout and the page reads well.",
        "The page is polished and pleasant at every screen size.",
    )
    b2 = [
        "Catalogue list shows cover, title and author",
        "Empty search result shows a friendly message",
        "Book details open in a dialog",
        "Dialog closes with Escape and the close button",
        "Loading indicator while the list is fetched",
        "Layout adapts to a 360 px wide screen",
    ]
    subs = [
        _sub("B", 1, "Project structure", [_j("Code organisation", "1.5", 1, quality)]),
        _sub(
            "B",
            2,
            "Library catalogue page",
            [
                *_checks(3, ["1", "1.5", "1", "1", "0.5", "1"], b2),
                _j("Overall look and feel", "2", 3, look),
            ],
        ),
        _sub("B", 3, "Transitions", _checks(3, ["1.5"], ["Cards fade in as they load"])),
        _sub(
            "B",
            4,
            "Search",
            _checks(4, ["1", "2"], ["Search filters by title", "Search filters by author"]),
        ),
        _sub(
            "B",
            5,
            "Reservations",
            _checks(
                4,
                ["1.5", "1", "1", "1", "1.5"],
                [
                    "Reserve button adds the book to the basket",
                    "Basket shows the number of books",
                    "A book cannot be reserved twice",
                    "Basket can be emptied",
                    "Reservation is confirmed with a message",
                ],
            ),
        ),
        _sub(
            "B",
            6,
            "Filters",
            _checks(
                4,
                ["1", "1.5", "1"],
                ["Filter by genre", "Filter by year range", "Filters can be reset"],
            ),
        ),
        _sub(
            "B",
            7,
            "Sorting",
            _checks(
                4,
                ["1", "1.5", "1"],
                ["Sort by title", "Sort by newest first", "Sort order survives a reload"],
            ),
        ),
        _sub(
            "B",
            8,
            "Saved state",
            _checks(
                2,
                ["1.5", "1.5"],
                ["Basket is kept in local storage", "Last search is restored on return"],
            ),
        ),
    ]
    return Module("B", subs)


def _module_c() -> Module:
    security = (
        "Secrets sit in the code and errors reveal internals.",
        "Secrets are configurable but errors still leak details.",
        "Secrets are configured and errors are uniform.",
        "Defence in depth: validation, uniform errors and no secret in the repository.",
    )

    def endpoints(prefix: str, marks: list[str], section: int) -> list[Aspect]:
        texts = [f"{prefix}: requirement {n}" for n in range(1, len(marks) + 1)]
        return _checks(section, marks, texts)

    subs = [
        _sub(
            "C",
            1,
            "Service setup",
            _checks(
                1,
                ["0.5", "0.25", "0.25"],
                ["Health endpoint answers", "API serves JSON", "Database is created on start"],
            ),
        ),
        _sub("C", 2, "Error responses", endpoints("Errors", ["0.5"] * 8, 2)),
        _sub(
            "C",
            3,
            "Sign-in tokens",
            endpoints("Tokens", ["0.5", "1", "0.5", "0.5", "0.5", "0.5"], 5),
        ),
        _sub("C", 4, "Room list", endpoints("Rooms", ["0.5"] * 6, 5)),
        _sub("C", 5, "Room details", endpoints("Room details", ["0.5"] * 10, 5)),
        _sub("C", 6, "Availability", endpoints("Availability", ["0.75", "0.75", "0.5", "0.5"], 5)),
        _sub("C", 7, "Bookings", endpoints("Bookings", ["0.5"] * 6, 5)),
        _sub(
            "C",
            8,
            "Administration",
            endpoints("Admin", ["0.25"] * 4 + ["0.5"] * 4 + ["0.75", "0.75"], 5),
        ),
        _sub(
            "C",
            9,
            "Security review",
            [
                *endpoints("Security", ["0.25", "0.25", "0.5"], 5),
                _j("Overall security of the service", "1", 5, security),
                *endpoints("Hardening", ["0.5", "0.5", "0.5"], 5),
            ],
        ),
    ]
    return Module("C", subs)


def _module_d() -> Module:
    usability = (
        "The timetable cannot be used without help.",
        "Main tasks work but need several attempts.",
        "Main tasks are straightforward.",
        "Every task is quick and obvious, with helpful feedback.",
    )
    accuracy = (
        "Clashes go unnoticed.",
        "Some clashes are reported.",
        "All clashes are reported clearly.",
        "Clashes are prevented before they happen and explained.",
    )

    def steps(prefix: str, marks: list[str], section: int) -> list[Aspect]:
        texts = [f"{prefix}: step {n} works" for n in range(1, len(marks) + 1)]
        return _checks(section, marks, texts)

    subs = [
        _sub("D", 1, "Setup", steps("Setup", ["0.5", "0.75", "0.75"], 4)),
        _sub("D", 2, "Sign-in", steps("Sign-in", ["0.5"] * 5, 4)),
        _sub("D", 3, "Exam list", steps("Exam list", ["0.5"] * 6 + ["1"], 4)),
        _sub(
            "D",
            4,
            "Timetable editor",
            [
                *steps("Editor", ["0.25"] * 6 + ["0.5"] * 7, 4),
                _j("Usability of the editor", "1.5", 3, usability),
            ],
        ),
        _sub(
            "D",
            5,
            "Clash detection",
            [
                *steps("Clashes", ["0.5"] * 13, 4),
                _j("Accuracy of clash reports", "1.5", 3, accuracy),
            ],
        ),
        _sub("D", 6, "Printing", steps("Printing", ["0.5"] * 5 + ["0.75", "0.75"], 2)),
        _sub("D", 7, "Export", steps("Export", ["0.5", "0.5", "1", "1", "1"], 1)),
    ]
    return Module("D", subs)


def sample_module(letter: str) -> Module:
    """Return one module (A-D) of the sample scheme."""
    return {"A": _module_a, "B": _module_b, "C": _module_c, "D": _module_d}[letter.upper()]()


@cache
def _sample_file(name: str) -> bytes:
    stem, ext = name.rsplit(".", 1)
    module = sample_module(stem.removeprefix("module-"))
    # the XLSX form says WSOS section 1 everywhere, like the real files
    return xlsx_bytes(module, section=1) if ext == "xlsx" else json_bytes(module)


# --------------------------------------------------------------------------- the corpora


def scheme_file(name: str, corpus: str = "built") -> tuple[str, bytes]:
    """Return ``(name, content)`` of ``module-<x>.<ext>`` from the built or the real corpus."""
    if corpus == "real":
        return name, (REAL_SCHEMES / name).read_bytes()
    return name, _sample_file(name)


def scheme_set(ext: str, corpus: str = "built") -> list[tuple[str, bytes]]:
    """Return the four files of one kind, module A first."""
    return [scheme_file(f"module-{m}.{ext}", corpus) for m in MODULES]


def scheme_json(name: str, corpus: str = "built") -> dict:
    """Return a JSON scheme file of the corpus, parsed (a fresh copy each call)."""
    return json.loads(scheme_file(name, corpus)[1].decode("utf-8"))


def scheme_workbook(name: str, corpus: str = "built") -> openpyxl.Workbook:
    """Return an XLSX scheme file of the corpus opened with openpyxl, ready to edit."""
    return openpyxl.load_workbook(io.BytesIO(scheme_file(name, corpus)[1]))


def scheme_paths(ext: str, folder: Path, corpus: str = "built") -> list[str]:
    """Return paths of the four files of one kind, writing the built ones into ``folder``."""
    if corpus == "real":
        return [str(REAL_SCHEMES / f"module-{m}.{ext}") for m in MODULES]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in scheme_set(ext):
        path = folder / name
        path.write_bytes(content)
        paths.append(str(path))
    return paths
