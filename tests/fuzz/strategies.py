"""Hypothesis strategies for fuzzing the importers and the token decoder.

Shared by the bounded tests in this folder and by the long run in benchmarks/fuzz_long.py.
Each strategy mixes three kinds of input: arbitrary data (text, bytes, JSON, CBOR), valid
data with small mutations (a real token with a character changed, a fixture marking scheme
with a value replaced), and values people really type (decimal commas, Excel dates, a
leading zero lost, Arabic-Indic or superscript digits, very long numbers).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import string
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

import cbor2
import openpyxl
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from tests.scheme_builder import REAL_SCHEMES, scheme_file

BASE32 = string.ascii_uppercase + "234567"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

# What people type into number-like cells, besides arbitrary text.
TYPED_NUMBERS = (
    "",
    " ",
    "0",
    "1",
    "3",
    "4",
    "-1",
    "1,5",
    "1.5",
    "0,25",
    "1.255",
    "1e3",
    "1E+400",
    "Infinity",
    "NaN",
    "-0",
    "+1",
    ".5",
    "5.",
    "1 000",
    "²",
    "١",
    "١٢",
    "٣",
    "Ⅳ",
    "0x10",
    "1_0",
    "9" * 30,
    "9" * 5000,
    "1." + "0" * 60 + "1",
    "=SUM(A1:A2)",
    "Day 1",
    "C1",
    "Day " + "9" * 5000,
)


# --- generic data -----------------------------------------------------------------------


def texts(max_size: int = 60) -> st.SearchStrategy[str]:
    """Arbitrary text, biased towards what spreadsheets hold."""
    return st.one_of(
        st.text(max_size=max_size),
        st.sampled_from(TYPED_NUMBERS),
        st.text(alphabet="0123456789,.-+ eE", max_size=max_size),
        st.text(alphabet="АӘБҒҚҢӨҰҮҺІабвгқңөұүһі -'ʼ", max_size=max_size),
    )


@dataclass(frozen=True)
class RawNumber:
    """A JSON number written exactly as ``text`` (e.g. ``1E+400``, which no float gives)."""

    text: str


json_numbers = st.builds(
    RawNumber,
    st.from_regex(r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,5})?", fullmatch=True),
)
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    json_numbers,
    texts(),
)


def json_values(keys: st.SearchStrategy[str] | None = None, max_leaves: int = 25):
    """Arbitrary JSON values (recursive), object keys drawn from ``keys`` or any text."""
    keys = keys if keys is not None else st.text(max_size=20)
    return st.recursive(
        json_leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=6), st.dictionaries(keys, children, max_size=6)
        ),
        max_leaves=max_leaves,
    )


def dump_json(value: Any) -> str:
    """Serialise like ``json.dumps``, writing ``RawNumber`` as is (NaN/Infinity allowed)."""
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, dict):
        items = (json.dumps(str(k)) + ":" + dump_json(v) for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump_json(v) for v in value) + "]"
    return json.dumps(value)


# --- mutations --------------------------------------------------------------------------


@st.composite
def mutated_text(draw, original: str, alphabet: str = BASE32 + "-#/:=?%a1 ") -> str:
    """``original`` with one to four edits: replace, delete, insert, duplicate, cut."""
    text = original
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            text = draw(st.text(alphabet=alphabet, max_size=8))
            continue
        at = draw(st.integers(0, len(text) - 1))
        kind = draw(st.sampled_from(("replace", "delete", "insert", "duplicate", "cut", "swap")))
        if kind == "replace":
            text = text[:at] + draw(st.sampled_from(alphabet)) + text[at + 1 :]
        elif kind == "delete":
            text = text[:at] + text[at + 1 :]
        elif kind == "insert":
            text = text[:at] + draw(st.text(alphabet=alphabet, min_size=1, max_size=4)) + text[at:]
        elif kind == "duplicate":
            end = draw(st.integers(at, len(text)))
            text = text[:end] + text[at:end] + text[end:]
        elif kind == "cut":
            text = text[:at]
        elif at + 1 < len(text):
            text = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    return text


@st.composite
def mutated_bytes(draw, original: bytes) -> bytes:
    """``original`` with a few bytes flipped, deleted or inserted, or cut short."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(("flip", "delete", "insert", "cut")))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "delete":
            del data[at]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at:]
    return bytes(data)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside nested lists and dicts (the root too)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _replace(value: Any, path: tuple, new: Any, delete: bool = False) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = dict(value) if isinstance(value, dict) else list(value)
    if not rest and delete:
        del copy[head]
    else:
        copy[head] = _replace(copy[head], rest, new, delete)
    return copy


