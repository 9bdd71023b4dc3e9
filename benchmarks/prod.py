"""Machinery shared by the production proofs (cluster.py, load.py, faults.py).

A run builds a throwaway PostgreSQL cluster (or SQLite file), migrates and seeds it with
the real command line (``flask db upgrade``, ``flask demo seed``), starts gunicorn
instances exactly as ``make serve`` does (``gunicorn -c gunicorn.conf.py wsgi:app``,
``ENVIRONMENT=production``, secrets in the environment), and talks to them over loopback
HTTP with a small threaded client (``http.client``; one connection per thread).

Rate limits stay on; their limits are raised by configuration (``RAISED_LIMITS``), never by
code. Every process started here runs in its own session and is killed by its process
group, and every temporary directory is removed, when the run ends for any reason
(``Run`` is a context manager; SIGTERM and SIGHUP become ``SystemExit``).

The marking workload: ``bench_exams`` plans exams on the demo marking scheme with their
own expert accounts; clients own cells (``Cell``) and record every acknowledged write in a
``Ledger``; ``check_ledger`` then proves against the database that each acknowledged
write is in the cell's audit history at the version the server acknowledged, and that the
stored cell is the last write.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.pg import TempCluster, create_database  # noqa: E402

EXPERT_PASSWORD = "bench-expert-password-2026"  # noqa: S105 - accounts in a throwaway database
ADMIN = ("admin@demo.kz", "demo-admin-2026")  # app/demo.py DEMO_USERS
CHIEF = ("chief@demo.kz", "demo-chief-2026")
PUBLIC_BASE_URL = "https://skills.bench.example"
# limits raised by configuration: the limiter still counts every request
RAISED_LIMITS = {
    "LOGIN_RATE_LIMIT": "1000000 per minute",
    "VERIFY_API_RATE_LIMIT": "1000000 per minute",
    "PASSPORT_CHECK_RATE_LIMIT": "1000000 per minute",
    "LOGIN_MAX_FAILURES": "1000",
}


class CheckFailed(Exception):
    """A correctness check of a proof failed (the script exits 1)."""


# --- configuration ----------------------------------------------------------------------


def generated_secrets() -> dict[str, str]:
    """Fresh random secrets, as ``python -m app.instance`` writes them."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "IIN_HASH_KEY": secrets.token_urlsafe(48),
        "IIN_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "KEY_ENCRYPTION_SECRET": secrets.token_urlsafe(48),
    }


_ANCHOR: list = []  # the proofs' own trust anchor (a production one: not "development")


def trust_anchor():
    """The trust anchor of the proofs' deployments: a private key held by this process only."""
    from passports import trust

    if not _ANCHOR:
        _ANCHOR.append(trust.new_anchor_key())
    return _ANCHOR[0]


def production_settings(database_url: str, shared_secrets: dict[str, str]) -> dict[str, str]:
    """The settings every instance of one deployment shares (strings, as in the environment)."""
    from passports import trust

    return {
        "ENVIRONMENT": "production",
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        # the proofs talk to the instances over loopback, with Host: 127.0.0.1:PORT
        "TRUSTED_HOSTS": "127.0.0.1",
        "TRUST_ANCHOR_JWK": json.dumps(trust.anchor_public_jwk(trust_anchor())),
        **shared_secrets,
        **RAISED_LIMITS,
    }


