"""Translatable texts of the passports package: statuses and reasons (service errors keep
theirs beside their codes, in passports/services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "genuine": _l("Genuine"),
    "revoked": _l("Revoked"),
    "superseded": _l("Superseded"),
    "expired": _l("Expired"),
    "invalid": _l("Not genuine"),
    "untrusted": _l("Not trusted"),
    "unchecked": _l("Not checked"),
}

STATUS_BADGES = {
    "genuine": "ok",
    "revoked": "bad",
    "superseded": "warn",
    "expired": "warn",
    "invalid": "bad",
    "untrusted": "bad",
    "unchecked": "warn",
}

# why a verdict is untrusted or unchecked (services/trust_lists.py reason codes)
TRUST_REASONS = {
    "unknown-key": _l("The signing key is not in the national trust list."),
    "out-of-scope": _l("The signing key is not allowed to certify this competence."),
    "outside-validity": _l("The passport was signed outside the signing key's validity."),
    "compromised": _l("The signing key was compromised; passports it signed are not trusted."),
    "missing": _l("No trust list is installed, so the signing key's permission is not checked."),
    "unreadable": _l("The trust list is not signed by the national trust anchor."),
    "no-anchor": _l("No trust anchor is configured, so the trust list cannot be checked."),
    "expired": _l("The trust list has expired, so the signing key's permission is not checked."),
}

REVOCATION_KINDS = {
    "not_passing": _l("The corrected exam result no longer meets the pass rule."),
    "not_present": _l("The holder is no longer recorded as present at the exam."),
}

SUPERSEDE_REASONS = {
    "result_changed": _l("The exam result was corrected."),
    "name_changed": _l("The holder's name was corrected."),
    "reissued": _l("The passport was re-issued."),
}

# texts the verification page's script shows (passed to it through data-i18n)
VERIFY_PAGE_TEXTS = {
    "empty_title": _l("No passport code in this link"),
    "empty_text": _l(
        "Scan the QR code on the passport with your phone camera, or check the passport by its "
        "number and verification code."
    ),
    "genuine_title": _l("Genuine Skills Passport"),
    "genuine_text": _l(
        "Issued by the issuer below and currently valid. "
        "Compare the name with the holder's ID card."
    ),
    "revoked_title": _l("Revoked"),
    "revoked_text": _l("This passport was revoked on %(date)s and is no longer valid."),
    "reason": _l("Reason"),
    "superseded_title": _l("Superseded by a newer passport"),
    "superseded_text": _l("This passport was replaced by a newer one and is no longer valid."),
    "superseded_link": _l("Open the current passport %(number)s"),
    "expired_title": _l("Expired"),
    "expired_text": _l("This passport expired on %(date)s."),
    "invalid_title": _l("Not genuine"),
    "invalid_text": _l(
        "This code was not issued by the Skills Passport issuer, or it was altered. "
        "Do not rely on it."
    ),
    "revoked_list_text": _l("This passport was revoked and is no longer valid."),
    "damaged_title": _l("This link is incomplete"),
    "damaged_text": _l(
        "The link was cut off or damaged on the way (for example when it was copied into a "
        "chat), so the passport cannot be checked from it. Scan the QR code on the passport "
        "again, or check the passport by its number and verification code."
    ),
    "unchecked_title": _l("Signature genuine, status not checked"),
    "unchecked_text": _l(
        "The signature is genuine, but we could not check whether it was revoked — check "
        "again when online, or check by number."
    ),
    "check_by_number": _l("Check a passport by its number and verification code"),
    "list_checked": _l(
        "The issuer's signed status list of %(date)s says whether it was revoked or replaced."
    ),
    "list_unavailable": _l("No recent signed status list of the issuer could be loaded either."),
    "list_age": _l("It was signed %(ago)s."),
    # how long ago a status list was signed: minutes under an hour, hours under two days,
    # else days (so never "1 days")
    "ago_minute": _l("%(count)s min ago"),
    "ago_hour": _l("%(count)s h ago"),
    "ago_day": _l("%(count)s days ago"),
    "list_too_old": _l(
        "The newest signed status list here is of %(date)s, signed %(ago)s: too old to tell "
        "whether the passport was revoked since."
    ),
    "unknown_title": _l("Could not be checked"),
    "unknown_text": _l(
        "Neither this browser nor the server could check the code. Try again when online, or "
        "check the passport by its number and verification code."
    ),
    "sig_browser": _l(
        "Signature verified in your browser with the issuer's published key %(kid)s."
    ),
    "sig_no_webcrypto": _l(
        "This browser cannot verify signatures on this connection (not a secure connection, or "
        "an old browser); the verdict relies on the server's check."
    ),
    "sig_failed": _l("The signature check in your browser failed: the code is not genuine."),
    "sig_unavailable": _l(
        "The issuer's keys could not be loaded, so the signature was not checked in your browser."
    ),
    "server_checked": _l("The server checked the live status (revocation, replacement, expiry)."),
    "server_invalid": _l("The issuer's server does not know this code either."),
    "server_unreachable": _l(
        "The server did not answer, so the live status (revocation) could not be checked."
    ),
    "mismatch": _l(
        "Warning: the QR code does not match the passport record. Compare the details with the "
        "holder's ID card and contact the issuer."
    ),
    "holder": _l("Holder"),
    "number": _l("Passport number"),
    "competence": _l("Competence"),
    "result": _l("Result"),
    "total": _l("Total mark"),
    "total_of": _l("%(total)s of %(max)s (%(percent)s %%)"),
    "grade": _l("Grade"),
    "grade_of": _l("%(grade)s of %(top)s"),
    "centre": _l("Competence centre"),
    "college": _l("College"),
    "exam_dates": _l("Exam date"),
    "issued": _l("Issued"),
    "valid_until": _l("Valid until"),
    "no_expiry": _l("no expiry"),
    "issuer": _l("Issuer"),
    "profile_sections": _l("Skills profile by WSOS section"),
    "profile_modules": _l("Skills profile by module"),
    # the profile read from the token alone (docs/passport-token.md §1.1), e.g. offline
    "section_number": _l("Section %(n)s"),
    "profile_from_token": _l(
        "From the QR code alone: the percent of each section's maximum the holder achieved."
    ),
    # the national trust list (issue 12); the reasons are TRUST_REASONS, as on /check
    "untrusted_title": _l("Not trusted"),
    "untrusted_text": _l(
        "Signed by a key that is not allowed to certify this competence. Do not rely on it."
    ),
    "signed_by": _l("Signed by: %(issuer)s"),
    "trust_allowed": _l(
        "Signed by %(issuer)s, whose key the national trust list allows to certify this competence."
    ),
    "trust_unavailable": _l(
        "The national trust list could not be loaded, so your browser did not check whether "
        "the key may certify this competence."
    ),
    # JS: t["trust:" + reason code] (the reasons of services/trust_lists.py and trust.py)
    **{f"trust:{code}": text for code, text in TRUST_REASONS.items()},
    "trust_unchecked_title": _l("Signature genuine, authority not checked"),
    "trust_unchecked_text": _l(
        "The signature is genuine, but no valid national trust list was available to say "
        "whether its key may certify this competence. Check again when online, or check by "
        "number."
    ),
}
