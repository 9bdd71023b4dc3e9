"""Database faults answer 503 with Retry-After and a clear message, never a crash.

Each test runs app instances against a database of its own (the suite's rolled-back
test connection cannot be cut or filled): SQLite files that are full, opened read-only
or missing, and a PostgreSQL database whose connections are killed and refused.
"""

from __future__ import annotations

import io
import logging
import sqlite3
from dataclasses import dataclass

import pytest
from sqlalchemy import event, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from app.errors import DATABASE_UNAVAILABLE, DATABASE_UNWRITABLE, database_fault
from assessments.models import College, Mark
from tests.assessments.marking_setup import build_exam
from tests.conftest import make_app, migrate
from tests.factories import PASSWORD, UserFactory

XHR = {"X-Requested-With": "XMLHttpRequest"}
UNAVAILABLE_TEXT = "The database is not reachable right now. Nothing was saved from this request"
UNWRITABLE_TEXT = "its database is read-only or its disk is full. Nothing was saved"
# 2,000 three-byte characters: a row too long for one page, so saving it needs a new one
LONG_REASON = "✓" * 2000


@dataclass
class Seeded:
    url: str
    exam_id: int
    sub_id: int
    enrolment_id: int
    expert: str
    admin: str


@pytest.fixture(scope="module")
def seeded(database_server) -> Seeded:
    """A migrated database of its own with one exam ready for marking and an admin."""
    from app.extensions import db

    url = database_server("db_faults")
    app = make_app(url)
    migrate(app)
    with app.app_context():
        setup = build_exam(db.session, layout={"A1": (("M", 100),)}, candidates=1)
        admin = UserFactory(role="admin")
        seeded = Seeded(
            url=url,
            exam_id=setup.exam.id,
            sub_id=setup.forms["A1"].sub_criterion_id,
            enrolment_id=setup.enrolments[0].id,
            expert=setup.experts[0].email,
            admin=admin.email,
        )
        db.session.commit()
        db.engine.dispose()
    return seeded


@pytest.fixture
def instance(seeded):
    """``instance(**config)``: a fresh app instance on the seeded database; disposed after."""
    from app.extensions import db

    made = []

    def build(**overrides):
        app = make_app(seeded.url, **overrides)
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def sqlite_only(request):
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("a SQLite file fault; the suite runs on PostgreSQL")


def sign_in(app, email: str):
    """A test client of ``app`` carrying the signed session cookie of ``email``."""
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def carry_session(source, app):
    """A client of another instance with the same session cookie (cookies are stateless)."""
    client = app.test_client()
    client.set_cookie("session", source.get_cookie("session").value)
    return client


def put_mark(client, seeded: Seeded, value="1", expected=None, reason=""):
    body = {
        "enrolment_id": seeded.enrolment_id,
        "aspect": "A1.1",
        "seat": 0,
        "value": value,
        "expected_version": expected,
        "reason": reason,
    }
    return client.put(f"/api/v1/exams/{seeded.exam_id}/marks", json=body, headers=XHR)


def import_colleges(client, rows: int = 300):
    lines = ["code,name_kk,city"] + [
        f"F{n:04d},Ақаулық тексеру колледжі № {n},Алматы" for n in range(rows)
    ]
    return client.post(
        "/admin/reference/colleges/import",
        data={"file": (io.BytesIO("\n".join(lines).encode()), "colleges.csv")},
        content_type="multipart/form-data",
    )


def version(app) -> int | None:
    """The version of the one cell the tests write (None while it is empty)."""
    from app.extensions import db

    with app.app_context():
        try:
            return db.session.scalar(select(Mark.version))
        finally:
            db.session.remove()


def count(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(model))
        finally:
            db.session.remove()


def assert_problem(response, code: str, retry_after: str) -> None:
    assert response.status_code == 503, (response.status_code, response.json.get("code"))
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code
    assert response.json["status"] == 503
    assert response.headers["Retry-After"] == retry_after


