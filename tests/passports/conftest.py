"""Fixtures of the passport tests: a signing key and issued passports."""

from __future__ import annotations

import pytest

from passports.services import issuance, keys
from passports.settings import current_settings
from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam


@pytest.fixture
def signing_key(session):
    keys.clear_cache(current_settings())
    key, _created = keys.ensure_key(session, current_settings())
    return key


@pytest.fixture
def credential_key(session):
    """The RS256 key that signs the Open Badges credentials."""
    key, _created = keys.ensure_key(session, current_settings(), keys.RS256)
    return key


@pytest.fixture
def issued(session, signing_key, credential_key):
    """A finalised exam of three (the demo holder passes, one fails, one absent), issued."""
    from fractions import Fraction

    exam = finalised_exam(
        [
            Sitting(names=DEMO_NAME, share=Fraction(7, 8)),
            Sitting(share=Fraction(1, 10)),
            Sitting(attendance="absent"),
        ]
    )
    summary = issuance.issue_for_exam(session, current_settings(), exam.exam)
    exam.summary = summary
    exam.passport = summary.new_passports[0]
    return exam
