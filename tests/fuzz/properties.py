"""What the fuzzers check: bad input gives the module's own error or verdict, never a crash.

Each ``check_*`` function takes one generated input and raises when the code under test
breaks its contract: an exception of a type the module does not document (KeyError,
TypeError, ValueError, OverflowError, a database error …) or an answer that breaks an
invariant (a problem without its file, rows written by a refused import). The bounded
tests in this folder and benchmarks/fuzz_long.py run the same functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from hypothesis import HealthCheck, settings
from sqlalchemy import func, select

from assessments.iin import make_bin
from assessments.scheme_files.parse import parse_scheme_files
from assessments.scheme_files.spec import CompetenceSection, SchemeImportError
from assessments.tabular import Rejected, read_table
from passports.numbers import format_passport_number
from passports.offline import peek_kid, token_of, verify_offline
from passports.settings import current_settings
from passports.status_list import StatusList, build_bitstring
from passports.token import (
    PassportClaims,
    TokenInvalid,
    key_id,
    new_signing_key,
    read_token_kid,
    sign_token,
    token_from_url,
    verification_url,
    verify_token,
)
from tests.assessments.marking_setup import DEFAULT_LAYOUT
from tests.factories import iin_for

BASE_URL = "https://skills.example.kz"
# every verdict of docs/passport-token.md §8 that a token text can get
VERDICTS = frozenset(
    {"damaged", "invalid", "revoked", "superseded", "expired", "unchecked", "genuine"}
)
UNREADABLE = frozenset({"damaged", "invalid"})
SECTIONS = [
    CompetenceSection(number, f"Section {number}", Decimal(weight))
    for number, weight in enumerate((10, 15, 30, 30, 15), start=1)
]
# where a marking-scheme problem may point: a spreadsheet row or a JSON element path
_SCHEME_LOCATION = re.compile(
    r'|row [1-9][0-9]*|subCriterions\[[0-9]+\](\.aspects\[[0-9]+\])?|wsosSections\[".*"\]',
    re.DOTALL,
)


def bounded(examples: int) -> settings:
    """Settings of a bounded, reproducible fuzz test (the same examples on every run)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,  # the seeded data is shared on purpose
        ],
    )


# --- the token decoder ------------------------------------------------------------------


@dataclass(frozen=True)
class TokenWorld:
    """An issuer key, two real tokens (the second expired) and a status list revoking the first."""

    private_key: Any
    kid: str
    keys: dict[str, Any]
    tokens: list[str]
    status_list: StatusList
    now: int = 1_800_000_000


@cache
def token_world() -> TokenWorld:
    key = new_signing_key()
    kid = key_id(key)
    first, second = format_passport_number(26, 123), format_passport_number(26, 124)
    claims = [
        PassportClaims(first, "Әлібекова Айгерім", "17", 8750, 5, 1_750_000_000),
        PassportClaims(second, "Bekova Dana", "R2", 4000, 4, 1_750_000_000, 1_760_000_000),
    ]
    tokens = [sign_token(c, key, kid) for c in claims]
    status = StatusList("revocation", 1, build_bitstring({123: 1}, 1))
    return TokenWorld(key, kid, {kid: key.public_key()}, tokens, status)


def check_token_text(text: str, world: TokenWorld) -> str:
    """Decoding a token or URL raises only TokenInvalid; offline checks give a verdict.

    Returns the offline verdict with the status list.
    """
    decoders: Iterable[Callable[[], Any]] = (
        lambda: verify_token(text, world.keys, now=world.now),
        lambda: verify_token(text, world.keys, check_expiry=False),
        lambda: read_token_kid(text),
        lambda: token_from_url(text),
        lambda: token_of(text),
    )
    for decode in decoders:
        try:
            decoded = decode()
        except TokenInvalid:
            continue
        assert isinstance(decoded, PassportClaims | str)
    kid = peek_kid(text)
    assert kid is None or isinstance(kid, str)
    for status_list in (None, world.status_list):
        result = verify_offline(text, world.keys, status_list, now=world.now)
        assert result.status in VERDICTS, result
        assert (result.claims is None) == (result.status in UNREADABLE), result
        json.dumps(result.as_dict())
    try:
        url = verification_url(BASE_URL, text)
    except TokenInvalid:
        return result.status
    assert token_from_url(url) == text
    return result.status


