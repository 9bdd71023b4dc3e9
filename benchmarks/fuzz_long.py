"""Long fuzz run of the importers and the token decoder: examples run and crashes per target.

The same properties and strategies as the bounded tests in tests/fuzz (properties.py,
strategies.py), with many more examples, random seeds and no shrinking. A crash (an
exception other than the module's documented error, or a broken invariant such as rows
written by a refused import) is counted and the run goes on, so it always ends with the
figures: examples run, how the inputs were answered, the slowest example (an input that
stalls the importer is a fault too) and distinct crashes with one example each. Exit status
1 when there is any crash.

Database targets run on a throwaway SQLite file per target, seeded once and committed; every
example runs in a savepoint rolled back afterwards. Targets run in parallel processes.

    .venv/bin/python -m benchmarks.fuzz_long                    # 20,000 examples per target
    .venv/bin/python -m benchmarks.fuzz_long --examples 2000 --targets token,scheme-json
    .venv/bin/python -m benchmarks.fuzz_long --seed 7 --json /tmp/fuzz.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

Check = Callable[[Any], str]


# --- targets: each returns (strategy, check) ---------------------------------------------


def _token(_stack: ExitStack):
    from tests.fuzz.properties import BASE_URL, check_token_text, token_world
    from tests.fuzz.strategies import tokens

    world = token_world()
    strategy = tokens(world.private_key, world.kid, world.tokens, BASE_URL)
    return strategy, lambda text: check_token_text(text, world)


def _scheme_json(_stack: ExitStack):
    from hypothesis import strategies as st

    from tests.fuzz.properties import SECTIONS, check_scheme_files
    from tests.fuzz.strategies import scheme_json_documents

    strategy = st.tuples(scheme_json_documents(), st.sampled_from((None, SECTIONS)))
    return strategy, lambda value: check_scheme_files([("module.json", value[0])], value[1])


def _scheme_xlsx(_stack: ExitStack):
    from hypothesis import strategies as st

    from tests.fuzz.properties import SECTIONS, check_scheme_files
    from tests.fuzz.strategies import scheme_xlsx_files

    strategy = st.tuples(scheme_xlsx_files(), st.sampled_from((None, SECTIONS)))
    return strategy, lambda value: check_scheme_files([("module.xlsx", value[0])], value[1])


def _tables(_stack: ExitStack):
    from hypothesis import strategies as st

    from assessments.services.candidates.records import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
    from assessments.services.marks import bulk_import
    from assessments.services.reference.rules import COLUMNS
    from assessments.tabular import Rejected, read_table
    from tests.fuzz.properties import (
        candidate_files,
        check_read_table,
        mark_files,
        reference_files,
    )

    kinds = {
        "candidates": (
            candidate_files(),
            (REQUIRED_COLUMNS, OPTIONAL_COLUMNS),
        ),
        "marks": (mark_files(), (bulk_import.IMPORT_COLUMNS, bulk_import.IMPORT_OPTIONAL)),
        **{kind: (reference_files(kind, ["17"]), COLUMNS[kind]) for kind in COLUMNS},
    }
    strategy = st.sampled_from(sorted(kinds)).flatmap(
        lambda kind: st.tuples(st.just(kind), kinds[kind][0])
    )

    def check(value) -> str:
        kind, (filename, data) = value
        required, optional = kinds[kind][1]
        outcome = check_read_table(filename, data, required, optional)
        if kind == "marks":  # the fast CSV path reads what the general reader reads
            try:
                general = read_table(filename, data, required, optional)
            except Rejected:
                general = None
            try:
                fast = bulk_import.read_import_table(filename, data)
            except Rejected:
                fast = None
            assert fast == general, "the fast marks reader differs from read_table"
        return outcome

    return strategy, check


def _database(stack: ExitStack):
    """An app on a fresh SQLite file, inside an app context for the rest of the target."""
    import logging

    from tests.conftest import make_app, migrate

    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fuzz-long-")))
    app = make_app(f"sqlite:///{folder / 'fuzz.db'}")
    logging.disable(logging.INFO)  # alembic's lines; migrations/env.py resets its loggers
    try:
        migrate(app)
    finally:
        logging.disable(logging.NOTSET)
    stack.enter_context(app.app_context())
    from app.extensions import db

    stack.callback(db.engine.dispose)
    stack.callback(db.session.remove)
    return db.session


def _verify_service(stack: ExitStack):
    from tests.fuzz.properties import BASE_URL, check_verification, seed_issuer
    from tests.fuzz.strategies import tokens

    session = _database(stack)
    signer, real = seed_issuer(session)
    session.commit()  # the service reads passports on a connection of its own
    strategy = tokens(signer.private_key, signer.kid, real, BASE_URL)
    return strategy, lambda text: check_verification(session, text)


def _candidates_import(stack: ExitStack):
    from hypothesis import strategies as st

    from assessments.models import Candidate, CandidateAccess
    from assessments.services.candidates.importing import import_candidates
    from assessments.services.candidates.scope import ADMIN_SCOPE, Scope
    from assessments.tabular import Rejected
    from tests.fuzz.properties import candidate_files, check_all_or_nothing, seed_imports

    session = _database(stack)
    world = seed_imports(session)
    session.commit()
    strategy = st.tuples(candidate_files(), st.booleans())

    def check(value) -> str:
        (filename, data), centre_staff = value
        scope = Scope(centre_id=world.centre_id) if centre_staff else ADMIN_SCOPE
        return check_all_or_nothing(
            session,
            lambda: import_candidates(session, filename, data, scope=scope),
            (Candidate, CandidateAccess),
            (Rejected,),
            filename,
        )

    return strategy, check


def _reference_import(stack: ExitStack):
    from hypothesis import strategies as st

    from assessments.models import Centre, College, Competence, Enterprise, WsosSection
    from assessments.services.reference.importing import import_reference
    from assessments.services.reference.rules import KINDS
    from assessments.tabular import Rejected
    from tests.fuzz.properties import check_all_or_nothing, reference_files, seed_imports

    session = _database(stack)
    world = seed_imports(session)
    session.commit()
    codes = [world.competence_code, "17"]
    strategy = st.sampled_from(KINDS).flatmap(
        lambda kind: st.tuples(st.just(kind), reference_files(kind, codes))
    )

    def check(value) -> str:
        kind, (filename, data) = value
        return check_all_or_nothing(
            session,
            lambda: import_reference(session, kind, filename, data),
            (Competence, WsosSection, Centre, College, Enterprise),
            (Rejected,),
            filename,
        )

    return strategy, check


def _marks_import(stack: ExitStack):
    from hypothesis import strategies as st

    from assessments.models import AuditEntry, Mark
    from assessments.services.marks import bulk_import, errors
    from assessments.tabular import Rejected
    from tests.fuzz.properties import check_all_or_nothing, mark_files, seed_imports

    session = _database(stack)
    world = seed_imports(session)
    session.commit()
    strategy = st.tuples(mark_files(), st.booleans())

    def check(value) -> str:
        (filename, data), as_chief = value
        user = world.chief if as_chief else None
        return check_all_or_nothing(
            session,
            lambda: bulk_import.import_marks(session, world.exam, filename, data, user),
            (Mark, AuditEntry),
            (Rejected, errors.MarkingError),
            filename,
        )

    return strategy, check


def _scheme_import(stack: ExitStack):
    from hypothesis import strategies as st

    from assessments.models import Aspect, MarkingScheme
    from assessments.scheme_files.spec import SchemeImportError
    from assessments.services.schemes.importing import import_scheme
    from tests.fuzz.properties import check_all_or_nothing, seed_imports
    from tests.fuzz.strategies import scheme_json_documents, scheme_xlsx_files

    session = _database(stack)
    world = seed_imports(session)
    session.commit()
    strategy = st.lists(
        st.one_of(
            scheme_json_documents().map(lambda content: ("module.json", content)),
            scheme_xlsx_files().map(lambda content: ("module.xlsx", content)),
        ),
        min_size=1,
        max_size=2,
    )

    def check(files) -> str:
        return check_all_or_nothing(
            session,
            lambda: import_scheme(session, files, world.competence_code, "Fuzzed"),
            (MarkingScheme, Aspect),
            (SchemeImportError,),
        )

    return strategy, check


TARGETS: dict[str, tuple[str, Callable[[ExitStack], tuple[Any, Check]]]] = {
    "token": ("passport token and URL decoding, offline verification (pure)", _token),
    "verify-service": ("verification service of POST /api/v1/verify (database)", _verify_service),
    "scheme-json": ("marking-scheme JSON parser (pure)", _scheme_json),
    "scheme-xlsx": ("marking-scheme XLSX parser (pure)", _scheme_xlsx),
    "tables": ("CSV/XLSX table reader of every import (pure)", _tables),
    "candidates-import": ("candidate import, all or nothing (database)", _candidates_import),
    "reference-import": ("reference-data import, all or nothing (database)", _reference_import),
    "marks-import": ("marks bulk import, all or nothing (database)", _marks_import),
    "scheme-import": ("marking-scheme import service (database)", _scheme_import),
}


# --- the run -----------------------------------------------------------------------------


def _signature(exc: BaseException) -> str:
    """Exception type and the innermost frame of project code that raised it."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if str(ROOT) in f.filename]
    frame = frames[-1] if frames else None
    where = f"{Path(frame.filename).relative_to(ROOT)}:{frame.lineno}" if frame else "?"
    return f"{type(exc).__name__} at {where}"


