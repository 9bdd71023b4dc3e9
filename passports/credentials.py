"""The passport as a W3C Verifiable Credential: an Open Badges 3.0 ``OpenBadgeCredential``.

Secured as a VC-JWT (Open Badges 3.0 §8.2): a compact JWS, ES256, signed with the issuer's
active key (the ``kid`` of the JWK Set at ``/.well-known/jwks.json``; the public key is also in
the header as ``jwk``). The payload is the credential itself plus the registered claims
``iss`` (issuer id), ``jti`` (credential id), ``nbf`` (validFrom) and ``exp`` (validUntil,
when the passport expires). ``credentialStatus`` points at the issuer's Bitstring Status Lists.

Also here: the "add to LinkedIn profile" link.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy.orm import Session

from passports import jws
from passports.models import Passport
from passports.services import keys
from passports.services.status import list_url
from passports.services.verification import passport_url
from passports.settings import current_settings

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
PASSPORT_NAMESPACE = uuid.UUID("5d3c0b9e-4f1e-5a43-9d0e-0b7a6f2c9a10")
LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def credential_id(passport: Passport) -> str:
    return f"urn:uuid:{uuid.uuid5(PASSPORT_NAMESPACE, passport.number)}"


def _result_description(base: str, key: str, name: str, kind: str, top: str) -> dict[str, Any]:
    return {
        "id": f"{base}#{key}",
        "type": ["ResultDescription"],
        "name": name,
        "resultType": kind,
        "valueMin": "0",
        "valueMax": top,
    }


def open_badge(passport: Passport) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of a passport, built from its frozen snapshot."""
    settings = current_settings()
    snapshot = passport.snapshot
    competence = snapshot["competence"]
    result = snapshot["result"]
    issuer = snapshot["issuer"]
    issuer_id = issuer.get("url") or settings.issuer_url
    achievement_id = f"{issuer_id}/achievements/{competence['code']}"
    title = competence["name"].get("en") or competence["name"].get("kk") or competence["code"]

    descriptions = [
        _result_description(achievement_id, "total", "Total mark", "RawScore", result["max"]),
        _result_description(achievement_id, "percent", "Percent of the maximum", "Percent", "100"),
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
        {
            "type": ["Result"],
            "resultDescription": f"{achievement_id}#total",
            "value": result["total"],
        },
        {
            "type": ["Result"],
            "resultDescription": f"{achievement_id}#percent",
            "value": result["percent"],
        },
        {
            "type": ["Result"],
            "resultDescription": f"{achievement_id}#grade",
            "value": str(result["grade"]),
        },
    ]
    for criterion in snapshot["criteria"]:
        key = f"criterion-{criterion['key']}"
        name = f"Module {criterion['key']}" + (
            f": {criterion['name']}" if criterion["name"] else ""
        )
        descriptions.append(
            _result_description(achievement_id, key, name, "RawScore", criterion["max"])
        )
        values.append(
            {
                "type": ["Result"],
                "resultDescription": f"{achievement_id}#{key}",
                "value": criterion["mark"],
            }
        )
    for section in snapshot["sections"]:
        key = f"wsos-{section['key']}"
        label = section["name"].get("en") or section["name"].get("kk") or ""
        name = f"WSOS section {section['key']}" + (f": {label}" if label else "")
        descriptions.append(
            _result_description(achievement_id, key, name, "RawScore", section["max"])
        )
        values.append(
            {
                "type": ["Result"],
                "resultDescription": f"{achievement_id}#{key}",
                "value": section["mark"],
            }
        )

    holder = snapshot["holder"]
    centre = snapshot["centre"]["name"]
    credential: dict[str, Any] = {
        "@context": CONTEXT,
        "id": credential_id(passport),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Skills Passport {passport.number}: {title}",
        "issuer": {
            "id": issuer_id,
            "type": ["Profile"],
            "name": issuer["name"].get("en") or issuer["name"].get("kk"),
            "url": issuer_id,
        },
        "validFrom": _iso(passport.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": holder["name"],
                    "identityType": "name",
                    "hashed": False,
                }
            ],
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "humanCode": competence["code"],
                "name": title,
                "description": (
                    f"Demonstration exam by WorldSkills standards in the competence "
                    f"{competence['code']} {title}, held at "
                    f"{centre.get('en') or centre.get('kk')} "
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
        "credentialStatus": [
            {
                "id": f"{list_url(settings, 'revocation')}#{passport.sequence}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": str(passport.sequence),
                "statusListCredential": list_url(settings, "revocation"),
            },
            {
                "id": f"{list_url(settings, 'message')}#{passport.sequence}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "message",
                "statusListIndex": str(passport.sequence),
                "statusSize": 2,
                "statusMessage": [
                    {"status": "0x0", "message": "valid"},
                    {"status": "0x1", "message": "revoked"},
                    {"status": "0x2", "message": "superseded"},
                ],
                "statusListCredential": list_url(settings, "message"),
            },
        ],
    }
    if holder.get("name_latin"):
        credential["credentialSubject"]["identifier"].append(
            {
                "type": "IdentityObject",
                "identityHash": holder["name_latin"],
                "identityType": "name",
                "hashed": False,
            }
        )
    if passport.expires_at is not None:
        credential["validUntil"] = _iso(passport.expires_at)
    return credential


def signed_credential(session: Session, passport: Passport) -> str:
    """The OpenBadgeCredential as a VC-JWT signed with the active key."""
    signer = keys.signer(session, current_settings())
    credential = open_badge(passport)
    payload = dict(credential)
    payload.update(
        iss=credential["issuer"]["id"],
        jti=credential["id"],
        nbf=int(passport.issued_at.timestamp()),
    )
    if passport.expires_at is not None:
        payload["exp"] = int(passport.expires_at.timestamp())
    from passports.token import public_jwk

    header = {
        "typ": "JWT",
        "kid": signer.kid,
        "jwk": public_jwk(signer.private_key.public_key(), signer.kid),
    }
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
