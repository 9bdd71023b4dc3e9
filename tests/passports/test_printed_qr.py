"""The printed QR stays at version 11 or lower at level M with the skills profile in the token.

Measured on real issued passports of the fixture holder "Әлібекова Айгерім Нұрланқызы" with
PUBLIC_BASE_URL=https://skills.example.kz (tests/conftest.py): the demo passport with the demo
competence's sections, and a competence of 10 sections in the worst case for size (every
percent 24 or more, so two CBOR bytes each, and an expiry).
"""

from __future__ import annotations

from fractions import Fraction

from app.demo import seed_all
from assessments.demo import section_weights
from passports.demo import DEMO_HOLDER, demo_passport
from passports.qr import qr_matrix, qr_version
from passports.services import issuance
from passports.services.verification import passport_url
from passports.settings import current_settings
from passports.token import key_id, public_key_from_jwk, verify_token
from tests.passports import factories
from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam

BASE_URL = "https://skills.example.kz"
QUIET_ZONE = 4


def printed_version(passport) -> int:
    """The version of the QR the PDF prints (passports/pdf.py: qr_matrix of the URL at M)."""
    url = passport_url(passport, current_settings().public_base_url)
    version = qr_version(url, "M")
    assert len(qr_matrix(url, "M")) == 17 + 4 * version + 2 * QUIET_ZONE
    return version


def token_profile(passport, signing_key) -> tuple[int, ...] | None:
    jwk = signing_key.public_jwk
    claims = verify_token(
        passport.token, {key_id(public_key_from_jwk(jwk)): public_key_from_jwk(jwk)}
    )
    return claims.profile


def test_settings_are_the_measured_ones(app):
    assert current_settings().public_base_url == BASE_URL


def test_demo_passport_prints_at_version_11_or_lower(session):
    seed_all(session)
    passport = demo_passport(session)
    assert passport.holder_name == DEMO_HOLDER == " ".join(DEMO_NAME)
    # every WSOS section of the demo competence is assessed, so each has a percent in the QR
    code = passport.snapshot["competence"]["code"]
    assert len(passport.snapshot["sections"]) == len(section_weights(code))
    assert printed_version(passport) <= 11


def test_ten_section_competence_prints_at_version_11_or_lower(
    app, session, signing_key, monkeypatch
):
    # ten WSOS sections in two criteria; 7/8 of every aspect is 87.5 % → 88 in each section
    monkeypatch.setattr(
        factories,
        "LAYOUT",
        {
            "A": ("Жоспарлау", tuple((n, 1000) for n in range(1, 6))),
            "B": ("Орындау", tuple((n, 1000) for n in range(6, 11))),
        },
    )
    app.config["PASSPORT_VALIDITY_YEARS"] = 5  # an expiry costs 6 more bytes
    try:
        exam = finalised_exam([Sitting(names=DEMO_NAME, share=Fraction(7, 8))])
        passport = issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports[0]
    finally:
        app.config["PASSPORT_VALIDITY_YEARS"] = 0
    assert passport.holder_name == DEMO_HOLDER
    assert passport.expires_at is not None
    assert token_profile(passport, signing_key) == (88,) * 10
    assert printed_version(passport) <= 11
