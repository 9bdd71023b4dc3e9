"""Passport numbers and verification codes: formats, check digit, normalisation. Pure functions.

A passport number is ``YY-NNNNNN-C``: the two-digit year of issue, the passport's sequence
number (six digits or more; global, so it is also the passport's index in the signed status
list) and a Damm check digit over all the digits before it. Damm catches every single wrong
digit and every swap of two neighbouring digits, and its check is always a digit, so numbers
stay compact in the QR token (``26-000123-4``: 11 characters).

A verification code is 8 characters of Crockford's base32 (no I, L, O, U), printed as
``ABCD-EFGH``; typing is forgiving: case, spaces and dashes are ignored, and O → 0, I/L → 1.
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
    return re.sub(r"[‐‑‒–—―−]", "-", cleaned)


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
    cleaned = re.sub(r"[\s\-‐‑–—]+", "", text or "").upper().translate(_CODE_TYPOS)
    if len(cleaned) != CODE_LENGTH or any(c not in CROCKFORD for c in cleaned):
        return None
    return cleaned
