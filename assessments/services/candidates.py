"""Candidates: checking, saving and importing their records, who may see them, personal data.

The IIN is kept as a keyed hash (look-ups, uniqueness) and AES-GCM ciphertext
(assessments.personal_data); nothing here logs it or puts it in a message. One set of
rules (``clean_candidate``) checks the web form and every import row; problems name
the field by its import column (``iin``, ``college_code`` …).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.collation import sort_key
from app.i18n import localized
from app.messages import N_
from assessments.iin import InvalidBIN, InvalidIIN, mask_iin, validate_bin, validate_iin
from assessments.models import (
    Candidate,
    CandidateAccess,
    Centre,
    College,
    Enrolment,
    Enterprise,
    Exam,
)
from assessments.models.candidates import LEGAL_BASES
from assessments.personal_data import decrypt_iin, encrypt_iin, iin_lookup_hash
from assessments.services.reference import BIN_MESSAGES
from assessments.tabular import Problem, Rejected, RowChecker, read_table
from assessments.translit import transliterate

REQUIRED_COLUMNS = (
    "iin",
    "last_name",
    "first_name",
    "middle_name",
    "college_code",
    "specialty",
    "email",
)
OPTIONAL_COLUMNS = (
    "enterprise_bin",
    "last_name_latin",
    "first_name_latin",
    "legal_basis",
    "centre_code",
)
ACCESS_ACTIONS = ("view", "create", "update", "import", "export", "erase")
NAME_LENGTH = 100

IIN_MESSAGES = {
    "not_text": N_("must contain digits only"),
    "not_digits": N_("must contain digits only"),
    "century": N_("the 7th digit (century and sex) must be 1 to 6"),
    "birth_date": N_("the first six digits are not a real birth date (YYMMDD)"),
    "check_digit": N_("has a wrong check digit (the last digit does not match the others)"),
    "never_issued": N_("is not a valid IIN: no check digit exists for these digits"),
}

# Latin letters that look like Cyrillic ones, often typed into Kazakh names by keyboards
# without Kazakh letters (Latin i for І). Y is left out: it may stand for У or Ү.
_HOMOGLYPHS = str.maketrans(
    {
        "A": "А", "a": "а", "B": "В", "C": "С", "c": "с", "E": "Е", "e": "е", "H": "Н",
        "h": "һ", "I": "І", "i": "і", "K": "К", "M": "М", "O": "О", "o": "о", "P": "Р",
        "p": "р", "T": "Т", "X": "Х", "x": "х", "Ə": "Ә", "ə": "ә", "Ɵ": "Ө", "ɵ": "ө",
    }
)  # fmt: skip
_HYPHENS = str.maketrans({c: "-" for c in "‐‑‒–—"} | {"’": "'", "ʼ": "'", "`": "'"})
_CYRILLIC_NAME_RE = re.compile(r"[\u0400-\u04ff]+(?:[ '-]+[\u0400-\u04ff]+)*")
_LATIN_NAME_RE = re.compile(r"[A-Z]+(?:[ '-]+[A-Z]+)*")


class ErasureRefused(Exception):
    """The candidate cannot be erased; ``message`` (translatable) says why."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