@st.composite
def mutated_json(draw, original: Any, keys: st.SearchStrategy[str]) -> Any:
    """``original`` with one to five values replaced by others, deleted or duplicated."""
    value = original
    for _ in range(draw(st.integers(1, 5))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(("replace", "replace", "delete", "retype", "duplicate")))
        if kind == "delete" and path:
            value = _replace(value, path, None, delete=True)
        elif kind == "retype":
            current = _at(value, path)
            value = _replace(value, path, draw(_retyped(current)))
        elif kind == "duplicate" and path and isinstance(_at(value, path[:-1]), list):
            parent = _at(value, path[:-1])
            value = _replace(value, path[:-1], [*parent, parent[path[-1]]])
        else:
            value = _replace(value, path, draw(json_values(keys, max_leaves=6)))
    return value


def _at(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


def _retyped(value: Any) -> st.SearchStrategy[Any]:
    """The same value in another JSON type: a number as text, text as a list, …"""
    return st.sampled_from(
        [
            str(value),
            [value],
            {"value": value},
            None,
            True,
            RawNumber("1E+400"),
            RawNumber("-0.001"),
            RawNumber("1" * 60),
        ]
    )


# --- marking-scheme files ---------------------------------------------------------------

SCHEME_KEYS = st.one_of(
    st.sampled_from(
        (
            "totalMark",
            "wsosSections",
            "subCriterions",
            "name",
            "aspects",
            "type",
            "description",
            "maxMark",
            "wsosSection",
            "judgementScoreDescription",
            "extraDescription",
            "requirement",
            "calculation",
            "1",
            "2",
            "0",
            "-1",
            "1.0",
            "١",
        )
    ),
    st.text(max_size=12),
)


def corpora() -> tuple[str, ...]:
    """The scheme files to mutate: the built sample, and the real files where present."""
    return ("built", "real") if REAL_SCHEMES.is_dir() else ("built",)


@cache
def fixture_json(name: str, corpus: str = "built") -> Any:
    return json.loads(fixture_bytes(name, corpus).decode("utf-8"))


@cache
def fixture_bytes(name: str, corpus: str = "built") -> bytes:
    return scheme_file(name, corpus)[1]


def scheme_json_documents() -> st.SearchStrategy[bytes]:
    """Arbitrary JSON (with the scheme's keys), and the fixture schemes mutated."""
    fixtures = [(f"module-{m}.json", corpus) for corpus in corpora() for m in "abcd"]
    arbitrary = json_values(SCHEME_KEYS)
    mutated = st.sampled_from(fixtures).flatmap(
        lambda fixture: mutated_json(fixture_json(*fixture), SCHEME_KEYS)
    )
    shaped = st.fixed_dictionaries(
        {},
        optional={
            "totalMark": json_leaves,
            "wsosSections": json_values(SCHEME_KEYS, 8),
            "subCriterions": st.lists(json_values(SCHEME_KEYS, 12), max_size=4),
        },
    )
    documents = st.one_of(arbitrary, mutated, mutated, shaped).map(dump_json)
    return st.one_of(
        documents.map(lambda text: text.encode("utf-8")),
        documents.map(lambda text: "\ufeff".encode() + text.encode("utf-8")),
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
    )


def cell_values() -> st.SearchStrategy[Any]:
    """Values a spreadsheet cell may hold after someone edited it."""
    return st.one_of(
        st.none(),
        texts(40).map(lambda text: ILLEGAL_CHARACTERS_RE.sub("", text)),
        st.sampled_from(("M", "J", "m", " j ", "X", "C4", "A1", "ZZ9", "a1", "Day 2", "C 3")),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
        st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)),
        st.times(),
    )


