"""Operations on passports: keys, issuance, verification, status list and credentials.

Plain functions that take a session, change the models and raise ``PassportError``; the
request or CLI command around them commits once.
"""

from __future__ import annotations

from typing import Any

from app.messages import N_, DomainError

# every reason a passport operation is refused, by its code
MESSAGES = {
    "not_finalised": N_(
        "Exam %(exam)s is not finalised: passports are issued only for a finalised exam."
    ),
    "no_key": N_(
        "There is no signing key yet. Create one under Signing keys "
        "(or with the command flask keys generate)."
    ),
    "key_undecryptable": N_(
        "The signing key %(kid)s cannot be decrypted: the KEY_ENCRYPTION_SECRET setting "
        "has changed."
    ),
    "key_wrong_type": N_("The signing key %(kid)s is not an %(alg)s key."),
    "reason_required": N_("Give the reason for revoking the passport."),
    "reason_too_long": N_("The reason is longer than 500 characters."),
    "already_revoked": N_("This passport is already revoked."),
    "superseded": N_("This passport was superseded; revoke the current one."),
    "not_current": N_("Only a current passport (neither revoked nor superseded) can be re-issued."),
    "unknown_purpose": N_("Unknown status list purpose %(purpose)s."),
    "status_list_invalid": N_("The status list is not valid: %(reason)s."),
    "font_missing": N_(
        "The font file %(path)s is missing: install DejaVu fonts (Debian: fonts-dejavu-core) "
        "or set PDF_FONT_DIR to a folder with %(files)s."
    ),
    "font_cache_unwritable": N_("No folder for the PDF font cache can be written."),
    "share_link_off": N_("The holder switched this share link off."),
    "no_trust_list": N_(
        "No trust list is installed, so the signing key %(kid)s may not sign: install the "
        "trust list signed by the trust anchor (flask trust install FILE)."
    ),
    "trust_list_unusable": N_(
        "The installed trust list is not signed by the configured trust anchor "
        "(TRUST_ANCHOR_JWK), so the signing key %(kid)s may not sign: install the list the "
        "anchor signed."
    ),
    "key_not_in_trust_list": N_(
        "The signing key %(kid)s is not in the installed trust list: ask the trust anchor to "
        "add it, then install the new list."
    ),
    "key_out_of_scope": N_(
        "The installed trust list does not allow the signing key %(kid)s to certify the "
        "competence %(competence)s."
    ),
    "key_outside_validity": N_(
        "The installed trust list does not allow the signing key %(kid)s to sign now (outside "
        "its validity)."
    ),
    "key_compromised": N_(
        "The signing key %(kid)s is marked compromised in the trust list: it signs nothing. "
        "Rotate the key and re-issue its passports (flask passports reissue --key)."
    ),
    "key_retired": N_(
        "The signing key %(kid)s is retired in the trust list: it signs nothing new."
    ),
    "trust_anchor_missing": N_(
        "The trust anchor (TRUST_ANCHOR_JWK) cannot be read, so no trust list can be checked."
    ),
    "trust_anchor_unreadable": N_("The trust anchor file %(path)s cannot be read."),
    "trust_list_invalid": N_("The trust list is not valid: %(reason)s."),
    "trust_list_not_newer": N_(
        "The trust list has sequence number %(seq)s, not newer than the installed list's "
        "%(installed)s (give --force to install it anyway)."
    ),
    "trust_list_expired": N_("The trust list expired at %(expires)s."),
    "trust_list_development": N_(
        "A development trust list cannot be installed in production: install the list signed "
        "by the national trust anchor."
    ),
    "unknown_key": N_("There is no signing key %(kid)s."),
    "key_still_active": N_(
        "The signing key %(kid)s still signs new passports: rotate it first "
        "(flask keys rotate), then re-issue its passports."
    ),
}


class PassportError(DomainError):
    """A passport operation cannot be done; ``code`` (a key of ``MESSAGES``) names why."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(MESSAGES[code], code=code, **params)


class SigningKeyError(PassportError):
    """No key can sign, or a stored key cannot be decrypted with the configured secret."""


class ShareLinkOff(PassportError):
    """The holder switched the public share link off; the QR on the passport still verifies."""

    def __init__(self) -> None:
        super().__init__("share_link_off")
