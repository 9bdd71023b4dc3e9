"""Fuzz the imports that write to the database: all or nothing, clear errors, no crash.

Candidates, reference data (each kind), marks and marking schemes, from generated CSV/XLSX
tables and JSON documents over a seeded data set (colleges, a centre, an enterprise, an
exam in marking). Every example runs in a savepoint rolled back afterwards, so each meets
the same data; a refused import must have written no row.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.models import (
    Aspect,
    AuditEntry,
    Candidate,
    CandidateAccess,
    Centre,
    College,
    Competence,
    Enterprise,
    Mark,
    MarkingScheme,
    WsosSection,
)
from assessments.scheme_files.spec import SchemeImportError
from assessments.services.candidates.importing import import_candidates
from assessments.services.candidates.scope import ADMIN_SCOPE, Scope
from assessments.services.marks import bulk_import, errors
from assessments.services.reference.importing import import_reference
from assessments.services.reference.rules import COLUMNS, KINDS
from assessments.services.schemes.importing import import_scheme
from assessments.tabular import Rejected
from tests.fuzz.properties import (
    bounded,
    candidate_files,
    check_all_or_nothing,
    mark_files,
    reference_files,
    seed_imports,
)
from tests.fuzz.strategies import scheme_json_documents, scheme_xlsx_files

CANDIDATE_ROWS = (Candidate, CandidateAccess)
REFERENCE_ROWS = (Competence, WsosSection, Centre, College, Enterprise)
MARK_ROWS = (Mark, AuditEntry)
SCHEME_ROWS = (MarkingScheme, Aspect)


@pytest.fixture
def seeded(session):
    return seed_imports(session)


@bounded(80)
@given(
    file=candidate_files(),
    centre_staff=st.booleans(),
)
def test_a_candidate_import_is_all_or_nothing(session, seeded, file, centre_staff):
    filename, data = file
    scope = Scope(centre_id=seeded.centre_id) if centre_staff else ADMIN_SCOPE
    check_all_or_nothing(
        session,
        lambda: import_candidates(session, filename, data, scope=scope),
        CANDIDATE_ROWS,
        (Rejected,),
        filename,
    )


@bounded(40)
@given(data=st.data(), kind=st.sampled_from(KINDS))
def test_a_reference_import_is_all_or_nothing(session, seeded, data, kind):
    files = reference_files(kind, [seeded.competence_code, "17"])
    filename, content = data.draw(files, label="file")
    check_all_or_nothing(
        session,
        lambda: import_reference(session, kind, filename, content),
        REFERENCE_ROWS,
        (Rejected,),
        filename,
    )


@bounded(80)
@given(
    file=mark_files(),
    who=st.sampled_from(("chief", "cli")),
)
def test_a_marks_import_is_all_or_nothing(session, seeded, file, who):
    filename, data = file
    user = seeded.chief if who == "chief" else None
    check_all_or_nothing(
        session,
        lambda: bulk_import.import_marks(session, seeded.exam, filename, data, user),
        MARK_ROWS,
        (Rejected, errors.MarkingError),
        filename,
    )


@bounded(25)
@given(
    files=st.lists(
        st.one_of(
            scheme_json_documents().map(lambda content: ("module.json", content)),
            scheme_xlsx_files().map(lambda content: ("module.xlsx", content)),
        ),
        min_size=1,
        max_size=2,
    )
)
def test_a_marking_scheme_import_is_all_or_nothing(session, seeded, files):
    check_all_or_nothing(
        session,
        lambda: import_scheme(session, files, seeded.competence_code, "Fuzzed"),
        SCHEME_ROWS,
        (SchemeImportError,),
    )


# the candidate number of IMPORT_IINS[1], the exam's first enrolment: the chief expert
# names candidates by number (rules.check_iin_import)
IMPORT_NUMBER = 1


@pytest.mark.parametrize("judge", ["²", "9" * 5000, "0", "4"])
def test_found_by_fuzzing_judge_seats_int_cannot_read(session, seeded, judge):
    # "²" passes isdigit() but not int(); int() refuses more than 4300 digits
    data = f"candidate,aspect,judge,score\n{IMPORT_NUMBER},A1.3,{judge},2\n".encode()
    with pytest.raises(Rejected) as refused:
        bulk_import.import_marks(session, seeded.exam, "marks.csv", data, seeded.chief)
    assert refused.value.lines() == ["marks.csv:2: judge: must be a judge seat from 1 to 3"]


def test_a_judge_seat_in_arabic_indic_digits_is_read(session, seeded):
    # nobody is seated: the chief types in the judge's paper form, with a reason
    data = f"candidate,aspect,judge,score,reason\n{IMPORT_NUMBER},A1.3,٢,2,paper form\n".encode()
    summary = bulk_import.import_marks(session, seeded.exam, "marks.csv", data, seeded.chief)
    assert summary.created == 1


def test_found_by_fuzzing_a_judge_score_of_5000_digits_is_refused(session, seeded):
    # int() of a Decimal of more than 4300 digits raised ValueError in validate_judgement
    data = (
        f"candidate,aspect,judge,score,reason\n{IMPORT_NUMBER},A1.3,1,{'9' * 5000},paper\n".encode()
    )
    with pytest.raises(Rejected) as refused:
        bulk_import.import_marks(session, seeded.exam, "marks.csv", data, seeded.chief)
    assert refused.value.lines() == ["marks.csv:2: score: must be 0, 1, 2 or 3"]


@pytest.mark.parametrize("column", ["section", "workstations"])
def test_found_by_fuzzing_a_whole_number_of_5000_digits_is_refused(session, seeded, column):
    # the length problem was reported, then int() of the 5000 digits raised ValueError
    kind = "competences" if column == "section" else "centres"
    required, _optional = COLUMNS[kind]
    values = {name: "1" for name in required} | {column: "9" * 5000}
    values |= {"code": "NEW", "name_kk": "Жаңа", "city": "Алматы", "weight": "100"}
    data = (",".join(required) + "\n" + ",".join(values[n] for n in required) + "\n").encode()
    with pytest.raises(Rejected) as refused:
        import_reference(session, kind, "ref.csv", data)
    assert f"ref.csv:2: {column}: must be at most 20 characters long" in refused.value.lines()