def check_verification(session, text: str) -> str:
    """``POST /api/v1/verify``'s service: a verdict for anything, answered as JSON."""
    from passports.services import verification

    verdict = verification.verify(session, current_settings(), text)
    assert verdict.status in VERDICTS - {"unchecked"}, verdict  # the live record answers
    if verdict.status not in UNREADABLE:
        assert verdict.passport is not None
    json.dumps(verification.api_answer(session, current_settings(), verdict))
    return verdict.status


# --- marking-scheme files ---------------------------------------------------------------


def check_scheme_files(
    files: list[tuple[str, bytes]], sections: list[CompetenceSection] | None
) -> str:
    """A scheme that keeps every rule, or SchemeImportError naming file, place and field."""
    names = {name.replace("\\", "/").rsplit("/", 1)[-1] for name, _content in files}
    try:
        spec = parse_scheme_files(files, sections)
    except SchemeImportError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file in names, problem
            assert _SCHEME_LOCATION.fullmatch(problem.location), problem
            assert problem.message, problem
        assert str(exc)
        return "refused"
    allowed = {s.number for s in sections} if sections is not None else None
    letters = [c.letter for c in spec.criteria]
    assert len(letters) == len(set(letters)) and all(re.fullmatch("[A-Z]+", x) for x in letters)
    for aspect in spec.aspects():
        assert aspect.kind in ("M", "J"), aspect
        assert aspect.max_mark > 0 and (aspect.max_mark * 100) % 1 == 0, aspect
        assert len(aspect.levels) == (4 if aspect.kind == "J" else 0), aspect
        assert aspect.wsos_section >= 1, aspect
        assert allowed is None or aspect.wsos_section in allowed, aspect
        assert aspect.description, aspect
    assert spec.max_total == sum((a.max_mark for a in spec.aspects()), Decimal(0))
    for warning in spec.warnings:
        assert str(warning)
    return "accepted"


# --- tables and the imports built on them -----------------------------------------------


def check_rejected(exc: Rejected, filename: str | None) -> None:
    """A refusal lists problems, each with a row (or none) and a readable line."""
    assert exc.problems, exc
    for problem in exc.problems:
        assert problem.row is None or (isinstance(problem.row, int) and problem.row >= 1)
        assert problem.field is None or isinstance(problem.field, str)
        line = problem.format(filename)
        assert line and (not filename or line.startswith(filename)), line


def check_read_table(
    filename: str, data: bytes, required: Iterable[str], optional: Iterable[str] = ()
) -> str:
    """Rows of text under the known columns, or TableError/Rejected naming the file."""
    required, optional = tuple(required), tuple(optional)
    known = {name.lower() for name in (*required, *optional)}
    try:
        rows = read_table(filename, data, required, optional)
    except Rejected as exc:
        check_rejected(exc, filename)
        return "refused"
    for row in rows:
        assert row.number >= 2
        assert set(row.values) <= known
        assert all(isinstance(value, str) for value in row.values.values())
    return "read"


def row_counts(session, models: Iterable[type]) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in models)


def check_all_or_nothing(
    session,
    run: Callable[[], Any],
    models: Iterable[type],
    errors: tuple[type[BaseException], ...],
    filename: str | None = None,
) -> str:
    """``run`` succeeds, or fails with one of ``errors`` having written no row.

    Runs in a savepoint that is rolled back either way, so every input meets the same data.
    """
    models = tuple(models)
    nested = session.begin_nested()
    try:
        before = row_counts(session, models)
        try:
            run()
        except errors as exc:
            if isinstance(exc, Rejected):
                check_rejected(exc, filename if exc.filename else None)
            assert row_counts(session, models) == before, "a refused import changed rows"
            return "refused"
        return "imported"
    finally:
        nested.rollback()


