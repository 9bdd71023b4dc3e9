"""Schemathesis against docs/openapi.yaml: the API answers what its document says.

Every operation of the document is fuzzed in-process (WSGI) on a seeded data set: an exam
in marking (one of its forms complete, so it can be locked) and issued passports, one of
them revoked. Generated path ids, enrolment ids, aspect addresses, IINs, user ids and
tokens are steered onto those records for part of the examples (a choice derived from
the generated value, so still deterministic), so requests reach the real code paths and
not only the 404s. Checks: no 5xx, every status code documented, content type and body
as documented (problem+json errors included).

The chief expert of the exam may use every operation, so the main run (40 examples per
operation) signs in as them; shorter runs as an expert of the exam and without a session
cover the 403 and 401 answers. Deterministic (``derandomize``) and bounded, so a failure
reproduces in CI; benchmarks/fuzz_long.py runs the importers and the decoder for longer.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import pytest
import schemathesis
from flask import g
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.config import PROJECT_ROOT
from assessments.services.marks import entry
from passports.services import issuance, keys
from passports.settings import current_settings
from tests.assessments.marking_setup import build_exam
from tests.factories import PASSWORD
from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
XHR = {"X-Requested-With": "XMLHttpRequest"}
BASE_URL = "https://skills.example.kz"  # PUBLIC_BASE_URL of the test app

schema = schemathesis.openapi.from_path(PROJECT_ROOT / "docs" / "openapi.yaml")
schema.config.generation.update(
    modes=["positive", "negative"],
    deterministic=True,
    # the session cookie is the signed-in user's, never a generated one
    with_security_parameters=False,
)


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        # the seeded data set is a function-scoped fixture shared by the examples on purpose
        suppress_health_check=list(HealthCheck),
    )


@dataclass
class World:
    """The seeded records and the signed-in user's session cookie (None: anonymous)."""

    exam_id: int
    forms: list[int]
    enrolments: list[int]
    addresses: list[str]
    iins: list[str]
    users: list[int]
    tokens: list[str]
    cookie: str | None


def seed(session) -> tuple[World, dict]:
    keys.clear_cache(current_settings())
    keys.ensure_key(session, current_settings())
    marking = build_exam(session, status="marking")
    for enrolment in marking.enrolments:  # form A2 is complete: locking it succeeds
        entry.save_mark(
            session,
            exam=marking.exam,
            enrolment=enrolment,
            aspect=marking.aspects["A2.1"],
            seat=0,
            value="1.25",
            user=marking.chief,
            expected_version=None,
        )
    finalised = finalised_exam(
        [Sitting(names=DEMO_NAME, share=Fraction(7, 8)), Sitting(), Sitting(share=Fraction(1, 10))]
    )
    genuine, revoked = issuance.issue_for_exam(
        session, current_settings(), finalised.exam
    ).new_passports
    issuance.revoke(session, revoked, "Fuzzing: a revoked passport")
    session.flush()
    world = World(
        exam_id=marking.exam.id,
        forms=[form.sub_criterion_id for form in marking.forms.values()],
        enrolments=[e.id for e in marking.enrolments],
        addresses=list(marking.aspects),
        iins=marking.iins,
        users=[marking.chief.id, *(e.id for e in marking.experts)],
        tokens=[genuine.token, revoked.token],
        cookie=None,
    )
    return world, {"chief_expert": marking.chief, "expert": marking.experts[0]}


@pytest.fixture
def world(request, app, client, session) -> World:
    world, people = seed(session)
    role = getattr(request, "param", "chief_expert")
    if role != "anonymous":
        g.pop("_login_user", None)
        response = client.post("/login", data={"email": people[role].email, "password": PASSWORD})
        assert response.status_code == 302
        g.pop("_login_user", None)
        world.cookie = client.get_cookie("session").value
    return world


def _pick(value: object, choices: list):
    """A seeded record for about two thirds of the generated values, else the value itself."""
    if isinstance(value, int) and not isinstance(value, bool) and value % 3:
        return choices[value % len(choices)]
    if isinstance(value, str) and len(value) % 3:
        return choices[len(value) % len(choices)]
    return value