# --- who may see which candidates --------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The candidates a user may see, and the centre new candidates are registered at.

    Administrators (and the command line) see everyone. Centre managers and chief
    experts see the candidates registered by their centre and those enrolled in exams
    at it (chief experts: in the exams they lead).
    """

    everything: bool = False
    centre_id: int | None = None
    chief_id: int | None = None

    @classmethod
    def for_user(cls, user: Any) -> Scope:
        if user.role == "admin":
            return cls(everything=True)
        if user.role == "chief_expert":
            return cls(centre_id=user.centre_id, chief_id=user.id)
        if user.role == "centre_manager":
            return cls(centre_id=user.centre_id)
        return cls()

    def clause(self) -> ColumnElement[bool]:
        """Return a SQL condition on ``Candidate`` that holds for the visible candidates."""
        if self.everything:
            return true()
        conditions = []
        if self.centre_id is not None:
            at_centre = (
                select(Enrolment.candidate_id)
                .join(Exam, Exam.id == Enrolment.exam_id)
                .where(Exam.centre_id == self.centre_id)
            )
            conditions += [Candidate.centre_id == self.centre_id, Candidate.id.in_(at_centre)]
        if self.chief_id is not None:
            led = (
                select(Enrolment.candidate_id)
                .join(Exam, Exam.id == Enrolment.exam_id)
                .where(Exam.chief_expert_id == self.chief_id)
            )
            conditions.append(Candidate.id.in_(led))
        return or_(*conditions) if conditions else false()

    def allows(self, session: Session, candidate: Candidate) -> bool:
        if self.everything:
            return True
        found = session.scalar(
            select(Candidate.id).where(Candidate.id == candidate.id, self.clause())
        )
        return found is not None


ADMIN_SCOPE = Scope(everything=True)


def visible_candidates(scope: Scope, query: str = "") -> Select[tuple[Candidate]]:
    """Return a SELECT of the candidates in ``scope`` matching ``query``, in Kazakh order.

    Rule: every word of ``query`` must occur, ignoring case, in the Cyrillic or Latin
    name; the order is ``Candidate.sort_key`` (Kazakh alphabet), then id.
    """
    statement = select(Candidate).where(scope.clause())
    for word in query.casefold().split()[:5]:
        statement = statement.where(Candidate.search_text.contains(word, autoescape=True))
    return statement.order_by(Candidate.sort_key, Candidate.id)


def find_by_iin(session: Session, iin: str) -> Candidate | None:
    """Return the candidate with this (valid, normalised) IIN, looked up by its keyed hash."""
    return session.scalar(select(Candidate).where(Candidate.iin_hash == iin_lookup_hash(iin)))


def candidate_iin(candidate: Candidate) -> str:
    """Return the candidate's IIN in plain text: for the personal-data export only."""
    return decrypt_iin(candidate.iin_encrypted)


def masked_iin(candidate: Candidate) -> str:
    """Return the IIN with all but its last four digits hidden, for lists and pages."""
    return mask_iin(candidate_iin(candidate))


# --- field rules -----------------------------------------------------------------


@dataclass
class Lookups:
    """Codes the candidate rules resolve: college and centre codes, enterprise BINs."""

    colleges: dict[str, int]
    enterprises: dict[str, int]
    centres: dict[str, int]

    @classmethod
    def load(cls, session: Session) -> Lookups:
        return cls(
            colleges=dict(session.execute(select(College.code, College.id)).all()),
            enterprises=dict(session.execute(select(Enterprise.bin, Enterprise.id)).all()),
            centres=dict(session.execute(select(Centre.code, Centre.id)).all()),
        )


@dataclass
class CandidateData:
    """A checked candidate record; None in the optional fields means "not given"."""

    iin: str | None
    last_name: str
    first_name: str
    middle_name: str
    last_name_latin: str | None
    first_name_latin: str | None
    college_id: int | None
    specialty: str
    enterprise_id: int | None
    email: str
    legal_basis: str | None
    centre_id: int | None
    row: int | None = None


def _iin(check: RowChecker, *, required: bool) -> str | None:
    raw = check.text("iin", required=required, max_length=40)
    if not raw:
        return None
    try:
        return validate_iin(raw)
    except InvalidIIN as exc:
        if exc.code == "length":
            count = len("".join(raw.split()))
            if count == 11:
                check.add(
                    "iin",
                    N_(
                        "must be 12 digits, got 11; Excel drops a leading zero from numbers:"
                        " format the column as Text"
                    ),
                )
            else:
                check.add("iin", N_("must be 12 digits, got %(count)s"), count=count)
        else:
            check.add("iin", IIN_MESSAGES.get(exc.code, N_("is not a valid IIN")))
        return None


def clean_cyrillic_name(check: RowChecker, name: str, *, required: bool) -> str:
    """Read a name in Cyrillic: Kazakh and Russian letters, spaces, hyphens, apostrophes.

    Rule: whitespace collapsed, dashes become hyphens; Latin letters that look like
    Cyrillic ones (i for і, ə for ә, a, e, o, c, p …) are replaced when the name already
    has Cyrillic letters; anything else that is not Cyrillic is refused.
    """
    value = unicodedata.normalize(
        "NFC", check.text(name, required=required, max_length=NAME_LENGTH)
    )
    value = value.translate(_HYPHENS)
    if not value:
        return ""
    if re.search(r"[\u0400-\u04ff]", value):
        value = value.translate(_HOMOGLYPHS)
    if not _CYRILLIC_NAME_RE.fullmatch(value):
        check.add(name, N_("use Cyrillic letters, spaces and hyphens only"))
    return value