def assert_page(response, text: str, retry_after: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert text in body
    assert "Traceback" not in body
    assert response.headers["Retry-After"] == retry_after
    assert response.headers["Cache-Control"] == "no-store"


def sqlite_path(url: str) -> str:
    return make_url(url).database


# --- SQLite: full disk, read-only file, missing file ---------------------------------


def test_a_full_disk_is_a_clear_503_and_nothing_is_saved(sqlite_only, seeded, instance, caplog):
    writer = instance()
    expert = sign_in(writer, seeded.expert)
    admin = sign_in(writer, seeded.admin)
    with sqlite3.connect(sqlite_path(seeded.url)) as raw:
        raw.execute("VACUUM")  # no free pages left inside the file
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
    full = instance()
    with full.app_context():
        from app.extensions import db

        @event.listens_for(db.engine, "connect")
        def _no_room(dbapi_connection, _record):
            # the file may not grow by a single page: SQLite answers "database or disk is full"
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    colleges = count(writer, College)
    with caplog.at_level(logging.WARNING):
        answer = put_mark(carry_session(expert, full), seeded, "0.5", reason=LONG_REASON)
        page = import_colleges(carry_session(admin, full))

    assert_problem(answer, DATABASE_UNWRITABLE, "60")
    assert "read-only or its disk is full" in answer.json["detail"]
    assert_page(page, UNWRITABLE_TEXT, "60")
    assert count(writer, Mark) == 0
    assert count(writer, College) == colleges
    logged = [r for r in caplog.records if "database cannot be written" in r.getMessage()]
    assert logged and all(r.levelno == logging.ERROR and not r.exc_info for r in logged)
    assert "database or disk is full" in logged[0].getMessage()

    # room again (an instance without the limit): the same entry is saved
    retried = put_mark(expert, seeded, "0.5", reason=LONG_REASON)
    assert retried.status_code == 200, retried.json


def test_a_read_only_database_still_reads_and_refuses_writes_clearly(sqlite_only, seeded, instance):
    writer = instance()
    expert = sign_in(writer, seeded.expert)
    admin = sign_in(writer, seeded.admin)
    read_only = instance(DATABASE_URL=f"sqlite:///file:{sqlite_path(seeded.url)}?mode=ro&uri=true")
    marks_before, colleges = count(writer, Mark), count(writer, College)

    grid = carry_session(expert, read_only).get(f"/exams/{seeded.exam_id}/forms/{seeded.sub_id}")
    assert grid.status_code == 200  # reading works as before
    answer = put_mark(carry_session(expert, read_only), seeded, "1", expected=version(writer))
    assert_problem(answer, DATABASE_UNWRITABLE, "60")
    assert_page(import_colleges(carry_session(admin, read_only)), UNWRITABLE_TEXT, "60")
    # signing in records the time of the sign-in: refused the same way, not a crash
    login = read_only.test_client().post(
        "/login", data={"email": seeded.expert, "password": PASSWORD}
    )
    assert_page(login, UNWRITABLE_TEXT, "60")
    assert (count(writer, Mark), count(writer, College)) == (marks_before, colleges)


def test_an_unreachable_database_file_is_a_retryable_503(
    sqlite_only, seeded, instance, tmp_path, caplog
):
    expert = sign_in(instance(), seeded.expert)
    gone = instance(DATABASE_URL=f"sqlite:///{tmp_path / 'unmounted' / 'skills.db'}")
    client = carry_session(expert, gone)

    page = client.get(f"/exams/{seeded.exam_id}/forms/{seeded.sub_id}")
    assert_page(page, UNAVAILABLE_TEXT, "5")
    assert 'href="/exams/' in page.get_data(as_text=True)  # "Try again" reloads the page
    # even the "page not found" page needs the signed-in user from the database
    assert_page(client.get("/no-such-page"), UNAVAILABLE_TEXT, "5")
    assert_problem(put_mark(client, seeded), DATABASE_UNAVAILABLE, "5")
    assert_problem(client.get("/api/v1/exams/1/forms/1"), DATABASE_UNAVAILABLE, "5")
    assert gone.test_client().get("/readyz").status_code == 503
    # the warning names the route, never a graduate's private link token
    secret = "Q7XW2RKM4TPL9ZCV3HJD6NBF"
    assert_page(gone.test_client().get(f"/my/{secret}"), UNAVAILABLE_TEXT, "5")
    assert "/my/<token>" in caplog.text
    assert secret not in caplog.text


# --- PostgreSQL: connections killed, then refused, then back -------------------------


def postgres_admin(url: str, *statements: str) -> None:
    import psycopg

    parsed = make_url(url)
    with psycopg.connect(
        dbname="postgres", user=parsed.username, host=parsed.query["host"], autocommit=True
    ) as conn:
        for statement in statements:
            conn.execute(statement.replace("{db}", parsed.database))


KILL = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    " WHERE datname = '{db}' AND pid <> pg_backend_pid()"
)


