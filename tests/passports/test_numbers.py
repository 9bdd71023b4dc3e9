"""Passport numbers (Damm check digit) and verification codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passports.numbers import (
    code_from_bytes,
    damm_digit,
    format_code,
    format_passport_number,
    normalise_code,
    parse_passport_number,
    read_typed_number,
)

# the dashes the manual check accepts in numbers and codes alike
DASHES = ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212"]


@pytest.mark.parametrize(
    ("digits", "check"),
    [("572", 4), ("5724", 0), ("0", 0)],
)
def test_damm_digit_known_values(digits, check):
    assert damm_digit(digits) == check
    assert damm_digit(digits + str(check)) == 0


def test_number_format_and_parse():
    number = format_passport_number(2026, 123)
    assert number == f"26-000123-{damm_digit('26000123')}"
    assert parse_passport_number(number) == 123
    assert parse_passport_number(number.replace("-", "‑")) == 123  # typed with another dash
    assert parse_passport_number(f" {number} ") == 123
    assert parse_passport_number(format_passport_number(2031, 1_234_567)) == 1_234_567


@given(st.integers(1, 10**7), st.integers(2000, 2099), st.data())
def test_every_single_digit_error_is_caught(sequence, year, data):
    number = format_passport_number(year, sequence)
    positions = [i for i, c in enumerate(number) if c.isdigit()]
    at = data.draw(st.sampled_from(positions))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[at]]))
    assert parse_passport_number(number[:at] + wrong + number[at + 1 :]) is None


@given(st.integers(1, 10**7), st.integers(2000, 2099), st.data())
def test_every_adjacent_swap_is_caught(sequence, year, data):
    number = format_passport_number(year, sequence)
    pairs = [
        i
        for i in range(len(number) - 1)
        if number[i].isdigit() and number[i + 1].isdigit() and number[i] != number[i + 1]
    ]
    if not pairs:
        return
    at = data.draw(st.sampled_from(pairs))
    swapped = number[:at] + number[at + 1] + number[at] + number[at + 2 :]
    assert parse_passport_number(swapped) is None


@pytest.mark.parametrize("text", ["", "26-000123", "26000123-4", "ab-000123-4", "26-123-4"])
def test_malformed_numbers_are_refused(text):
    assert parse_passport_number(text) is None


def test_codes_are_forgiving_to_type():
    code = code_from_bytes(bytes(range(1, 6)))
    assert len(code) == 8 and set(code) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    printed = format_code(code)
    assert normalise_code(printed) == code
    assert normalise_code(printed.lower()) == code
    assert normalise_code(" ".join(printed)) == code
    assert normalise_code("0O1I-L234") == "00111234"
    assert normalise_code("ABCD-EFG") is None
    assert normalise_code("ABCD-EFGU") is None  # U is not in Crockford's alphabet


@pytest.mark.parametrize(
    "typed",
    ["260000253", "26 000025 3", " 26 000 025 3 ", "26-0000253", "26000025-3", "2600\u00a000253"]
    + [f"26{dash}000025{dash}3" for dash in DASHES],
)
def test_a_number_is_read_as_people_type_it(typed):
    assert read_typed_number(typed) == "26-000025-3"


@pytest.mark.parametrize(
    "typed",
    ["26000025", "2600002530000000", "٢٦٠٠٠٠٢٥٣", "26_000025_3", "26.000025.3", "abc"],
)
def test_what_is_not_a_typed_number_is_left_to_the_lookup(typed):
    assert read_typed_number(typed) != "26-000025-3"


@pytest.mark.parametrize("dash", DASHES)
def test_a_code_is_read_with_any_dash_or_none_in_any_case(dash):
    code = code_from_bytes(bytes(range(1, 6)))
    for typed in (
        f"{code[:4]}{dash}{code[4:]}",
        f"{code[:4]}{dash}{code[4:]}".lower(),
        code.lower(),
    ):
        assert normalise_code(typed) == code
