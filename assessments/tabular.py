"""Read a CSV or XLSX upload as rows of text keyed by lower-cased header, for every importer.

The first row is the header; data rows keep their spreadsheet row number (header = row 1),
so an error can say ``FILE:ROW: field: message``. CSV must be UTF-8 (with or without a
BOM); the delimiter (``,``, ``;`` or tab) is sniffed from the header line. XLSX is read
from its first worksheet, with formulas replaced by their cached values.

Problems carry an English message with ``%(name)s`` placeholders, marked with ``N_`` so
that Babel extracts them: the web translates them at the edge, the CLI prints them as they
are.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, NamedTuple

import openpyxl

from app.messages import N_, TranslatableMessage
from assessments.xlsx_guard import UnsafeWorkbook, check_xlsx_archive

DELIMITERS = (",", ";", "\t")
# characters no name, code or address holds: control characters (C0 but tab, LF and CR,
# which text() turns into spaces; DEL; C1) and the bidirectional embeddings, overrides and
# isolates that make a text display in another order than its letters
HIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_END = re.compile(r"\r\n?|\n")
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format


@dataclass(frozen=True)
class Problem(TranslatableMessage):
    """One thing wrong with the input: where (row, field) and what (message with params).

    ``row`` is the spreadsheet row number for files and None for form input or for
    the file as a whole; in forms a section row's index may stand in for it.
    """

    row: int | None
    field: str | None
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def format(self, filename: str | None = None) -> str:
        """Return ``FILE:ROW: field: message``, leaving out the parts that are unknown."""
        head = ":".join(str(p) for p in (filename, self.row) if p not in (None, ""))
        return ": ".join(p for p in (head, self.field, self.text) if p)


class Rejected(ValueError):
    """Input refused as a whole: nothing was changed; ``problems`` says every reason."""

    def __init__(self, problems: Iterable[Problem], filename: str | None = None) -> None:
        # stable: problems of one row keep the order in which they were found
        self.problems = sorted(problems, key=lambda p: p.row or 0)
        self.filename = filename
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [problem.format(self.filename) for problem in self.problems]


class TableError(Rejected):
    """The file cannot be read as a table, or its header lacks a required column."""


class Row(NamedTuple):
    """A data row: its spreadsheet row number and its cells as text by lower-cased header."""

    number: int
    values: dict[str, str]

    def get(self, name: str) -> str:
        return self.values.get(name, "")


def read_table(
    filename: str,
    data: bytes,
    required: Iterable[str],
    optional: Iterable[str] = (),
) -> list[Row]:
    """Read a CSV or XLSX file into rows holding the ``required`` and ``optional`` columns.

    Rules: headers are matched case-insensitively and trimmed; other columns are
    ignored; a missing required column, a repeated known column, an empty file or an
    unreadable one raises ``TableError`` naming the file. Cells become trimmed text
    (Excel numbers without a spurious ".0", dates as YYYY-MM-DD); rows with every
    known cell empty are skipped but still counted. Optional columns absent from the
    file are absent from ``Row.values``.
    """
    required = {name.lower() for name in required}
    known = required | {name.lower() for name in optional}
    kind = _kind(filename, data)
    if kind == "xls":
        _fail(filename, N_("is an old Excel 97-2003 file; save it as XLSX or CSV UTF-8"))
    records = _xlsx_records(filename, data) if kind == "xlsx" else _csv_records(filename, data)

    header: list[str] | None = None
    rows: list[Row] = []
    for number, cells in records:
        if header is None:
            header = [_cell_text(c).lstrip("\ufeff").strip().lower() for c in cells]
            _check_header(filename, header, required, known)
            continue
        values = {}
        for position, name in enumerate(header):
            if name in known:
                values[name] = _cell_text(cells[position]) if position < len(cells) else ""
        if any(values.values()):
            rows.append(Row(number, values))
    if header is None:
        _fail(filename, N_("is empty; the first row must name the columns"))
    return rows


def _fail(filename: str, message: str, row: int | None = None, column: str | None = None, **params):
    raise TableError([Problem(row, column, message, params)], filename)


def _kind(filename: str, data: bytes) -> str:
    if data.startswith(_XLSX_MAGIC):
        return "xlsx"
    if data.startswith(_OLE_MAGIC):
        return "xls"
    lowered = filename.lower()
    if lowered.endswith(".xlsx"):
        # named .xlsx but not a zip: let openpyxl say it cannot read it
        return "xlsx"
    return "csv"


def _check_header(filename: str, header: list[str], required: set[str], known: set[str]) -> None:
    problems = []
    seen: set[str] = set()
    for name in header:
        if name in known and name in seen:
            problems.append(Problem(1, name, N_("the column appears more than once")))
        seen.add(name)
    for name in sorted(required - seen):
        problems.append(Problem(1, name, N_("required column is missing")))
    if problems:
        raise TableError(problems, filename)


def _csv_records(filename: str, data: bytes) -> Iterable[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _fail(
            filename,
            N_("is not UTF-8 text; in Excel save it as “CSV UTF-8”, or upload the XLSX file"),
        )
    if "\x00" in text:
        _fail(filename, N_("is not a CSV text file; upload CSV UTF-8 or XLSX"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        # the spreadsheet row number is the record number: a quoted cell may span lines
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        _fail(filename, N_("is not valid CSV (%(reason)s)"), row=reader.line_num, reason=str(exc))


def sniff_delimiter(text: str) -> str:
    """Return the delimiter of ``DELIMITERS`` that splits the header line into the most cells.

    The header line ends at the first CR, LF or CRLF, as the CSV reader sees it.
    """
    first_line = _LINE_END.split(text, maxsplit=1)[0]

    def cells(delimiter: str) -> int:
        try:
            return len(next(csv.reader([first_line], delimiter=delimiter), []))
        except csv.Error:  # e.g. a stray quote; the reader reports the file's problem later
            return 0

    return max(DELIMITERS, key=cells)


def _xlsx_records(filename: str, data: bytes) -> Iterable[tuple[int, tuple[Any, ...]]]:
    try:
        check_xlsx_archive(data)
    except UnsafeWorkbook as exc:
        _fail(filename, exc.message, **exc.params)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (data validation, conditional styles)
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # any failure to open (bad zip, not a workbook) means unreadable
        _fail(filename, N_("cannot be read as an XLSX workbook; save it again from Excel"))
    try:
        if not workbook.worksheets:
            _fail(filename, N_("holds no worksheet"))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # do not trust the size the file declares
        records = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # read-only mode parses the sheet's XML only now: damaged XML fails here
            try:
                for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                    records.append((number, cells))
            except Exception:  # broken XML, a cell value or reference openpyxl cannot read
                _fail(
                    filename,
                    N_("cannot be read as an XLSX workbook; save it again from Excel"),
                    row=len(records) + 1,
                )
    finally:
        workbook.close()
    return records


def _cell_text(value: Any) -> str:
    """Return a cell as trimmed text, the way a person reading the sheet would type it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # Excel keeps 15 significant digits: 0.1 + 0.2 shows as 0.3
        return format(Decimal(format(value, ".15g")).normalize(), "f")
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("\u00a0", " ").strip()


class RowChecker:
    """Collect the problems of one input row while reading its fields as clean values."""

    def __init__(self, values: Mapping[str, str], row: int | None = None) -> None:
        self.values = values
        self.row = row
        self.problems: list[Problem] = []

    def add(self, field_name: str | None, message: str, **params: Any) -> None:
        self.problems.append(Problem(self.row, field_name, message, params))

    def text(self, name: str, *, required: bool = False, max_length: int = 300) -> str:
        """Return the field with runs of whitespace collapsed; check presence and length.

        A control character or a text-direction override refuses the field: it would make
        the stored text differ from what people see.
        """
        raw = self.values.get(name) or ""
        hidden = HIDDEN_CHARACTERS.search(raw)
        if hidden:
            self.add(
                name,
                N_(
                    "contains an invisible control or text-direction character (%(code)s);"
                    " type the value again"
                ),
                code=f"U+{ord(hidden.group()):04X}",
            )
            return ""
        value = " ".join(raw.split())
        if required and not value:
            self.add(name, N_("is required"))
        elif len(value) > max_length:
            self.add(name, N_("must be at most %(max)s characters long"), max=max_length)
        return value
