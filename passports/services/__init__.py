"""Operations on passports: keys, issuance, verification, status list and credentials.

Plain functions that take a session, change the models and raise ``PassportError``; the
request or CLI command around them commits once.
"""

from __future__ import annotations

from typing import Any


class PassportError(Exception):
    """A passport operation cannot be done.

    ``str()`` is an English sentence for the command line; ``code`` names the reason so pages
    can show it translated (passports/messages.py), with ``params`` filled in.
    """

    def __init__(self, message: str, code: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class SigningKeyError(PassportError):
    """No key can sign, or a stored key cannot be decrypted with the configured secret."""


class ShareLinkOff(PassportError):
    """The holder switched the public share link off; the QR on the passport still verifies."""

    def __init__(self) -> None:
        super().__init__("the holder switched this share link off", "share_link_off")
