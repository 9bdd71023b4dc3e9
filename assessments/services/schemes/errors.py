"""Refused marking-scheme changes, field by field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.messages import TranslatableMessage


@dataclass(frozen=True)
class SettingProblem(TranslatableMessage):
    """Why one setting was refused: an English message with %(name)s parameters."""

    field: str
    message: str
    params: dict[str, Any]


class SchemeError(Exception):
    """A marking-scheme change that was refused; ``problems`` says why, field by field.

    Settings fields are ``judges``, ``allowed_spread``, ``grade_bands``, ``fallback_grade``
    and ``pass_min_grade`` (and ``version`` when a concurrent change took the version).
    """

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.text}" for p in self.problems))

    @property
    def errors(self) -> dict[str, str]:
        """Return {field: English message}, the first problem per field."""
        found: dict[str, str] = {}
        for problem in self.problems:
            found.setdefault(problem.field, problem.text)
        return found
