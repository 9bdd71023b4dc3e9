"""Issuing: eligibility, idempotence, re-issue after corrections, revocation, CLI."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.models import Candidate
from passports.models import Passport
from passports.services import PassportError, holders, issuance, secrets, snapshot, verification
from passports.settings import current_settings
from passports.token import PassportClaims, public_key_from_jwk, verify_token
from tests.passports.factories import Sitting, finalised_exam, store_result


def counts(summary) -> tuple[int, int, int, int]:
    d = summary.as_dict()
    return d["issued"], d["already_issued"], d["not_eligible"], d["superseded"]


def test_one_passport_per_passing_present_candidate(session, signing_key):
    exam = finalised_exam(
        [
            Sitting(share=Fraction(9, 10)),
            Sitting(share=Fraction(1, 10)),  # grade 2: fails
            Sitting(attendance="absent"),
            Sitting(attendance="disqualified"),
            Sitting(share=Fraction(1, 5)),  # 20 %: grade 3, passes
        ]
    )
    summary = issuance.issue_for_exam(session, current_settings(), exam.exam)
    assert summary.as_dict() == {
        "issued": 2,
        "already_issued": 0,
        "not_eligible": 3,
        "superseded": 0,
    }
    holders = {p.candidate_id for p in session.query(Passport)}
    assert holders == {exam.candidate(0).id, exam.candidate(4).id}


def test_running_again_issues_nothing_twice(session, issued):
    again = issuance.issue_for_exam(session, current_settings(), issued.exam)
    assert counts(again) == (0, 1, 2, 0)
    assert session.query(Passport).count() == 1


def test_only_a_finalised_exam_gets_passports(session, signing_key):
    exam = finalised_exam()
    exam.exam.status = "marking"
    session.flush()
    with pytest.raises(PassportError) as caught:
        issuance.issue_for_exam(session, current_settings(), exam.exam)
    assert caught.value.code == "not_finalised"
    assert session.query(Passport).count() == 0


def test_snapshot_freezes_what_is_certified_without_personal_data(session, issued):
    passport = issued.passport
    snap = passport.snapshot
    candidate = issued.candidate(0)
    assert snap["holder"]["name"] == "Әлібекова Айгерім Нұрланқызы"
    assert snap["holder"]["name_latin"] == "ALIBEKOVA AIGERIM"
    assert snap["result"]["total"] == "87.50" and snap["result"]["grade"] == 5
    assert [c["key"] for c in snap["criteria"]] == ["A", "B"]
    assert [s["key"] for s in snap["sections"]] == ["1", "2", "3", "4"]
    assert snap["competence"]["code"] == issued.exam.competence.code
    text = json.dumps(snap, ensure_ascii=False)
    from assessments.personal_data import decrypt_iin

    assert decrypt_iin(candidate.iin_encrypted) not in text
    # renaming the college later does not change what the passport says
    candidate.college.name_kk = "Басқа колледж"
    session.flush()
    assert passport.snapshot["college"]["name"]["kk"] != "Басқа колледж"


def test_number_code_token_and_expiry(app, session, signing_key):
    app.config["PASSPORT_VALIDITY_YEARS"] = 5
    try:
        passport = issuance.issue_for_exam(
            session, current_settings(), finalised_exam().exam
        ).new_passports[0]
    finally:
        app.config["PASSPORT_VALIDITY_YEARS"] = 0
    from passports.numbers import parse_passport_number

    assert parse_passport_number(passport.number) == passport.sequence
    assert passport.expires_at.year == passport.issued_at.year + 5
    code = secrets.verification_code(current_settings(), passport.number, passport.code_nonce)
    assert secrets.code_matches(current_settings(), passport.number, code, passport.code_hash)
    assert code not in passport.code_hash
    claims = verify_token(
        passport.token, {signing_key.kid: public_key_from_jwk(signing_key.public_jwk)}
    )
    assert claims == PassportClaims(
        number=passport.number,
        holder_name=passport.holder_name,
        competence_code=passport.snapshot["competence"]["code"],
        total_hundredths=8000,
        grade=5,
        issued_at=int(passport.issued_at.timestamp()),
        expires_at=int(passport.expires_at.timestamp()),
        profile=(80, 80, 80, 80),  # 4/5 of every aspect in each of the four WSOS sections
    )


def test_corrected_result_supersedes_and_failing_now_revokes(session, issued):
    exam = issued.exam
    other = finalised_exam().exam  # another exam's passports are not touched
    issuance.issue_for_exam(session, current_settings(), other)
    old = issued.passport
    # the exam is reopened, corrected and finalised again: stored results change
    exam.status = "marking"
    store_result(issued.enrolments[0], Fraction(3, 4), issued.scheme)
    store_result(issued.enrolments[1], Fraction(1, 2), issued.scheme)  # now passes
    exam.status = "finalised"
    session.flush()

    summary = issuance.issue_for_exam(session, current_settings(), exam)
    assert counts(summary) == (2, 0, 1, 1)
    session.refresh(old)
    assert old.status() == "superseded" and old.supersede_reason == "result_changed"
    new = session.get(Passport, old.superseded_by_id)
    assert new.snapshot["result"]["total"] == "75.00" and new.status() == "genuine"
    assert verification.verify(session, current_settings(), old.token).status == "superseded"

    # corrected again: the first holder now fails
    store_result(issued.enrolments[0], Fraction(1, 10), issued.scheme)
    summary = issuance.issue_for_exam(session, current_settings(), exam)
    assert counts(summary) == (0, 1, 2, 0) and summary.revoked == 1
    session.refresh(new)
    assert new.status() == "revoked" and new.revocation_kind == "not_passing"
    assert verification.verify(session, current_settings(), new.token).status == "revoked"
    assert all(p.status() == "genuine" for p in session.query(Passport).filter_by(exam_id=other.id))


def test_absent_after_correction_revokes_with_that_reason(session, issued):
    issued.enrolments[0].attendance = "absent"
    from assessments.models import Result

    session.delete(session.query(Result).filter_by(enrolment_id=issued.enrolments[0].id).one())
    session.flush()
    summary = issuance.issue_for_exam(session, current_settings(), issued.exam)
    assert summary.revoked == 1
    session.refresh(issued.passport)
    assert issued.passport.revocation_kind == "not_present"


def test_reissue_for_a_holder_who_no_longer_qualifies_revokes_and_says_so(session, issued):
    issued.enrolments[0].attendance = "absent"
    from assessments.models import Result

    session.delete(session.query(Result).filter_by(enrolment_id=issued.enrolments[0].id).one())
    session.flush()
    outcome = issuance.reissue(session, current_settings(), issued.passport)
    assert outcome.revoked and outcome.new is None and outcome.old is issued.passport
    assert issued.passport.revocation_kind == "not_present"
    assert session.query(Passport).count() == 1


def test_name_correction_reissues_and_the_private_link_moves(session, issued):
    old = issued.passport
    link = holders.private_link_token(current_settings(), old)
    old.share_enabled = False
    candidate: Candidate = session.get(Candidate, old.candidate_id)
    candidate.last_name = "Серікова"
    candidate.last_name_latin = "SERIKOVA"
    session.flush()
    new = issuance.reissue_for_candidate(session, current_settings(), candidate)
    assert len(new) == 1
    session.refresh(old)
    assert old.superseded_by_id == new[0].id and old.supersede_reason == "name_changed"
    assert new[0].holder_name == "Серікова Айгерім Нұрланқызы"
    assert verification.find_by_private_link(session, link).id == new[0].id
    assert new[0].share_enabled is False  # the holder's choice carries over
    assert old.link_hash is None


def test_manual_revocation_is_final_for_automatic_issuing(session, issued):
    issuance.revoke(session, issued.passport, "Документ выдан по ошибке")
    summary = issuance.issue_for_exam(session, current_settings(), issued.exam)
    assert summary.issued == 0 and session.query(Passport).count() == 1
    with pytest.raises(PassportError) as caught:
        issuance.revoke(session, issued.passport, "again")
    assert caught.value.code == "already_revoked"


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_revocation_needs_a_reason(session, issued, reason):
    with pytest.raises(PassportError):
        issuance.revoke(session, issued.passport, reason)
    assert issued.passport.revoked_at is None


def test_reissue_of_a_superseded_passport_is_refused(session, issued):
    new = issuance.reissue(session, current_settings(), issued.passport).new
    assert new.number != issued.passport.number
    with pytest.raises(PassportError) as caught:
        issuance.reissue(session, current_settings(), issued.passport)
    assert caught.value.code == "not_current"


def test_candidate_with_a_passport_cannot_be_erased(session, issued):
    from assessments.services.candidates.personal_data import (
        ErasureRefused,
        candidate_has_passport,
        erase_candidate,
        export_personal_data,
    )

    holder = session.get(Candidate, issued.passport.candidate_id)
    assert candidate_has_passport(session, holder)
    assert not candidate_has_passport(session, issued.candidate(1))
    with pytest.raises(ErasureRefused):
        erase_candidate(session, holder, None)
    exported = export_personal_data(session, holder)
    assert [p["number"] for p in exported["passports"]] == [issued.passport.number]


def test_issue_cli_prints_the_summary_and_list_cli_the_urls(app, session, issued):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["passports", "issue", str(issued.exam.id), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "issued": 0,
        "already_issued": 1,
        "not_eligible": 2,
        "superseded": 0,
    }
    listed = json.loads(
        runner.invoke(args=["passports", "list", "--exam", str(issued.exam.id), "--json"]).output
    )
    assert listed == [
        {
            "number": issued.passport.number,
            "last_name": "Әлібекова",
            "first_name": "Айгерім",
            "total": "87.50",
            "percent": "87.50",
            "grade": 5,
            "status": "genuine",
            "url": verification.passport_url(issued.passport, current_settings().public_base_url),
        }
    ]
    assert listed[0]["url"].startswith("HTTPS://SKILLS.EXAMPLE.KZ/V#")


def test_issue_cli_refuses_an_unfinished_or_unknown_exam(app, session, signing_key):
    exam = finalised_exam(start=__import__("datetime").date(2026, 5, 1))
    exam.exam.status = "marking"
    session.flush()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["passports", "issue", str(exam.exam.id)])
    assert result.exit_code == 1 and "not finalised" in result.output
    assert runner.invoke(args=["passports", "issue", "999999"]).exit_code == 1


def test_revoke_and_reissue_cli(app, session, issued):
    runner = app.test_cli_runner()
    number = issued.passport.number
    assert runner.invoke(args=["passports", "revoke", number]).exit_code == 2  # --reason needed
    result = runner.invoke(args=["passports", "revoke", number, "--reason", "Подлог"])
    assert result.exit_code == 0, result.output
    assert issued.passport.revocation_reason == "Подлог"
    assert runner.invoke(args=["passports", "reissue", number]).exit_code == 1
    assert (
        runner.invoke(args=["passports", "revoke", "26-999999-0", "--reason", "x"]).exit_code == 1
    )


@given(st.integers(0, 10**9), st.integers(1, 10**6))
def test_marks_are_rounded_half_up_exactly(units, denominator):
    from assessments.scoring import round_half_up

    expected = round_half_up(Fraction(units, denominator), 2)
    assert snapshot._two(units, denominator) == str(expected)
