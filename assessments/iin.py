"""Check and generate Kazakh individual (IIN/ЖСН/ИИН) and business (BIN/БСН/БИН) numbers.

IIN layout, 12 digits::

    YYMMDD  birth date
    C       century and sex: 1/2 → 1800s, 3/4 → 1900s, 5/6 → 2000s; odd male, even female
    NNNN    registration serial
    K       check digit

Check digit: ``s = Σ dᵢ·wᵢ mod 11`` over the first 11 digits with weights 1…11; if s is 10,
recompute with weights 3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2; if it is 10 again the number is
never issued. Otherwise the number is valid when s equals the 12th digit.

A BIN uses the same check digit; its digits 1–4 are the registration year and month.

The IIN is personal data: error messages here never repeat the number itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.messages import N_

IIN_LENGTH = 12
FIRST_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

# century/sex digit → (first year of the century, sex)
_CENTURY_SEX = {
    "1": (1800, "M"),
    "2": (1800, "F"),
    "3": (1900, "M"),
    "4": (1900, "F"),
    "5": (2000, "M"),
    "6": (2000, "F"),
}


class InvalidIdentifier(ValueError):
    """A national identification number is malformed; ``code`` names the reason."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class InvalidIIN(InvalidIdentifier):
    """An individual identification number (IIN) is not valid."""


class InvalidBIN(InvalidIdentifier):
    """A business identification number (BIN) is not valid."""


def _is_ascii_digits(text: str) -> bool:
    return all(char in "0123456789" for char in text)


def check_digit(first11: str) -> int | None:
    """Compute the check digit for the first 11 digits of an IIN or BIN.

    Rule: ``Σ dᵢ·i mod 11`` with weights 1…11; if that is 10, use weights 3…11, 1, 2; if it
    is 10 again, return None – such a number is never issued.
    """
    if len(first11) != IIN_LENGTH - 1 or not _is_ascii_digits(first11):
        raise ValueError("check digit needs exactly 11 digits")
    digits = [int(d) for d in first11]
    for weights in (FIRST_WEIGHTS, SECOND_WEIGHTS):
        s = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if s != 10:
            return s
    return None


def _normalise(value: object, error: type[InvalidIdentifier], label: str) -> str:
    if not isinstance(value, str):
        raise error(f"{label} must be given as text of 12 digits", "not_text")
    text = "".join(value.split())
    if not _is_ascii_digits(text):
        raise error(f"{label} must contain digits only", "not_digits")
    if len(text) != IIN_LENGTH:
        raise error(f"{label} must be 12 digits, got {len(text)}", "length")
    return text


def _check_check_digit(text: str, error: type[InvalidIdentifier], label: str) -> None:
    expected = check_digit(text[:11])
    if expected is None:
        raise error(f"{label} check digit cannot be computed (never issued)", "never_issued")
    if expected != int(text[11]):
        raise error(f"{label} has a wrong check digit", "check_digit")


def _birth_date(text: str) -> date:
    century_digit = text[6]
    if century_digit not in _CENTURY_SEX:
        raise InvalidIIN(f"IIN century digit {century_digit} is not valid", "century")
    century, _ = _CENTURY_SEX[century_digit]
    year, month, day = century + int(text[0:2]), int(text[2:4]), int(text[4:6])
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidIIN(
            f"IIN birth date {year:04d}-{month:02d}-{day:02d} does not exist", "birth_date"
        ) from None


def validate_iin(value: str) -> str:
    """Check an IIN and return it as 12 digits without spaces.

    Rule: 12 ASCII digits after removing whitespace, a century/sex digit 1–6, a real birth
    date and a matching check digit; otherwise raise ``InvalidIIN``.
    """
    text = _normalise(value, InvalidIIN, "IIN")
    _birth_date(text)
    _check_check_digit(text, InvalidIIN, "IIN")
    return text


# what a person is told about an IIN they typed (forms, imports); the check's own
# English messages above are for logs and the command line
IIN_MESSAGES = {
    "not_text": N_("must contain digits only"),
    "not_digits": N_("must contain digits only"),
    "century": N_("the 7th digit (century and sex) must be 1 to 6"),
    "birth_date": N_("the first six digits are not a real birth date (YYMMDD)"),
    "check_digit": N_("has a wrong check digit (the last digit does not match the others)"),
    "never_issued": N_("is not a valid IIN: no check digit exists for these digits"),
}


