"""The Open Badges 3.0 credential the graduate downloads: an RS256 VC-JWT that conforms.

The rules checked here are the ones 1EdTech states in the Open Badges 3.0 specification
(the "JSON Web Token Proof Format" section: JOSE header, JWT claims, verification steps)
and in its published JSON Schema of an AchievementCredential (draft 2019-09, the OB 3.0.3
data model: required members, which objects carry ``type`` as a list and which as a
string, the closed IdentityObject, one ``credentialStatus`` object, vocabularies, string
values), one test per rule, in our words; the schema itself is not copied here (the
credential validated against it with no errors when these tests were written).
``openbadgeslib`` (PyPI), an OB 3.0 implementation we did not write, verifies the
signature and the revocation status.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from fractions import Fraction
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from openbadgeslib.ob3.status import check_credential_status
from openbadgeslib.ob3.verifier import OB3VerificationError, OB3Verifier

from passports import jws
from passports.credentials import credential_id
from passports.services import holders, issuance, keys
from passports.services.snapshot import profile_percents
from passports.settings import current_settings
from passports.token import public_key_from_jwk
from tests.passports import trust_helpers
from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam

BASE = "https://skills.example.kz"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = re.compile(r"^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)?\.json$")
# RFC 3339 date-time with a zone (the schema's DateTimeZ)
DATE_TIME_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
# the OB 3.0 ResultType and AchievementType vocabularies (a subset is enough to check ours)
RESULT_TYPES = {
    "GradePointAverage",
    "LetterGrade",
    "Percent",
    "PerformanceLevel",
    "PredictedScore",
    "RawScore",
    "Result",
    "RubricCriterion",
    "RubricCriterionLevel",
    "RubricScore",
    "ScaledScore",
    "Status",
}
ALIGNMENT_TARGET_TYPES = {
    "ceasn:Competency",
    "ceterms:Credential",
    "CFItem",
    "CFRubric",
    "CFRubricCriterion",
    "CFRubricCriterionLevel",
    "CTDL",
}
# members of the OB 3.0 AchievementType vocabulary a passport could be
ACHIEVEMENT_TYPES = {"Assessment", "Certificate", "Certification", "Competency"}
RESULT_STATUSES = {
    "Completed",
    "Enrolled",
    "Failed",
    "InProgress",
    "OnHold",
    "Provisional",
    "Withdrew",
}
EXTENSION_TERM = re.compile(r"^ext:[a-zA-Z0-9._-]+$")
IDENTIFIER_TYPES = {
    "name",
    "sourcedId",
    "systemId",
    "productId",
    "userName",
    "accountId",
    "emailAddress",
    "nationalIdentityNumber",
    "isbn",
    "issn",
    "lisSourcedId",
    "oneRosterSourcedId",
    "sisSourcedId",
    "ltiContextId",
    "ltiDeploymentId",
    "ltiToolId",
    "ltiPlatformId",
    "ltiUserId",
    "identifier",
}


def _download(client, passport) -> str:
    token = holders.private_link_token(current_settings(), passport)
    response = client.get(f"/my/{token}/credential.jwt")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    return response.get_data(as_text=True)


def _parts(text: str) -> tuple[dict, dict]:
    header, payload, _signature = text.split(".")
    return json.loads(jws.b64url_decode(header)), json.loads(jws.b64url_decode(payload))


def _get(client, url: str) -> bytes:
    """Fetch one of the deployment's own URLs through the test client (no network)."""
    assert url.startswith(BASE + "/"), url
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200, url
    return response.data


def _rsa_key(jwk: dict) -> rsa.RSAPublicKey:
    def number(name: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(jwk[name] + "=" * (-len(jwk[name]) % 4)))

    return rsa.RSAPublicNumbers(number("e"), number("n")).public_key()


def _dereferenced_key(client, header: dict) -> tuple[dict, rsa.RSAPublicKey]:
    jwk = json.loads(_get(client, header["kid"]))
    return jwk, _rsa_key(jwk)


