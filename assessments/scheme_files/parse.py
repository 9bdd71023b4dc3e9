"""Read all the files of one marking scheme (XLSX and/or JSON) into one ``SchemeSpec``."""

from __future__ import annotations

from decimal import Decimal

from app.messages import N_
from assessments.scheme_files.cells import FileResult, Report
from assessments.scheme_files.json_format import read_json
from assessments.scheme_files.spec import (
    WEIGHT_TOLERANCE,
    CompetenceSection,
    CriterionSpec,
    Problem,
    SchemeImportError,
    SchemeSpec,
)
from assessments.scheme_files.xlsx import F_ID, F_SECTION, read_xlsx
from assessments.scoring import round_half_up

_MAX_LETTERS = 26


def _position_letter(index: int) -> str:
    return chr(ord("A") + index)


def _letter_key(letter: str) -> tuple[int, str]:
    return len(letter), letter


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _basename(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _file_kind(name: str, content: bytes) -> str | None:
    lowered = name.lower()
    if lowered.endswith(".xlsx"):
        return "xlsx"
    if lowered.endswith(".json"):
        return "json"
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return "json"
    return None


def parse_scheme_files(
    files: list[tuple[str, bytes]], sections: list[CompetenceSection] | None = None
) -> SchemeSpec:
    """Read marking-scheme files (CIS XLSX and/or community JSON) into one scheme.

    A file's type comes from its extension (.xlsx, .json) or, failing that, its content.
    An XLSX sub-criterion ID's letter names its criterion; a JSON file takes the letter of
    its position among all files (first A, second B …) and IDs <letter><n>, n from 1.
    Every problem in every file is collected; if there is any, SchemeImportError lists
    them all. With `sections` given, aspects must use the competence's section numbers,
    and the returned warnings flag sections whose share of the marks is more than 5 points
    off the section weight and JSON section names that differ from the competence's.
    """
    problems: list[Problem] = []
    if not files:
        raise SchemeImportError([Problem("", "", "", N_("no marking-scheme files were given"))])
    allowed = {s.number: s for s in sections} if sections is not None else None

    results: list[FileResult] = []
    for position, (raw_name, raw_content) in enumerate(files):
        name = _basename(raw_name)
        content = raw_content.encode() if isinstance(raw_content, str) else raw_content
        report = Report(name, problems)
        kind = _file_kind(name, content)
        if kind == "xlsx":
            results.append(read_xlsx(report, content, allowed))
        elif kind == "json":
            if position >= _MAX_LETTERS:
                report.add(
                    "",
                    "",
                    N_(
                        "a JSON file takes its criterion letter from its position; "
                        "only %(limit)s files (A-Z) can be given"
                    ),
                    limit=_MAX_LETTERS,
                )
                continue
            results.append(read_json(report, content, _position_letter(position), allowed))
        else:
            report.add("", "", N_("is neither an XLSX workbook nor a JSON marking scheme"))

    criteria = _merge(results, problems)
    if problems:
        raise SchemeImportError(problems)
    spec = SchemeSpec(sorted(criteria, key=lambda c: _letter_key(c.letter)), [])
    if sections is not None:
        spec.warnings = _weight_warnings(spec, sections) + _name_warnings(spec, sections)
    return spec


def _merge(results: list[FileResult], problems: list[Problem]) -> list[CriterionSpec]:
    """Collect the criteria of all files; a letter may come from one file only."""
    owner: dict[str, FileResult] = {}
    for result in results:
        for letter in result.criteria:
            first = owner.get(letter)
            if first is None:
                owner[letter] = result
                continue
            if result.kind == "json":
                template = N_(
                    "takes criterion letter %(letter)s from its position, but %(other)s also "
                    "holds criterion %(letter)s; each criterion must come from exactly one file"
                )
            else:
                template = N_(
                    "holds criterion %(letter)s, but %(other)s also holds criterion %(letter)s; "
                    "each criterion must come from exactly one file"
                )
            field_name = F_ID if result.kind == "xlsx" else ""
            location = result.first_location[letter]
            row = int(location[4:]) if location.startswith("row ") else None
            problems.append(
                Problem(
                    result.name,
                    location,
                    field_name,
                    template,
                    {"letter": letter, "other": first.name},
                    row,
                )
            )
    return [owner[letter].criteria[letter] for letter in owner]


def _weight_warnings(spec: SchemeSpec, sections: list[CompetenceSection]) -> list[Problem]:
    total = spec.max_total
    if total <= 0:
        return []
    marks = spec.marks_by_section()
    found = []
    for section in sorted(sections, key=lambda s: s.number):
        share = marks.get(section.number, Decimal(0)) * 100 / total
        if abs(share - section.weight) > WEIGHT_TOLERANCE:
            found.append(
                Problem(
                    "",
                    "",
                    F_SECTION,
                    N_(
                        "WSOS section %(number)s: %(share)s %% of the marks, competence weight "
                        "%(weight)s %% (differs by more than %(tolerance)s points)"
                    ),
                    {
                        "number": section.number,
                        "share": round_half_up(share, 2),
                        "weight": round_half_up(section.weight, 2),
                        "tolerance": WEIGHT_TOLERANCE,
                    },
                )
            )
    return found


def _name_warnings(spec: SchemeSpec, sections: list[CompetenceSection]) -> list[Problem]:
    names = {s.number: s.name for s in sections}
    found = []
    for criterion in spec.criteria:
        for number, name in sorted(criterion.section_names.items()):
            theirs = names.get(number)
            if theirs is not None and not _same_name(name, theirs):
                found.append(
                    Problem(
                        criterion.source_file,
                        f'wsosSections["{number}"]',
                        "wsosSections",
                        N_(
                            'WSOS section %(number)s is "%(name)s" here but "%(theirs)s" in the '
                            "competence (same number, different meaning)"
                        ),
                        {"number": number, "name": name, "theirs": theirs},
                    )
                )
    return found
