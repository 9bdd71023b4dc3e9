"""A candidate's record: one set of field rules (``clean_candidate``) for the web form and
every import row, and saving one candidate."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.collation import sort_key
from app.db import utcnow
from app.messages import N_
from assessments.iin import InvalidBIN, InvalidIIN, iin_problem, validate_bin, validate_iin
from assessments.models import Candidate, CandidateAccess, Centre, College, Enterprise
from assessments.models.candidates import LEGAL_BASES
from assessments.personal_data import encrypt_iin, iin_lookup_hash
from assessments.services.candidates.personal_data import log_access
from assessments.services.candidates.scope import ADMIN_SCOPE, Scope, find_by_iin, link_to_centre
from assessments.services.reference.rules import BIN_MESSAGES
from assessments.tabular import Problem, Rejected, RowChecker
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
NAME_LENGTH = 100

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
# the one answer when an IIN and a surname do not belong together: the same as for an IIN
# that is wrong, so it never tells whether (or where) the IIN is registered
CHECK_IIN_AND_NAME = N_("check the IIN and the name")
MISMATCH_WINDOW = timedelta(hours=1)
_CYRILLIC_NAME_RE = re.compile(r"[\u0400-\u04ff]+(?:[ '-]+[\u0400-\u04ff]+)*")
_LATIN_NAME_RE = re.compile(r"[A-Z]+(?:[ '-]+[A-Z]+)*")


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


def check_iin(check: RowChecker, *, required: bool) -> str | None:
    raw = check.text("iin", required=required, max_length=40)
    if not raw:
        return None
    try:
        return validate_iin(raw)
    except InvalidIIN as exc:
        message, params = iin_problem(exc, raw)
        check.add("iin", message, **params)
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
    iin = check_iin(check, required=iin_required)
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


class IdentityMismatch(Rejected):
    """An IIN registered elsewhere was given with another surname (or too often).

    ``candidate_ids`` are the people whose IIN was tried: the caller records an
    ``iin_mismatch`` access entry for each after rolling back (``record_mismatches``).
    """

    def __init__(
        self, problems: Iterable[Problem], candidate_ids: list[int], filename: str | None = None
    ) -> None:
        super().__init__(problems, filename)
        self.candidate_ids = candidate_ids


def same_surname(a: str, b: str) -> bool:
    """Whether two surnames are the same name: NFC, case-folded (Kazakh letters included:
    Ә/ә, І/і, Ө/ө, Ү/ү, Ұ/ұ, Қ/қ, Ғ/ғ, Ң/ң, Һ/һ), dashes and spaces as one."""

    def key(name: str) -> str:
        name = unicodedata.normalize("NFC", name).translate(_HYPHENS)
        return " ".join(name.split()).casefold()

    return key(a) == key(b)


def mismatches_within_window(session: Session, user_id: int | None) -> int:
    """The user's refused IIN-and-surname attempts in the last hour."""
    if user_id is None:
        return 0
    return session.scalar(
        select(func.count())
        .select_from(CandidateAccess)
        .where(
            CandidateAccess.user_id == user_id,
            CandidateAccess.action == "iin_mismatch",
            CandidateAccess.at >= utcnow() - MISMATCH_WINDOW,
        )
    )


def check_mismatch_throttle(
    session: Session, user_id: int | None, limit: int | None, row: int | None = None
) -> None:
    """Refuse registering by IIN after ``limit`` refused attempts in the last hour.

    Checked before any IIN is looked up, so the refusal says nothing about the IIN.
    """
    if limit is None or mismatches_within_window(session, user_id) < limit:
        return
    raise Rejected(
        [
            Problem(
                row,
                "iin",
                N_("too many IINs did not match the name; try again in an hour"),
            )
        ]
    )


def record_mismatches(session: Session, candidate_ids: list[int], user_id: int | None) -> None:
    """Audit refused IIN-and-surname attempts (after the refusal was rolled back)."""
    for candidate_id in candidate_ids:
        session.add(
            CandidateAccess(candidate_id=candidate_id, user_id=user_id, action="iin_mismatch")
        )


def apply_data(candidate: Candidate, data: CandidateData, scope: Scope) -> None:
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
    link_to_centre(
        candidate,
        data.centre_id
        if data.centre_id is not None
        else (scope.centre_id if new and not scope.everything else None),
    )
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


def check_centre(data: CandidateData, scope: Scope) -> Problem | None:
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
    mismatch_limit: int | None = None,
) -> Candidate:
    """Create (``candidate`` None) or change a candidate from form values; log the change.

    Rules: as ``clean_candidate``; the IIN is required for a new candidate and, when
    editing, an empty IIN keeps the stored one. Staff of a centre register candidates
    at their own centre. A person is one candidate nationally: when staff register an
    IIN registered by another centre with the same surname (``same_surname``), the
    person is linked to their centre and returned unchanged; with another surname the
    answer is ``CHECK_IIN_AND_NAME`` (``IdentityMismatch``, to be audited), and after
    ``mismatch_limit`` such answers in an hour registering is refused for a while.
    Otherwise an IIN held by another candidate is refused.
    """
    lookups = Lookups.load(session)
    data, problems = clean_candidate(values, lookups, iin_required=candidate is None)
    if data is not None:
        centre_problem = check_centre(data, scope)
        if centre_problem:
            problems.append(centre_problem)
    if data is not None and data.iin is not None and not problems:
        if candidate is None and not scope.everything:
            check_mismatch_throttle(session, user_id, mismatch_limit)
        other = find_by_iin(session, data.iin)
        if other is not None and (candidate is None or other.id != candidate.id):
            if candidate is None and not scope.everything and not scope.allows(session, other):
                if scope.centre_id is None or not same_surname(other.last_name, data.last_name):
                    raise IdentityMismatch([Problem(None, "iin", CHECK_IIN_AND_NAME)], [other.id])
                link_to_centre(other, scope.centre_id)
                session.flush()
                log_access(session, other, user_id, "link")
                return other
            problems.append(Problem(None, "iin", N_("another candidate already has this IIN")))
    if problems or data is None:
        raise Rejected(problems)
    action = "create" if candidate is None else "update"
    candidate = candidate or Candidate()
    apply_data(candidate, data, scope)
    session.add(candidate)
    session.flush()
    log_access(session, candidate, user_id, action)
    return candidate
