"""``flask backup create`` / ``restore``: a demo database survives a round trip into an empty one.

Runs on the backend of the suite (``--db=sqlite``: the online backup API; ``--db=postgres``:
pg_dump/pg_restore against the throwaway cluster).
"""

from __future__ import annotations

import stat

import pytest
from sqlalchemy import func, inspect, select, table, text

from passports.settings import current_settings
from tests.conftest import make_app, migrate


def _counts(app) -> dict[str, int]:
    """Row count of every table in the app's database (alembic_version included)."""
    from app.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        names = inspect(connection).get_table_names()
        return {
            name: connection.scalar(select(func.count()).select_from(table(name))) for name in names
        }


def _verdicts(app) -> dict[str, str]:
    """Every passport number with the server's verdict on its stored QR token."""
    from app.extensions import db
    from passports.models import Passport
    from passports.services import keys, verification

    with app.app_context():
        keys.clear_cache(current_settings())
        try:
            passports = db.session.scalars(select(Passport)).all()
            return {
                p.number: verification.verify(db.session, current_settings(), p.token).status
                for p in passports
            }
        finally:
            db.session.remove()
            keys.clear_cache(current_settings())


def _dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


def _invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["backup", *args])


@pytest.fixture(scope="module")
def source(database_server):
    """A migrated database holding the demo data (centres, exams, results, issued passports)."""
    from app.demo import seed_all
    from app.extensions import db

    app = make_app(database_server("backup_source"))
    migrate(app)
    with app.app_context():
        seed_all(db.session)
        db.session.commit()
        db.session.remove()
    yield app
    _dispose(app)


@pytest.fixture(scope="module")
def backup_file(source, tmp_path_factory):
    path = tmp_path_factory.mktemp("backup") / "skills.backup"
    result = _invoke(source, "create", str(path))
    assert result.exit_code == 0, result.output
    assert "backup written to" in result.output
    return path


def test_backup_is_readable_by_its_owner_only(backup_file):
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600


def test_restore_into_an_empty_database_finds_every_row_and_passport(
    source, backup_file, database_server
):
    expected_counts = _counts(source)
    expected_verdicts = _verdicts(source)
    # the demo data really is there: otherwise the comparison below proves nothing
    assert expected_counts["passports"] > 0 and expected_counts["candidates"] > 0
    assert "genuine" in expected_verdicts.values()

    target = make_app(database_server("backup_target"))
    try:
        assert _counts(target) == {}  # empty: not even migrated
        result = _invoke(target, "restore", "--yes", str(backup_file))
        assert result.exit_code == 0, result.output
        assert "database restored" in result.output

        assert _counts(target) == expected_counts
        assert _verdicts(target) == expected_verdicts
    finally:
        _dispose(target)


def test_restore_replaces_a_database_in_use(source, backup_file, database_server):
    """Over a migrated database with rows of its own: afterwards exactly the backup's rows."""
    from app.auth import services
    from app.auth.models import ROLES
    from app.extensions import db

    target = make_app(database_server("backup_overwrite"))
    migrate(target)
    try:
        with target.app_context():
            services.create_user(
                db.session,
                email="someone.else@college.kz",
                name="Someone Else",
                role=ROLES[0],
                password="correct-horse-battery",
            )
            db.session.commit()
            db.session.remove()
        result = _invoke(target, "restore", "--yes", str(backup_file))
        assert result.exit_code == 0, result.output
        assert _counts(target) == _counts(source)
        assert _verdicts(target) == _verdicts(source)
    finally:
        _dispose(target)


@pytest.fixture(scope="module")
def foreign_backup(database_server, tmp_path_factory):
    """A genuine backup of the right kind, of a database that is not this application's."""
    from app.extensions import db

    app = make_app(database_server("backup_foreign"))
    with app.app_context():
        db.session.execute(text("CREATE TABLE other_app (x integer)"))
        db.session.commit()
        db.session.remove()
    path = tmp_path_factory.mktemp("foreign") / "other.backup"
    result = _invoke(app, "create", str(path))
    assert result.exit_code == 0, result.output
    _dispose(app)
    return path


def _wrong_kind(backend: str) -> bytes:
    """The first bytes of the other backend's backup format."""
    if backend == "sqlite":
        return b"PGDMP\x01\x0e\x00" + bytes(200)
    return b"SQLite format 3\x00" + bytes(200)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such backup file"),
        ("text", "not a {kind} backup"),
        ("empty", "not a {kind} backup"),
        ("other backend", "not a {kind} backup"),
        ("other application", "not a backup of this application"),
    ],
)
def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(
    case, message, database_server, foreign_backup, tmp_path, request
):
    backend = request.config.getoption("--db")
    path = tmp_path / "candidate.backup"
    if case == "text":
        path.write_text("IIN,name\n880101300123,Someone\n", encoding="utf-8")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "other backend":
        path.write_bytes(_wrong_kind(backend))
    elif case == "other application":
        path = foreign_backup

    target = make_app(database_server("backup_refuse_" + case.replace(" ", "_")))
    migrate(target)
    try:
        before = _counts(target)
        result = _invoke(target, "restore", "--yes", str(path))
        assert result.exit_code == 1
        kind = "SQLite" if backend == "sqlite" else "PostgreSQL"
        assert message.format(kind=kind) in result.output
        assert "Traceback" not in result.output
        assert _counts(target) == before
    finally:
        _dispose(target)


def test_restore_asks_before_replacing_the_database(backup_file, database_server):
    target = make_app(database_server("backup_confirm"))
    try:
        result = target.test_cli_runner().invoke(
            args=["backup", "restore", str(backup_file)], input="n\n"
        )
        assert result.exit_code == 1
        assert _counts(target) == {}
    finally:
        _dispose(target)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://skills:s3cr%40t@db.example:5433/skills?sslmode=require",
            {"host": "db.example", "port": "5433", "dbname": "skills", "sslmode": "require"},
        ),
        ("postgresql+psycopg://postgres@/skills?host=/run/pg", {"host": "/run/pg"}),
    ],
)
def test_pg_tools_get_the_password_only_through_the_environment(url, expected):
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import make_url

    from app.backup import _pg_connection

    conninfo, environment = _pg_connection(make_url(url))
    assert "s3cr" not in conninfo and "psycopg" not in conninfo
    assert conninfo_to_dict(conninfo).items() >= expected.items()
    if "s3cr" in url:
        assert environment["PGPASSWORD"] == "s3cr@t"