def test_the_credential_is_an_rs256_vc_jwt_whose_kid_dereferences_to_a_published_key(
    client, session, issued, credential_key
):
    text = _download(client, issued.passport)
    header, _payload = _parts(text)
    # JOSE header: alg RS256, kid a URL of the public JWK, typ "JWT"; no other members
    assert set(header) <= {"alg", "kid", "jwk", "typ"}
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    assert header["kid"] == f"{BASE}/.well-known/jwks/{credential_key.kid}.json"
    jwk, public_key = _dereferenced_key(client, header)
    assert "d" not in jwk and (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    assert public_key.key_size == 2048
    published = json.loads(client.get("/.well-known/jwks.json").data)["keys"]
    assert jwk in published
    assert {k["alg"] for k in published} == {"ES256", "RS256"}
    signing_input, signature = text.rsplit(".", 1)
    public_key.verify(  # RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3); raises if wrong
        jws.b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_jwt_claims_mirror_the_credential(app, client, session, signing_key, credential_key):
    app.config["PASSPORT_VALIDITY_YEARS"] = 5
    try:
        exam = finalised_exam([Sitting(names=DEMO_NAME, share=Fraction(7, 8))])
        passport = issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports[0]
    finally:
        app.config["PASSPORT_VALIDITY_YEARS"] = 0
    _header, payload = _parts(_download(client, passport))
    assert payload["iss"] == payload["issuer"]["id"] == BASE
    assert payload["jti"] == payload["id"] == credential_id(passport)
    assert payload["sub"] == payload["credentialSubject"]["id"]
    assert payload["sub"].startswith("urn:uuid:") and passport.holder_name not in payload["sub"]
    valid_from = datetime.fromisoformat(payload["validFrom"].replace("Z", "+00:00"))
    valid_until = datetime.fromisoformat(payload["validUntil"].replace("Z", "+00:00"))
    # NumericDates: whole seconds since the epoch, equal to the credential's own moments
    assert isinstance(payload["nbf"], int) and isinstance(payload["exp"], int)
    assert datetime.fromtimestamp(payload["nbf"], UTC) == valid_from
    assert datetime.fromtimestamp(payload["exp"], UTC) == valid_until
    assert valid_until.year == valid_from.year + 5


def test_the_payload_is_the_credential_itself_not_wrapped_in_a_vc_claim(client, session, issued):
    payload = _credential(client, issued.passport)
    # VC-JWT of VC 1.1 put the credential under "vc"; OB 3.0 signs the credential itself
    assert "vc" not in payload and "proof" not in payload
    assert payload["type"][0] == "VerifiableCredential" and payload["credentialSubject"]


def test_a_passport_without_expiry_has_no_exp_and_the_same_holder_keeps_one_subject(
    client, session, issued
):
    _header, payload = _parts(_download(client, issued.passport))
    assert "exp" not in payload and "validUntil" not in payload
    again = _parts(_download(client, issued.passport))[1]
    assert again["sub"] == payload["sub"] and again["jti"] == payload["jti"]
    others = [p for p in issued.summary.new_passports if p.id != issued.passport.id]
    for other in others:  # another holder, another subject
        assert _parts(_download(client, other))[1]["sub"] != payload["sub"]


def _credential(client, passport) -> dict:
    return _parts(_download(client, passport))[1]


def _typed_nodes(vc: dict) -> list[tuple[str, dict]]:
    """Every object of the credential whose class the schema names in a ``type`` list."""
    subject = vc["credentialSubject"]
    achievement = subject["achievement"]
    descriptions = achievement.get("resultDescription", [])
    nodes = [("Profile", vc["issuer"]), ("AchievementSubject", subject)]
    nodes.append(("Achievement", achievement))
    nodes += [("ResultDescription", d) for d in descriptions]
    nodes += [("Result", r) for r in subject.get("result", [])]
    nodes += [("Evidence", e) for e in vc.get("evidence", [])]
    nodes += [
        ("Alignment", a)
        for holder in (achievement, *descriptions, *subject.get("result", []))
        for a in holder.get("alignment", [])
    ]
    return nodes


def test_context_is_the_vc_2_context_then_an_open_badges_3_context(client, session, issued):
    context = _credential(client, issued.passport)["@context"]
    assert isinstance(context, list) and len(context) >= 2
    assert context[0] == VC_CONTEXT and OB_CONTEXT.match(context[1])
    # any further entry is a context URL or an inline context object
    assert all(isinstance(extra, str | dict) for extra in context[2:])


def test_the_credential_has_every_member_the_schema_requires(client, session, issued):
    vc = _credential(client, issued.passport)
    for member in ("@context", "id", "type", "issuer", "validFrom", "credentialSubject"):
        assert member in vc, member
    assert isinstance(vc["id"], str) and vc["id"].startswith("urn:uuid:")
    assert isinstance(vc["name"], str) and vc["name"]
    for moment in ("validFrom", "validUntil", "awardedDate"):
        assert moment not in vc or DATE_TIME_Z.match(vc[moment]), moment


def test_the_credential_type_list_names_a_verifiable_and_an_open_badge_credential(
    client, session, issued
):
    types = _credential(client, issued.passport)["type"]
    assert isinstance(types, list) and all(isinstance(t, str) for t in types)
    assert "VerifiableCredential" in types
    assert {"OpenBadgeCredential", "AchievementCredential"} & set(types)


def test_every_typed_object_names_its_class_in_a_type_list(client, session, issued):
    vc = _credential(client, issued.passport)
    nodes = _typed_nodes(vc)
    assert {name for name, _node in nodes} >= {"Alignment", "Evidence", "Result"}
    for name, node in nodes:  # a bare string fails the schema here, unlike IdentityObject
        assert isinstance(node["type"], list) and node["type"], (name, node)
        assert name in node["type"] and all(isinstance(t, str) for t in node["type"])


def test_the_issuer_is_a_profile_with_an_id_that_is_the_deployment(client, session, issued):
    issuer = _credential(client, issued.passport)["issuer"]
    assert isinstance(issuer, dict) and issuer["id"] == BASE
    assert isinstance(issuer["name"], str) and issuer["name"]


def test_the_subject_is_identified_by_an_id_and_identity_objects(client, session, issued):
    subject = _credential(client, issued.passport)["credentialSubject"]
    assert "achievement" in subject  # required beside type
    assert subject["id"].startswith("urn:uuid:") and subject["identifier"]
    assert issued.passport.holder_name not in subject["id"]


def test_identity_objects_have_a_string_type_and_no_members_beyond_the_five(
    client, session, issued
):
    for identifier in _credential(client, issued.passport)["credentialSubject"]["identifier"]:
        # a closed object: type, identityHash, identityType, hashed and (if hashed) salt
        assert set(identifier) <= {"type", "identityHash", "identityType", "hashed", "salt"}
        assert identifier["type"] == "IdentityObject"  # a string here, not a list
        assert identifier["identityType"] in IDENTIFIER_TYPES or EXTENSION_TERM.match(
            identifier["identityType"]
        )
        assert identifier["hashed"] is False and isinstance(identifier["identityHash"], str)


def test_credential_status_is_one_object_with_an_id_and_a_type(client, session, issued):
    status = _credential(client, issued.passport)["credentialStatus"]
    assert isinstance(status, dict)  # a list of entries fails the schema
    assert isinstance(status["id"], str) and status["id"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    assert status["statusListCredential"] == f"{BASE}/status/revocation"
    assert status["statusListIndex"] == str(issued.passport.sequence)


def test_credential_schema_is_a_list_naming_the_1edtech_validator(client, session, issued):
    schemas = _credential(client, issued.passport)["credentialSchema"]
    assert isinstance(schemas, list) and schemas
    for schema in schemas:
        assert schema["id"].endswith("/ob_v3p0_achievementcredential_schema.json")
        assert schema["type"] == "1EdTechJsonSchemaValidator2019"


def test_the_achievement_has_id_type_criteria_description_name_and_a_known_type(
    client, session, issued
):
    achievement = _credential(client, issued.passport)["credentialSubject"]["achievement"]
    for member in ("id", "type", "criteria", "description", "name"):
        assert member in achievement, member
    for text in ("description", "name", "humanCode"):
        assert isinstance(achievement[text], str) and achievement[text], text
    assert isinstance(achievement["criteria"], dict) and achievement["criteria"]["narrative"]
    assert achievement["achievementType"] in ACHIEVEMENT_TYPES or EXTENSION_TERM.match(
        achievement["achievementType"]
    )


def test_result_descriptions_have_unique_ids_a_result_type_and_string_bounds(
    client, session, issued
):
    achievement = _credential(client, issued.passport)["credentialSubject"]["achievement"]
    descriptions = achievement["resultDescription"]
    ids = [d["id"] for d in descriptions]
    assert len(ids) == len(set(ids))
    for description in descriptions:
        for member in ("id", "type", "name", "resultType"):
            assert member in description, member
        assert isinstance(description["name"], str) and description["name"]
        assert description["resultType"] in RESULT_TYPES or EXTENSION_TERM.match(
            description["resultType"]
        )
        for bound in ("valueMin", "valueMax", "requiredValue", "requiredLevel"):
            assert bound not in description or isinstance(description[bound], str), bound
        allowed = description.get("allowedValue", [])
        assert isinstance(allowed, list) and all(isinstance(v, str) for v in allowed)


def test_every_result_is_a_string_value_of_one_result_description(client, session, issued):
    subject = _credential(client, issued.passport)["credentialSubject"]
    ids = [d["id"] for d in subject["achievement"]["resultDescription"]]
    results = subject["result"]
    assert [r["resultDescription"] for r in results] == ids
    for result in results:
        assert isinstance(result["value"], str)
        assert "status" not in result or result["status"] in RESULT_STATUSES


def test_evidence_is_a_list_of_typed_objects(client, session, issued):
    evidence = _credential(client, issued.passport)["evidence"]
    assert isinstance(evidence, list) and evidence
    for item in evidence:
        assert "Evidence" in item["type"] and urlsplit(item["id"]).scheme == "https"


def test_the_skills_profile_is_in_results_aligned_to_the_wsos_sections(client, session, issued):
    snapshot = issued.passport.snapshot
    _header, vc = _parts(_download(client, issued.passport))
    subject = vc["credentialSubject"]
    descriptions = {d["id"]: d for d in subject["achievement"]["resultDescription"]}
    aligned = [
        (descriptions[r["resultDescription"]], r)
        for r in subject["result"]
        if descriptions[r["resultDescription"]].get("alignment")
    ]
    assert len(snapshot["sections"]) >= 2
    # two results per section, in section order: the whole percent, then the exact mark
    assert len(aligned) == 2 * len(snapshot["sections"])
    percents, marks = aligned[0::2], aligned[1::2]
    profile = profile_percents(snapshot)
    assert [int(r["value"]) for _d, r in percents] == list(profile)  # the QR token's profile
    for section, (percent, _), (mark, result) in zip(
        snapshot["sections"], percents, marks, strict=True
    ):
        assert (percent["resultType"], percent["valueMin"], percent["valueMax"]) == (
            "Percent",
            "0",
            "100",
        )
        assert (mark["resultType"], mark["valueMin"], mark["valueMax"]) == (
            "RawScore",
            "0",
            section["max"],
        )
        assert result["value"] == section["mark"]  # exact decimals, as the passport prints
        for description in (percent, mark):
            (alignment,) = description["alignment"]
            assert "Alignment" in alignment["type"]
            assert alignment["targetCode"] == str(section["key"])
            assert alignment["targetName"] and alignment["targetFramework"]
            assert urlsplit(alignment["targetUrl"]).scheme == "https"
            assert alignment["targetType"] in ALIGNMENT_TARGET_TYPES or EXTENSION_TERM.match(
                alignment["targetType"]
            )


def test_openbadgeslib_verifies_the_credential_with_the_published_key(client, session, issued):
    text = _download(client, issued.passport)
    header, payload = _parts(text)
    _jwk, public_key = _dereferenced_key(client, header)

    credential = OB3Verifier(pubkey_pem=public_key).verify(text)
    assert credential.id == credential_id(issued.passport)
    assert credential.issuer.id == BASE and credential.recipient_id == payload["sub"]
    assert credential.achievement.name == payload["credentialSubject"]["achievement"]["name"]
    described = {d.id: d for d in credential.achievement.result_descriptions}
    assert described and all(r.result_description in described for r in credential.results)
    aligned = [d for d in described.values() if d.alignments]
    assert len(aligned) == 2 * len(issued.passport.snapshot["sections"])

    header_b64, _body, signature = text.split(".")
    forged = dict(payload, name="Skills Passport: Master of Everything")
    forged_body = jws.b64url(json.dumps(forged).encode())
    with pytest.raises(OB3VerificationError):
        OB3Verifier(pubkey_pem=public_key).verify(f"{header_b64}.{forged_body}.{signature}")
    # the ES256 passport key never verifies the credential: the algorithm is bound to the key
    published = json.loads(client.get("/.well-known/jwks.json").data)["keys"]
    es256 = public_key_from_jwk(next(k for k in published if k["alg"] == "ES256"))
    with pytest.raises(OB3VerificationError):
        OB3Verifier(pubkey_pem=es256).verify(text)


def test_openbadgeslib_reads_revocation_from_the_signed_status_list(
    client, session, issued, signing_key
):
    passport = issued.passport
    text = _download(client, passport)
    header, _payload = _parts(text)
    _jwk, public_key = _dereferenced_key(client, header)
    credential = OB3Verifier(pubkey_pem=public_key).verify(text)
    status_key = keys.public_keys(session)[signing_key.kid]  # the list is signed with ES256
    list_key = status_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def fetch(url: str) -> bytes:
        return _get(client, url)

    check_credential_status(credential, download=fetch, verify_list=True, list_pubkey_pem=list_key)

    issuance.revoke(session, passport, "Marks entered for the wrong candidate")
    session.flush()
    with pytest.raises(OB3VerificationError, match="revocation"):
        check_credential_status(
            credential, download=fetch, verify_list=True, list_pubkey_pem=list_key
        )
    # a list signed by another key is refused rather than read
    with pytest.raises(OB3VerificationError):
        check_credential_status(
            credential,
            download=fetch,
            verify_list=True,
            list_pubkey_pem=public_key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )


def test_without_an_rs256_key_the_download_is_unavailable_not_a_crash(client, session, signing_key):
    exam = finalised_exam([Sitting(names=DEMO_NAME, share=Fraction(7, 8))])
    passport = issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports[0]
    token = holders.private_link_token(current_settings(), passport)
    assert client.get(f"/my/{token}/credential.jwt").status_code == 503
    assert client.get(f"/my/{token}").status_code == 200


def test_verify_cli_reads_a_jwks_file_that_also_holds_rsa_keys(
    app, session, issued, credential_key, tmp_path
):
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(keys.jwks(session)), encoding="utf-8")
    assert {k["kty"] for k in keys.jwks(session)["keys"]} == {"EC", "RSA"}
    trust_file, anchor_file = trust_helpers.write_files(
        tmp_path, trust_helpers.list_of_jwks(keys.jwks(session))
    )
    runner = app.test_cli_runner()
    status_file = tmp_path / "status.jwt"
    assert runner.invoke(args=["passports", "status-list", "-o", str(status_file)]).exit_code == 0
    result = runner.invoke(
        args=[
            "passports",
            "verify",
            issued.passport.token,
            *("--jwks", str(jwks_file), "--status", str(status_file)),
            *("--trust-list", str(trust_file), "--anchor", str(anchor_file)),
        ]
    )
    assert result.exit_code == 0 and result.output.startswith("GENUINE"), result.output
