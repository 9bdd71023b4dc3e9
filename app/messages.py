"""Messages that are written in English now and translated when shown.

Services raise errors whose text is an English template with ``%(name)s``
parameters, marked with ``N_`` so the catalog extraction finds it. The command
line prints the English text; pages and APIs call ``translated()`` inside a
request.
"""

from __future__ import annotations

from typing import Any


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
        from flask_babel import gettext

        return gettext(self.message, **self.params)


class TranslatableError(TranslatableMessage, Exception):
    """A refused operation; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None, **params: Any) -> None:
        self.message = message
        self.field = field
        self.params = params
        super().__init__(self.text)
