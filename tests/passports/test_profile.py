"""The skills profile in the QR token (claim -6): computed from the snapshot, signed at issue,
compared with the record by the server."""

from __future__ import annotations

import dataclasses

import pytest

from passports.services import keys
from passports.services.snapshot import claims_for, profile_percents, section_percent
from passports.settings import current_settings
from passports.token import MAX_PROFILE_SECTIONS, public_key_from_jwk, sign_token, verify_token


@pytest.mark.parametrize(
    ("units", "max_units", "percent"),
    [
        (0, 900, 0),
        (900, 900, 100),
        (2, 8, 25),
        (1, 8, 13),  # 12.5: a tie goes up
        (7, 8, 88),  # 87.5
        (1, 3, 33),  # 33.33…
        (2, 3, 67),  # 66.66…
        (199, 200, 100),  # 99.5
        (397, 400, 99),  # 99.25
        (1, 200, 1),  # 0.5
        (1, 201, 0),  # 0.497…: decided on the exact value, not a rounded one
    ],
)
def test_section_percent_is_half_up_on_the_exact_value(units, max_units, percent):
    assert section_percent(units, max_units) == percent


def test_section_percent_refuses_impossible_marks():
    with pytest.raises(ValueError):
        section_percent(901, 900)
    with pytest.raises(ValueError):
        section_percent(0, 0)


def _sections(*pairs: tuple[int, int]) -> dict:
    return {"sections": [{"units": u, "max_units": m} for u, m in pairs]}


def test_profile_is_one_percent_per_section_in_order():
    assert profile_percents(_sections((875, 1000), (0, 3000), (2000, 2000))) == (88, 0, 100)


def test_no_profile_without_sections_or_with_too_many():
    assert profile_percents(_sections()) is None
    assert profile_percents({}) is None  # a snapshot without sections at all
    many = [(1, 2)] * MAX_PROFILE_SECTIONS
    assert profile_percents(_sections(*many)) == (50,) * MAX_PROFILE_SECTIONS
    assert profile_percents(_sections(*many, (1, 2))) is None


def test_issued_token_carries_the_snapshot_profile(session, issued, signing_key):
    passport = issued.passport
    claims = verify_token(
        passport.token, {signing_key.kid: public_key_from_jwk(signing_key.public_jwk)}
    )
    # the demo holder scored 7/8 of every aspect: 87.5 % in each of the four sections
    assert [s["key"] for s in passport.snapshot["sections"]] == ["1", "2", "3", "4"]
    assert claims.profile == (88, 88, 88, 88)
    assert claims == claims_for(passport)


def _resigned(session, passport, **changes) -> str:
    signer = keys.signer(session, current_settings())
    claims = dataclasses.replace(claims_for(passport), **changes)
    return sign_token(claims, signer.private_key, signer.kid)


def test_server_compares_the_profile_with_the_record(client, session, issued):
    passport = issued.passport

    def answer(token: str) -> dict:
        return client.post("/api/v1/verify", json={"token": token}).get_json()

    same = _resigned(session, passport)
    assert same != passport.token  # another signature over the same claims
    assert answer(same)["passport"]["matches_token"] is True
    # a token signed before the profile existed still agrees with its record
    assert answer(_resigned(session, passport, profile=None))["passport"]["matches_token"] is True
    other = answer(_resigned(session, passport, profile=(88, 88, 88, 87)))
    assert other["status"] == "genuine"
    assert other["passport"]["matches_token"] is False


def test_offline_verifier_reports_the_profile(session, issued):
    from passports.offline import verify_offline

    result = verify_offline(issued.passport.token, keys.public_keys(session))
    assert result.as_dict()["claims"]["profile"] == [88, 88, 88, 88]


@pytest.mark.parametrize(
    ("profile", "line"), [((88, 100, 0), "profile:    88 100 0  ("), (None, None)]
)
def test_the_verifier_prints_the_profile_when_the_token_has_one(capsys, profile, line):
    from passports.offline import OfflineResult
    from passports.token import PassportClaims
    from passports.verifier import report

    claims = PassportClaims("25-000123-8", "Әлібекова", "17", 8750, 5, 1_750_000_000, None, profile)
    with pytest.raises(SystemExit):
        report(OfflineResult("unchecked", claims, "KID"), as_json=False)
    lines = [text for text in capsys.readouterr().out.splitlines() if text.startswith("profile:")]
    assert lines == ([] if line is None else [line + "% of each WSOS section's maximum)"])