def child_env(settings: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment of a ``flask`` or ``gunicorn`` child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "WEB_CONC"))}
    env.update(settings)
    env.update(FLASK_APP="wsgi", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def flask(settings: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run ``flask ARGS`` against the deployment's database; return its output."""
    result = subprocess.run(
        [str(BIN / "flask"), *args],
        cwd=ROOT,
        env=child_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise CheckFailed(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def app_for(settings: dict[str, str]):
    """An application object on the deployment's database, for setup and final checks."""
    from app import create_app

    config: dict[str, Any] = dict(settings)
    for key in ("LOGIN_MAX_FAILURES",):
        config[key] = int(config[key])
    return create_app(config)


@contextlib.contextmanager
def database(settings: dict[str, str]):
    """The app's database session in an app context; its connections are closed after."""
    from app.extensions import db

    app = app_for(settings)
    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()
            db.engine.dispose()


# --- processes --------------------------------------------------------------------------


def healthy_within(proc: subprocess.Popen | None, port: int, wait: float) -> bool:
    """Whether the server on ``port`` answers ``GET /healthz`` with 200 within ``wait`` s.

    False at once when its process ``proc`` has ended (it will not start any more).
    """
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            healthy = conn.getresponse().status == 200
            conn.close()
            if healthy:
                return True
        time.sleep(0.1)
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One gunicorn instance (master and workers in their own process group)."""

    def __init__(
        self, name: str, settings: dict[str, str], logdir: Path, *, workers: int | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        self.port = free_port()
        self.log = logdir / f"gunicorn-{name}.log"
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    def start(self, *, wait: float = 30) -> Server:
        metrics = self.log.parent / f"metrics-{self.name}"
        metrics.mkdir(exist_ok=True)
        extra = {
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "GUNICORN_LOG_LEVEL": "warning",
            # inside the run's folder, so it goes even when the instance is killed
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }
        if self.workers:
            extra["WEB_CONCURRENCY"] = str(self.workers)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=ROOT,
                env=child_env(self.settings, **extra),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.wait_ready(wait)
        return self

    def wait_ready(self, wait: float) -> None:
        if not healthy_within(self.proc, self.port, wait):
            raise CheckFailed(f"gunicorn {self.name} did not start; log:\n{self.tail()}")

    def _signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole instance (master and every worker) at once: a crash."""
        self._signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)
        # orphaned workers of the group die with it; make sure none is left
        self._reap_group(signal.SIGKILL)

    def stop(self) -> None:
        if self.proc is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(10)
        self._reap_group(signal.SIGKILL)

    def _reap_group(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_count(self, pattern: str) -> int:
        try:
            return len(re.findall(pattern, self.log.read_text(errors="replace")))
        except OSError:
            return 0


class DurableCluster(TempCluster):
    """tests/pg.TempCluster with production durability (fsync, synchronous commit) kept on.

    The test cluster turns fsync and synchronous commit off for speed; a proof that no
    acknowledged write is lost must not, since PostgreSQL may then acknowledge a commit
    before its WAL is written.
    """

    def start(self) -> str:
        self._run(
            self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        self.start_server()
        return f"postgresql+psycopg://postgres@/postgres?host={self.socket_dir}"

    def start_server(self) -> None:
        options = f"-c listen_addresses='' -k {self.socket_dir} -c max_connections=200"
        self._run(
            self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.base / "log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop_server(self, mode: str = "immediate") -> None:
        """Stop the server; ``immediate`` is a crash (no checkpoint, recovery on start)."""
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")


class Run(contextlib.ExitStack):
    """Everything one proof starts: temp dirs, a database, servers; all undone on exit."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"skills-{name}-"))
        self.callback(shutil.rmtree, self.dir, ignore_errors=True)
        self.servers: list[Server] = []
        self.cluster: DurableCluster | None = None
        self._old_handlers: dict[int, Any] = {}

    def __enter__(self) -> Run:
        super().__enter__()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, _exit_on_signal)
        return self

    def __exit__(self, *exc: object) -> bool:
        try:
            for server in reversed(self.servers):
                with contextlib.suppress(Exception):
                    server.stop()
            return super().__exit__(*exc)
        finally:
            for sig, handler in self._old_handlers.items():
                signal.signal(sig, handler)

    def postgres(self) -> str:
        """Start a durable throwaway PostgreSQL cluster; return the URL of a new database."""
        self.cluster = DurableCluster()
        self.callback(self.cluster.stop)
        admin_url = self.cluster.start()
        return create_database(admin_url, "skills")

    def server(self, name: str, settings: dict[str, str], **kwargs: Any) -> Server:
        server = Server(name, settings, self.dir, **kwargs)
        self.servers.append(server)
        return server


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def seed(settings: dict[str, str]) -> None:
    """Migrate and seed the demo data with the real command line; the signing key enters a
    trust list signed by the proofs' anchor first, as a production deployment's must."""
    flask(settings, "db", "upgrade")
    flask(settings, "keys", "ensure")
    install_trust_list(settings)
    flask(settings, "demo", "seed")


def install_trust_list(settings: dict[str, str]) -> None:
    """Sign a trust list of every ES256 key of the deployment with the proofs' anchor and
    install it with ``flask trust install`` (the anchor's job, done here for the proofs)."""
    from passports import trust
    from passports.services import trust_lists
    from passports.settings import PassportSettings

    with database(settings) as session:
        from flask import current_app

        passport_settings = PassportSettings.for_app(current_app)
        installed = trust_lists.current_row(session)
        seq = (installed.seq if installed is not None else 0) + 1
        payload = trust_lists.development_payload(session, passport_settings, seq, utc_now())
    payload.update(anchor="KZ-BENCH", development=False)
    text = trust.sign_trust_list(payload, trust_anchor())
    with tempfile.NamedTemporaryFile("w", suffix=".jws", delete=False) as handle:
        handle.write(text)
    try:
        flask(settings, "trust", "install", handle.name)
    finally:
        os.unlink(handle.name)


def utc_now():
    from app.db import utcnow

    return utcnow().replace(microsecond=0)


# --- HTTP client ------------------------------------------------------------------------

CONNECTION_ERRORS = (OSError, http.client.HTTPException)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Client:
    """A user agent: one keep-alive connection per instance port and a cookie jar.

    The jar ignores the ``Secure`` flag (production cookies, plain loopback HTTP), as a
    TLS-terminating proxy would make it irrelevant. Not thread-safe: one per thread.
    """

    def __init__(self, port: int, *, timeout: float = 15.0) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._connections: dict[int, http.client.HTTPConnection] = {}

    def _connection(self, port: int) -> http.client.HTTPConnection:
        conn = self._connections.get(port)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout)
            self._connections[port] = conn
        return conn

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        port: int | None = None,
    ) -> Reply:
        """Send one request; connection-level failures raise (``CONNECTION_ERRORS``)."""
        port = port or self.port
        sent = {"Accept-Language": "en", **(headers or {})}
        body: bytes | None = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = self._connection(port)
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        except CONNECTION_ERRORS:
            conn.close()
            self._connections.pop(port, None)
            raise
        seconds = time.perf_counter() - started
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie, _sep, _attrs = value.partition(";")
                key, _eq, val = cookie.partition("=")
                self.cookies[key.strip()] = val.strip()
        if response.will_close:
            conn.close()
        return Reply(
            response.status, {k.lower(): v for k, v in response.getheaders()}, data, seconds
        )

    def login(self, email: str, password: str, *, port: int | None = None) -> None:
        page = self.request("GET", "/login", port=port)
        match = CSRF.search(page.text)
        if page.status != 200 or match is None:
            raise CheckFailed(f"login page: HTTP {page.status}")
        reply = self.request(
            "POST",
            "/login",
            form={"csrf_token": match.group(1), "email": email, "password": password},
            port=port,
        )
        if reply.status != 302:
            raise CheckFailed(f"login of {email}: HTTP {reply.status}")

    def csrf_token(self, path: str, *, port: int | None = None) -> str:
        """The CSRF token of a page's forms (the token is bound to the signed session)."""
        page = self.request("GET", path, port=port)
        match = CSRF.search(page.text)
        if page.status != 200 or match is None:
            raise CheckFailed(f"GET {path}: HTTP {page.status}, no form token")
        return match.group(1)


XHR = {"X-Requested-With": "XMLHttpRequest"}


# --- figures ----------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0…1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def table(rows: list[tuple[str, ...]], header: tuple[str, ...] | None = None) -> str:
    """A plain fixed-width table."""
    allrows = ([header] if header else []) + rows
    widths = [max(len(str(r[i])) for r in allrows) for i in range(len(allrows[0]))]
    lines = []
    for n, row in enumerate(allrows):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if header and n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> str:
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores, load average {load:.1f} at start"


# --- the marking workload ---------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One mark cell of an exam: a present candidate's aspect (and judge seat)."""

    exam_id: int
    enrolment_id: int
    address: str
    seat: int
    kind: str
    max_value: int  # hundredths for M, 3 for J
    form_id: int  # the sub-criterion (marking form) of the aspect

    def text(self, value: int) -> str:
        """The value as a client types it (``1.25`` for M, ``2`` for J)."""
        if self.kind == "M":
            return f"{value // 100}.{value % 100:02d}"
        return str(value)

    def parse(self, text: str) -> int:
        if self.kind == "M":
            return int(Decimal(text.replace(",", ".")) * 100)
        return int(text)

    def values(self) -> list[int]:
        """Every valid value (quarter marks for M)."""
        step = 25 if self.kind == "M" else 1
        return list(range(0, self.max_value + 1, step))

    def body(self, value: int, expected_version: int | None) -> dict[str, Any]:
        reason = "bench: deduction" if self.kind == "M" and value < self.max_value else ""
        return {
            "enrolment_id": self.enrolment_id,
            "aspect": self.address,
            "seat": self.seat,
            "value": self.text(value),
            "expected_version": expected_version,
            "reason": reason,
        }

    @property
    def path(self) -> str:
        return f"/api/v1/exams/{self.exam_id}/marks"

    @property
    def target(self) -> str:
        base = f"enrolment:{self.enrolment_id}/{self.address}"
        return f"{base}/seat:{self.seat}" if self.seat else base


@dataclass
class BenchExam:
    id: int
    experts: list[str]
    enrolments: list[int]
    cells_by_enrolment: dict[int, list[Cell]]


def bench_exams(
    settings: dict[str, str], *, exams: int, experts_per_exam: int, candidates: int, tag: str
) -> list[BenchExam]:
    """Plan ``exams`` new exams on the demo scheme, each with its own expert accounts.

    Expert accounts (no college, so no conflict of interest; password ``EXPERT_PASSWORD``,
    one scrypt hash shared to save setup time) are created; through the exam services each
    exam is planned at the demo centre with the demo chief expert and assigned its
    ``experts_per_exam`` experts; then ``candidates`` demo candidates are enrolled present
    in each (inserted directly, as the other benchmarks do). Committed.
    """
    from datetime import date

    from sqlalchemy import select

    from app.auth import services as accounts
    from app.auth.models import User
    from assessments import demo_exams
    from assessments.models import (
        Aspect,
        Candidate,
        Centre,
        Competence,
        Enrolment,
        MarkingScheme,
        SubCriterion,
    )
    from assessments.services import exams as exam_service

    planned: list[BenchExam] = []
    with database(settings) as session:
        competence = session.scalar(
            select(Competence).where(Competence.code == demo_exams.COMPETENCE)
        )
        centre = session.scalar(select(Centre).where(Centre.code == demo_exams.CENTRE))
        scheme = session.scalar(
            select(MarkingScheme).where(MarkingScheme.name == demo_exams.SCHEME_NAME)
        )
        chief = session.scalar(select(User).where(User.email == CHIEF[0]))
        people = session.scalars(select(Candidate).order_by(Candidate.id)).all()
        aspects = session.execute(
            select(Aspect, SubCriterion.code)
            .join(SubCriterion, SubCriterion.id == Aspect.sub_criterion_id)
            .where(Aspect.scheme_id == scheme.id)
            .order_by(SubCriterion.id, Aspect.position)
        ).all()
        password_hash = None
        for n in range(exams):
            emails = []
            for k in range(experts_per_exam):
                email = f"{tag}.e{n:02d}.x{k:02d}@bench.example"
                if password_hash is None:
                    first = accounts.create_user(
                        session,
                        email=email,
                        name=f"Bench Expert {n}-{k}",
                        role="expert",
                        password=EXPERT_PASSWORD,
                    )
                    password_hash = first.password_hash
                else:
                    # the same password: reuse its scrypt hash instead of computing it again
                    session.add(
                        User(
                            email=email,
                            name=f"Bench Expert {n}-{k}",
                            role="expert",
                            active=True,
                            password_hash=password_hash,
                        )
                    )
                emails.append(email)
            session.flush()
            exam = exam_service.create_exam(
                session,
                centre=centre,
                competence=competence,
                scheme=scheme,
                start=date(2027, 1 + n // 28, 1 + n % 28),
                chief=chief,
            )
            exam_service.assign(session, exam, chief.email, emails)
            enrolments = []
            for i in range(candidates):
                candidate = people[(n * candidates + i) % len(people)]
                enrolment = Enrolment(
                    exam=exam,
                    candidate=candidate,
                    workstation=1 + i % centre.workstations,
                    attendance="present",
                    attendance_reason="",
                )
                session.add(enrolment)
                enrolments.append(enrolment)
            session.flush()
            cells = {}
            for enrolment in enrolments:
                row = []
                for aspect, code in aspects:
                    sub_id = aspect.sub_criterion_id
                    address = f"{code}.{aspect.position}"
                    if aspect.kind == "M":
                        seats, kind, top = (0,), "M", aspect.max_hundredths
                    else:
                        seats, kind, top = range(1, scheme.judges + 1), "J", 3
                    for seat in seats:
                        row.append(Cell(exam.id, enrolment.id, address, seat, kind, top, sub_id))
                cells[enrolment.id] = row
            planned.append(BenchExam(exam.id, emails, [e.id for e in enrolments], cells))
        session.commit()
    return planned


@dataclass
class Ledger:
    """Thread-safe record of acknowledged writes: cell → [(version, value)]."""

    acks: dict[Cell, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    pending: set[Cell] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, cell: Cell, version: int, value: int) -> None:
        with self.lock:
            self.acks[cell].append((version, value))
            self.pending.discard(cell)

    def unacknowledged(self, cell: Cell) -> None:
        """A write whose outcome the client never learnt (it may or may not be stored)."""
        with self.lock:
            self.pending.add(cell)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.acks.values())


@dataclass
class LedgerCheck:
    acknowledged: int
    cells: int
    present: int
    lost: list[str]

    @property
    def ok(self) -> bool:
        return not self.lost and self.present == self.acknowledged


def check_ledger(settings: dict[str, str], ledger: Ledger) -> LedgerCheck:
    """Compare every acknowledged write with the database.

    For each cell: the audit history (oldest first; version k is the k-th change, since
    the cells start empty and are never cleared) must hold each acknowledged value at its
    acknowledged version; the stored mark's version must equal the history's length and
    its value the history's last value; and unless the cell had a write whose outcome the
    client never learnt, the stored mark is the last acknowledged write.
    """
    from sqlalchemy import select

    from assessments.models import Aspect, AuditEntry, Mark, SubCriterion
    from assessments.services import audit

    lost: list[str] = []
    present = 0
    with database(settings) as session:
        exam_ids = {cell.exam_id for cell in ledger.acks}
        stored: dict[tuple[int, int, str, int], tuple[int, int]] = {}
        history: dict[tuple[int, str], list[str]] = defaultdict(list)
        for exam_id in exam_ids:
            rows = session.execute(
                select(
                    Mark.enrolment_id, SubCriterion.code, Aspect.position, Mark.seat,
                    Mark.value, Mark.version,
                )
                .join(Aspect, Aspect.id == Mark.aspect_id)
                .join(SubCriterion, SubCriterion.id == Aspect.sub_criterion_id)
                .where(Mark.exam_id == exam_id)
            )  # fmt: skip
            for enrolment_id, code, position, seat, value, version in rows:
                stored[(exam_id, enrolment_id, f"{code}.{position}", seat)] = (value, version)
            entries = session.execute(
                select(AuditEntry.target, AuditEntry.new_value)
                .where(AuditEntry.exam_id == exam_id, AuditEntry.action == "mark.set")
                .order_by(AuditEntry.seq)
            )
            for target, new in entries:
                history[(exam_id, target)].append(new)
        for cell, acks in ledger.acks.items():
            name = f"exam {cell.exam_id} {cell.target}"
            changes = [cell.parse(v) for v in history[(cell.exam_id, cell.target)]]
            mark = stored.get((cell.exam_id, cell.enrolment_id, cell.address, cell.seat))
            for version, value in acks:
                if 1 <= version <= len(changes) and changes[version - 1] == value:
                    present += 1
                else:
                    lost.append(f"{name}: acknowledged {cell.text(value)} as version {version}")
            if mark is None:
                lost.append(f"{name}: no stored mark")
                continue
            value, version = mark
            if version != len(changes) or not changes or value != changes[-1]:
                lost.append(f"{name}: stored v{version} disagrees with its audit history")
            last_version, last_value = max(acks)
            if cell not in ledger.pending and (version, value) != (last_version, last_value):
                lost.append(
                    f"{name}: stored {cell.text(value)} v{version}, last acknowledged"
                    f" {cell.text(last_value)} v{last_version}"
                )
        for exam_id in sorted(exam_ids):
            report = audit.verify(session, exam_id)
            if not report.ok:
                lost.append(str(report))
    return LedgerCheck(ledger.count, len(ledger.acks), present, lost)


@dataclass
class WriteStats:
    """What autosaving clients saw; ``events`` are (monotonic time, status, content type,
    Retry-After) with status 0 for a connection-level failure."""

    statuses: Counter = field(default_factory=Counter)
    events: list[tuple[float, int, str, str | None]] = field(default_factory=list)
    failovers: int = 0
    unexpected: list[str] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def event(self, status: int, reply: Reply | None = None) -> None:
        with self.lock:
            self.statuses[status] += 1
            ctype = reply.headers.get("content-type", "") if reply else ""
            retry = reply.headers.get("retry-after") if reply else None
            self.events.append((time.monotonic(), status, ctype, retry))
            if reply is not None:
                self.latencies.append(reply.seconds)


def autosave(
    cells: list[Cell],
    email: str,
    ports: list[int],
    ledger: Ledger,
    stats: WriteStats,
    start: threading.Event,
    deadline: list[float],
    seed: int,
    *,
    ready: threading.Barrier | None = None,
    grace: float = 20.0,
) -> None:
    """An expert's autosave: change random ``cells`` one after the other until the deadline.

    Each change is sent with the version the client last saw and repeated, unchanged (so
    idempotently), until the server acknowledges it: after a connection-level failure on
    the next port of ``ports`` (failover), after a 5xx on the same one once
    ``min(Retry-After, 1 s)`` has passed. Any other answer than 200 is unexpected (these
    cells are written by this client only). The client signs in first, then waits for
    ``ready`` (a barrier shared with the caller) and ``start``. A change still
    unacknowledged ``grace`` seconds after the deadline is given up and recorded as such
    in the ledger.
    """
    rng = random.Random(seed)
    client = Client(ports[0], timeout=5)
    try:
        client.login(email, EXPERT_PASSWORD)
    except BaseException:
        if ready is not None:
            ready.abort()  # the caller stops waiting for this client at once
        raise
    versions: dict[Cell, int] = {}
    values: dict[Cell, int] = {}
    if ready is not None:
        ready.wait()  # every client has signed in
    start.wait()
    last_ack = time.monotonic()
    while time.monotonic() < deadline[0]:
        cell = rng.choice(cells)
        value = rng.choice([v for v in cell.values() if v != values.get(cell)])
        body = cell.body(value, versions.get(cell))
        acked = False
        while not acked and time.monotonic() < deadline[0] + grace:
            try:
                reply = client.request("PUT", cell.path, json_body=body, headers=XHR)
            except CONNECTION_ERRORS:
                stats.event(0)
                if len(ports) > 1:
                    with stats.lock:
                        stats.failovers += 1
                    client.port = ports[(ports.index(client.port) + 1) % len(ports)]
                    time.sleep(0.02)
                else:
                    time.sleep(0.2)
                continue
            stats.event(reply.status, reply)
            if reply.status == 200:
                data = reply.json()
                if cell.parse(data["value"]) != value:
                    with stats.lock:
                        stats.unexpected.append(f"{cell.target}: stored {data['value']}")
                ledger.ack(cell, data["version"], value)
                versions[cell], values[cell] = data["version"], value
                now = time.monotonic()
                with stats.lock:
                    stats.gaps.append(now - last_ack)
                last_ack, acked = now, True
            elif reply.status >= 500:
                try:
                    wait = float(reply.headers.get("retry-after") or 0.2)
                except ValueError:
                    wait = 0.2
                time.sleep(min(max(wait, 0.05), 1.0))
            else:
                with stats.lock:
                    stats.unexpected.append(f"{cell.target}: HTTP {reply.status} {reply.text}")
                break
        if not acked:
            ledger.unacknowledged(cell)
    client.close()
