"""Deeply nested JSON bodies are a 400 problem on every JSON endpoint (issue 10, item 10)."""

from __future__ import annotations

import pytest

from app.json_limits import MAX_DEPTH, nesting_depth_exceeds
from tests.assessments.marking_setup import build_exam
from tests.factories import PASSWORD

XHR = {"X-Requested-With": "XMLHttpRequest", "Content-Type": "application/json"}
DEEP = "[" * 100_000 + "]" * 100_000  # RecursionError in Python's parser
JUST_TOO_DEEP = '{"a":' * MAX_DEPTH + "[1]" + "}" * MAX_DEPTH


def nested(depth: int):
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("depth", "too_deep"), [(0, False), (1, False), (MAX_DEPTH, False), (MAX_DEPTH + 1, True)]
)
def test_nesting_depth(depth, too_deep):
    assert nesting_depth_exceeds(nested(depth), MAX_DEPTH) is too_deep
    assert nesting_depth_exceeds({"a": [{"b": nested(depth)}]}, MAX_DEPTH + 3) is too_deep


@pytest.fixture
def chief_client(client, session):
    setup = build_exam(session)
    response = client.post("/login", data={"email": setup.chief.email, "password": PASSWORD})
    assert response.status_code == 302
    return client, setup


def json_endpoints(setup) -> list[tuple[str, str]]:
    exam, sub = setup.exam.id, setup.forms["A1"].sub_criterion_id
    return [
        ("POST", "/api/v1/verify"),
        ("PUT", f"/api/v1/exams/{exam}/marks"),
        ("POST", f"/api/v1/exams/{exam}/marks/import"),
        ("POST", f"/api/v1/exams/{exam}/forms/{sub}/unlock"),
        ("PUT", f"/api/v1/exams/{exam}/forms/{sub}/seats/1"),
    ]


@pytest.mark.parametrize("body", [DEEP, JUST_TOO_DEEP], ids=["100000-deep", "33-deep"])
def test_every_json_endpoint_answers_400_problem(chief_client, body):
    client, setup = chief_client
    for method, path in json_endpoints(setup):
        response = client.open(path, method=method, data=body, headers=XHR)
        assert response.status_code == 400, (path, response.status_code)
        assert response.mimetype == "application/problem+json", path
        assert "nested" in response.json["detail"], path


def test_ordinary_bad_json_keeps_its_answer(chief_client):
    client, setup = chief_client
    response = client.put(f"/api/v1/exams/{setup.exam.id}/marks", data="{not json", headers=XHR)
    assert response.status_code == 422
    assert client.post("/api/v1/verify", data="[1]", headers=XHR).status_code == 400
