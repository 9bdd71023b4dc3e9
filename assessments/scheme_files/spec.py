"""A marking scheme as read from files, and the problems found reading it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

#: The share of marks per WSOS section may differ from the section weight by this many points.
WEIGHT_TOLERANCE = Decimal(5)


@dataclass(frozen=True)
class Problem:
    """One error or warning about a marking-scheme file.

    ``template`` is an English message marked ``N_`` with ``%(name)s`` parameters from
    ``params``: the command line prints the English text (``str(problem)``), pages
    translate it. ``row`` is the spreadsheet row
    (header = row 1), ``location`` the English place ("row 5", a JSON element path such as
    ``subCriterions[0].aspects[2]``, or "" for the file as a whole), ``field`` the file's own
    column header or JSON key ("" when none applies). Pages show it through
    ``assessments.views.scheme_wording``.
    """

    file: str
    location: str
    field: str
    template: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    row: int | None = None

    @property
    def message(self) -> str:
        """The English message."""
        return self.template % dict(self.params) if self.params else self.template

    def __str__(self) -> str:
        head = ":".join(part for part in (self.file, self.location) if part)
        return ": ".join(part for part in (head, self.field, self.message) if part)

    def to_record(self) -> dict[str, Any]:
        """Return the problem as JSON-ready data (decimals as text), to store with a scheme."""
        return {
            "file": self.file,
            "location": self.location,
            "row": self.row,
            "field": self.field,
            "template": self.template,
            "params": {k: str(v) if isinstance(v, Decimal) else v for k, v in self.params.items()},
            "decimals": sorted(k for k, v in self.params.items() if isinstance(v, Decimal)),
        }

    @classmethod
    def from_record(cls, record: Any) -> Problem:
        """Read back ``to_record`` data; a plain string (stored before) becomes its message."""
        if isinstance(record, str):
            return cls("", "", "", record)
        decimals = set(record.get("decimals") or ())
        params = {
            k: Decimal(v) if k in decimals else v for k, v in (record.get("params") or {}).items()
        }
        return cls(
            record.get("file") or "",
            record.get("location") or "",
            record.get("field") or "",
            record.get("template") or "",
            params,
            record.get("row"),
        )


class SchemeImportError(Exception):
    """Marking-scheme files that cannot be imported; `.problems` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


# Equality compares what the scheme says, not where it was read from: `source`,
# `source_file`, `calculation`, `section_names` and `warnings` are left out, so an
# exported and re-imported scheme compares equal to the original.
@dataclass
class AspectSpec:
    """One aspect: M (measurement) or J (judgement, with four level descriptions for 0-3)."""

    kind: str
    description: str
    extra_description: str
    requirement: str
    wsos_section: int
    max_mark: Decimal
    levels: list[str]
    calculation: str = field(default="", compare=False)
    source: str = field(default="", compare=False)


@dataclass
class SubCriterionSpec:
    """One sub-criterion (one marking form), e.g. C4, with its day of marking."""

    id: str
    name: str
    day: int | None
    aspects: list[AspectSpec]


@dataclass
class CriterionSpec:
    """One criterion (module) A, B, … as read from one file."""

    letter: str
    name: str
    sub_criteria: list[SubCriterionSpec]
    source_file: str = field(default="", compare=False)
    section_names: dict[int, str] = field(default_factory=dict, compare=False)


@dataclass
class SchemeSpec:
    """A whole marking scheme, criteria sorted by letter, plus non-fatal import warnings."""

    criteria: list[CriterionSpec]
    warnings: list[Problem] = field(default_factory=list, compare=False)

    def aspects(self) -> list[AspectSpec]:
        """Return every aspect in scheme order."""
        return [a for c in self.criteria for s in c.sub_criteria for a in s.aspects]

    @property
    def aspects_count(self) -> int:
        return len(self.aspects())

    @property
    def measurement_count(self) -> int:
        return sum(1 for a in self.aspects() if a.kind == "M")

    @property
    def judgement_count(self) -> int:
        return sum(1 for a in self.aspects() if a.kind == "J")

    @property
    def sub_criteria_count(self) -> int:
        return sum(len(c.sub_criteria) for c in self.criteria)

    @property
    def max_total(self) -> Decimal:
        return sum((a.max_mark for a in self.aspects()), Decimal(0))

    def marks_by_section(self) -> dict[int, Decimal]:
        """Return the sum of maximum marks per WSOS section number, in section order."""
        marks: dict[int, Decimal] = {}
        for aspect in self.aspects():
            marks[aspect.wsos_section] = (
                marks.get(aspect.wsos_section, Decimal(0)) + aspect.max_mark
            )
        return dict(sorted(marks.items()))


@dataclass(frozen=True)
class CompetenceSection:
    """A WSOS section of the competence; weight in percent, the weights sum to 100."""

    number: int
    name: str
    weight: Decimal
