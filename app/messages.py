"""Messages that are written in English now and translated when shown, and the domain-error base.

Services raise errors whose text is an English template with ``%(name)s`` parameters,
marked with ``N_`` so the catalog extraction finds it. The command line prints the English
text (``str(error)``); pages and APIs call ``translated()`` inside a request.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext


def N_(message: str) -> str:
    """Mark a message for translation without translating it now."""
    return message


class TranslatableMessage:
    """An English message template with parameters, translatable at the edge."""

    message: str
    params: dict[str, Any]

    @property
    def text(self) -> str:
        return self.message % self.params if self.params else self.message

    def translated(self) -> str:
        """The message in the user's language (needs an app context)."""
        return gettext(self.message, **self.params)


class DomainError(TranslatableMessage, Exception):
    """A refused operation, the one error dialect of every service.

    ``code`` names the rule that refused it (stable, machine-readable: the API's problem
    ``code``), the message is an English template marked ``N_`` whose parameters are
    ``params``, and ``field`` names the input at fault (None: the request as a whole).
    ``str(error)`` is the English text the command line prints; ``translated()`` is the
    text pages and APIs show. A subclass sets its ``code``, or passes one per instance
    when the module keeps its messages in a table beside its codes.
    """

    code: str = "refused"

    def __init__(
        self, message: str, field: str | None = None, *, code: str | None = None, **params: Any
    ) -> None:
        self.message = message
        self.field = field
        self.params = params
        if code is not None:
            self.code = code
        # the text is formatted when read, so a parameter shown in the reader's language
        # (app.i18n.LocalizedName) is resolved at the edge, not where the error was raised
        super().__init__(message)

    def __str__(self) -> str:
        return self.text
