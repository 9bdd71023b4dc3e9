"""Look inside an uploaded XLSX before openpyxl unpacks it, so a zip bomb is refused unread.

An XLSX file is a zip archive of XML parts, and openpyxl inflates the parts it reads into
memory: a few kilobytes of upload could unpack to gigabytes. ``check_xlsx_archive`` reads only
the archive's directory (names and declared sizes; nothing is inflated) and refuses the file
when it is not a zip, holds too many parts, unpacks to more than ``MAX_XLSX_UNPACKED_BYTES``
in total, or has a large part packed suspiciously well. Every XLSX importer calls it first.

The declared sizes can be trusted: Python's ``zipfile``, which openpyxl reads through, never
yields more bytes of a part than the directory declares (and fails on the CRC check when the
data says otherwise), so no part can unpack beyond what was checked here.
"""

from __future__ import annotations

import io
import zipfile

from flask import current_app, has_app_context, has_request_context

from app.messages import N_, DomainError

#: Default of the ``MAX_XLSX_UNPACKED_BYTES`` setting: all parts together, unpacked.
DEFAULT_MAX_UNPACKED_BYTES = 50 * 1024 * 1024
#: A workbook of a few sheets has a dozen parts; thousands mean something else.
MAX_MEMBERS = 1000
#: A part larger than ``RATIO_MIN_BYTES`` unpacked may be at most this many times its packed
#: size (spreadsheet XML packs about 5-30 times; a run of zeros about 1000 times).
MAX_RATIO = 100
RATIO_MIN_BYTES = 1024 * 1024

_CENTRAL_DIRECTORY_ENTRY = b"PK\x01\x02"
_MEGABYTE = 1024 * 1024


class UnsafeWorkbook(DomainError, ValueError):
    """An XLSX upload refused before unpacking. The message names no file: callers add it."""

    def localized(self) -> str:
        """The message in the user's language inside a request, in English elsewhere (CLI)."""
        return self.translated() if has_request_context() else self.text


def max_unpacked_bytes() -> int:
    """The running app's ``MAX_XLSX_UNPACKED_BYTES`` setting; the default outside an app."""
    if has_app_context():
        return int(current_app.config.get("MAX_XLSX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES))
    return DEFAULT_MAX_UNPACKED_BYTES


def _megabytes(size: int) -> str:
    return f"{size / _MEGABYTE:.1f}".removesuffix(".0")


def check_xlsx_archive(data: bytes, *, max_unpacked: int | None = None) -> None:
    """Raise ``UnsafeWorkbook`` unless ``data`` is a zip that is safe to unpack.

    Rules: a readable zip directory; at most ``MAX_MEMBERS`` parts; declared unpacked sizes
    summing to at most ``max_unpacked`` bytes (default: the ``MAX_XLSX_UNPACKED_BYTES``
    setting); no part over ``RATIO_MIN_BYTES`` unpacked that is more than ``MAX_RATIO``
    times its packed size.
    """
    limit = max_unpacked_bytes() if max_unpacked is None else max_unpacked
    # counted before zipfile builds an object per directory entry (an upper bound)
    if data.count(_CENTRAL_DIRECTORY_ENTRY) > MAX_MEMBERS:
        raise _too_many()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except Exception:  # any failure to read the directory (not a zip, truncated) is the same
        raise UnsafeWorkbook(
            N_("cannot be read as an XLSX workbook; save it again from Excel")
        ) from None
    if len(members) > MAX_MEMBERS:
        raise _too_many()
    if sum(member.file_size for member in members) > limit:
        raise UnsafeWorkbook(
            N_("unpacks to more than %(limit)s MB, the limit for an XLSX file; split it up"),
            limit=_megabytes(limit),
        )
    for member in members:
        if member.file_size > RATIO_MIN_BYTES and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise UnsafeWorkbook(
                N_(
                    "holds a part that unpacks to over %(ratio)s times its packed size "
                    "(a possible zip bomb); save it again from Excel"
                ),
                ratio=MAX_RATIO,
            )


def _too_many() -> UnsafeWorkbook:
    return UnsafeWorkbook(
        N_("holds more than %(limit)s parts, too many for a workbook; save it again from Excel"),
        limit=MAX_MEMBERS,
    )
