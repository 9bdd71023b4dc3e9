"""QR codes for verification URLs: segmented, smallest version, readable by a real decoder."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import qrcode.util
import zxingcpp
from PIL import Image

from passports.qr import make_qr, qr_matrix, qr_png, qr_svg, qr_version, url_segments
from passports.token import (
    PassportClaims,
    key_id,
    new_signing_key,
    sign_token,
    token_from_url,
    verification_url,
    verify_token,
)

BASE_URL = "https://skills.example.kz"
DEMO_NAME = "Әлібекова Айгерім Нұрланқызы"
# ISO/IEC 18004 table 7: data codewords at error correction M, versions 1–12.
DATA_CODEWORDS_M = [16, 28, 44, 64, 86, 108, 124, 154, 182, 216, 254, 290]


def demo_claims(**changes) -> PassportClaims:
    fields = {
        "number": "25-000123-8",
        "holder_name": DEMO_NAME,
        "competence_code": "17",
        "total_hundredths": 8750,
        "grade": 5,
        "issued_at": 1_750_395_600,
        "expires_at": None,
    }
    return PassportClaims(**(fields | changes))


@pytest.fixture(scope="module")
def key():
    return new_signing_key()


@pytest.fixture(scope="module")
def keys(key):
    return {key_id(key): key.public_key()}


@pytest.fixture(scope="module")
def demo_url(key) -> str:
    return verification_url(BASE_URL, sign_token(demo_claims(), key, key_id(key)))


def read_texts(image) -> list[str]:
    """The distinct texts of the QR Code symbols zxing-cpp finds (it may report one twice)."""
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return list(dict.fromkeys(barcode.text for barcode in found))


def decode_png(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png))
    return read_texts(image)


def decode_matrix(matrix: list[list[bool]], scale: int = 4) -> list[str]:
    """Decode modules with zxing-cpp from a plain greyscale buffer (no imaging library)."""
    rows = [bytes(0 if dark else 255 for dark in row for _ in range(scale)) for row in matrix]
    pixels = b"".join(row for row in rows for _ in range(scale))
    side = len(matrix) * scale
    image = memoryview(pixels).cast("B", (side, side))
    return read_texts(image)


def needed_bits(url: str, version: int) -> int:
    """Bits of the three segments, counted by hand from ISO/IEC 18004 (versions 10–26)."""
    assert 10 <= version <= 26
    before, _, token = url.partition("#")

    def alphanumeric(n: int) -> int:
        return 4 + 11 + 11 * (n // 2) + 6 * (n % 2)

    return alphanumeric(len(before)) + (4 + 16 + 8) + alphanumeric(len(token))


# --- size -----------------------------------------------------------------------------------


def test_demo_passport_fits_version_11_at_m(demo_url):
    assert qr_version(demo_url) <= 11


def test_demo_passport_reaches_version_10_at_m(demo_url):
    # 28-character Cyrillic name, number "25-000123-8", competence "17", no expiry, 8-char kid,
    # no skills profile (a passport issued before the profile existed).
    assert len(demo_url.partition("#")[2]) == 274
    assert qr_version(demo_url) == 10


def test_demo_passport_with_expiry_fits_version_11(key):
    token = sign_token(demo_claims(expires_at=1_900_000_000), key, key_id(key))
    assert qr_version(verification_url(BASE_URL, token)) <= 11


@pytest.mark.parametrize("expires_at", [None, 1_900_000_000])
@pytest.mark.parametrize(
    "profile",
    [(0,) * 10, (100,) * 10, (24, 99, 50, 73, 100, 61, 88, 45, 30, 77)],
    ids=["all below 24", "all 100", "mixed"],
)
def test_ten_section_profile_fits_version_11(key, profile, expires_at):
    # percents of 24 or more take two CBOR bytes: "all 100" with an expiry is the largest
    token = sign_token(demo_claims(profile=profile, expires_at=expires_at), key, key_id(key))
    assert qr_version(verification_url(BASE_URL, token)) <= 11


def test_largest_profiles_that_fit_version_11(key):
    # docs/passport-token.md §4: 16 sections without an expiry, 13 with one
    def version(sections: int, expires_at: int | None) -> int:
        claims = demo_claims(profile=(100,) * sections, expires_at=expires_at)
        return qr_version(verification_url(BASE_URL, sign_token(claims, key, key_id(key))))

    assert version(16, None) == 11 and version(17, None) == 12
    assert version(13, 1_900_000_000) == 11 and version(14, 1_900_000_000) == 12


def test_segments_are_alphanumeric_byte_alphanumeric(demo_url):
    segments = url_segments(demo_url)
    assert [s.mode for s in segments] == [
        qrcode.util.MODE_ALPHA_NUM,
        qrcode.util.MODE_8BIT_BYTE,
        qrcode.util.MODE_ALPHA_NUM,
    ]
    assert b"".join(s.data for s in segments).decode() == demo_url
    assert segments[0].data == b"HTTPS://SKILLS.EXAMPLE.KZ/V"


def test_version_is_the_smallest_that_holds_the_bits(demo_url):
    version = qr_version(demo_url)
    bits = needed_bits(demo_url, version)
    assert bits <= DATA_CODEWORDS_M[version - 1] * 8
    assert bits > DATA_CODEWORDS_M[version - 2] * 8
    assert len(make_qr(demo_url).modules) == 17 + 4 * version


def test_higher_error_correction_needs_more_space(demo_url):
    versions = [qr_version(demo_url, level) for level in "LMQH"]
    assert versions == sorted(versions)
    with pytest.raises(ValueError):
        make_qr(demo_url, "X")


# --- reading it back ---------------------------------------------------------------------------


def test_png_round_trip_verifies(demo_url, keys):
    (text,) = decode_png(qr_png(demo_url))
    assert text == demo_url
    assert verify_token(token_from_url(text), keys) == demo_claims()


def test_png_is_a_1_bit_image_of_the_right_size(demo_url):
    image = Image.open(io.BytesIO(qr_png(demo_url, box_size=3)))
    assert image.mode == "1"
    assert image.size == ((17 + 4 * qr_version(demo_url) + 8) * 3,) * 2


def test_matrix_round_trip_verifies(demo_url, keys):
    matrix = qr_matrix(demo_url)
    assert len(matrix) == len(make_qr(demo_url).modules) + 8
    assert not any(matrix[0]) and not any(row[0] for row in matrix)  # quiet zone
    (text,) = decode_matrix(matrix)
    assert verify_token(token_from_url(text), keys) == demo_claims()


def test_matrix_without_quiet_zone_is_the_bare_symbol(demo_url):
    assert qr_matrix(demo_url, border=0) == [
        [bool(m) for m in row] for row in make_qr(demo_url).modules
    ]


def test_svg_is_one_path_drawing_the_same_modules(demo_url):
    svg = qr_svg(demo_url, module_size=5)
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    ns = "{http://www.w3.org/2000/svg}"
    paths = root.findall(f"{ns}path")
    assert len(paths) == 1
    matrix = qr_matrix(demo_url)
    size = len(matrix)
    assert root.get("viewBox") == f"0 0 {size} {size}"
    assert root.get("width") == str(size * 5)
    drawn = [[False] * size for _ in range(size)]
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", paths[0].get("d")):
        for dx in range(int(width)):
            drawn[int(y)][int(x) + dx] = True
    assert drawn == matrix


def test_lower_case_base_path_still_encodes_and_reads(key):
    url = verification_url("https://edu.example.kz/skills", sign_token(demo_claims(), key, "K"))
    assert url.startswith("HTTPS://EDU.EXAMPLE.KZ/skills/V#")
    assert url_segments(url)[0].mode == qrcode.util.MODE_8BIT_BYTE
    (text,) = decode_png(qr_png(url))
    assert text == url


@pytest.mark.parametrize("bad", [{"box_size": 0}])
def test_png_arguments_are_checked(demo_url, bad):
    with pytest.raises(ValueError):
        qr_png(demo_url, **bad)


def test_svg_and_matrix_arguments_are_checked(demo_url):
    with pytest.raises(ValueError):
        qr_svg(demo_url, module_size=0)
    with pytest.raises(ValueError):
        qr_matrix(demo_url, border=-1)
    with pytest.raises(ValueError):
        url_segments("")
