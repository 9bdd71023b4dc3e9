from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.iin import (
    InvalidBIN,
    InvalidIIN,
    check_digit,
    iin_birth_date,
    iin_sex,
    make_bin,
    make_iin,
    mask_iin,
    validate_bin,
    validate_iin,
)


def reference_check_digit(first11: str) -> int | None:
    """Recompute the check digit straight from BRIEF §4, independently of the module."""
    s = sum(int(d) * w for d, w in zip(first11, range(1, 12), strict=True)) % 11
    if s == 10:
        second = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
        s = sum(int(d) * w for d, w in zip(first11, second, strict=True)) % 11
    return None if s == 10 else s


def with_wrong_check_digit(iin: str) -> str:
    return iin[:11] + str((int(iin[11]) + 1) % 10)


def find_never_issued_prefix(head: str) -> str:
    """Find an 11-digit prefix starting with ``head`` whose check digit is 10 twice."""
    width = 11 - len(head)
    for serial in range(10**width):
        prefix = f"{head}{serial:0{width}d}"
        if reference_check_digit(prefix) is None:
            return prefix
    raise AssertionError("no never-issued prefix found")


# Written out once; each is re-derived below so a typo cannot hide.
KNOWN_VALID = [
    ("030228601230", date(2003, 2, 28), "F"),
    ("900101300126", date(1990, 1, 1), "M"),
    ("000229500018", date(2000, 2, 29), "M"),
    ("850715450026", date(1985, 7, 15), "F"),
    ("991231100010", date(1899, 12, 31), "M"),
]


@pytest.mark.parametrize(("iin", "birth", "sex"), KNOWN_VALID)
def test_known_valid_iins(iin: str, birth: date, sex: str) -> None:
    assert reference_check_digit(iin[:11]) == int(iin[11])
    assert validate_iin(iin) == iin
    assert iin_birth_date(iin) == birth
    assert iin_sex(iin) == sex


@pytest.mark.parametrize(("iin", "birth", "sex"), KNOWN_VALID)
def test_make_iin_reproduces_known_numbers(iin: str, birth: date, sex: str) -> None:
    assert make_iin(birth, sex, int(iin[7:11])) == iin


@pytest.mark.parametrize(
    "spaced", ["030228 601230", " 030228601230 ", "0302 2860 1230", "030228\u00a0601230"]
)
def test_validate_iin_strips_whitespace(spaced: str) -> None:
    assert validate_iin(spaced) == "030228601230"


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("", "length", "must be 12 digits, got 0"),
        ("03022860123", "length", "must be 12 digits, got 11"),
        ("0302286012301", "length", "must be 12 digits, got 13"),
        ("03022860123O", "not_digits", "digits only"),
        ("030228-601230", "not_digits", "digits only"),
        ("٠٣٠٢٢٨٦٠١٢٣٠", "not_digits", "digits only"),  # Arabic-Indic digits
        (30228601230, "not_text", "as text"),
        ("030228001232", "century", "century digit 0 is not valid"),
        ("030228901234", "century", "century digit 9 is not valid"),
        ("030228701237", "century", "century digit 7 is not valid"),
        ("030230601231", "birth_date", "birth date 2003-02-30 does not exist"),
        ("031301601236", "birth_date", "birth date 2003-13-01 does not exist"),
        ("010229501236", "birth_date", "birth date 2001-02-29 does not exist"),
        ("000229300124", "birth_date", "birth date 1900-02-29 does not exist"),
        ("030200601238", "birth_date", "birth date 2003-02-00 does not exist"),
        (with_wrong_check_digit("030228601230"), "check_digit", "wrong check digit"),
    ],
)
def test_validate_iin_rejects(value: object, code: str, message: str) -> None:
    with pytest.raises(InvalidIIN, match=message) as caught:
        validate_iin(value)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert isinstance(caught.value, ValueError)


def test_error_messages_never_repeat_the_number() -> None:
    iin = with_wrong_check_digit("030228601230")
    with pytest.raises(InvalidIIN) as caught:
        validate_iin(iin)
    assert iin not in str(caught.value)


def test_never_issued_number_is_rejected() -> None:
    prefix = find_never_issued_prefix("9001013")
    assert check_digit(prefix) is None
    for last in "0123456789":
        with pytest.raises(InvalidIIN, match="never issued") as caught:
            validate_iin(prefix + last)
        assert caught.value.code == "never_issued"