def clean_latin_name(check: RowChecker, name: str) -> str | None:
    """Read a Latin spelling as on an identity document: A–Z, spaces, hyphens, apostrophes."""
    value = check.text(name, max_length=NAME_LENGTH).translate(_HYPHENS).upper()
    if not value:
        return None
    if not _LATIN_NAME_RE.fullmatch(value):
        check.add(name, N_("use Latin letters A–Z, spaces and hyphens only"))
        return None
    return value


def _email(check: RowChecker) -> str:
    raw = check.text("email", max_length=254)
    if not raw:
        return ""
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        check.add("email", N_("is not a valid email address"))
        return ""


def clean_candidate(
    values: Mapping[str, str],
    lookups: Lookups,
    row: int | None = None,
    *,
    iin_required: bool = True,
) -> tuple[CandidateData | None, list[Problem]]:
    """Check one candidate record (a form or an import row); return it and the problems."""
    check = RowChecker(values, row)
    iin = _iin(check, required=iin_required)
    last_name = clean_cyrillic_name(check, "last_name", required=True)
    first_name = clean_cyrillic_name(check, "first_name", required=True)
    middle_name = clean_cyrillic_name(check, "middle_name", required=False)
    last_latin = clean_latin_name(check, "last_name_latin")
    first_latin = clean_latin_name(check, "first_name_latin")

    college_code = check.text("college_code", required=True, max_length=20)
    college_id = lookups.colleges.get(college_code)
    if college_code and college_id is None:
        check.add("college_code", N_("no college has the code %(code)s"), code=college_code)
    specialty = check.text("specialty", required=True, max_length=200)

    enterprise_id = None
    raw_bin = check.text("enterprise_bin", max_length=40)
    if raw_bin:
        try:
            bin_ = validate_bin(raw_bin)
        except InvalidBIN as exc:
            check.add("enterprise_bin", BIN_MESSAGES.get(exc.code, N_("is not a valid BIN")))
        else:
            enterprise_id = lookups.enterprises.get(bin_)
            if enterprise_id is None:
                check.add("enterprise_bin", N_("no enterprise has the BIN %(bin)s"), bin=bin_)

    email = _email(check)
    legal_basis = check.text("legal_basis", max_length=20).lower() or None
    if legal_basis is not None and legal_basis not in LEGAL_BASES:
        check.add("legal_basis", N_("must be one of %(choices)s"), choices=", ".join(LEGAL_BASES))

    centre_id = None
    centre_code = check.text("centre_code", max_length=20)
    if centre_code:
        centre_id = lookups.centres.get(centre_code)
        if centre_id is None:
            check.add(
                "centre_code", N_("no competence centre has the code %(code)s"), code=centre_code
            )

    if check.problems:
        return None, check.problems
    data = CandidateData(
        iin=iin,
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name,
        last_name_latin=last_latin,
        first_name_latin=first_latin,
        college_id=college_id,
        specialty=specialty,
        enterprise_id=enterprise_id,
        email=email,
        legal_basis=legal_basis,
        centre_id=centre_id,
        row=row,
    )
    return data, []


def _latin(given: str | None, old_latin: str | None, old_cyrillic: str, new_cyrillic: str) -> str:
    """Choose the Latin spelling of a name.

    Rule: a spelling typed in (different from the stored one) wins; a stored spelling
    that differs from the transliteration of the stored Cyrillic name was set by hand
    (from the holder's ID) and is kept; otherwise the new Cyrillic name is transliterated.
    """
    if given and given != old_latin:
        return given
    if old_latin is not None and old_latin != transliterate(old_cyrillic):
        return old_latin
    return transliterate(new_cyrillic)


def _apply(candidate: Candidate, data: CandidateData, scope: Scope) -> None:
    new = candidate.id is None
    candidate.last_name_latin = _latin(
        data.last_name_latin,
        None if new else candidate.last_name_latin,
        candidate.last_name or "",
        data.last_name,
    )[:NAME_LENGTH]
    candidate.first_name_latin = _latin(
        data.first_name_latin,
        None if new else candidate.first_name_latin,
        candidate.first_name or "",
        data.first_name,
    )[:NAME_LENGTH]
    if data.iin is not None:
        candidate.iin_hash = iin_lookup_hash(data.iin)
        candidate.iin_encrypted = encrypt_iin(data.iin)
    candidate.last_name = data.last_name
    candidate.first_name = data.first_name
    candidate.middle_name = data.middle_name
    candidate.college_id = data.college_id
    candidate.specialty = data.specialty
    candidate.enterprise_id = data.enterprise_id
    candidate.email = data.email
    if data.legal_basis is not None:
        candidate.legal_basis = data.legal_basis
    elif new:
        candidate.legal_basis = "education"
    if data.centre_id is not None:
        candidate.centre_id = data.centre_id
    elif new and not scope.everything:
        candidate.centre_id = scope.centre_id
    candidate.sort_key = sort_key(data.last_name, data.first_name, data.middle_name)
    candidate.search_text = " ".join(
        p
        for p in (
            data.last_name,
            data.first_name,
            data.middle_name,
            candidate.last_name_latin,
            candidate.first_name_latin,
        )
        if p
    ).casefold()