number_cells = st.one_of(
    st.sampled_from(TYPED_NUMBERS),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)


def _set_cell(sheet, row: int, column: int, value: Any) -> None:
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # keep "=…" text as text; formulas have no cached value anyway


@st.composite
def xlsx_with_cells_changed(draw, name: str, columns: int = 11, corpus: str = "built") -> bytes:
    """A scheme workbook with a few cells set to other values (openpyxl load, edit, save)."""
    workbook = openpyxl.load_workbook(io.BytesIO(fixture_bytes(name, corpus)))
    sheet = workbook.worksheets[0]
    rows = sheet.max_row
    # the columns that hold numbers and codes (day, type, score, section, max) more often
    column = st.one_of(st.integers(1, columns + 1), st.sampled_from((3, 4, 6, 9, 11)))
    value = st.one_of(cell_values(), number_cells)
    # now and then a cell far below the scheme (the sheet then has too many rows)
    near = st.integers(1, rows + 3)
    row = st.one_of(near, near, near, st.sampled_from((10_001, 1_048_576)))
    # first (openpyxl moves every cell below, slowly once one sits in row 1048576)
    if draw(st.integers(0, 9)) == 0:  # now and then a row removed or doubled
        at = draw(st.integers(2, rows))
        if draw(st.booleans()):
            sheet.delete_rows(at)
        else:
            sheet.insert_rows(at)
    edits = draw(st.lists(st.tuples(row, column, value), min_size=1, max_size=8))
    for row, column, value in edits:
        _set_cell(sheet, row, column, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@cache
def _zip_parts(data: bytes) -> tuple[tuple[str, bytes], ...]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return tuple((info.filename, archive.read(info)) for info in archive.infolist())


XML_ALPHABET = "<>/=\"' &;:rcvtsn0123456789AB.-EeTRUF\n"


@st.composite
def xlsx_with_xml_mutated(draw, original: bytes) -> bytes:
    """A workbook whose XML parts (sheet, shared strings, styles) were edited as text."""
    parts = list(_zip_parts(original))
    xml = [i for i, (name, _data) in enumerate(parts) if name.endswith(".xml")]
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.sampled_from(xml))
        name, data = parts[index]
        text = data.decode("utf-8", "replace")
        text = draw(mutated_text(text, XML_ALPHABET))
        parts[index] = (name, text.encode("utf-8"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts:
            archive.writestr(name, data)
    return buffer.getvalue()


def scheme_xlsx_files() -> st.SearchStrategy[bytes]:
    """Random bytes, broken zips and workbooks, and fixture workbooks with cells changed."""
    small = fixture_bytes("module-a.xlsx")
    return st.one_of(
        st.binary(max_size=2000),
        st.binary(max_size=2000).map(lambda data: b"PK\x03\x04" + data),
        mutated_bytes(small),
        xlsx_with_xml_mutated(small),
        *(xlsx_with_cells_changed("module-a.xlsx", corpus=corpus) for corpus in corpora()),
        *(xlsx_with_cells_changed("module-b.xlsx", corpus=corpus) for corpus in corpora()),
    )


# --- tables (CSV / XLSX) ----------------------------------------------------------------


@st.composite
def tables(
    draw,
    columns: dict[str, st.SearchStrategy[str]],
    max_rows: int = 6,
    valid_rows: st.SearchStrategy[list[dict[str, str]]] | None = None,
) -> list[list]:
    """A header (the known columns, some dropped, doubled, renamed or added) and rows.

    With ``valid_rows``: the rows of that strategy under the known columns instead.
    """
    names = list(columns)
    if valid_rows is not None:
        records = draw(valid_rows)
        header = [name for name in names if any(name in record for record in records)]
        return [header, *([record.get(name, "") for name in header] for record in records)]
    header = [name for name in names if draw(st.integers(0, 12)) > 0]
    header = draw(st.permutations(header))
    extra = draw(st.lists(st.sampled_from((*names, "", "note", " IIN ", "Score")), max_size=2))
    header = [*header, *extra]
    rows = []
    for _ in range(draw(st.integers(0, max_rows))):
        row = []
        for name in header:
            strategy = columns.get(name.strip().lower(), texts(20))
            row.append(draw(st.one_of(strategy, strategy, texts(20))))
        if draw(st.integers(0, 6)) == 0:  # a ragged row
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(texts(8), max_size=2))
        rows.append(row)
    return [header, *rows]


def _workbook(table: list[list], edits: list[tuple[int, int, Any]] = ()) -> bytes:
    """The table as an XLSX workbook's bytes, then the cells of ``edits`` set (any type)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row_number, row in enumerate(table, start=1):
        for column, value in enumerate(row, start=1):
            _set_cell(sheet, row_number, column, ILLEGAL_CHARACTERS_RE.sub("", value))
    for row, column, value in edits:
        _set_cell(sheet, row, column, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@st.composite
def table_files(
    draw,
    columns: dict[str, st.SearchStrategy[str]],
    valid_rows: st.SearchStrategy[list[dict[str, str]]] | None = None,
) -> tuple[str, bytes]:
    """A table as CSV (any delimiter, line end, quoting, BOM, encoding) or as XLSX.

    With ``valid_rows``, half the files are well-formed tables of such rows (CSV UTF-8 or
    XLSX), so that the imports also succeed and write, and in half of those one cell is
    spoiled, so that a good file is refused because of one row.
    """
    if valid_rows is not None and draw(st.booleans()):
        table = draw(tables(columns, valid_rows=valid_rows))
        if len(table) > 1 and draw(st.booleans()):
            row = draw(st.integers(1, len(table) - 1))
            column = draw(st.integers(0, len(table[0]) - 1))
            spoiler = columns.get(table[0][column])
            table[row][column] = draw(spoiler if spoiler is not None else texts(20))
        if draw(st.booleans()):
            return "t.xlsx", _workbook(table)
        buffer = io.StringIO()
        delimiter = draw(st.sampled_from((",", ";", "\t")))
        csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(table)
        return "t.csv", buffer.getvalue().encode("utf-8")
    table = draw(tables(columns))
    kind = draw(st.sampled_from(("csv", "csv", "csv", "raw", "xlsx", "bytes", "xml")))
    if kind == "bytes":
        return draw(st.sampled_from(("t.csv", "t.xlsx", "t.txt"))), draw(st.binary(max_size=400))
    if kind in ("xlsx", "xml"):
        edits = draw(
            st.lists(st.tuples(st.integers(2, 8), st.integers(1, 8), cell_values()), max_size=3)
        )
        data = _workbook(table, edits)
        if kind == "xml":
            data = draw(xlsx_with_xml_mutated(data))
        return "t.xlsx", data
    delimiter = draw(st.sampled_from((",", ";", "\t", "|")))
    line_end = draw(st.sampled_from(("\n", "\r\n", "\r")))
    if kind == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator=line_end).writerows(table)
        text = buffer.getvalue()
    else:  # joined by hand: quotes and delimiters inside cells break the structure
        text = line_end.join(delimiter.join(row) for row in table)
    prefix = draw(st.sampled_from(("", "", "\ufeff")))
    encoding = draw(st.sampled_from(("utf-8", "utf-8", "utf-8", "cp1251", "utf-16")))
    data = (prefix + text).encode(encoding, "replace")
    return draw(st.sampled_from(("t.csv", "t.CSV", "t", "t.xlsx"))), data


# --- tokens -----------------------------------------------------------------------------


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def cbor_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        st.binary(max_size=20),
        st.text(max_size=20),
        passport_numbers,
    )
    tagged = st.builds(cbor2.CBORTag, st.sampled_from((0, 1, 2, 3, 4, 24, 55799, 1000)), leaves)
    return st.recursive(
        st.one_of(leaves, tagged),
        lambda children: st.one_of(
            st.lists(children, max_size=5),
            st.dictionaries(
                st.one_of(st.integers(-6, 7), st.text(max_size=4)), children, max_size=6
            ),
        ),
        max_leaves=max_leaves,
    )


def _canonical(value: Any) -> bytes:
    try:
        return cbor2.dumps(value, canonical=True)
    except Exception:  # e.g. a tag cbor2 cannot write in canonical form: send it plainly
        return cbor2.dumps(repr(value))


def sign_raw(private_key: ec.EllipticCurvePrivateKey, protected: bytes, payload: bytes) -> bytes:
    """A low-S ES256 signature ``r || s`` over the COSE Sig_structure (as the issuer makes)."""
    message = cbor2.dumps(["Signature1", protected, b"", payload], canonical=True)
    r, s = decode_dss_signature(private_key.sign(message, ec.ECDSA(hashes.SHA256())))
    s = min(s, P256_ORDER - s)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


CLAIM_KEYS = (4, 6, -1, -2, -3, -4, -5, -6)  # -6: the skills profile
# shaped like a passport number (``26-000123-4``) in any script's decimal digits
_any_digits = st.characters(categories=("Nd",))
passport_numbers = st.tuples(
    st.text(_any_digits, min_size=2, max_size=2),
    st.text(_any_digits, min_size=6, max_size=12),
    _any_digits,
).map("-".join)


def claim_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(min_value=-(2**64), max_value=2**64),
        st.integers(min_value=0, max_value=2**53),
        st.booleans(),
        st.none(),
        st.floats(),
        st.binary(max_size=8),
        st.text(max_size=30),
        st.sampled_from(("26-000123-4", "26-000001-0", "Әлібекова", "A\u0301", "\x00", "17")),
        passport_numbers,
        st.lists(st.integers(), max_size=2),
    )


def plausible_claim(key: int) -> st.SearchStrategy[Any]:
    """A value of the right type for claim ``key`` (texts for -1…-3, a list of percents
    for the profile -6, integers otherwise)."""
    if key == -6:  # mostly 0–100, some out of range or of another type; up to 34 items
        items = st.one_of(st.integers(0, 100), st.integers(0, 100), claim_values())
        return st.lists(items, max_size=34)
    if key in (-1, -2, -3):
        return st.one_of(
            passport_numbers,
            st.from_regex(r"[0-9]{2}-[0-9]{6}-[0-9]", fullmatch=True),
            st.text(min_size=1, max_size=20),
        )
    return st.one_of(st.integers(0, 2**53 - 1), st.integers(1_700_000_000, 1_900_000_000))


def tokens(private_key: ec.EllipticCurvePrivateKey, kid: str, real: list[str], base_url: str):
    """Token texts and URLs: arbitrary, base32 of anything, COSE-shaped, signed garbage claims,
    and real tokens or their URLs with a few characters changed."""
    protected = cbor2.dumps({1: -7, 4: kid.encode()}, canonical=True)

    @st.composite
    def cose_shaped(draw) -> str:
        header = draw(st.one_of(st.just(protected), cbor_values(4).map(_canonical)))
        unprotected = draw(st.one_of(st.just({}), cbor_values(3)))
        payload = draw(st.one_of(cbor_values().map(_canonical), st.binary(max_size=60)))
        signature = draw(st.one_of(st.binary(min_size=64, max_size=64), st.binary(max_size=70)))
        shape = draw(st.sampled_from(("sign1", "sign1", "tagged", "short", "long")))
        items = [header, unprotected, payload, signature]
        if shape == "tagged":
            message: Any = cbor2.CBORTag(18, items)
        elif shape == "short":
            message = items[:3]
        elif shape == "long":
            message = [*items, b""]
        else:
            message = items
        return b32(_canonical(message))

    @st.composite
    def signed_claims(draw) -> str:
        claims = draw(
            st.dictionaries(
                st.one_of(st.sampled_from(CLAIM_KEYS), st.integers(-8, 8)),
                claim_values(),
                max_size=9,
            )
        )
        if draw(st.booleans()):  # the full set of claims, mostly well-typed, some odd
            full = {key: draw(plausible_claim(key)) for key in CLAIM_KEYS}
            claims = full | dict(list(claims.items())[: draw(st.integers(0, 2))])
        payload = _canonical(claims)
        return b32(_canonical([protected, {}, payload, sign_raw(private_key, protected, payload)]))

    urls = [f"{base_url.upper()}/V#{token}" for token in real]
    return st.one_of(
        st.text(max_size=300),
        st.text(alphabet=BASE32, max_size=400),
        st.text(alphabet=BASE32 + "-+_ 0189", min_size=20, max_size=60),
        st.binary(max_size=300).map(b32),
        cose_shaped(),
        signed_claims(),
        signed_claims(),
        st.sampled_from(real).flatmap(lambda token: mutated_text(token)),
        st.sampled_from(urls).flatmap(lambda url: mutated_text(url)),
        st.sampled_from((*real, *urls)),
        st.sampled_from(real).map(lambda token: token.lower()),
        st.sampled_from(real).map(lambda token: f"https://other.example/V?x=1#{token}"),
        st.sampled_from(real).map(lambda token: f" {token}\n"),
    )


# --- the columns of the imports ---------------------------------------------------------


def _one_of_texts(*values: str, size: int = 20) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(values), texts(size)) if values else texts(size)


def iins(valid: list[str]) -> st.SearchStrategy[str]:
    """IINs as typed: valid ones, with separators, a lost leading zero, wrong digits."""
    return st.one_of(
        st.sampled_from(valid),
        st.sampled_from(valid).map(lambda iin: f"{iin[:6]} {iin[6:]}"),
        st.sampled_from(valid).map(lambda iin: iin[1:]),
        st.sampled_from(valid).map(lambda iin: iin[:-1] + str((int(iin[-1]) + 1) % 10)),
        st.from_regex(r"[0-9]{10,13}", fullmatch=True),
        st.text(st.characters(categories=("Nd",)), min_size=12, max_size=12),
        texts(20),
    )


def cyrillic_names() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(("Әбілова", "Жұмабаев", "Омаров-Серікұлы", "О'Нил", "Ivanov", "ﬃ")),
        st.text(alphabet="АӘБҒҚҢӨҰҮҺІЁабвгқңөұүһіaceopi -'ʼ‐—", max_size=30),
        texts(30),
        st.just("Ә" * 101),
    )


def candidate_columns(iin_values, college_codes, centre_codes, bins) -> dict:
    return {
        "iin": iins(iin_values),
        "last_name": cyrillic_names(),
        "first_name": cyrillic_names(),
        "middle_name": cyrillic_names(),
        "college_code": _one_of_texts(*college_codes),
        "specialty": texts(40),
        "email": st.one_of(st.emails().map(str), _one_of_texts("a@b", "x@ex.kz", "@", "a@b@c")),
        "enterprise_bin": st.one_of(st.sampled_from(bins), iins(bins)),
        "last_name_latin": _one_of_texts("IVANOVA", "ﬃ", "O'NEIL", "Ä"),
        "first_name_latin": _one_of_texts("DANA", "ß" * 60),
        "legal_basis": _one_of_texts("education", "Consent", "contract", "law"),
        "centre_code": _one_of_texts(*centre_codes),
    }


def reference_columns(competence_codes, bins) -> dict[str, dict]:
    """Columns of each kind of reference data (docs/import-formats.md)."""
    codes = _one_of_texts("17", "R2", "W.1", "a b", "17" * 11)
    names = {f"name_{lang}": cyrillic_names() for lang in ("kk", "ru", "en")}
    weights = _one_of_texts("10", "12,5", "33.33", "0", "100", "100.01", "1e1", "5%", "-5")
    return {
        "competences": {
            "code": codes,
            **names,
            "section": st.one_of(number_cells.map(str), _one_of_texts("1", "2", "99", "100")),
            "section_name_kk": cyrillic_names(),
            "section_name_ru": cyrillic_names(),
            "section_name_en": cyrillic_names(),
            "weight": st.one_of(weights, weights, number_cells.map(str)),
        },
        "centres": {
            "code": codes,
            **names,
            "city": cyrillic_names(),
            "workstations": st.one_of(number_cells.map(str), _one_of_texts("1", "30", "1001")),
            "address": texts(40),
            "competences": _one_of_texts(*competence_codes, "17, R2", "17;;X", " | "),
        },
        "colleges": {"code": codes, **names, "city": cyrillic_names()},
        "enterprises": {"bin": st.one_of(st.sampled_from(bins), iins(bins)), **names},
    }


def mark_columns(iin_values, addresses) -> dict:
    scores = st.one_of(number_cells.map(str), st.sampled_from(TYPED_NUMBERS))
    return {
        "iin": iins(iin_values),
        "aspect": st.one_of(
            st.sampled_from(addresses),
            st.sampled_from(addresses).map(str.lower),
            _one_of_texts("A1", "A1.", ".1", "A1.0", "A1.99", "Z9.1", "A1.1.1", "A1.١"),
        ),
        "judge": _one_of_texts("", "0", "1", "2", "3", "4", "²", "١", "9" * 5000, "1.0", "-1"),
        "score": st.one_of(scores, scores, texts(10)),
        "reason": st.one_of(st.just(""), texts(40), st.just("x" * 3000)),
    }


def valid_candidate_rows(colleges: list[str]) -> st.SearchStrategy[list[dict[str, str]]]:
    """Rows every check accepts: distinct valid IINs, Cyrillic names, a known college."""
    from assessments.iin import make_iin

    iin = st.builds(
        make_iin,
        st.dates(min_value=date(1990, 1, 1), max_value=date(2008, 12, 31)),
        st.sampled_from("MF"),
        st.integers(0, 9999),
    )
    row = st.fixed_dictionaries(
        {
            "iin": iin,
            "last_name": st.sampled_from(("Әбілова", "Жұмабаев", "Омаров-Серікұлы")),
            "first_name": st.sampled_from(("Айгүл", "Ерлан", "Ұлжан")),
            "middle_name": st.sampled_from(("", "Нұрланқызы")),
            "college_code": st.sampled_from(colleges),
            "specialty": st.sampled_from(("Веб-технологиялар", "Дәнекерлеу")),
            "email": st.sampled_from(("", "student@example.kz")),
        }
    )
    return st.lists(row, min_size=1, max_size=6, unique_by=lambda r: r["iin"])


def valid_mark_rows(
    iins: list[str], layout: dict[str, tuple[str, int]]
) -> st.SearchStrategy[list[dict[str, str]]]:
    """Rows every check accepts: enrolled candidates, real aspects, marks within range.

    ``layout`` maps an aspect address to its kind and maximum in hundredths.
    """

    def row(cell: tuple[str, str]) -> st.SearchStrategy[dict[str, str]]:
        iin, address = cell
        kind, maximum = layout[address]
        if kind == "M":
            judge = st.just("")
            score = st.integers(0, maximum).map(lambda h: f"{h // 100},{h % 100:02d}")
        else:
            judge, score = st.integers(1, 3).map(str), st.integers(0, 3).map(str)
        return st.fixed_dictionaries(
            {
                "iin": st.just(iin),
                "aspect": st.just(address),
                "judge": judge,
                "score": score,
                "reason": st.sampled_from(("", "two fields missing")),
            }
        )

    cells = st.tuples(st.sampled_from(iins), st.sampled_from(sorted(layout))).flatmap(row)
    return st.lists(
        cells, min_size=1, max_size=8, unique_by=lambda r: (r["iin"], r["aspect"], r["judge"])
    )