def test_check_digit_uses_the_second_weights_when_the_first_give_ten() -> None:
    # find a prefix whose first sum is 10 but whose second is not
    for serial in range(10000):
        prefix = f"9001013{serial:04d}"
        first = sum(int(d) * w for d, w in zip(prefix, range(1, 12), strict=True)) % 11
        if first == 10 and reference_check_digit(prefix) is not None:
            break
    assert check_digit(prefix) == reference_check_digit(prefix)
    assert validate_iin(prefix + str(check_digit(prefix))) == prefix + str(check_digit(prefix))


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_check_digit_matches_the_reference(first11: str) -> None:
    assert check_digit(first11) == reference_check_digit(first11)


@pytest.mark.parametrize("bad", ["1234567890", "123456789012", "1234567890a"])
def test_check_digit_needs_eleven_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="11 digits"):
        check_digit(bad)


@given(
    st.dates(min_value=date(1800, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["M", "F"]),
    st.integers(min_value=0, max_value=9999),
)
def test_make_iin_round_trips(birth: date, sex: str, serial: int) -> None:
    iin = make_iin(birth, sex, serial)
    assert validate_iin(iin) == iin
    assert reference_check_digit(iin[:11]) == int(iin[11])
    assert iin_birth_date(iin) == birth
    assert iin_sex(iin) == sex
    assert iin[:6] == birth.strftime("%y%m%d")


def test_make_iin_bumps_a_never_issued_serial() -> None:
    prefix = find_never_issued_prefix("9001013")
    serial = int(prefix[7:])
    iin = make_iin(date(1990, 1, 1), "M", serial)
    assert iin[:7] == prefix[:7]
    assert int(iin[7:11]) == serial + 1
    assert validate_iin(iin) == iin


@pytest.mark.parametrize(
    ("birth", "sex", "serial"),
    [
        (date(1799, 12, 31), "M", 1),
        (date(2100, 1, 1), "F", 1),
        (date(2000, 1, 1), "X", 1),
        (date(2000, 1, 1), "M", 10000),
        (date(2000, 1, 1), "M", -1),
    ],
)
def test_make_iin_rejects_impossible_requests(birth: date, sex: str, serial: int) -> None:
    with pytest.raises(ValueError):
        make_iin(birth, sex, serial)


# --- BIN -----------------------------------------------------------------------------------


def test_make_bin_and_validate() -> None:
    bin_ = make_bin(2015, 7, 1)
    assert bin_[:6] == "150740"
    assert reference_check_digit(bin_[:11]) == int(bin_[11])
    assert validate_bin(bin_) == bin_
    assert validate_bin(f"{bin_[:6]} {bin_[6:]}") == bin_


@given(
    st.integers(min_value=1990, max_value=2099),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=0, max_value=99999),
)
def test_make_bin_round_trips(year: int, month: int, serial: int) -> None:
    bin_ = make_bin(year, month, serial)
    assert validate_bin(bin_) == bin_
    assert bin_[:4] == f"{year % 100:02d}{month:02d}"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("15074000001", "length"),
        ("15074000001x", "not_digits"),
        (with_wrong_check_digit(make_bin(2015, 7, 1)), "check_digit"),
        ("151340000012", "month"),
        ("150040000019", "month"),
    ],
)
def test_validate_bin_rejects(value: str, code: str) -> None:
    with pytest.raises(InvalidBIN) as caught:
        validate_bin(value)
    assert caught.value.code == code


def test_never_issued_bin_is_rejected() -> None:
    prefix = find_never_issued_prefix("150740")
    with pytest.raises(InvalidBIN, match="never issued"):
        validate_bin(prefix + "0")


@pytest.mark.parametrize(
    ("year", "month", "serial"), [(2015, 0, 1), (2015, 13, 1), (2015, 1, 10**5)]
)
def test_make_bin_rejects_impossible_requests(year: int, month: int, serial: int) -> None:
    with pytest.raises(ValueError):
        make_bin(year, month, serial)


# --- masking -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("030228601230", "••••••••1230"),
        ("030228 601230", "••••••••1230"),
        ("1230", "••••••••••••"),
        ("", "••••••••••••"),
    ],
)
def test_mask_iin(value: str, masked: str) -> None:
    assert mask_iin(value) == masked