def test_postgres_restarts_are_a_503_then_the_instance_recovers_by_itself(
    request, seeded, instance
):
    if request.config.getoption("--db") != "postgres":
        pytest.skip("needs PostgreSQL (--db=postgres)")
    app = instance()
    client = sign_in(app, seeded.expert)
    assert put_mark(client, seeded, "1").json["version"] == 1

    # the server drops every connection (a restart): the pool notices before use
    postgres_admin(seeded.url, KILL)
    assert put_mark(client, seeded, "0.5", expected=1).status_code == 200

    # down: connections are cut and new ones refused
    postgres_admin(seeded.url, 'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS false', KILL)
    try:
        down = put_mark(client, seeded, "0.25", expected=2)
        assert_problem(down, DATABASE_UNAVAILABLE, "5")
        assert "not reachable right now" in down.json["detail"]
        page = client.get(f"/exams/{seeded.exam_id}/forms/{seeded.sub_id}")
        assert_page(page, UNAVAILABLE_TEXT, "5")
    finally:
        postgres_admin(seeded.url, 'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS true')

    # back: the very next request succeeds, and the refused write was not applied
    saved = put_mark(client, seeded, "0.25", expected=2)
    assert (saved.status_code, saved.json["value"], saved.json["version"]) == (200, "0.25", 3)


# --- which errors are database faults -------------------------------------------------


def _wrapped(error_class, orig):
    return error_class("SELECT 1", {}, orig)


def _sqlite_error(sql: str, setup: str = "") -> sqlite3.Error:
    connection = sqlite3.connect(":memory:")
    if setup:
        connection.execute(setup)
    try:
        connection.execute(sql)
    except sqlite3.Error as exc:
        return exc
    finally:
        connection.close()
    raise AssertionError("no error")


def _postgres(name: str):
    import psycopg.errors

    return getattr(psycopg.errors, name)("message")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        # SQLite, told apart by result code
        (lambda: _wrapped(sa_exc.OperationalError, _sqlite_error("CREATE TABLE t(a)",
                                                                 "PRAGMA query_only=ON")),
         DATABASE_UNWRITABLE),
        (lambda: _wrapped(sa_exc.OperationalError, _sqlite_error("SELECT * FROM missing")), None),
        # PostgreSQL
        (lambda: _wrapped(sa_exc.OperationalError, _postgres("AdminShutdown")),
         DATABASE_UNAVAILABLE),
        (lambda: _wrapped(sa_exc.OperationalError, _postgres("DiskFull")), DATABASE_UNWRITABLE),
        (lambda: _wrapped(sa_exc.InternalError, _postgres("ReadOnlySqlTransaction")),
         DATABASE_UNWRITABLE),
        (lambda: _wrapped(sa_exc.InterfaceError, _postgres("InterfaceError")),
         DATABASE_UNAVAILABLE),
        (lambda: _wrapped(sa_exc.ProgrammingError, _postgres("UndefinedTable")), None),
        (lambda: _wrapped(sa_exc.IntegrityError, _postgres("UniqueViolation")), None),
        # the pool
        (lambda: sa_exc.TimeoutError("QueuePool limit reached"), DATABASE_UNAVAILABLE),
        (lambda: sa_exc.DisconnectionError("gone"), DATABASE_UNAVAILABLE),
        (lambda: ValueError("not a database error"), None),
    ],
)  # fmt: skip
def test_only_faults_of_the_database_itself_are_503(make, expected):
    """A bug (missing table) or bad data stays a 500/400; a sick database is a 503."""
    assert database_fault(make()) == expected