def run_target(name: str, examples: int, seed: int | None) -> dict[str, Any]:
    """Run one target for ``examples`` examples; never raises for a crash, counts it."""
    import warnings

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed

    warnings.simplefilter("ignore")  # openpyxl's and the like: not what is measured here
    outcomes: Counter[str] = Counter()
    crashes: dict[str, dict[str, Any]] = {}
    slowest: list[Any] = [0.0, ""]  # seconds and the example: inputs that stall are a fault too
    started = time.perf_counter()
    with ExitStack() as stack:
        strategy, check = TARGETS[name][1](stack)

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],  # no shrinking: every crash is counted, not minimised
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def fuzz(value: Any) -> None:
            outcomes["examples"] += 1
            begun = time.perf_counter()
            try:
                outcomes[check(value)] += 1
            except Exception as exc:
                key = _signature(exc)
                found = crashes.setdefault(
                    key, {"count": 0, "error": f"{type(exc).__name__}: {exc}"[:400]}
                )
                found["count"] += 1
                found.setdefault("example", repr(value)[:400])
            took = time.perf_counter() - begun
            if took > slowest[0]:
                slowest[:] = [took, repr(value)[:200]]

        if seed is not None:
            fuzz = fixed_seed(seed)(fuzz)
        fuzz()
    run = outcomes.pop("examples", 0)
    return {
        "target": name,
        "examples": run,
        "outcomes": dict(outcomes),
        "crashes": sum(c["count"] for c in crashes.values()),
        "distinct_crashes": crashes,
        "seconds": round(time.perf_counter() - started, 1),
        "slowest_example_seconds": round(slowest[0], 3),
        "slowest_example": slowest[1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=20_000, help="per target")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated")
    parser.add_argument("--jobs", type=int, default=2, help="targets run in parallel")
    parser.add_argument("--seed", type=int, help="fix hypothesis's seed (default: random)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.targets.split(",") if name.strip()]
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        parser.error(f"unknown targets {unknown}; choose from {', '.join(TARGETS)}")

    print(f"{len(names)} targets, {args.examples:,} examples each, {args.jobs} processes")
    results = []
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_target, n, args.examples, args.seed): n for n in names}
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(result["outcomes"].items()))
            print(
                f"{result['target']:<18} {result['examples']:>7,} examples  "
                f"{result['crashes']:>4} crashes  {result['seconds']:>7.1f} s, slowest example "
                f"{result['slowest_example_seconds']:.2f} s  ({outcomes})",
                flush=True,
            )
            for key, crash in result["distinct_crashes"].items():
                print(
                    f"    {crash['count']}× {key}\n      {crash['error']}\n      {crash['example']}"
                )
    results.sort(key=lambda r: names.index(r["target"]))
    total = sum(r["examples"] for r in results)
    crashes = sum(r["crashes"] for r in results)
    print(f"\n{'target':<18} {'examples':>9} {'crashes':>8}  what")
    for result in results:
        print(
            f"{result['target']:<18} {result['examples']:>9,} {result['crashes']:>8}  "
            f"{TARGETS[result['target']][0]}"
        )
    elapsed = time.perf_counter() - started
    print(f"{'total':<18} {total:>9,} {crashes:>8}  ({elapsed / 60:.1f} min)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
