"""Passport numbers and verification codes: formats, check digit, normalisation. Pure functions.

A passport number is ``YY-NNNNNN-C``: the two-digit year of issue, the passport's sequence
number (six digits or more; global, so it is also the passport's index in the signed status
list) and a Damm check digit over all the digits before it. Damm catches every single wrong
digit and every swap of two neighbouring digits, and its check is always a digit, so numbers
stay compact in the QR token (``26-000123-4``: 11 characters).

A verification code is 8 characters of Crockford's base32 (no I, L, O, U), printed as
``ABCD-EFGH``; typing is forgiving: case, spaces and dashes are ignored, and O → 0, I/L → 1.
A number may be typed with spaces, with any of the dashes in ``DASHES`` or with digits only.
"""

from __future__ import annotations

import re

# Damm's totally anti-symmetric quasigroup of order 10 (Damm 2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
NUMBER_PATTERN = re.compile(r"([0-9]{2})-([0-9]{6,12})-([0-9])")  # not \d: any script's digits
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar,
# minus sign: what phones, word processors and PDFs turn a typed or copied "-" into
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DASH = re.compile(f"[{re.escape(DASHES)}]")
_SPACES_AND_DASHES = re.compile(f"[\\s{re.escape(DASHES)}]+")
CODE_LENGTH = 8
_CODE_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def damm_digit(digits: str) -> int:
    """Return the Damm check digit of a string of decimal digits."""
    interim = 0
    for char in digits:
        if not "0" <= char <= "9":
            raise ValueError(f"not a decimal digit: {char!r}")
        interim = _DAMM[interim][ord(char) - 48]
    return interim


def format_passport_number(year: int, sequence: int) -> str:
    """Return the number of passport ``sequence`` issued in ``year``, e.g. ``26-000123-4``."""
    if sequence < 1:
        raise ValueError("sequence must be positive")
    body = f"{year % 100:02d}{sequence:06d}"
    return f"{body[:2]}-{body[2:]}-{damm_digit(body)}"


def normalise_number(text: str) -> str:
    """Return a typed number in canonical form (spaces removed, other dashes made ``-``)."""
    cleaned = re.sub(r"\s+", "", text or "")
    return _DASH.sub("-", cleaned)


def read_typed_number(text: str) -> str:
    """Return a passport number as people type it in canonical form, for the manual check.

    Rule: spaces and dashes (``DASHES``) anywhere are ignored when what is left is 9 to 15
    ASCII digits (``260000253`` → ``26-000025-3``: year, sequence, check digit); any other
    text is ``normalise_number``'s. Not for search boxes: nine digits there may be part of
    an IIN.
    """
    digits = _SPACES_AND_DASHES.sub("", text or "")
    if 9 <= len(digits) <= 15 and digits.isascii() and digits.isdigit():
        return f"{digits[:2]}-{digits[2:-1]}-{digits[-1]}"
    return normalise_number(text)


def parse_passport_number(text: str) -> int | None:
    """Return the sequence of a well-formed number whose check digit is right, else None."""
    match = NUMBER_PATTERN.fullmatch(normalise_number(text))
    if match is None:
        return None
    year, sequence, check = match.groups()
    if damm_digit(year + sequence) != int(check):
        return None
    return int(sequence)


def code_from_bytes(data: bytes) -> str:
    """Return the 8-character Crockford base32 code made of the first 40 bits of ``data``."""
    value = int.from_bytes(data[:5], "big")
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))


def format_code(code: str) -> str:
    """Print a code in two groups: ``ABCD-EFGH``."""
    return f"{code[:4]}-{code[4:]}"


def normalise_code(text: str) -> str | None:
    """Return a typed code in canonical form, or None when it cannot be one."""
    cleaned = _SPACES_AND_DASHES.sub("", text or "").upper().translate(_CODE_TYPOS)
    if len(cleaned) != CODE_LENGTH or any(c not in CROCKFORD for c in cleaned):
        return None
    return cleaned
