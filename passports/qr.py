"""QR codes for passport verification URLs: smallest version, drawn as SVG, PNG or a matrix.

A verification URL ``HTTPS://HOST/V#TOKEN`` is encoded as three segments, so that nearly all
of it goes in alphanumeric mode (5.5 bits a character) instead of byte mode (8 bits):
alphanumeric ``HTTPS://HOST/V``, byte ``#`` (not in the alphanumeric set), alphanumeric
``TOKEN`` (upper-case base32). qrcode then picks the smallest version that holds the bits.
"""

from __future__ import annotations

import re
import struct
import zlib

import qrcode
import qrcode.constants
import qrcode.util

ERROR_CORRECTION = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 requires

_ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]+")


def _segment(text: str) -> qrcode.util.QRData:
    mode = qrcode.util.MODE_ALPHA_NUM if _ALPHANUMERIC.fullmatch(text) else None
    if mode is None:
        return qrcode.util.QRData(text.encode("utf-8"), mode=qrcode.util.MODE_8BIT_BYTE)
    return qrcode.util.QRData(text, mode=mode)


def url_segments(url: str) -> list[qrcode.util.QRData]:
    """Split the URL into QR segments: before ``#``, ``#`` itself, the fragment.

    A part made only of QR alphanumeric characters (digits, upper case, space, ``$%*+-./:``)
    goes in alphanumeric mode, anything else in byte mode (UTF-8).
    """
    if not url:
        raise ValueError("url must not be empty")
    before, sep, fragment = url.partition("#")
    segments = [_segment(before)] if before else []
    if sep:
        segments.append(_segment(sep))
    if fragment:
        segments.append(_segment(fragment))
    return segments


def make_qr(url: str, error_correction: str = "M") -> qrcode.QRCode:
    """Build the QR code for a URL with segmented data at the smallest version that fits."""
    try:
        level = ERROR_CORRECTION[error_correction]
    except KeyError:
        raise ValueError("error_correction must be one of L, M, Q, H") from None
    code = qrcode.QRCode(version=None, error_correction=level, border=QUIET_ZONE)
    for segment in url_segments(url):
        code.add_data(segment)
    code.make(fit=True)
    return code


def qr_version(url: str, error_correction: str = "M") -> int:
    """Return the QR version (1–40) that ``make_qr`` uses for the URL."""
    return make_qr(url, error_correction).version


def qr_matrix(url: str, error_correction: str = "M", border: int = QUIET_ZONE) -> list[list[bool]]:
    """Return the modules row by row (True = dark), with a ``border``-module quiet zone."""
    if border < 0:
        raise ValueError("border must not be negative")
    modules = make_qr(url, error_correction).modules
    size = len(modules) + 2 * border
    blank = [False] * size
    rows = [list(blank) for _ in range(border)]
    rows += [[False] * border + [bool(m) for m in row] + [False] * border for row in modules]
    rows += [list(blank) for _ in range(border)]
    return rows


def qr_svg(url: str, module_size: float = 4, error_correction: str = "M") -> str:
    """Return a standalone SVG: a white square and one ``<path>`` of the dark modules.

    Coordinates are in modules (``viewBox``), the quiet zone included; ``module_size`` sets
    the width and height in CSS pixels.
    """
    if module_size <= 0:
        raise ValueError("module_size must be positive")
    matrix = qr_matrix(url, error_correction)
    size = len(matrix)
    commands = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < size and row[x]:
                x += 1
            commands.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    pixels = f"{size * module_size:g}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{pixels}" height="{pixels}" '
        f'viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{"".join(commands)}" fill="#000"/></svg>'
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def qr_png(url: str, box_size: int = 8, error_correction: str = "M") -> bytes:
    """Return the QR code as a 1-bit greyscale PNG, ``box_size`` pixels a module.

    Written with zlib and struct, so it needs no imaging library.
    """
    if box_size < 1:
        raise ValueError("box_size must be at least 1")
    matrix = qr_matrix(url, error_correction)
    width = len(matrix) * box_size
    raw = bytearray()
    for row in matrix:
        bits = "".join(("0" if dark else "1") * box_size for dark in row)
        bits += "1" * (-len(bits) % 8)
        line = b"\x00" + int(bits, 2).to_bytes(len(bits) // 8, "big")  # filter type 0
        raw += line * box_size
    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _png_chunk(b"IEND", b"")
    )