# --- seeded data of the database fuzzers -------------------------------------------------

IMPORT_COLLEGES = ["FZC1", "FZC2"]
IMPORT_CENTRES = ["FZCEN"]
IMPORT_BINS = [make_bin(5, 1, 1), make_bin(7, 12, 30)]  # the first one is registered
# a registered candidate's IIN, then those of the exam's three enrolled candidates
IMPORT_IINS = [iin_for(1), iin_for(100), iin_for(101), iin_for(102)]
# aspect address → (kind, maximum in hundredths) of tests/assessments/marking_setup.py's exam
MARK_LAYOUT = {
    f"{code}.{position}": aspect
    for code, aspects in DEFAULT_LAYOUT.items()
    for position, aspect in enumerate(aspects, start=1)
}
MARK_ADDRESSES = sorted(MARK_LAYOUT)


@dataclass
class ImportWorld:
    """Colleges, a centre, an enterprise, a registered candidate and an exam in marking."""

    exam: Any
    chief: Any
    competence_code: str
    centre_id: int


def seed_imports(session) -> ImportWorld:
    from assessments.services.candidates.importing import import_candidates
    from tests.assessments.marking_setup import build_exam
    from tests.factories import CentreFactory, CollegeFactory, EnterpriseFactory

    for code in IMPORT_COLLEGES:
        CollegeFactory(code=code)
    centre = CentreFactory(code=IMPORT_CENTRES[0])
    EnterpriseFactory(bin=IMPORT_BINS[0])
    setup = build_exam(session, status="marking", serial=100)
    assert setup.iins == IMPORT_IINS[1:]
    header = "iin,last_name,first_name,middle_name,college_code,specialty,email\n"
    row = f"{IMPORT_IINS[0]},Бекова,Дана,,{IMPORT_COLLEGES[0]},Веб,\n"
    import_candidates(session, "seed.csv", (header + row).encode())
    session.flush()
    return ImportWorld(setup.exam, setup.chief, setup.exam.competence.code, centre.id)


def seed_issuer(session) -> tuple[Any, list[str]]:
    """The issuer's signer and two issued passports' tokens (the second one revoked)."""
    from fractions import Fraction

    from passports.services import issuance, keys
    from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam

    keys.clear_cache(current_settings())
    keys.ensure_key(session, current_settings())
    exam = finalised_exam([Sitting(names=DEMO_NAME, share=Fraction(7, 8)), Sitting()])
    genuine, revoked = issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports
    issuance.revoke(session, revoked, "Fuzzing")
    session.flush()
    return keys.signer(session, current_settings()), [genuine.token, revoked.token]


def candidate_files():
    """Candidate import files over the seeded colleges, centre, enterprise and IINs."""
    from tests.fuzz.strategies import candidate_columns, table_files, valid_candidate_rows

    columns = candidate_columns(IMPORT_IINS, IMPORT_COLLEGES, IMPORT_CENTRES, IMPORT_BINS)
    return table_files(columns, valid_candidate_rows(IMPORT_COLLEGES))


def mark_files():
    """Marks import files over the seeded exam's candidates and aspects."""
    from tests.fuzz.strategies import mark_columns, table_files, valid_mark_rows

    columns = mark_columns(IMPORT_IINS, MARK_ADDRESSES)
    return table_files(columns, valid_mark_rows(IMPORT_IINS[1:], MARK_LAYOUT))


def reference_files(kind: str, competence_codes: list[str]):
    """Reference-data import files of ``kind`` naming ``competence_codes``."""
    from tests.fuzz.strategies import reference_columns, table_files

    return table_files(reference_columns(competence_codes, IMPORT_BINS)[kind])