def _token(value: object, tokens: list[str]):
    """A real token, a real token with one character changed, or the generated value."""
    if not isinstance(value, str) or len(value) % 3 == 0:
        return value
    token = tokens[len(value) % len(tokens)]
    if len(value) % 3 == 2:
        position = len(value) % len(token)
        changed = "A" if token[position] != "A" else "B"
        token = token[:position] + changed + token[position + 1 :]
    return token


def steer(case, world: World) -> None:
    """Point part of the generated requests at the seeded exam, cells and passports."""
    path = case.path_parameters
    if path is not None:
        if "exam_id" in path:
            path["exam_id"] = _pick(path["exam_id"], [world.exam_id])
        if "sub_criterion_id" in path:
            path["sub_criterion_id"] = _pick(path["sub_criterion_id"], world.forms)
    query = case.query
    if query is not None:
        if "enrolment_id" in query:
            query["enrolment_id"] = _pick(query["enrolment_id"], world.enrolments)
        if "aspect" in query:
            query["aspect"] = _pick(query["aspect"], world.addresses)
    body = case.body
    for row in body if isinstance(body, list) else [body]:
        if not isinstance(row, dict):
            continue
        for name, choices in (
            ("enrolment_id", world.enrolments),
            ("aspect", world.addresses),
            ("iin", world.iins),
            ("user_id", world.users),
        ):
            if name in row:
                row[name] = _pick(row[name], choices)
        if "token" in row:
            row["token"] = _token(row["token"], world.tokens)
        if isinstance(row.get("url"), str):
            token = _token(row["url"], world.tokens)
            if token is not row["url"]:
                row["url"] = f"{BASE_URL.upper()}/V#{token}"


def call_and_check(case, app, world: World) -> None:
    steer(case, world)
    cookies = {"session": world.cookie} if world.cookie else None
    g.pop("_login_user", None)  # requests share the test's app context and its g
    try:
        case.call_and_validate(app=app, cookies=cookies, checks=CHECKS)
    finally:
        g.pop("_login_user", None)


@schema.parametrize()
@fuzz_settings(40)
def test_the_api_answers_the_chief_expert_as_documented(case, app, world):
    call_and_check(case, app, world)


@schema.parametrize()
@pytest.mark.parametrize("world", ["expert", "anonymous"], indirect=True)
@fuzz_settings(8)
def test_the_api_answers_others_as_documented(case, app, world):
    call_and_check(case, app, world)


# --- answers the fuzzer cannot provoke: a body over the size limit, a database fault ----


def test_a_body_over_the_size_limit_is_413_as_documented(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    operation = schema["/exams/{exam_id}/marks/import"]["POST"]
    rows = [{"iin": world.iins[0], "aspect": "A1.1", "score": "1"}] * 100
    case = operation.Case(
        path_parameters={"exam_id": world.exam_id},
        headers=XHR,
        body=rows,
        media_type="application/json",
    )
    g.pop("_login_user", None)
    response = case.call(app=app, cookies={"session": world.cookie})
    g.pop("_login_user", None)
    assert response.status_code == 413
    case.validate_response(response, checks=CHECKS)


def test_a_database_fault_is_503_as_documented(app, session, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from passports.services import verification

    def lost_connection(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(verification, "verify", lost_connection)
    case = schema["/verify"]["POST"].Case(body={"token": "AAAA"}, media_type="application/json")
    response = case.call(app=app)
    assert response.status_code == 503
    assert response.headers["retry-after"] == ["5"]
    # a 503 is the documented answer here, so only the conformance checks apply
    case.validate_response(response, checks=CHECKS[1:])


def test_a_token_that_int_reads_as_negative_is_answered_invalid(app):
    # was a 500: the key-id peek converted "-BBB…" to a negative number
    case = schema["/verify"]["POST"].Case(
        body={"token": "-" + "B" * 40}, media_type="application/json"
    )
    response = case.call(app=app)
    assert (response.status_code, response.json()["status"]) == (200, "invalid")
    case.validate_response(response, checks=CHECKS)
