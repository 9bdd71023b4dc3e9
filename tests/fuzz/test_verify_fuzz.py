"""Fuzz the verification service behind ``POST /api/v1/verify``: a verdict for any text.

Tokens signed with the issuer's real key (garbage claims included), real tokens of issued
passports (one revoked) with characters changed, their URLs, and arbitrary text.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.properties import BASE_URL, bounded, check_verification, seed_issuer
from tests.fuzz.strategies import tokens


@pytest.fixture
def issuer(session):
    return seed_issuer(session)


@bounded(150)
@given(data=st.data())
def test_any_text_gets_a_verdict(session, issuer, data):
    signer, real = issuer
    text = data.draw(tokens(signer.private_key, signer.kid, real, BASE_URL), label="text")
    check_verification(session, text)


@pytest.mark.parametrize("text", ["-" + "B" * 40, "-B" + "A" * 30, "+" + "C" * 30])
def test_a_token_read_as_a_negative_number_is_invalid_not_a_crash(session, issuer, text):
    # the key-id peek let int() read a sign and failed converting a negative number
    check_verification(session, text)
