"""The trust list codec and the key rules (passports/trust.py, docs/trust-list.md)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from passports import token, trust, trust_draft
from passports.jws import b64url
from passports.token import key_id, public_jwk
from tests.passports import trust_helpers
from tests.passports.trust_helpers import ASTANA

ISSUED = 1_765_000_000
DAY = 86_400


def _key(seed: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(seed, ec.SECP256R1())


ANCHOR = _key(101)
OTHER_ANCHOR = _key(102)
ISSUER = _key(201)
ISSUER_KID = key_id(ISSUER)


def _entry(private_key=ISSUER, **changes) -> dict:
    kid = key_id(private_key)
    jwk = public_jwk(private_key.public_key(), kid)
    astana = {"issuer": ASTANA, "competences": ["17", "R1"], "valid_from": ISSUED - 100 * DAY}
    return trust_helpers.entry(jwk) | astana | changes


def _payload(*entries, **changes) -> dict:
    keys = list(entries) if entries else [_entry()]
    return trust_helpers.payload(
        keys, **({"seq": 7, "iat": ISSUED, "exp": ISSUED + 30 * DAY} | changes)
    )


def _anchor_jwk(private_key=ANCHOR) -> dict:
    return trust.anchor_public_jwk(private_key)


def _read(payload) -> trust.TrustList:
    return trust.read_trust_list(trust.sign_trust_list(payload, ANCHOR), _anchor_jwk())


def _judge(trust_list, kid=ISSUER_KID, number="2025-000123", competence="17", iat=ISSUED):
    return trust.judge_key(
        trust_list, kid, number=number, competence_code=competence, issued_at=iat
    )


def _forge(header: dict, payload: dict, private_key=ANCHOR) -> str:
    """Sign arbitrary header and payload bytes (to test what the reader refuses)."""
    head = b64url(json.dumps(header, separators=(",", ":")).encode())
    body = b64url(trust.canonical_json(payload))
    der = private_key.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{head}.{body}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


# --- reading and signing ---------------------------------------------------------------------


def test_a_signed_list_reads_back_with_every_field():
    compromised = _entry(
        _key(202),
        status="compromised",
        compromised_at=ISSUED - DAY,
        issued_before_compromise=["2025-000001"],
        valid_to=ISSUED + DAY,
    )
    listed = _read(_payload(_entry(), compromised, development=True))
    assert (listed.anchor, listed.development, listed.seq) == ("KZ-TEST", True, 7)
    assert (listed.issued_at, listed.expires_at) == (ISSUED, ISSUED + 30 * DAY)
    key = listed.keys[ISSUER_KID]
    assert key.issuer_id == "kz-astana-cc-01"
    assert key.issuer_name["kk"] == "Астана орталығы"
    assert key.status_list_url == "https://skills.example.kz/status/message"
    assert key.competences == ("17", "R1")
    assert (key.valid_from, key.valid_to, key.status) == (ISSUED - 100 * DAY, None, "active")
    assert key.public_key.public_numbers() == ISSUER.public_key().public_numbers()
    other = listed.keys[key_id(_key(202))]
    assert other.compromised_at == ISSUED - DAY
    assert other.issued_before_compromise == frozenset({"2025-000001"})
    assert listed.public_keys()[ISSUER_KID].public_numbers() == key.public_key.public_numbers()


def test_the_header_is_exactly_alg_kid_typ_and_the_payload_canonical():
    text = trust.sign_trust_list(_payload(), ANCHOR)
    head, body, signature = text.split(".")
    assert base64.urlsafe_b64decode(head + "==") == (
        b'{"alg":"ES256","kid":"' + key_id(ANCHOR).encode() + b'","typ":"skills-trust-list+jws"}'
    )
    assert base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)) == trust.canonical_json(
        _payload()
    )
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    assert len(raw) == 64
    assert int.from_bytes(raw[32:], "big") <= token.P256_ORDER // 2


def test_signing_is_deterministic():
    assert trust.sign_trust_list(_payload(), ANCHOR) == trust.sign_trust_list(_payload(), ANCHOR)


def test_surrounding_whitespace_is_ignored():
    text = trust.sign_trust_list(_payload(), ANCHOR)
    assert trust.read_trust_list(f"\n {text}\n", _anchor_jwk()).seq == 7


def test_another_anchor_is_refused():
    text = trust.sign_trust_list(_payload(), OTHER_ANCHOR)
    with pytest.raises(trust.TrustListError, match="not by the configured anchor"):
        trust.read_trust_list(text, _anchor_jwk())


def test_the_anchor_kid_with_another_key_is_refused():
    header = {"alg": "ES256", "kid": key_id(ANCHOR), "typ": trust.TYP}
    text = _forge(header, _payload(), private_key=OTHER_ANCHOR)
    with pytest.raises(trust.TrustListError, match="does not verify"):
        trust.read_trust_list(text, _anchor_jwk())


def test_an_altered_payload_is_refused():
    head, _body, signature = trust.sign_trust_list(_payload(), ANCHOR).split(".")
    altered = b64url(trust.canonical_json(_payload(seq=8)))
    with pytest.raises(trust.TrustListError, match="does not verify"):
        trust.read_trust_list(f"{head}.{altered}.{signature}", _anchor_jwk())


def test_an_altered_signature_is_refused():
    text = trust.sign_trust_list(_payload(), ANCHOR)
    flipped = text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]
    with pytest.raises(trust.TrustListError):
        trust.read_trust_list(flipped, _anchor_jwk())


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"alg": "ES256", "kid": "KID", "typ": "JWT"}, "typ must be"),
        ({"alg": "ES256", "kid": "KID"}, "typ must be"),
        ({"alg": "ES384", "kid": "KID", "typ": trust.TYP}, "alg must be ES256"),
        ({"alg": "none", "kid": "KID", "typ": trust.TYP}, "alg must be ES256"),
        ({"alg": "ES256", "typ": trust.TYP}, "not by the configured anchor"),
        ({"alg": "ES256", "kid": "KID", "typ": trust.TYP, "crit": ["exp"]}, "other than"),
        ({"alg": "ES256", "kid": "KID", "typ": trust.TYP, "jwk": {}}, "other than"),
    ],
)
def test_a_header_other_than_specified_is_refused(header, message):
    header = {k: (key_id(ANCHOR) if v == "KID" else v) for k, v in header.items()}
    with pytest.raises(trust.TrustListError, match=message):
        trust.read_trust_list(_forge(header, _payload()), _anchor_jwk())


@pytest.mark.parametrize(
    "text",
    ["", "abc", "a.b", "a.b.c.d", "e30.e30.", "!!.e30.AAAA", "eyJ9.e30.AAAA"],
)
def test_text_that_is_no_compact_jws_is_refused(text):
    with pytest.raises(trust.TrustListError):
        trust.read_trust_list(text, _anchor_jwk())


def test_a_short_signature_is_refused():
    head, body, _signature = trust.sign_trust_list(_payload(), ANCHOR).split(".")
    with pytest.raises(trust.TrustListError, match="64 bytes"):
        trust.read_trust_list(f"{head}.{body}.{b64url(bytes(63))}", _anchor_jwk())


def test_a_payload_that_is_not_json_is_refused_after_the_signature():
    header = {"alg": "ES256", "kid": key_id(ANCHOR), "typ": trust.TYP}
    head = b64url(trust.canonical_json(header))
    body = b64url(b'{"format":1,"format":1}')
    der = ANCHOR.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    text = f"{head}.{body}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    with pytest.raises(trust.TrustListError, match="duplicate member"):
        trust.read_trust_list(text, _anchor_jwk())


def _sign_text(body_text: str) -> str:
    header = {"alg": "ES256", "kid": key_id(ANCHOR), "typ": trust.TYP}
    head = b64url(trust.canonical_json(header))
    body = b64url(body_text.encode())
    der = ANCHOR.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{head}.{body}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def test_numbers_are_read_by_value_as_the_page_reads_them():
    # JavaScript's JSON.parse cannot tell 7.0 from 7, so the Python reader must not either:
    # one signed list, one verdict on the page, the API and the CLI
    text = trust.canonical_json(_payload()).decode()
    text = text.replace('"seq":7', '"seq":7.0').replace(f'"iat":{ISSUED}', '"iat":1.765e9')
    text = text.replace('"format":1', '"format":1.0')
    listed = trust.read_trust_list(_sign_text(text), _anchor_jwk())
    assert (listed.seq, listed.issued_at, type(listed.seq)) == (7, ISSUED, int)
    # the signer still writes integers only: a float in a draft is refused
    with pytest.raises(trust.TrustListError, match="seq must be"):
        trust.sign_trust_list(_payload(seq=1.0), ANCHOR)
    # a fraction, or a whole number past 2^53 - 1, is no integer in either reader
    for bad in ('"seq":7.5', '"seq":9007199254740993.0'):
        altered = trust.canonical_json(_payload()).decode().replace('"seq":7', bad)
        with pytest.raises(trust.TrustListError, match="seq must be"):
            trust.read_trust_list(_sign_text(altered), _anchor_jwk())


_BAD_PAYLOADS = [
    ({"format": 2}, "unsupported trust list format"),
    ({"format": True}, "unsupported trust list format"),
    ({"format": "1"}, "unsupported trust list format"),
    ({"anchor": ""}, "anchor must be"),
    ({"development": "no"}, "development must be"),
    ({"seq": -1}, "seq must be"),
    ({"seq": True}, "seq must be"),
    ({"iat": "2025-01-01"}, "iat must be"),
    ({"exp": ISSUED}, "exp must be"),
    ({"keys": {}}, "keys must be a list"),
    ({"extra": 1}, "unknown member"),
    ({"keys": [_entry(), _entry()]}, "listed twice"),
    ({"keys": ["x"]}, r"keys\[0\] is not a JSON object"),
    ({"keys": [_entry(status="revoked")]}, "status must be one of"),
    ({"keys": [_entry(competences=[])]}, "competences must be"),
    ({"keys": [_entry(competences=["17", "17"])]}, "competences must be"),
    ({"keys": [_entry(competences="17")]}, "competences must be"),
    ({"keys": [_entry(valid_from=None)]}, "valid_from must be"),
    ({"keys": [_entry(valid_to=ISSUED - 100 * DAY)]}, "valid_to must be"),
    ({"keys": [_entry(kid="OTHERKID")]}, "differs from the entry's kid"),
    ({"keys": [_entry(jwk={"kty": "EC"})]}, "jwk is not a P-256 public key"),
    ({"keys": [_entry(issuer={"id": "x", "name": {}})]}, "issuer must have exactly"),
    (
        {"keys": [_entry(issuer={"id": "x", "name": {"kk": "a", "ru": "b"}, "status_list": None})]},
        "kk, ru and en",
    ),
    (
        {"keys": [_entry(issuer={"id": "", "name": {}, "status_list": None})]},
        "issuer.id must be",
    ),
    (
        {
            "keys": [
                _entry(
                    issuer={
                        "id": "x",
                        "name": {"kk": "a", "ru": "b", "en": "c"},
                        "status_list": "ftp://x",
                    }
                )
            ]
        },
        "status_list must be",
    ),
    ({"keys": [_entry(compromised_at=ISSUED)]}, "unknown member"),
    ({"keys": [_entry(status="compromised")]}, "lacks compromised_at, issued_before_compromise"),
    (
        {
            "keys": [
                _entry(status="compromised", compromised_at=ISSUED, issued_before_compromise="1")
            ]
        },
        "issued_before_compromise must be",
    ),
]


@pytest.mark.parametrize(("changes", "message"), _BAD_PAYLOADS)
def test_a_payload_breaking_the_format_is_refused_by_reader_and_signer(changes, message):
    payload = _payload(**changes)
    with pytest.raises(trust.TrustListError, match=message):
        trust.read_trust_list(_forge(_header(), payload), _anchor_jwk())
    with pytest.raises(trust.TrustListError, match=message):
        trust.sign_trust_list(payload, ANCHOR)


@pytest.mark.parametrize("member", ["format", "seq", "iat", "exp", "keys", "development"])
def test_a_missing_payload_member_is_refused(member):
    payload = _payload()
    del payload[member]
    with pytest.raises(trust.TrustListError):
        trust.read_trust_list(_forge(_header(), payload), _anchor_jwk())


@pytest.mark.parametrize("member", ["kid", "jwk", "issuer", "competences", "valid_to", "status"])
def test_a_missing_entry_member_is_refused(member):
    entry = _entry()
    del entry[member]
    with pytest.raises(trust.TrustListError, match=f"lacks {member}"):
        trust.read_trust_list(_forge(_header(), _payload(entry)), _anchor_jwk())


def _header() -> dict:
    return {"alg": "ES256", "kid": key_id(ANCHOR), "typ": trust.TYP}


def test_an_empty_key_list_is_a_valid_list_that_trusts_nothing():
    listed = _read(_payload(keys=[]))
    assert _judge(listed) == "unknown-key"


# --- expiry ----------------------------------------------------------------------------------


def test_the_list_is_expired_from_exp_on():
    listed = _read(_payload())
    assert not listed.expired(ISSUED + 30 * DAY - 1)
    assert listed.expired(ISSUED + 30 * DAY)
    assert listed.expired(ISSUED + 31 * DAY)


# --- the key rules ---------------------------------------------------------------------------


def test_an_active_key_in_scope_and_validity_is_trusted():
    assert _judge(_read(_payload())) is None


def test_an_unknown_kid_is_untrusted():
    assert _judge(_read(_payload()), kid="ZZZZZZZZ") == "unknown-key"


@pytest.mark.parametrize(
    ("competences", "code", "reason"),
    [
        (["17", "R1"], "17", None),
        (["17", "R1"], "R1", None),
        (["17", "R1"], "18", "out-of-scope"),
        (["17", "R1"], "r1", "out-of-scope"),
        (["*"], "99", None),
        (["17", "*"], "40", None),
    ],
)
def test_the_scope_covers_listed_competences_or_star(competences, code, reason):
    listed = _read(_payload(_entry(competences=competences)))
    assert _judge(listed, competence=code) == reason


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "iat", "reason"),
    [
        (ISSUED, None, ISSUED, None),
        (ISSUED, None, ISSUED - 1, "outside-validity"),
        (ISSUED, ISSUED + DAY, ISSUED + DAY - 1, None),
        (ISSUED, ISSUED + DAY, ISSUED + DAY, "outside-validity"),
        (ISSUED, ISSUED + DAY, ISSUED + 2 * DAY, "outside-validity"),
    ],
)
def test_the_validity_is_valid_from_inclusive_valid_to_exclusive(valid_from, valid_to, iat, reason):
    listed = _read(_payload(_entry(valid_from=valid_from, valid_to=valid_to)))
    assert _judge(listed, iat=iat) == reason


def test_a_retired_key_verifies_what_it_signed_inside_its_validity():
    listed = _read(_payload(_entry(status="retired", valid_to=ISSUED + DAY)))
    assert _judge(listed, iat=ISSUED) is None
    assert _judge(listed, iat=ISSUED + DAY) == "outside-validity"
    assert _judge(listed, competence="18") == "out-of-scope"


def _compromised(numbers):
    return _entry(
        status="compromised", compromised_at=ISSUED + DAY, issued_before_compromise=numbers
    )


def test_a_compromised_key_verifies_nothing_without_listed_numbers():
    listed = _read(_payload(_compromised([])))
    # even a passport dated before the compromise: a thief can write any iat
    assert _judge(listed, iat=ISSUED) == "compromised"


def test_a_compromised_key_verifies_only_the_listed_numbers():
    listed = _read(_payload(_compromised(["2025-000123", "2025-000124"])))
    assert _judge(listed, number="2025-000123") is None
    assert _judge(listed, number="2025-000124") is None
    assert _judge(listed, number="2025-000125") == "compromised"


def test_a_listed_number_still_needs_scope_and_validity():
    listed = _read(_payload(_compromised(["2025-000123"])))
    assert _judge(listed, competence="18") == "out-of-scope"
    assert _judge(listed, iat=ISSUED - 200 * DAY) == "outside-validity"


def test_every_reason_has_a_text():
    assert set(trust.REASONS) == {"unknown-key", "out-of-scope", "outside-validity", "compromised"}


# --- the anchor key and its public JWK --------------------------------------------------------


def test_load_anchor_jwk_from_json_or_file(tmp_path):
    jwk = trust.anchor_public_jwk(ANCHOR)
    assert trust.load_anchor_jwk(json.dumps(jwk)) == jwk
    path = tmp_path / "anchor.pub.jwk"
    path.write_text(json.dumps(jwk), encoding="utf-8")
    assert trust.load_anchor_jwk(str(path)) == jwk


def test_load_anchor_jwk_adds_the_kid():
    jwk = trust.anchor_public_jwk(ANCHOR)
    del jwk["kid"]
    assert trust.load_anchor_jwk(json.dumps(jwk))["kid"] == key_id(ANCHOR)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("/nonexistent/anchor.pub.jwk", "cannot read"),
        ("{not json", "not JSON"),
        ('{"kty":"EC","crv":"P-256"}', "not a P-256 public key"),
        ("WRONGKID", "cannot read"),
    ],
)
def test_load_anchor_jwk_refuses_bad_values(value, message):
    with pytest.raises(trust.TrustListError, match=message):
        trust.load_anchor_jwk(value)


def test_load_anchor_jwk_refuses_a_wrong_kid_a_private_key_and_a_bad_development_flag():
    jwk = trust.anchor_public_jwk(ANCHOR)
    with pytest.raises(trust.TrustListError, match="not its thumbprint"):
        trust.load_anchor_jwk(json.dumps({**jwk, "kid": "AAAAAAAA"}))
    with pytest.raises(trust.TrustListError, match="private key"):
        trust.load_anchor_jwk(json.dumps({**jwk, "d": jwk["x"]}))
    with pytest.raises(trust.TrustListError, match="development"):
        trust.load_anchor_jwk(json.dumps({**jwk, "development": "yes"}))


def test_a_development_anchor_says_so():
    assert trust.anchor_is_development(trust.anchor_public_jwk(ANCHOR, development=True))
    assert not trust.anchor_is_development(trust.anchor_public_jwk(ANCHOR))
    # a development anchor still verifies its lists
    jwk = trust.load_anchor_jwk(json.dumps(trust.anchor_public_jwk(ANCHOR, development=True)))
    assert trust.read_trust_list(trust.sign_trust_list(_payload(), ANCHOR), jwk).seq == 7


def test_the_anchor_key_round_trips_encrypted(tmp_path):
    path = tmp_path / "anchor.pem"
    public_path = trust.write_anchor_key(path, ANCHOR, b"correct horse", development=True)
    assert public_path == tmp_path / "anchor.pem.pub.jwk"
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    assert path.stat().st_mode & 0o077 == 0
    loaded = trust.load_anchor_key(path, b"correct horse")
    assert loaded.private_numbers() == ANCHOR.private_numbers()
    jwk = trust.load_anchor_jwk(str(public_path))
    assert jwk["kid"] == key_id(ANCHOR) and jwk["development"] is True
    assert "d" not in jwk


def test_the_anchor_key_refuses_overwrite_and_empty_passphrase(tmp_path):
    path = tmp_path / "anchor.pem"
    with pytest.raises(trust.AnchorKeyError, match="empty"):
        trust.write_anchor_key(path, ANCHOR, b"")
    assert not path.exists()
    trust.write_anchor_key(path, ANCHOR, b"pass")
    before = path.read_bytes()
    with pytest.raises(trust.AnchorKeyError, match="exists already"):
        trust.write_anchor_key(path, OTHER_ANCHOR, b"pass")
    assert path.read_bytes() == before


def test_the_anchor_key_refuses_a_wrong_passphrase_and_plain_keys(tmp_path):
    path = tmp_path / "anchor.pem"
    trust.write_anchor_key(path, ANCHOR, b"pass")
    with pytest.raises(trust.AnchorKeyError, match="wrong passphrase"):
        trust.load_anchor_key(path, b"other")
    plain = tmp_path / "plain.pem"
    plain.write_bytes(
        ANCHOR.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(trust.AnchorKeyError, match="not a passphrase-encrypted"):
        trust.load_anchor_key(plain, b"pass")
    with pytest.raises(trust.AnchorKeyError, match="cannot read"):
        trust.load_anchor_key(tmp_path / "missing.pem", b"pass")


# --- drafts ----------------------------------------------------------------------------------


def test_draft_operations_keep_the_format_and_leave_the_input_unchanged():
    draft = trust_draft.new_draft("KZ")
    entry = trust_draft.key_entry(
        public_jwk(ISSUER.public_key(), ISSUER_KID),
        issuer_id="kz-astana-cc-01",
        issuer_name={"kk": "а", "ru": "б", "en": "c"},
        status_list=None,
        competences=["17"],
        valid_from=ISSUED,
        valid_to=ISSUED + 10 * DAY,
    )
    added = trust_draft.add_keys(draft, [entry])
    assert draft["keys"] == [] and added["keys"][0]["kid"] == ISSUER_KID
    # retiring never extends the validity it had
    retired = trust_draft.retire_key(added, ISSUER_KID, ISSUED + 20 * DAY)
    assert retired["keys"][0]["valid_to"] == ISSUED + 10 * DAY
    assert (
        trust_draft.retire_key(added, ISSUER_KID, ISSUED + DAY)["keys"][0]["valid_to"]
        == ISSUED + DAY
    )
    assert added["keys"][0]["status"] == "active"
    compromised = trust_draft.compromise_key(retired, ISSUER_KID, ISSUED + 2 * DAY, ["b", "a", "a"])
    assert compromised["keys"][0]["issued_before_compromise"] == ["a", "b"]
    with pytest.raises(trust.TrustListError, match="cannot be retired"):
        trust_draft.retire_key(compromised, ISSUER_KID, ISSUED + 3 * DAY)
    payload = trust_draft.payload_of(compromised, ISSUED, ISSUED + DAY)
    assert payload["seq"] == 1
    assert _read(payload).keys[ISSUER_KID].status == "compromised"


def test_a_draft_with_iat_or_unknown_members_is_refused():
    with pytest.raises(trust.TrustListError, match="unknown member"):
        trust_draft.read_draft(json.dumps({**trust_draft.new_draft("KZ"), "iat": 1}))
    with pytest.raises(trust.TrustListError, match="not JSON"):
        trust_draft.read_draft("{")


# --- nothing but TrustListError for any input -----------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_unsigned_text_is_refused_with_a_trust_list_error(text):
    with pytest.raises(trust.TrustListError):
        trust.read_trust_list(text, _anchor_jwk())


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(sorted(_payload())), _JSON, max_size=7),
    st.dictionaries(st.sampled_from(sorted(_entry())), _JSON, max_size=4),
)
def test_any_signed_payload_is_read_or_refused_with_a_trust_list_error(changes, entry_changes):
    payload = _payload(_entry(**entry_changes), **changes)
    try:
        listed = trust.read_trust_list(_forge(_header(), payload), _anchor_jwk())
    except trust.TrustListError:
        return
    for kid in listed.keys:
        assert trust.judge_key(listed, kid, number="x", competence_code="17", issued_at=ISSUED) in (
            None,
            *trust.REASONS,
        )
