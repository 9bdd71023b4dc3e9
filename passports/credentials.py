"""The passport as a W3C Verifiable Credential: an Open Badges 3.0 ``OpenBadgeCredential``.

Secured as a VC-JWT (the Open Badges 3.0 "JSON Web Token Proof Format"): a compact JWS,
**RS256**, signed with the issuer's active RSA key. The header holds ``alg``, ``typ`` "JWT"
and ``kid``: a URL that dereferences to that key's public JWK
(``/.well-known/jwks/<kid>.json``; the same key is in ``/.well-known/jwks.json`` with
``alg`` RS256). The payload is the credential itself plus the registered claims ``iss``
(issuer.id), ``jti`` (id), ``sub`` (credentialSubject.id), ``nbf`` (validFrom) and ``exp``
(validUntil, when the passport expires).

One ``credentialStatus`` object: a Bitstring Status List entry (purpose revocation) at the
passport's sequence in the deployment's signed revocation list, whose bit is set when the
passport is revoked or superseded. The skills profile is in ``result``: one result per WSOS
section, each linked to a ``resultDescription`` of the achievement that is aligned to that
section of the WorldSkills Occupational Standard.

Also here: the "add to LinkedIn profile" link.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy.orm import Session

from passports import jws
from passports.models import Passport
from passports.moments import iso_z
from passports.services import keys
from passports.services.snapshot import section_percent
from passports.services.status import list_url
from passports.services.verification import passport_url
from passports.settings import PassportSettings, current_settings

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
# the schema 1EdTech validates an AchievementCredential with (named, not copied)
SCHEMA = {
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
    "ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019",
}
PASSPORT_NAMESPACE = uuid.UUID("5d3c0b9e-4f1e-5a43-9d0e-0b7a6f2c9a10")
HOLDER_NAMESPACE = uuid.UUID("0b6f4f7e-2d8a-5c1b-8e3f-4a9d2c7b1e60")
WSOS_FRAMEWORK = "WorldSkills Occupational Standards (WSOS)"
LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def credential_id(passport: Passport) -> str:
    return f"urn:uuid:{uuid.uuid5(PASSPORT_NAMESPACE, passport.number)}"


def subject_id(passport: Passport, issuer_id: str) -> str:
    """The holder's id in the credential (``credentialSubject.id``, the JWT ``sub``).

    Rule: a name-based UUID of the issuer and the holder's candidate record, so every
    credential of one person from one issuer names the same subject, and no personal data
    (IIN, name, birth date) can be read out of it.
    """
    return f"urn:uuid:{uuid.uuid5(HOLDER_NAMESPACE, f'{issuer_id}|{passport.candidate_id}')}"


def key_url(settings: PassportSettings, kid: str) -> str:
    """The URL of one public key as a JWK: the ``kid`` of the credential's JOSE header."""
    return f"{settings.public_base_url.rstrip('/')}/.well-known/jwks/{kid}.json"


def _english(names: dict[str, str], fallback: str = "") -> str:
    return names.get("en") or names.get("kk") or names.get("ru") or fallback


def _raw_score(base: str, key: str, name: str, top: str) -> dict[str, Any]:
    return {
        "id": f"{base}#{key}",
        "type": ["ResultDescription"],
        "name": name,
        "resultType": "RawScore",
        "valueMin": "0",
        "valueMax": top,
    }


def _result(base: str, key: str, value: str) -> dict[str, Any]:
    return {"type": ["Result"], "resultDescription": f"{base}#{key}", "value": value}


def _results(snapshot: dict[str, Any], achievement_id: str) -> tuple[list, list]:
    """The achievement's result descriptions and the holder's results, pairwise linked.

    Total, percent and grade first; then one raw score per marking-scheme module; then the
    skills profile, per WSOS section in section order: the whole percent of the section's
    maximum (the QR token's profile, ``section_percent``) and the exact mark out of the
    maximum, both descriptions aligned to that WSOS section.
    """
    result = snapshot["result"]
    descriptions = [
        _raw_score(achievement_id, "total", "Total mark", result["max"]),
        {
            **_raw_score(achievement_id, "percent", "Percent of the maximum", "100"),
            "resultType": "Percent",
        },
        {
            "id": f"{achievement_id}#grade",
            "type": ["ResultDescription"],
            "name": "Grade (national 5-point scale)",
            "resultType": "LetterGrade",
            "allowedValue": ["2", "3", "4", "5"],
            "requiredValue": str(result.get("pass_min_grade", 3)),
        },
    ]
    values = [
        _result(achievement_id, "total", result["total"]),
        _result(achievement_id, "percent", result["percent"]),
        _result(achievement_id, "grade", str(result["grade"])),
    ]
    for criterion in snapshot["criteria"]:
        key = f"criterion-{criterion['key']}"
        name = f"Module {criterion['key']}" + (
            f": {criterion['name']}" if criterion["name"] else ""
        )
        descriptions.append(_raw_score(achievement_id, key, name, criterion["max"]))
        values.append(_result(achievement_id, key, criterion["mark"]))
    for section in snapshot["sections"]:
        key = f"wsos-{section['key']}"
        label = _english(section["name"])
        name = f"WSOS section {section['key']}" + (f": {label}" if label else "")
        alignment = {
            "type": ["Alignment"],
            "targetType": "ext:WSOSSection",
            "targetFramework": WSOS_FRAMEWORK,
            "targetCode": str(section["key"]),
            "targetName": name,
            "targetUrl": f"{achievement_id}/wsos/{section['key']}",
        }
        percent = section_percent(int(section["units"]), int(section["max_units"]))
        descriptions.append(
            {
                **_raw_score(achievement_id, key, f"{name} (percent)", "100"),
                "resultType": "Percent",
                "alignment": [alignment],
            }
        )
        values.append(_result(achievement_id, key, str(percent)))
        descriptions.append(
            {
                **_raw_score(achievement_id, f"{key}-mark", f"{name} (mark)", section["max"]),
                "alignment": [alignment],
            }
        )
        values.append(_result(achievement_id, f"{key}-mark", section["mark"]))
    return descriptions, values


