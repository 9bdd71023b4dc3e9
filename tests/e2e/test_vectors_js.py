"""The public test vectors (docs/test-vectors/index.json) checked by the page's JavaScript.

Each vector is judged in Chromium by verify.js's ``verifyPassport`` with the files its
``argv`` names (``--anchor``, ``--trust-list``, ``--status``, ``--jwks``) at its ``at``; the
verdict must be its ``expected``. The Python verifier checks the same vectors
(tests/passports), so the two verifiers cannot drift apart.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.passports.test_trust_js import open_verifier

pytestmark = pytest.mark.e2e

VECTORS = Path(__file__).resolve().parents[2] / "docs" / "test-vectors"
INDEX = VECTORS / "index.json"
# argv option → verifyPassport option, and how its file is read
FILE_OPTIONS = {
    "--anchor": ("anchorJwk", json.loads),
    "--trust-list": ("trustList", str.strip),
    "--status": ("statusList", str.strip),
    "--jwks": ("jwks", json.loads),
}


def vectors() -> list[dict]:
    if not INDEX.exists():
        return []
    return json.loads(INDEX.read_text("utf-8"))


def options_of(vector: dict) -> dict:
    """verifyPassport's options for a vector: its link's fragment, its files, its moment."""
    argv = vector["argv"]
    options: dict = {}
    for at, word in enumerate(argv):
        if word in FILE_OPTIONS:
            name, read = FILE_OPTIONS[word]
            options[name] = read((VECTORS / argv[at + 1]).read_text("utf-8"))
    qr = vector["qr"]
    options["fragment"] = qr.split("#", 1)[1] if "#" in qr else qr
    options["at"] = int(datetime.fromisoformat(vector["at"].replace("Z", "+00:00")).timestamp())
    return options


def each_vector():
    """One parameter per vector; a single skipped one when the vectors are not built."""
    if not INDEX.exists():
        return [
            pytest.param(None, id="none", marks=pytest.mark.skip(f"no test vectors at {INDEX}"))
        ]
    return [pytest.param(vector, id=vector["name"]) for vector in vectors()]


@pytest.fixture(scope="module")
def verifier(browser):
    page = open_verifier(browser)
    yield page
    page.close()


@pytest.mark.parametrize("vector", each_vector())
def test_the_vector_gets_its_expected_verdict_in_chromium(verifier, vector):
    result = verifier.evaluate(
        "async (options) => window.verifier.verifyPassport(options)", options_of(vector)
    )
    assert result["verdict"] == vector["expected"], (vector["description"], result["detail"])
    for name in vector["files"]:
        assert (VECTORS / name).is_file(), name


@pytest.mark.skipif(not INDEX.exists(), reason=f"no test vectors at {INDEX}")
def test_the_vectors_cover_every_verdict_the_issue_lists():
    expected = {vector["expected"] for vector in vectors()}
    assert expected >= {"genuine", "invalid", "damaged", "untrusted", "expired", "revoked"}
    assert expected >= {"superseded", "unchecked"}
    assert len(vectors()) >= 17
