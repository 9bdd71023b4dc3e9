"""Candidates imported from CSV/XLSX, all or nothing, created or updated by IIN."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.messages import N_
from assessments.models import Candidate
from assessments.personal_data import iin_lookup_hash
from assessments.services.candidates.personal_data import log_access
from assessments.services.candidates.records import (
    CHECK_IIN_AND_NAME,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    CandidateData,
    IdentityMismatch,
    Lookups,
    apply_data,
    check_centre,
    check_iin,
    check_mismatch_throttle,
    clean_candidate,
    same_surname,
)
from assessments.services.candidates.scope import ADMIN_SCOPE, Scope, link_to_centre
from assessments.tabular import Problem, Rejected, RowChecker, read_table


@dataclass
class CandidateImportSummary:
    created: int = 0
    updated: int = 0

    @property
    def text(self) -> str:
        return f"candidates: {self.created} created, {self.updated} updated"


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_candidates(
    session: Session,
    filename: str,
    data: bytes,
    *,
    scope: Scope = ADMIN_SCOPE,
    user_id: int | None = None,
    mismatch_limit: int | None = None,
) -> CandidateImportSummary:
    """Import candidates from CSV/XLSX, all or nothing, creating or updating by IIN.

    Rules: the columns of docs/import-formats.md; every row is checked first and any
    problem raises ``Rejected`` listing all of them (``FILE:ROW: field: message``)
    before anything is written. An IIN twice in the file is a problem of the later
    row. Staff of a centre may update only candidates they can see; a row whose IIN is
    registered by another centre links that person to their centre (counted as updated,
    the record unchanged) when the surname matches, and otherwise refuses the whole file
    with ``CHECK_IIN_AND_NAME`` on that row (``IdentityMismatch``, to be audited; throttled
    per user as in ``save_candidate``).
    """
    rows = read_table(filename, data, REQUIRED_COLUMNS, OPTIONAL_COLUMNS)
    lookups = Lookups.load(session)
    problems: list[Problem] = []
    records: list[CandidateData] = []
    first_row: dict[str, int] = {}
    for row in rows:
        record, row_problems = clean_candidate(row.values, lookups, row.number)
        iin = record.iin if record else check_iin(RowChecker(row.values, row.number), required=True)
        if iin in first_row:
            problems.append(
                Problem(
                    row.number,
                    "iin",
                    N_("the same IIN is already in row %(row)s"),
                    {"row": first_row[iin]},
                )
            )
            row_problems = [p for p in row_problems if p.field != "iin"]
            record = None
        elif iin is not None:
            first_row[iin] = row.number
        problems.extend(row_problems)
        if record is None:
            continue
        centre_problem = check_centre(record, scope)
        if centre_problem:
            problems.append(centre_problem)
        records.append(record)

    if not scope.everything and records:
        check_mismatch_throttle(session, user_id, mismatch_limit)
    hashes = {iin_lookup_hash(r.iin): r for r in records}
    existing: dict[str, Candidate] = {}
    for chunk in _chunks(list(hashes)):
        for candidate in session.scalars(select(Candidate).where(Candidate.iin_hash.in_(chunk))):
            existing[candidate.iin_hash] = candidate
    to_link: set[str] = set()
    mismatched: list[int] = []
    if not scope.everything and existing:
        visible = set(
            session.scalars(
                select(Candidate.id).where(
                    Candidate.id.in_([c.id for c in existing.values()]), scope.clause()
                )
            )
        )
        for digest, candidate in existing.items():
            if candidate.id in visible:
                continue
            record = hashes[digest]
            if scope.centre_id is not None and same_surname(candidate.last_name, record.last_name):
                to_link.add(digest)
            else:
                problems.append(Problem(record.row, "iin", CHECK_IIN_AND_NAME))
                mismatched.append(candidate.id)
    if mismatched:
        raise IdentityMismatch(problems, mismatched, filename)
    if problems:
        raise Rejected(problems, filename)

    summary = CandidateImportSummary()
    touched = []
    linked = []
    for digest, record in hashes.items():
        candidate = existing.get(digest)
        if digest in to_link:
            link_to_centre(candidate, scope.centre_id)
            linked.append(candidate)
            summary.updated += 1
            continue
        if candidate is None:
            candidate = Candidate()
            session.add(candidate)
            summary.created += 1
        else:
            summary.updated += 1
        apply_data(candidate, record, scope)
        touched.append(candidate)
    session.flush()
    for candidate in touched:
        log_access(session, candidate, user_id, "import")
    for candidate in linked:
        log_access(session, candidate, user_id, "link")
    session.flush()
    return summary
