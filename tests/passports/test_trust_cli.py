"""``flask trust …``: the anchor holder's offline commands on files."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from passports import trust
from passports.numbers import format_passport_number
from passports.token import PassportClaims, key_id, public_jwk, sign_token

KEY_A = ec.derive_private_key(0xA11CE, ec.SECP256R1())
KEY_B = ec.derive_private_key(0xB0B, ec.SECP256R1())
KID_A, KID_B = key_id(KEY_A), key_id(KEY_B)
ISSUER = [
    "--issuer-id",
    "kz-astana-cc-01",
    "--name-kk",
    "Астана орталығы",
    "--name-ru",
    "Центр Астаны",
    "--name-en",
    "Astana centre",
    "--status-list",
    "https://skills.example.kz/status/message",
]


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args, env=None):
        return runner.invoke(args=["trust", *map(str, args)], env=env)

    return invoke


@pytest.fixture
def files(tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(
        json.dumps(
            {
                "keys": [
                    public_jwk(KEY_A.public_key(), KID_A),
                    public_jwk(KEY_B.public_key(), KID_B),
                    {"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB", "alg": "RS256"},
                ]
            }
        ),
        encoding="utf-8",
    )
    passphrase = tmp_path / "pass.txt"
    passphrase.write_text("correct horse battery\n", encoding="utf-8")
    return {
        "jwks": jwks,
        "pass": passphrase,
        "anchor": tmp_path / "anchor.pem",
        "draft": tmp_path / "draft.json",
        "out": tmp_path / "trust-list.jws",
        "tmp": tmp_path,
    }


def _anchor(run, files, *extra):
    result = run(
        "anchor", "create", "--out", files["anchor"], "--passphrase-file", files["pass"], *extra
    )
    assert result.exit_code == 0, result.output
    return trust.load_anchor_jwk(str(trust.anchor_public_path(files["anchor"])))


def _draft(run, files, *extra):
    assert run("init", "--draft", files["draft"], "--anchor-id", "KZ", *extra).exit_code == 0


def _add(run, files, *extra):
    return run(
        "add-key",
        "--draft",
        files["draft"],
        "--jwk",
        files["jwks"],
        *ISSUER,
        "--competence",
        "17",
        "--competence",
        "R1",
        "--valid-from",
        "2025-01-01T00:00:00Z",
        *extra,
    )


def _sign(run, files, *extra):
    return run(
        "sign",
        "--draft",
        files["draft"],
        "--anchor",
        files["anchor"],
        "--out",
        files["out"],
        "--passphrase-file",
        files["pass"],
        *extra,
    )


def test_anchor_create_writes_an_encrypted_key_and_its_public_jwk(run, files):
    jwk = _anchor(run, files)
    assert b"ENCRYPTED PRIVATE KEY" in files["anchor"].read_bytes()
    assert "d" not in jwk and not trust.anchor_is_development(jwk)
    key = trust.load_anchor_key(files["anchor"], b"correct horse battery")
    assert key_id(key) == jwk["kid"]
    again = run("anchor", "create", "--out", files["anchor"], "--passphrase-file", files["pass"])
    assert again.exit_code == 1 and "exists already" in again.output


def test_anchor_create_reads_the_passphrase_from_the_environment_and_marks_development(run, files):
    result = run(
        "anchor",
        "create",
        "--out",
        files["anchor"],
        "--development",
        env={"TRUST_ANCHOR_PASSPHRASE": "from env"},
    )
    assert result.exit_code == 0, result.output
    assert trust.anchor_is_development(
        trust.load_anchor_jwk(str(trust.anchor_public_path(files["anchor"])))
    )
    assert trust.load_anchor_key(files["anchor"], b"from env")


def test_anchor_create_refuses_an_empty_passphrase(run, files):
    files["pass"].write_text("\n", encoding="utf-8")
    result = run("anchor", "create", "--out", files["anchor"], "--passphrase-file", files["pass"])
    assert result.exit_code == 1 and "empty" in result.output
    assert not files["anchor"].exists()


def test_the_whole_cycle_add_retire_compromise_sign_show(run, files):
    anchor = _anchor(run, files)
    _draft(run, files)
    result = _add(run, files)
    assert result.exit_code == 0, result.output
    assert f"added {KID_A}" in result.output and f"added {KID_B}" in result.output
    assert (
        run(
            "retire-key", "--draft", files["draft"], KID_A, "--at", "2026-01-01T00:00:00Z"
        ).exit_code
        == 0
    )
    numbers = files["tmp"] / "numbers.txt"
    numbers.write_text(
        f"# from the issuer's records\n{format_passport_number(2025, 1)}\n\n"
        f"{format_passport_number(2025, 2)}\n",
        encoding="utf-8",
    )
    compromised = run(
        "compromise-key",
        "--draft",
        files["draft"],
        KID_B,
        "--at",
        "2026-02-01T00:00:00Z",
        "--issued-before",
        numbers,
    )
    assert compromised.exit_code == 0, compromised.output
    assert "2 passport(s) still verify" in compromised.output
    before = int(time.time())
    signed = _sign(run, files, "--days", "10")
    assert signed.exit_code == 0, signed.output
    listed = trust.read_trust_list(files["out"].read_text(encoding="utf-8"), anchor)
    assert (listed.anchor, listed.seq, listed.development) == ("KZ", 1, False)
    assert before <= listed.issued_at <= int(time.time())
    assert listed.expires_at == listed.issued_at + 10 * 86_400
    a, b = listed.keys[KID_A], listed.keys[KID_B]
    assert (a.status, a.valid_to, a.competences) == ("retired", 1_767_225_600, ("17", "R1"))
    assert a.issuer_name == {"kk": "Астана орталығы", "ru": "Центр Астаны", "en": "Astana centre"}
    assert a.valid_from == 1_735_689_600
    assert (b.status, b.compromised_at) == ("compromised", 1_769_904_000)
    assert b.issued_before_compromise == {
        format_passport_number(2025, 1),
        format_passport_number(2025, 2),
    }
    assert "rsa" not in listed.keys
    # each signing increases seq
    assert _sign(run, files).exit_code == 0
    second = trust.read_trust_list(files["out"].read_text(encoding="utf-8"), anchor)
    assert second.seq == 2 and second.expires_at == second.issued_at + 30 * 86_400
    shown = run("show", files["out"], "--anchor", trust.anchor_public_path(files["anchor"]))
    assert shown.exit_code == 0, shown.output
    assert "verified with the anchor" in shown.output and f"{KID_A}\tretired" in shown.output
    assert "seq:     2" in shown.output
    unchecked = run("show", files["out"])
    assert unchecked.exit_code == 0 and "NOT checked" in unchecked.output
    draft = run("show", files["draft"], "--json")
    assert draft.exit_code == 0 and json.loads(draft.output)["seq"] == 2


def test_a_list_signed_by_the_commands_makes_a_passport_genuine(app, run, files):
    anchor = _anchor(run, files)
    _draft(run, files)
    assert _add(run, files, "--kid", KID_A).exit_code == 0
    assert _sign(run, files).exit_code == 0
    issued = int(time.time()) - 60
    claims = PassportClaims(format_passport_number(2026, 5), "Әлібекова", "17", 8750, 5, issued)
    token = sign_token(claims, KEY_A, KID_A)
    anchor_path = files["tmp"] / "anchor.pub.jwk"
    anchor_path.write_text(json.dumps(anchor), encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=[
            "passports",
            "verify",
            token,
            "--jwks",
            str(files["jwks"]),
            "--trust-list",
            str(files["out"]),
            "--anchor",
            str(anchor_path),
            "--json",
        ]
    )
    data = json.loads(result.output)
    # no status list: the key's authority is established, the revocation unknown
    assert (data["status"], data["trust_checked"]) == ("unchecked", True)
    assert data["issuer"]["id"] == "kz-astana-cc-01"
    other = sign_token(
        PassportClaims(claims.number, "Әлібекова", "18", 8750, 5, issued), KEY_A, KID_A
    )
    scoped = app.test_cli_runner().invoke(
        args=[
            "passports",
            "verify",
            other,
            "--trust-list",
            str(files["out"]),
            "--anchor",
            str(anchor_path),
        ]
    )
    assert scoped.exit_code == 9 and scoped.output.startswith("UNTRUSTED")


def _unchanged(files, run, result, message):
    assert result.exit_code != 0, result.output
    assert message in result.output, result.output


def test_bad_input_names_the_file_and_changes_nothing(run, files):
    _anchor(run, files)
    _draft(run, files)
    assert _add(run, files, "--kid", KID_A).exit_code == 0
    draft_before = files["draft"].read_bytes()
    cases = [
        (_add(run, files, "--kid", KID_A), "already in the draft"),
        (_add(run, files, "--kid", "NOSUCHKI"), "no ES256 key NOSUCHKI"),
        (_add(run, files, "--valid-to", "2024-01-01T00:00:00Z", "--kid", KID_B), "valid_to"),
        (_add(run, files, "--valid-to", "tomorrow", "--kid", KID_B), "--valid-to"),
        (_add(run, files, "--status-list", "ftp://x", "--kid", KID_B), "status_list"),
        (run("retire-key", "--draft", files["draft"], "NOSUCHKI"), "not in the draft"),
        (run("retire-key", "--draft", files["draft"], KID_A, "--at", "2020-01-01"), "not after"),
        (run("init", "--draft", files["draft"], "--anchor-id", "KZ"), "exists already"),
    ]
    for result, message in cases:
        _unchanged(files, run, result, message)
        assert files["draft"].read_bytes() == draft_before, message
    bad_numbers = files["tmp"] / "numbers.txt"
    good = format_passport_number(2025, 2)
    wrong_check_digit = good[:-1] + str((int(good[-1]) + 1) % 10)
    bad_numbers.write_text(
        f"{format_passport_number(2025, 1)}\n{wrong_check_digit}\n", encoding="utf-8"
    )
    result = run(
        "compromise-key",
        "--draft",
        files["draft"],
        KID_A,
        "--at",
        "2026-01-01",
        "--issued-before",
        bad_numbers,
    )
    assert result.exit_code == 1 and "numbers.txt, line 2" in result.output
    assert files["draft"].read_bytes() == draft_before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ('{"kty": "EC"}', "JWK"),
        ('{"keys": []}', "no ES256"),
        ("[1]", "neither a JWK nor a JWK Set"),
    ],
)
def test_add_key_refuses_bad_key_files(run, files, content, message):
    _draft(run, files)
    before = files["draft"].read_bytes()
    files["jwks"].write_text(content, encoding="utf-8")
    result = _add(run, files)
    assert result.exit_code == 1 and "--jwk" in result.output and message in result.output
    assert files["draft"].read_bytes() == before


def test_add_key_refuses_a_private_jwk(run, files):
    _draft(run, files)
    jwk = public_jwk(KEY_A.public_key(), KID_A)
    files["jwks"].write_text(json.dumps({**jwk, "d": jwk["x"]}), encoding="utf-8")
    result = _add(run, files)
    assert result.exit_code == 1 and "private key" in result.output


def test_a_broken_draft_is_named(run, files):
    files["draft"].write_text('{"format": 1}', encoding="utf-8")
    result = run("retire-key", "--draft", files["draft"], KID_A)
    assert result.exit_code == 1 and f"--draft {files['draft']}" in result.output
    missing = run("retire-key", "--draft", files["tmp"] / "none.json", KID_A)
    assert missing.exit_code == 1 and "cannot read" in missing.output


def test_sign_refuses_a_wrong_passphrase_and_a_development_mismatch(run, files):
    _anchor(run, files)
    _draft(run, files, "--development")
    files["pass"].write_text("wrong\n", encoding="utf-8")
    result = _sign(run, files)
    assert result.exit_code == 1 and "development" in result.output
    assert not files["out"].exists()
    files["draft"].unlink()
    _draft(run, files)
    result = _sign(run, files)
    assert result.exit_code == 1 and "wrong passphrase" in result.output
    assert not files["out"].exists()
    assert json.loads(files["draft"].read_text(encoding="utf-8"))["seq"] == 0


def test_show_refuses_a_list_of_another_anchor(run, files, tmp_path):
    _anchor(run, files)
    _draft(run, files)
    assert _sign(run, files).exit_code == 0
    other = trust.anchor_public_jwk(KEY_B)
    result = run("show", files["out"], "--anchor", json.dumps(other))
    assert result.exit_code == 1 and "not by the configured anchor" in result.output
