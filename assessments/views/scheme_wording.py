"""Marking-scheme import problems in the page's language: place, field and message.

The codec (``assessments.scheme_files``) describes a problem in English with parameters; the
command line prints that. Pages show the same problem translated: the spreadsheet row, the
template column by its translated name and letter, a JSON element path and key as they are
written in the file (they are the file's own words), and the message.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.i18n import format_number
from assessments.scheme_files import xlsx
from assessments.scheme_files.spec import Problem

# The CIS template's columns, translated, with the column letter that finds them in the file.
_XLSX_COLUMNS = {
    xlsx.F_ID: (_l("Sub-criterion ID"), "A"),
    xlsx.F_NAME: (_l("Sub-criterion name"), "B"),
    xlsx.F_DAY: (_l("Day of marking"), "C"),
    xlsx.F_TYPE: (_l("Aspect type (M or J)"), "D"),
    xlsx.F_DESCRIPTION: (_l("Aspect description"), "E"),
    xlsx.F_SCORE: (_l("Judgement score"), "F"),
    xlsx.F_LEVEL: (_l("Judgement score description"), "G"),
    xlsx.F_SECTION: (_l("WSOS section"), "I"),
    xlsx.F_MAX: (_l("Max mark"), "K"),
}
# Fields that are not a column of the file: the upload form's own fields.
_OTHER_FIELDS = {
    "Criterion": _l("Criterion name"),
    "competence": _l("Competence"),
    "name": _l("Scheme name"),
}


def _param(value: Any) -> Any:
    return format_number(value) if isinstance(value, Decimal) else value


def problem_text(problem: Problem) -> str:
    """The problem's message in the page's language (decimals with the local comma)."""
    return gettext(problem.template, **{k: _param(v) for k, v in problem.params.items()})


def problem_place(problem: Problem) -> str:
    """Where in the file: "row 5" translated, or the JSON element path as written."""
    if problem.row is not None:
        return gettext("row %(row)s", row=problem.row)
    return problem.location


def problem_field(problem: Problem) -> str:
    """The field: a template column by its translated name and letter, or the JSON key."""
    column = _XLSX_COLUMNS.get(problem.field)
    if column is not None:
        return gettext("%(name)s (column %(letter)s)", name=column[0], letter=column[1])
    other = _OTHER_FIELDS.get(problem.field)
    return str(other) if other is not None else problem.field


def stored_warnings(records: list[Any] | None) -> list[Problem]:
    """The warnings stored with a scheme, as problems to word (older rows hold text)."""
    return [Problem.from_record(record) for record in records or []]


def template_helpers() -> dict[str, Any]:
    """The wording functions, for a blueprint's context processor."""
    return {
        "problem_text": problem_text,
        "problem_place": problem_place,
        "problem_field": problem_field,
        "stored_warnings": stored_warnings,
    }