def iin_problem(error: InvalidIIN, value: object) -> tuple[str, dict[str, Any]]:
    """Return the message (with its parameters) that tells a person why ``value`` was refused.

    Rule: one wording for every form and import. A wrong length says how many digits were
    typed, and 11 digits point at Excel dropping a leading zero. The message never repeats
    the number itself.
    """
    if error.code == "length":
        count = len("".join(value.split())) if isinstance(value, str) else 0
        if count == IIN_LENGTH - 1:
            return (
                N_(
                    "must be 12 digits, got 11; Excel drops a leading zero from numbers:"
                    " format the column as Text"
                ),
                {},
            )
        return N_("must be 12 digits, got %(count)s"), {"count": count}
    return IIN_MESSAGES.get(error.code, N_("is not a valid IIN")), {}


def iin_birth_date(iin: str) -> date:
    """Return the birth date encoded in a valid IIN.

    Rule: ``YYMMDD`` in the century given by the 7th digit.
    """
    return _birth_date(validate_iin(iin))


def iin_sex(iin: str) -> str:
    """Return "M" or "F" for a valid IIN.

    Rule: the 7th digit is odd for men and even for women.
    """
    return _CENTURY_SEX[validate_iin(iin)[6]][1]


def validate_bin(value: str) -> str:
    """Check a BIN and return it as 12 digits without spaces.

    Rule: 12 ASCII digits after removing whitespace, a registration month 01–12 in digits
    3–4 and a matching check digit; otherwise raise ``InvalidBIN``.
    """
    text = _normalise(value, InvalidBIN, "BIN")
    month = int(text[2:4])
    if not 1 <= month <= 12:
        raise InvalidBIN(f"BIN registration month {text[2:4]} is not valid", "month")
    _check_check_digit(text, InvalidBIN, "BIN")
    return text


def _with_check_digit(prefix: str, serial: int, serial_width: int) -> str:
    """Append serial and check digit, bumping the serial past never-issued numbers."""
    modulus = 10**serial_width
    for step in range(modulus):
        first11 = f"{prefix}{(serial + step) % modulus:0{serial_width}d}"
        digit = check_digit(first11)
        if digit is not None:
            return f"{first11}{digit}"
    raise ValueError("no serial gives a valid check digit")  # pragma: no cover - unreachable


def make_iin(birth: date, sex: str, serial: int) -> str:
    """Build a valid IIN for demo data and tests.

    Rule: birth date, century/sex digit, ``serial`` as 4 digits (0–9999) and the check
    digit; when the check digit cannot be computed the serial is bumped (wrapping at 9999).
    """
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    if not 1800 <= birth.year <= 2099:
        raise ValueError(f"an IIN encodes birth years 1800-2099, got {birth.year}")
    if not 0 <= serial <= 9999:
        raise ValueError(f"serial must be 0-9999, got {serial}")
    century_digit = {1800: 1, 1900: 3, 2000: 5}[birth.year // 100 * 100] + (sex == "F")
    prefix = f"{birth:%y%m%d}{century_digit}"
    return _with_check_digit(prefix, serial, 4)


def make_bin(year: int, month: int, serial: int) -> str:
    """Build a valid BIN for demo data and tests.

    Rule: ``YYMM`` of registration, "40" (resident legal entity, head office), ``serial`` as
    5 digits (0–99999) and the check digit; the serial is bumped past never-issued numbers.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1-12, got {month}")
    if year < 0:
        raise ValueError(f"year must not be negative, got {year}")
    if not 0 <= serial <= 99999:
        raise ValueError(f"serial must be 0-99999, got {serial}")
    return _with_check_digit(f"{year % 100:02d}{month:02d}40", serial, 5)


def mask_iin(iin: str) -> str:
    """Hide an IIN for display, keeping only its last four digits.

    Rule: eight bullets and the last four digits ("••••••••1234"); anything that is not
    12 characters after removing whitespace is hidden completely.
    """
    text = "".join(iin.split())
    if len(text) != IIN_LENGTH:
        return "•" * IIN_LENGTH
    return "•" * 8 + text[-4:]
