"""``flask backup create FILE`` and ``flask backup restore FILE``: the whole database in one file.

SQLite is copied with the sqlite3 online backup API (consistent while the app keeps
serving); PostgreSQL with ``pg_dump -Fc`` and ``pg_restore --clean --if-exists --no-owner``
in one transaction. A backup restores only into the kind of database that made it.

The backup holds everything the database holds (encrypted IINs, password hashes, sealed
signing keys) and is written readable by its owner only. It does not hold the secrets of
``instance/config.py``: without the same ``IIN_ENCRYPTION_KEY`` and ``KEY_ENCRYPTION_SECRET``
a restored database cannot decrypt IINs or sign passports (docs/deployment.md).
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.engine import URL, make_url

from app.extensions import db

backup_cli = AppGroup("backup", help="Back up and restore the whole database.")

SQLITE_HEADER = b"SQLite format 3\x00"
PG_CUSTOM_HEADER = b"PGDMP"
# every migrated database of this app has it; a backup without it is someone else's
MARKER_TABLE = "alembic_version"
PG_TIMEOUT_SECONDS = 3600


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why."""


def find_binary(name: str) -> str | None:
    """``name`` on PATH, else from the newest Debian PostgreSQL installation."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def database_url() -> URL:
    return make_url(db.engine.url)


def kind_of(url: URL) -> str:
    backend = url.get_backend_name()
    if backend in ("sqlite", "postgresql"):
        return backend
    raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("the SQLite database must be a file (DATABASE_URL=sqlite:///PATH)")
    return Path(url.database)


def _header(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _private_temp(target: Path) -> Path:
    """An empty file next to ``target`` (same file system: the final rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    os.chmod(name, 0o600)
    return Path(name)


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_create(url: URL, target: Path) -> None:
    source_path = _sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"{source_path}: the database file does not exist")
    temporary = _private_temp(target)
    try:
        source = sqlite3.connect(source_path)
        try:
            destination = sqlite3.connect(temporary)
            try:
                source.backup(destination)
            finally:
                destination.close()
        finally:
            source.close()
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _sqlite_check(source: Path) -> None:
    if _header(source, len(SQLITE_HEADER)) != SQLITE_HEADER:
        raise BackupError(f"{source}: not a SQLite backup (this database is SQLite)")
    connection = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        (verdict,) = connection.execute("PRAGMA quick_check").fetchone()
        marker = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MARKER_TABLE,)
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source}: damaged SQLite file ({exc})") from exc
    finally:
        connection.close()
    if verdict != "ok":
        raise BackupError(f"{source}: damaged SQLite file ({verdict})")
    if marker is None:
        raise BackupError(f"{source}: a SQLite file, but not a backup of this application")


def _sqlite_restore(url: URL, source: Path) -> None:
    _sqlite_check(source)
    target_path = _sqlite_path(url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    backup = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(target_path)
        try:
            # replaces every page of the target in one step: all or nothing
            backup.backup(destination)
        finally:
            destination.close()
    finally:
        backup.close()


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_connection(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password for ``--dbname``, and the environment.

    The password travels in ``PGPASSWORD`` only, so it is never on a command line or printed;
    the URL's query parameters (``host`` for a unix socket, ``sslmode``…) are libpq keywords.
    """
    from psycopg.conninfo import make_conninfo

    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    parameters = {
        key: value if isinstance(value, str) else value[-1] for key, value in url.query.items()
    }
    parameters.pop("password", None)
    for key, value in (
        ("dbname", url.database),
        ("user", url.username),
        ("host", url.host),
        ("port", url.port),
    ):
        if value is not None:
            parameters[key] = str(value)
    return make_conninfo(**parameters), environment


def _pg_binary(name: str) -> str:
    binary = find_binary(name)
    if binary is None:
        raise BackupError(
            f"{name} not found on PATH or in /usr/lib/postgresql/*/bin;"
            " install the PostgreSQL client (Debian package postgresql-client)"
        )
    return binary


def _run(args: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603 - fixed program, arguments are not shell-parsed
            args,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=PG_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        raise BackupError(f"{Path(args[0]).name} took longer than {exc.timeout} s") from exc


def _pg_create(url: URL, target: Path) -> None:
    dbname, environment = _pg_connection(url)
    temporary = _private_temp(target)
    try:
        result = _run(
            [
                _pg_binary("pg_dump"),
                "--format=custom",
                "--file",
                str(temporary),
                "--dbname",
                dbname,
            ],
            environment,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed:\n{result.stderr.strip()}")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _pg_check(source: Path) -> None:
    if _header(source, len(PG_CUSTOM_HEADER)) != PG_CUSTOM_HEADER:
        raise BackupError(
            f"{source}: not a PostgreSQL backup made by pg_dump -Fc (this database is PostgreSQL)"
        )
    result = _run([_pg_binary("pg_restore"), "--list", str(source)], dict(os.environ))
    if result.returncode != 0:
        raise BackupError(f"{source}: damaged PostgreSQL backup:\n{result.stderr.strip()}")
    if f" TABLE public {MARKER_TABLE} " not in result.stdout:
        raise BackupError(f"{source}: a PostgreSQL backup, but not a backup of this application")


def _pg_restore(url: URL, source: Path) -> None:
    _pg_check(source)
    dbname, environment = _pg_connection(url)
    result = _run(
        [
            _pg_binary("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            dbname,
            str(source),
        ],
        environment,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed, nothing was changed:\n{result.stderr.strip()}")


# --- the two operations -------------------------------------------------------------------


def create_backup(url: URL, target: Path) -> None:
    """Write a backup of the database at ``url`` to ``target`` (replaced atomically)."""
    if target.is_dir():
        raise BackupError(f"{target}: is a folder; name the backup file")
    if kind_of(url) == "sqlite":
        _sqlite_create(url, target)
    else:
        _pg_create(url, target)


def restore_backup(url: URL, source: Path) -> None:
    """Replace the database at ``url`` with the backup ``source``; refuse a wrong file."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    kind = kind_of(url)
    # no pooled connection may hold a lock or a stale schema across the swap
    db.engine.dispose()
    try:
        if kind == "sqlite":
            _sqlite_restore(url, source)
        else:
            _pg_restore(url, source)
    finally:
        db.engine.dispose()


@backup_cli.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def create_command(file: Path) -> None:
    """Write a backup of the whole database to FILE."""
    try:
        create_backup(database_url(), file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {file} ({file.stat().st_size} bytes)")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(file: Path, yes: bool) -> None:
    """Replace the whole database with the backup in FILE."""
    if not file.is_file():
        raise click.ClickException(f"{file}: no such backup file")
    if not yes:
        click.confirm("Replace everything in the database with this backup?", abort=True)
    try:
        restore_backup(database_url(), file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"database restored from {file}")