def _centre_problem(data: CandidateData, scope: Scope) -> Problem | None:
    if scope.everything or data.centre_id is None or data.centre_id == scope.centre_id:
        return None
    return Problem(
        data.row, "centre_code", N_("you can register candidates only at your own centre")
    )


def save_candidate(
    session: Session,
    candidate: Candidate | None,
    values: Mapping[str, str],
    *,
    scope: Scope = ADMIN_SCOPE,
    user_id: int | None = None,
) -> Candidate:
    """Create (``candidate`` None) or change a candidate from form values; log the change.

    Rules: as ``clean_candidate``; the IIN is required for a new candidate and, when
    editing, an empty IIN keeps the stored one; an IIN held by another candidate is
    refused. Staff of a centre register candidates at their own centre.
    """
    lookups = Lookups.load(session)
    data, problems = clean_candidate(values, lookups, iin_required=candidate is None)
    if data is not None:
        if data.iin is not None:
            other = find_by_iin(session, data.iin)
            if other is not None and (candidate is None or other.id != candidate.id):
                problems.append(Problem(None, "iin", N_("another candidate already has this IIN")))
        centre_problem = _centre_problem(data, scope)
        if centre_problem:
            problems.append(centre_problem)
    if problems or data is None:
        raise Rejected(problems)
    action = "create" if candidate is None else "update"
    candidate = candidate or Candidate()
    _apply(candidate, data, scope)
    session.add(candidate)
    session.flush()
    log_access(session, candidate, user_id, action)
    return candidate


# --- import ------------------------------------------------------------------------


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
) -> CandidateImportSummary:
    """Import candidates from CSV/XLSX, all or nothing, creating or updating by IIN.

    Rules: the columns of docs/import-formats.md; every row is checked first and any
    problem raises ``Rejected`` listing all of them (``FILE:ROW: field: message``)
    before anything is written. An IIN twice in the file is a problem of the later
    row. Staff of a centre may update only candidates they can see.
    """
    rows = read_table(filename, data, REQUIRED_COLUMNS, OPTIONAL_COLUMNS)
    lookups = Lookups.load(session)
    problems: list[Problem] = []
    records: list[CandidateData] = []
    first_row: dict[str, int] = {}
    for row in rows:
        record, row_problems = clean_candidate(row.values, lookups, row.number)
        iin = record.iin if record else _iin(RowChecker(row.values, row.number), required=True)
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
        centre_problem = _centre_problem(record, scope)
        if centre_problem:
            problems.append(centre_problem)
        records.append(record)

    hashes = {iin_lookup_hash(r.iin): r for r in records}
    existing: dict[str, Candidate] = {}
    for chunk in _chunks(list(hashes)):
        for candidate in session.scalars(select(Candidate).where(Candidate.iin_hash.in_(chunk))):
            existing[candidate.iin_hash] = candidate
    if not scope.everything and existing:
        visible = set(
            session.scalars(
                select(Candidate.id).where(
                    Candidate.id.in_([c.id for c in existing.values()]), scope.clause()
                )
            )
        )
        for digest, candidate in existing.items():
            if candidate.id not in visible:
                problems.append(
                    Problem(
                        hashes[digest].row,
                        "iin",
                        N_("this candidate is registered by another centre; ask an administrator"),
                    )
                )
    if problems:
        raise Rejected(problems, filename)

    summary = CandidateImportSummary()
    touched = []
    for digest, record in hashes.items():
        candidate = existing.get(digest)
        if candidate is None:
            candidate = Candidate()
            session.add(candidate)
            summary.created += 1
        else:
            summary.updated += 1
        _apply(candidate, record, scope)
        touched.append(candidate)
    session.flush()
    for candidate in touched:
        log_access(session, candidate, user_id, "import")
    session.flush()
    return summary


# --- personal data -------------------------------------------------------------------


