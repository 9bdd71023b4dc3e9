"""The community JSON marking scheme: one file per criterion (module), its letter taken
from the file's position; numbers are read as exact decimals."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from app.messages import N_
from assessments.scheme_files.cells import (
    FileResult,
    Report,
    clean_text,
    exact_decimal,
    is_blank,
    read_max_mark,
    read_section,
    shown,
    whole_number,
)
from assessments.scheme_files.spec import (
    AspectSpec,
    CompetenceSection,
    CriterionSpec,
    SubCriterionSpec,
)


def read_json(
    report: Report,
    content: bytes,
    letter: str,
    sections: dict[int, CompetenceSection] | None,
) -> FileResult:
    result = FileResult(report.file, "json")
    try:
        data = json.loads(content.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError:
        report.add("", "", N_("is not valid JSON (not UTF-8 text); save it as UTF-8"))
        return result
    except json.JSONDecodeError as exc:
        report.add(
            "",
            "",
            N_(
                "is not valid JSON: the text breaks off or is wrong at line %(line)s, "
                "column %(column)s"
            ),
            line=exc.lineno,
            column=exc.colno,
        )
        return result
    except (ValueError, RecursionError):
        report.add("", "", N_("is not valid JSON"))
        return result
    if not isinstance(data, dict):
        report.add(
            "", "", N_("must hold a JSON object with totalMark, wsosSections, subCriterions")
        )
        return result

    section_names = _json_section_names(report, data.get("wsosSections"))
    raw_subs = data.get("subCriterions")
    if not isinstance(raw_subs, list) or not raw_subs:
        report.add("", "subCriterions", N_("is missing or empty; it must list the sub-criteria"))
        return result

    criterion = CriterionSpec(letter, "", [], report.file, section_names)
    marks_ok = True
    total = Decimal(0)
    for index, raw_sub in enumerate(raw_subs):
        sub, sub_marks_ok, sub_total = _json_sub(report, raw_sub, index, letter, sections)
        marks_ok = marks_ok and sub_marks_ok
        total += sub_total
        if sub is not None:
            criterion.sub_criteria.append(sub)
    result.criteria[letter] = criterion
    result.first_location[letter] = ""

    if "totalMark" in data:
        stated = exact_decimal(data["totalMark"])
        if stated is None:
            report.add(
                "",
                "totalMark",
                N_("must be a number, got %(value)s"),
                value=shown(data["totalMark"]),
            )
        elif marks_ok and stated != total:
            report.add(
                "",
                "totalMark",
                N_("says %(stated)s but the aspects' max marks add up to %(total)s"),
                stated=stated,
                total=total,
            )
    return result


def _json_section_names(report: Report, raw: Any) -> dict[int, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        report.add("", "wsosSections", N_("must be an object mapping section numbers to names"))
        return {}
    names: dict[int, str] = {}
    for key, name in raw.items():
        number = whole_number(key)
        if number is None or number < 1 or not isinstance(name, str) or not name.strip():
            report.add(
                f'wsosSections["{key}"]',
                "wsosSections",
                N_("must map a section number to its name, got %(key)s: %(name)s"),
                key=shown(key),
                name=shown(name),
            )
            continue
        names[number] = clean_text(name)
    return names


def _json_sub(
    report: Report,
    raw: Any,
    index: int,
    letter: str,
    sections: dict[int, CompetenceSection] | None,
) -> tuple[SubCriterionSpec | None, bool, Decimal]:
    location = f"subCriterions[{index}]"
    if not isinstance(raw, dict):
        report.add(location, "", N_("must be an object with name and aspects"))
        return None, False, Decimal(0)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        report.add(location, "name", N_("is missing"))
    # Names such as "A1: CSS Heart Shape" are kept whole; the ID comes from the position.
    sub = SubCriterionSpec(f"{letter}{index + 1}", clean_text(name), None, [])
    raw_aspects = raw.get("aspects")
    if not isinstance(raw_aspects, list) or not raw_aspects:
        report.add(location, "aspects", N_("sub-criterion %(id)s has no aspects"), id=sub.id)
        return sub, True, Decimal(0)
    marks_ok = True
    total = Decimal(0)
    for position, raw_aspect in enumerate(raw_aspects):
        aspect, mark = _json_aspect(report, raw_aspect, f"{location}.aspects[{position}]", sections)
        if mark is None:
            marks_ok = False
        else:
            total += mark
        if aspect is not None:
            sub.aspects.append(aspect)
    return sub, marks_ok, total


_JSON_KINDS = {"measurement": "M", "m": "M", "judgement": "J", "judgment": "J", "j": "J"}


def _json_aspect(
    report: Report,
    raw: Any,
    location: str,
    sections: dict[int, CompetenceSection] | None,
) -> tuple[AspectSpec | None, Decimal | None]:
    if not isinstance(raw, dict):
        report.add(location, "", N_("must be an object describing one aspect"))
        return None, None
    ok = True
    raw_kind = raw.get("type")
    kind = _JSON_KINDS.get(clean_text(raw_kind).lower()) if isinstance(raw_kind, str) else None
    if kind is None:
        ok = False
        report.add(
            location,
            "type",
            N_("must be measurement or judgement, got %(value)s"),
            value=shown(raw_kind),
        )
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        ok = False
        report.add(location, "description", N_("is missing"))
    section, why = read_section(raw.get("wsosSection"), sections)
    if why:
        ok = False
        report.add(location, "wsosSection", why[0], **why[1])
    mark, why = read_max_mark(raw.get("maxMark"))
    if why:
        ok = False
        report.add(location, "maxMark", why[0], **why[1])

    raw_levels = raw.get("judgementScoreDescription")
    levels: list[str] = []
    if kind == "J":
        if not isinstance(raw_levels, list) or len(raw_levels) != 4:
            ok = False
            found = len(raw_levels) if isinstance(raw_levels, list) else 0
            report.add(
                location,
                "judgementScoreDescription",
                N_(
                    "a judgement aspect needs exactly 4 level descriptions (scores 0-3), "
                    "got %(found)s"
                ),
                found=found,
            )
        else:
            for score, text in enumerate(raw_levels):
                if not isinstance(text, str) or not text.strip():
                    ok = False
                    report.add(
                        location,
                        "judgementScoreDescription",
                        N_("the level description for score %(score)s is missing"),
                        score=score,
                    )
                levels.append(clean_text(text) if isinstance(text, str) else "")
    elif kind == "M" and isinstance(raw_levels, list) and any(not is_blank(t) for t in raw_levels):
        ok = False
        report.add(
            location,
            "judgementScoreDescription",
            N_("a measurement aspect has no level descriptions; should its type be judgement?"),
        )

    calculation = raw.get("calculation")
    if isinstance(calculation, dict):
        calculation = calculation.get("type")
    if not ok or kind is None or section is None or mark is None:
        return None, mark
    return (
        AspectSpec(
            kind=kind,
            description=clean_text(description),
            extra_description=clean_text(raw.get("extraDescription")),
            requirement=clean_text(raw.get("requirement")),
            wsos_section=section,
            max_mark=mark,
            levels=levels,
            calculation=clean_text(calculation) if isinstance(calculation, str) else "",
            source=location,
        ),
        mark,
    )
