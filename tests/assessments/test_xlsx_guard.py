"""XLSX uploads are looked into before openpyxl unpacks them: zip bombs are refused unread."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from functools import cache

import pytest
from sqlalchemy import func, select

from assessments.models import Candidate, MarkingScheme
from assessments.scheme_files.parse import parse_scheme_files
from assessments.scheme_files.spec import SchemeImportError
from assessments.tabular import TableError, read_table
from assessments.xlsx_guard import (
    DEFAULT_MAX_UNPACKED_BYTES,
    MAX_MEMBERS,
    UnsafeWorkbook,
    check_xlsx_archive,
    max_unpacked_bytes,
)
from tests.assessments.test_schemes_service import competence_1_to_5, fixture_set, table_counts

MB = 1024 * 1024
CONTENT_TYPES = (
    b'<?xml version="1.0"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)
TOO_LARGE = "unpacks to more than 50 MB"
TOO_PACKED = "unpacks to over 100 times its packed size"
TOO_MANY = f"holds more than {MAX_MEMBERS} parts"
UNREADABLE = "cannot be read as an XLSX workbook"


@cache
def zip_bomb(unpacked_mb: int = 64) -> bytes:
    """An XLSX-shaped zip whose sheet is a run of zeros: tens of kB packed, ``unpacked_mb`` open.

    Written through zipfile's streaming writer a megabyte at a time, so building it needs
    one megabyte of memory whatever its unpacked size.
    """
    buffer = io.BytesIO()
    chunk = bytes(MB)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            for _ in range(unpacked_mb):
                part.write(chunk)
    return buffer.getvalue()


def stored_zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def refusal(data: bytes, **kwargs) -> str:
    with pytest.raises(UnsafeWorkbook) as caught:
        check_xlsx_archive(data, **kwargs)
    return caught.value.text


# --- the check ------------------------------------------------------------------------


def test_the_real_marking_scheme_files_pass():
    for name, data in fixture_set("xlsx"):
        check_xlsx_archive(data)  # raises if refused
        assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None, name


def test_a_small_zip_bomb_is_refused_before_anything_is_unpacked():
    bomb = zip_bomb()
    assert len(bomb) < 200_000  # 64 MB of zeros pack into well under 200 kB
    assert TOO_LARGE in refusal(bomb)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(zip_bomb(2), TOO_PACKED, id="2 MB packed over 100 times"),
        pytest.param(
            stored_zip({f"xl/part{i}.xml": b"" for i in range(MAX_MEMBERS + 1)}),
            TOO_MANY,
            id="too many parts",
        ),
        pytest.param(b"hello", UNREADABLE, id="not a zip"),
        pytest.param(b"PK\x03\x04 not really a zip", UNREADABLE, id="zip magic only"),
        pytest.param(zip_bomb(2)[:-30], UNREADABLE, id="truncated"),
        pytest.param(b"", UNREADABLE, id="empty"),
    ],
)
def test_unsafe_or_unreadable_archives_are_refused(data, expected):
    assert expected in refusal(data)


def test_parts_that_pack_badly_are_judged_by_total_size_only():
    random = os.urandom(3 * MB)  # incompressible: ratio 1
    check_xlsx_archive(stored_zip({"a.xml": random}))
    assert "unpacks to more than 2 MB" in refusal(
        stored_zip({"a.xml": random}), max_unpacked=2 * MB
    )
    # a well-packed part of up to 1 MB is fine: small sheets of repeated cells pack that well
    check_xlsx_archive(zip_bomb(1))


def test_the_limit_is_a_setting(app, monkeypatch):
    assert max_unpacked_bytes() == DEFAULT_MAX_UNPACKED_BYTES == 50 * MB
    data = stored_zip({"a.xml": os.urandom(200_000)})
    check_xlsx_archive(data)
    monkeypatch.setitem(app.config, "MAX_XLSX_UNPACKED_BYTES", 100_000)
    assert "unpacks to more than 0.1 MB" in refusal(data)


def test_zipfile_never_unpacks_more_than_the_directory_declares():
    """The rule the check relies on: a part that lies about its size fails, it does not grow."""
    data = bytearray(zip_bomb(2))
    entry = data.rindex(b"PK\x01\x02")  # the sheet's directory entry
    assert struct.unpack_from("<I", data, entry + 24)[0] == 2 * MB  # its unpacked size
    struct.pack_into("<I", data, entry + 24, 1000)
    check_xlsx_archive(bytes(data))  # 1000 bytes declared: passes the check...
    unpacked = bytearray()
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 1000
        # ...and unpacks no further than that
        part = archive.open("xl/worksheets/sheet1.xml")
        with part, pytest.raises(zipfile.BadZipFile, match="CRC"):
            while chunk := part.read(100):
                unpacked += chunk
    assert len(unpacked) <= 1000


# --- the importers ----------------------------------------------------------------------


def test_table_import_refuses_the_bomb_naming_the_file():
    with pytest.raises(TableError) as caught:
        read_table("students.xlsx", zip_bomb(), ["iin"])
    assert caught.value.lines() == [f"students.xlsx: {refusal(zip_bomb())}"]


def test_scheme_import_refuses_the_bomb_naming_the_file():
    files = [*fixture_set("xlsx")[:3], ("module-d.xlsx", zip_bomb())]
    with pytest.raises(SchemeImportError) as caught:
        parse_scheme_files(files)
    assert [(p.file, p.message) for p in caught.value.problems] == [
        ("module-d.xlsx", refusal(zip_bomb()))
    ]


def test_candidate_upload_of_a_bomb_is_refused_and_stores_nothing(sign_in, client, session):
    sign_in("admin", lang="en")
    before = session.scalar(select(func.count()).select_from(Candidate))
    response = client.post(
        "/candidates/import",
        data={"file": (io.BytesIO(zip_bomb()), "students.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert TOO_LARGE in response.get_data(as_text=True)
    assert "students.xlsx" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Candidate)) == before


def test_scheme_upload_with_one_bomb_among_good_files_stores_nothing(sign_in, client, session):
    competence = competence_1_to_5()
    sign_in("admin", lang="en")
    before = table_counts(session)
    files = [*fixture_set("xlsx")[:3], ("module-d.xlsx", zip_bomb())]
    response = client.post(
        "/schemes/import",
        data={
            "competence_id": str(competence.id),
            "name": "Web",
            "files": [(io.BytesIO(content), name) for name, content in files],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "module-d.xlsx" in page and TOO_LARGE in page
    assert table_counts(session) == before
    assert session.scalar(select(func.count()).select_from(MarkingScheme)) == 0