def log_access(session: Session, candidate: Candidate, user_id: int | None, action: str) -> None:
    """Record who opened, changed, exported or erased a candidate's record (never the IIN)."""
    if action not in ACCESS_ACTIONS:
        raise ValueError(f"unknown access action {action!r}")
    session.add(CandidateAccess(candidate_id=candidate.id, user_id=user_id, action=action))


def access_log(session: Session, candidate: Candidate, limit: int = 50) -> list[CandidateAccess]:
    return list(
        session.scalars(
            select(CandidateAccess)
            .where(CandidateAccess.candidate_id == candidate.id)
            .order_by(CandidateAccess.at.desc(), CandidateAccess.id.desc())
            .limit(limit)
        )
    )


# Other packages say whether a candidate holds a Skills Passport: functions (session,
# candidate) -> bool, registered by the package that issues passports when the app starts.
PASSPORT_CHECKS: list[Callable[[Session, Candidate], bool]] = []


def candidate_has_passport(session: Session, candidate: Candidate) -> bool:
    """Return True when the candidate holds a Skills Passport (then they cannot be erased).

    This package has no passport model, so on its own this returns False: it asks the
    checks in ``PASSPORT_CHECKS``, which the passports package fills (or extend this body).
    """
    return any(check(session, candidate) for check in PASSPORT_CHECKS)


# Other packages add what they hold about a candidate: (key, function returning JSON data)
EXPORT_SECTIONS: list[tuple[str, Callable[[Session, Candidate], Any]]] = []


def _enrolments(session: Session, candidate: Candidate) -> list[dict[str, Any]]:
    rows = session.scalars(select(Enrolment).where(Enrolment.candidate_id == candidate.id))
    return [
        {
            "exam_id": e.exam_id,
            "competence": e.exam.competence.code,
            "centre": e.exam.centre.code,
            "start_date": e.exam.start_date.isoformat(),
            "workstation": e.workstation,
            "attendance": e.attendance,
        }
        for e in rows
    ]


EXPORT_SECTIONS.append(("exam_enrolments", _enrolments))


def export_personal_data(session: Session, candidate: Candidate, locale: str = "kk") -> dict:
    """Return everything held about the candidate as JSON-ready data, IIN included."""
    enterprise = candidate.enterprise
    data: dict[str, Any] = {
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "candidate": {
            "iin": candidate_iin(candidate),
            "last_name": candidate.last_name,
            "first_name": candidate.first_name,
            "middle_name": candidate.middle_name,
            "last_name_latin": candidate.last_name_latin,
            "first_name_latin": candidate.first_name_latin,
            "college": {
                "code": candidate.college.code,
                "name": localized(candidate.college, locale=locale),
            },
            "specialty": candidate.specialty,
            "enterprise": (
                {"bin": enterprise.bin, "name": localized(enterprise, locale=locale)}
                if enterprise
                else None
            ),
            "email": candidate.email,
            "legal_basis": candidate.legal_basis,
            "registered_by_centre": candidate.centre.code if candidate.centre else None,
            "created_at": candidate.created_at.isoformat(timespec="seconds"),
            "updated_at": candidate.updated_at.isoformat(timespec="seconds"),
        },
        "access_log": [
            {"at": a.at.isoformat(timespec="seconds"), "action": a.action, "user_id": a.user_id}
            for a in access_log(session, candidate, limit=10_000)
        ],
    }
    for key, section in EXPORT_SECTIONS:
        data[key] = section(session, candidate)
    return data


def erase_candidate(session: Session, candidate: Candidate, user_id: int | None) -> None:
    """Delete the candidate's record for good; the access log keeps only that it happened.

    Rules: refused while the candidate holds a Skills Passport (``candidate_has_passport``)
    or is enrolled in an exam, whose records must be kept.
    """
    if candidate_has_passport(session, candidate):
        raise ErasureRefused(N_("The candidate holds a Skills Passport and cannot be erased."))
    enrolled = session.scalar(
        select(func.count()).select_from(Enrolment).where(Enrolment.candidate_id == candidate.id)
    )
    if enrolled:
        raise ErasureRefused(
            N_("The candidate is enrolled in %(count)s exam(s), whose records must be kept."),
            count=enrolled,
        )
    log_access(session, candidate, user_id, "erase")
    session.flush()
    try:
        with session.begin_nested():
            session.delete(candidate)
            session.flush()
    except IntegrityError as exc:
        raise ErasureRefused(
            N_("Other records still refer to the candidate; they must be removed first.")
        ) from exc