def open_badge(passport: Passport) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of a passport, built from its frozen snapshot."""
    settings = current_settings()
    snapshot = passport.snapshot
    competence = snapshot["competence"]
    issuer = snapshot["issuer"]
    issuer_id = issuer.get("url") or settings.issuer_url
    achievement_id = f"{issuer_id}/achievements/{competence['code']}"
    title = _english(competence["name"], competence["code"])
    descriptions, values = _results(snapshot, achievement_id)

    holder = snapshot["holder"]
    centre = snapshot["centre"]["name"]
    identifiers = [
        {
            "type": "IdentityObject",
            "identityHash": name,
            "identityType": "name",
            "hashed": False,
        }
        for name in (holder["name"], holder.get("name_latin"))
        if name
    ]
    revocation_list = list_url(settings, "revocation")
    credential: dict[str, Any] = {
        "@context": CONTEXT,
        "id": credential_id(passport),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Skills Passport {passport.number}: {title}",
        "issuer": {
            "id": issuer_id,
            "type": ["Profile"],
            "name": _english(issuer["name"]),
            "url": issuer_id,
        },
        "validFrom": iso_z(passport.issued_at, "seconds"),
        "credentialSubject": {
            "id": subject_id(passport, issuer_id),
            "type": ["AchievementSubject"],
            "identifier": identifiers,
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "humanCode": competence["code"],
                "name": title,
                "description": (
                    f"Demonstration exam by WorldSkills standards in the competence "
                    f"{competence['code']} {title}, held at {_english(centre)} "
                    f"({snapshot['exam']['start_date']} – {snapshot['exam']['end_date']})."
                ),
                "criteria": {
                    "narrative": (
                        "Passed a demonstration exam marked by a group of independent experts "
                        "with a WorldSkills marking scheme; the grade meets the scheme's pass rule."
                    )
                },
                "resultDescription": descriptions,
            },
            "result": values,
        },
        "evidence": [
            {
                "id": passport_url(passport, settings.public_base_url),
                "type": ["Evidence"],
                "name": f"Skills Passport {passport.number} (QR verification link)",
            }
        ],
        "credentialStatus": {
            "id": f"{revocation_list}#{passport.sequence}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(passport.sequence),
            "statusListCredential": revocation_list,
        },
        "credentialSchema": [SCHEMA],
    }
    if passport.expires_at is not None:
        credential["validUntil"] = iso_z(passport.expires_at, "seconds")
    return credential


def signed_credential(session: Session, passport: Passport) -> str:
    """The OpenBadgeCredential as a VC-JWT signed with the active RS256 key.

    SigningKeyError when there is no RS256 key (``flask keys ensure`` creates it).
    """
    settings = current_settings()
    signer = keys.signer(session, settings, keys.RS256)
    credential = open_badge(passport)
    payload = dict(credential)
    payload.update(
        iss=credential["issuer"]["id"],
        jti=credential["id"],
        sub=credential["credentialSubject"]["id"],
        nbf=int(passport.issued_at.timestamp()),
    )
    if passport.expires_at is not None:
        payload["exp"] = int(passport.expires_at.timestamp())
    header = {"typ": "JWT", "kid": key_url(settings, signer.kid)}
    return jws.sign(header, payload, signer.private_key)


def linkedin_url(passport: Passport, cert_url: str) -> str:
    """LinkedIn's "add licence or certification" link, filled in for the passport."""
    snapshot = passport.snapshot
    competence = snapshot["competence"]
    name = competence["name"].get("en") or competence["name"].get("kk") or competence["code"]
    params: dict[str, Any] = {
        "startTask": "CERTIFICATION_NAME",
        "name": f"Skills Passport: {name}",
        "organizationName": snapshot["issuer"]["name"].get("en")
        or current_app.config["ISSUER_NAME_EN"],
        "issueYear": passport.issued_at.year,
        "issueMonth": passport.issued_at.month,
        "certUrl": cert_url,
        "certId": passport.number,
    }
    if passport.expires_at is not None:
        params["expirationYear"] = passport.expires_at.year
        params["expirationMonth"] = passport.expires_at.month
    return f"{LINKEDIN_ADD}?{urlencode(params)}"
