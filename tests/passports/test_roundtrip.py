"""Issue → QR image → decode with zxing-cpp → verify (our verifier, the API, pycose)."""

from __future__ import annotations

import base64
import io

import cbor2
import pytest
import zxingcpp
from PIL import Image
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.keys.keyparam import EC2KpCurve, EC2KpX, EC2KpY, KpKty
from pycose.keys.keytype import KtyEC2
from pycose.messages import Sign1Message

from passports.offline import verify_offline
from passports.qr import qr_png, qr_version
from passports.services import issuance, keys, status, verification
from passports.settings import current_settings
from passports.token import token_from_url
from tests.passports import trust_helpers
from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam


def decode(png: bytes) -> str:
    (barcode,) = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    return barcode.text


def pycose_verifies(token: str, jwk: dict) -> dict:
    raw = base64.b32decode(token + "=" * (-len(token) % 8))
    try:
        message = Sign1Message.decode(b"\xd2" + raw)
    except TypeError:  # pycose 1.1 with cbor2 6 (pycose issue #141)
        message = Sign1Message.from_cose_obj(list(cbor2.loads(raw)), True)
    x, y = (base64.urlsafe_b64decode(jwk[n] + "=") for n in ("x", "y"))
    message.key = EC2Key.from_dict({KpKty: KtyEC2, EC2KpCurve: P256, EC2KpX: x, EC2KpY: y})
    assert message.verify_signature()
    return cbor2.loads(message.payload)


def test_issue_qr_decode_verify(client, session, issued):
    passport = issued.passport
    url = verification.passport_url(passport, current_settings().public_base_url)
    scanned = decode(qr_png(url))
    assert scanned == url
    response = client.post("/api/v1/verify", json={"url": scanned})
    assert response.get_json()["status"] == "genuine"
    published = client.get("/.well-known/jwks.json").get_json()
    public = keys.public_keys(session)
    listed = status.read_list(client.get("/status/message").get_data(as_text=True), public)
    trusted = trust_helpers.list_of_jwks(published)
    anchor = trust_helpers.ANCHOR_JWK
    assert verify_offline(scanned, public, listed, trust_list=trusted, anchor=anchor).valid
    # without a status list or a trust list the signature alone is not "genuine"
    assert verify_offline(scanned, public, trust_list=trusted, anchor=anchor).status == "unchecked"
    assert verify_offline(scanned, public, listed).status == "unchecked"
    (jwk,) = [k for k in published["keys"] if k["kid"] == passport.kid]
    claims = pycose_verifies(token_from_url(scanned), jwk)
    assert claims[-1] == passport.number and claims[-2] == " ".join(DEMO_NAME)
    assert claims[-6] == [88, 88, 88, 88]  # the skills profile: 87.5 % in each section


# version 10 without an expiry before the skills profile (claim -6) joined the token; the
# issue's bound is 11 (docs/passport-token.md §4, tests/passports/test_printed_qr.py)
@pytest.mark.parametrize(("validity_years", "bound"), [(0, 11), (5, 11)])
def test_qr_size_bound_on_the_demo_passport(app, session, signing_key, validity_years, bound):
    from tests.factories import CompetenceFactory

    app.config["PASSPORT_VALIDITY_YEARS"] = validity_years
    try:
        exam = finalised_exam([Sitting(names=DEMO_NAME)])
        exam.exam.competence = CompetenceFactory(code="17")
        session.flush()
        passport = issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports[0]
    finally:
        app.config["PASSPORT_VALIDITY_YEARS"] = 0
    assert app.config["PUBLIC_BASE_URL"] == "https://skills.example.kz"
    assert len(passport.holder_name) == 28
    url = verification.passport_url(passport, current_settings().public_base_url)
    assert qr_version(url, "M") <= bound
    assert decode(qr_png(url)) == url
