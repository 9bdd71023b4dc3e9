"""A throwaway PostgreSQL cluster for the test suite (initdb + pg_ctl, unix socket only)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


class TempCluster:
    """Start a private PostgreSQL server in a temporary directory; stop and delete it after."""

    def __init__(self) -> None:
        self.initdb = find_binary("initdb")
        self.pg_ctl = find_binary("pg_ctl")
        if not self.initdb or not self.pg_ctl:
            raise PostgresUnavailable(
                "no PostgreSQL binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin;"
                " install Debian's postgresql package to run the suite on PostgreSQL"
            )
        self.base = Path(tempfile.mkdtemp(prefix="skills-pg-"))
        self.data = self.base / "data"
        self.socket_dir = self.base / "socket"
        self.socket_dir.mkdir()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: run it as the postgres (or nobody) user
            user = "postgres" if _user_exists("postgres") else "nobody"
            entry = pwd.getpwnam(user)
            for path in (self.base, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            self.prefix = ["runuser", "-u", user, "--"]

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(args[:2])} failed:\n{result.stderr}")

    def start(self) -> str:
        self._run(
            self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-c listen_addresses='' -k {self.socket_dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._run(
            self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.base / "log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip
        return f"postgresql+psycopg://postgres@/postgres?host={self.socket_dir}"

    def stop(self) -> None:
        with contextlib.suppress(PostgresUnavailable):
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on the cluster and return its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    with psycopg.connect(
        dbname=url.database, user=url.username, host=url.query["host"], autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)
