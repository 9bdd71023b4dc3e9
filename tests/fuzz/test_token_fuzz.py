"""Fuzz the passport token decoder (no database): only TokenInvalid, or a verdict."""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.fuzz.properties import BASE_URL, bounded, check_token_text, token_world
from tests.fuzz.strategies import tokens

WORLD = token_world()


@bounded(400)
@given(tokens(WORLD.private_key, WORLD.kid, WORLD.tokens, BASE_URL))
def test_decoding_any_token_text_raises_only_token_invalid(text):
    check_token_text(text, WORLD)


@pytest.mark.parametrize(
    "text",
    [
        "-" + "B" * 23,  # int() reads a sign: peek_kid converted a negative number
        "+" + "B" * 40,
        " " + "B" * 30,
        "B_" + "B" * 30,  # int() accepts underscores between digits
        "-" + "B" * 23 + "#",
    ],
)
def test_token_heads_that_int_accepts_are_invalid(text):
    check_token_text(text, WORLD)


def test_found_by_fuzzing_a_signed_number_in_other_digits_has_no_status_index():
    # \d matched Arabic-Indic digits, which the Damm check digit then refused (ValueError)
    from passports.offline import verify_offline
    from passports.token import PassportClaims, sign_token

    claims = PassportClaims("٢٦-٠٠٠١٢٣-٤", "Әлібекова", "17", 8750, 5, 1_750_000_000)
    token = sign_token(claims, WORLD.private_key, WORLD.kid)
    result = verify_offline(token, WORLD.keys, WORLD.status_list, now=WORLD.now)
    # no index, so the list cannot answer for it: a genuine signature without a status
    assert result.status == "unchecked"
    assert result.detail.endswith("the passport number has no status-list index")
