"""Fault runs on the production server: the database restarts, and a database that cannot write.

(a) PostgreSQL restarted during mark entry. One gunicorn instance (production settings)
    on a throwaway, durable PostgreSQL cluster; ``--clients`` experts autosave marks on
    their own cells (prod.autosave: each change is repeated unchanged until acknowledged,
    after ``min(Retry-After, 1 s)`` on a 5xx). After ``--down-at`` seconds the cluster is
    stopped with ``pg_ctl -m immediate`` (a crash: no checkpoint, crash recovery on
    start), left down for ``--outage`` seconds and started again, and the clients go on
    for ``--after`` seconds; meanwhile a probe asks for ``/readyz``, a signed-in page and
    the public verification page. Checked: during
    the outage the API answers 503 application/problem+json with Retry-After and pages
    a readable 503 page (no 500 at all); saving resumes after the restart; every
    acknowledged write is in the database at its acknowledged version.
(b) SQLite that cannot write: the seeded database file made read-only (``chattr +i`` as
    root, since root ignores file modes; ``chmod 444`` otherwise), then the same database
    on a full disk (a tmpfs just larger than the file, filled up; skipped when tmpfs
    cannot be mounted). Each served by gunicorn: saving a mark (API) and signing in (a
    page form that writes) must answer 503 — problem+json with Retry-After, or a
    readable error page — while reads (``/V``, the verify API, a form grid, ``/readyz``)
    keep answering 200 from the same server; after the disk is freed, saving works again.

Exit status 1 when a check fails.

    .venv/bin/python -m benchmarks.faults [--only postgres|sqlite] [--clients 12]
        [--down-at 3] [--outage 4] [--after 6]
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks import prod
from benchmarks.cluster import Checks
from benchmarks.prod import CONNECTION_ERRORS, XHR, CheckFailed, Client

READABLE_503 = ("Nothing was saved", "temporarily unavailable")


def is_problem_503(reply: prod.Reply) -> bool:
    return (
        reply.status == 503
        and reply.headers.get("content-type", "").startswith("application/problem+json")
        and bool(reply.headers.get("retry-after"))
    )


def is_page_503(reply: prod.Reply) -> bool:
    return (
        reply.status == 503
        and reply.headers.get("content-type", "").startswith("text/html")
        and any(text in reply.text for text in READABLE_503)
    )


def describe(reply: prod.Reply | None) -> str:
    if reply is None:
        return "no answer"
    ctype = reply.headers.get("content-type", "").split(";")[0]
    retry = reply.headers.get("retry-after")
    return f"{reply.status} {ctype}" + (f", Retry-After {retry}" if retry else "")


def counted(answers: Counter) -> str:
    return ", ".join(f"{n} × {what}" for what, n in sorted(answers.items()))


def safe(request) -> prod.Reply | None:
    try:
        return request()
    except CONNECTION_ERRORS:
        return None


# --- (a) PostgreSQL restart -------------------------------------------------------------


def postgres_restart(checks: Checks, args: argparse.Namespace) -> None:
    with prod.Run("faults-pg") as run:
        started = time.monotonic()
        url = run.postgres()
        settings = prod.production_settings(url, prod.generated_secrets())
        prod.seed(settings)
        per_exam = (args.clients + 1) // 2
        exams = prod.bench_exams(
            settings, exams=2, experts_per_exam=per_exam, candidates=per_exam, tag="faults"
        )
        server = run.server("app", settings).start()
        print(f"server              gunicorn :{server.port} on durable PostgreSQL")
        print(f"setup               {time.monotonic() - started:.1f} s")

        chief = Client(server.port)
        chief.login(*prod.CHIEF)
        anonymous = Client(server.port)
        ledger, stats = prod.Ledger(), prod.WriteStats()
        start, deadline = threading.Event(), [0.0]
        ready = threading.Barrier(args.clients + 1, timeout=90)
        threads = []
        for i in range(args.clients):
            exam = exams[i % 2]
            slot = i // 2
            cells = exam.cells_by_enrolment[exam.enrolments[slot]]
            thread = threading.Thread(
                target=prod.autosave,
                args=(cells, exam.experts[slot], [server.port], ledger, stats, start, deadline, i),
                kwargs={"ready": ready},
                daemon=True,
            )
            threads.append(thread)
            thread.start()
        ready.wait()  # every client has signed in
        began = time.monotonic()
        # moved to --after seconds past the restart once the database is back
        deadline[0] = began + args.down_at + args.outage + args.after + 60
        start.set()
        time.sleep(args.down_at)

        acked_before = ledger.count
        down = time.monotonic()
        run.cluster.stop_server("immediate")
        probes: dict[str, Counter] = {"readyz": Counter(), "page": Counter(), "/V": Counter()}
        page_ok = readyz_ok = True
        while time.monotonic() < down + args.outage:
            readiness = safe(lambda: anonymous.request("GET", "/readyz"))
            page = safe(lambda: chief.request("GET", "/dashboard"))
            public = safe(lambda: anonymous.request("GET", "/V"))
            probes["readyz"][describe(readiness)] += 1
            probes["page"][describe(page)] += 1
            probes["/V"][describe(public)] += 1
            readyz_ok = readyz_ok and readiness is not None and readiness.status == 503
            page_ok = page_ok and page is not None and is_page_503(page)
            time.sleep(0.3)
        acked_during = ledger.count - acked_before
        restart_began = time.monotonic()
        run.cluster.start_server()
        up = time.monotonic()
        deadline[0] = up + args.after
        for thread in threads:
            thread.join(args.after + 40)
        stuck = sum(t.is_alive() for t in threads)
        after_page = safe(lambda: chief.request("GET", "/dashboard"))

        # answers that arrived while the database was down (a save committed just before
        # the crash may still answer 200 in this window: that one is not a refusal)
        outage = [e for e in stats.events if down <= e[0] <= up]
        refused = [e for e in outage if e[1] != 200]
        during = Counter(
            f"{status} {ctype.split(';')[0]}" + (f", Retry-After {retry}" if retry else "")
            for _t, status, ctype, retry in outage
        )
        retryable = sum(
            1
            for _t, status, ctype, retry in refused
            if status == 503 and ctype.startswith("application/problem+json") and retry
        )
        first_ack = min((e[0] for e in stats.events if e[0] > up and e[1] == 200), default=None)
        recovered = first_ack - up if first_ack else None
        five_hundreds = stats.statuses.get(500, 0)
        result = prod.check_ledger(settings, ledger)
        rows = [
            ("clients", f"{args.clients} experts autosaving, {len(exams)} exams"),
            ("timeline", f"PostgreSQL stopped (immediate) at {down - began:.1f} s, "
             f"started again at {up - began:.1f} s (start took {up - restart_began:.1f} s), "
             f"end {time.monotonic() - began:.1f} s"),
            ("saves acknowledged before / during / after",
             f"{acked_before} / {acked_during} / {ledger.count - acked_before - acked_during}"),
            ("answers to saves during the outage",
             ", ".join(f"{v} × {k}" for k, v in sorted(during.items())) or "none"),
            ("first acknowledged save after the restart",
             f"{recovered:.2f} s" if recovered is not None else "NONE"),
            ("probe /readyz during the outage", counted(probes["readyz"])),
            ("probe signed-in page", counted(probes["page"])),
            ("probe GET /V (no database)", counted(probes["/V"])),
            ("signed-in page after the restart", describe(after_page)),
            ("HTTP statuses in all", ", ".join(
                f"{k}: {v}" for k, v in sorted(stats.statuses.items()))),
            ("writes acknowledged (2xx)", str(result.acknowledged)),
            ("verified present at their version", str(result.present)),
            ("lost", str(len(result.lost))),
            ("500 answers", str(five_hundreds)),
        ]  # fmt: skip
        print()
        print("PostgreSQL restarted during mark entry")
        print(prod.table(rows))
        for line in (result.lost + stats.unexpected)[:20]:
            print("  PROBLEM:", line)
        checks.check(
            "saves during the outage get 503 problem+json with Retry-After",
            bool(refused) and retryable == len(refused),
            f"{retryable} of {len(refused)}",
        )
        checks.check("signed-in page during the outage: readable 503 page", page_ok)
        checks.check("/readyz reports 503 during the outage", readyz_ok)
        checks.check("no 500 at any time", five_hundreds == 0 and not stats.unexpected)
        checks.check(
            "saving resumes after the restart",
            recovered is not None and after_page is not None and after_page.status == 200,
        )
        checks.check(
            "every acknowledged save present after the restart, none lost",
            result.ok and result.acknowledged > 0 and stuck == 0,
            f"{result.present}/{result.acknowledged} present, {len(result.lost)} lost",
        )
        if checks.failed:
            print("\nserver log (last lines):\n" + server.tail())


# --- (b) SQLite: read-only file, full disk ----------------------------------------------


def checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file and remove it (every server stopped first)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def make_read_only(run: prod.Run, path: Path) -> str:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
        run.callback(subprocess.run, ["chattr", "-i", str(path)], check=False)
        return "chattr +i (immutable: even root cannot write)"
    path.chmod(0o444)
    return "chmod 444"


def mount_tmpfs(run: prod.Run, where: Path, size: int) -> str | None:
    """Mount a tmpfs of ``size`` bytes; return why not when it cannot be done."""
    where.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return (result.stderr or result.stdout).strip() or f"mount exited {result.returncode}"
    run.callback(unmount, where)
    return None


def unmount(where: Path) -> None:
    if subprocess.run(["umount", str(where)], check=False, capture_output=True).returncode:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def fill(where: Path) -> int:
    """Fill the file system at ``where``; return the bytes written."""
    written = 0
    fd = os.open(where / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        block = b"\0" * 65536
        while True:
            try:
                written += os.write(fd, block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if len(block) <= 512:
                    break
                block = block[: len(block) // 8]
    finally:
        os.close(fd)
    return written


class Probe:
    """The requests of one SQLite scenario, against one server."""

    def __init__(self, server: prod.Server, cookies: dict[str, str], exam: prod.BenchExam):
        self.expert = Client(server.port)
        self.expert.cookies = dict(cookies)
        self.visitor = Client(server.port)
        self.exam = exam
        self.cell = exam.cells_by_enrolment[exam.enrolments[0]][0]

    def save(self, value: int, version: int | None) -> prod.Reply:
        return self.expert.request(
            "PUT", self.cell.path, json_body=self.cell.body(value, version), headers=XHR
        )

    def sign_in(self) -> prod.Reply:
        token = self.visitor.csrf_token("/login")
        return self.visitor.request(
            "POST",
            "/login",
            form={"csrf_token": token, "email": prod.CHIEF[0], "password": prod.CHIEF[1]},
        )

    def reads(self, token: str) -> dict[str, prod.Reply]:
        cell = self.cell
        return {
            "GET /V": self.visitor.request("GET", "/V"),
            "POST /api/v1/verify": self.visitor.request(
                "POST", "/api/v1/verify", json_body={"token": token}
            ),
            "GET form grid": self.expert.request(
                "GET", f"/api/v1/exams/{cell.exam_id}/forms/{cell.form_id}"
            ),
            "GET /readyz": self.visitor.request("GET", "/readyz"),
        }


def unwritable_scenario(
    checks: Checks, name: str, probe: Probe, token: str, server: prod.Server
) -> list[tuple[str, str]]:
    rows = []
    save = safe(lambda: probe.save(75, 1))
    rows.append((f"{name}: save a mark (API)", describe(save)))
    checks.check(
        f"{name}: saving answers 503 problem+json with Retry-After",
        save is not None and is_problem_503(save),
        describe(save),
    )
    login = safe(probe.sign_in)
    rows.append((f"{name}: sign in (page form that writes)", describe(login)))
    checks.check(
        f"{name}: signing in shows a readable 503 page",
        login is not None and is_page_503(login),
        describe(login),
    )
    reads = probe.reads(token)
    for what, reply in reads.items():
        rows.append((f"{name}: {what}", describe(reply)))
    checks.check(
        f"{name}: reads keep answering 200",
        all(r.status == 200 for r in reads.values()) and server.alive,
        ", ".join(f"{k} {r.status}" for k, r in reads.items()),
    )
    return rows


def sqlite_faults(checks: Checks, args: argparse.Namespace) -> None:
    with prod.Run("faults-sqlite") as run:
        started = time.monotonic()
        path = run.dir / "skills.db"
        settings = prod.production_settings(f"sqlite:///{path}", prod.generated_secrets())
        prod.seed(settings)
        (exam,) = prod.bench_exams(
            settings, exams=1, experts_per_exam=1, candidates=1, tag="sqlite"
        )
        token = _one_token(settings)
        writable = run.server("writable", settings).start()
        expert = Client(writable.port)
        expert.login(exam.experts[0], prod.EXPERT_PASSWORD)
        first = Probe(writable, expert.cookies, exam).save(50, None)
        if first.status != 200:
            raise CheckFailed(f"saving on the writable database: {describe(first)}")
        writable.stop()
        checkpoint(path)
        print(f"database            SQLite {path.stat().st_size:,} bytes; setup "
              f"{time.monotonic() - started:.1f} s")  # fmt: skip

        # read-only file
        how = make_read_only(run, path)
        server = run.server("read-only", settings).start()
        rows = [("read-only file", how)]
        rows += unwritable_scenario(
            checks, "read-only", Probe(server, expert.cookies, exam), token, server
        )
        server.stop()
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o644)
        checkpoint(path)

        # full disk
        disk = run.dir / "disk"
        size = path.stat().st_size + 256 * 1024
        why = mount_tmpfs(run, disk, size)
        if why:
            rows.append(("full disk", f"SKIPPED: cannot mount a tmpfs ({why})"))
        else:
            shutil.copy2(path, disk / "skills.db")
            full = dict(settings, DATABASE_URL=f"sqlite:///{disk / 'skills.db'}")
            server = run.server("full-disk", full).start()
            probe = Probe(server, expert.cookies, exam)
            probe.reads(token)  # the workers open the database (WAL index) before the disk fills
            filled = fill(disk)
            rows.append(("full disk", f"tmpfs of {size:,} bytes, filled with {filled:,} more"))
            rows += unwritable_scenario(checks, "full disk", probe, token, server)
            (disk / "filler").unlink()
            again = safe(lambda: probe.save(75, 1))
            rows.append(("full disk: save after space is freed", describe(again)))
            checks.check(
                "full disk: saving works again once space is freed",
                again is not None and again.status == 200,
                describe(again),
            )
            server.stop()
        errors_logged = sum(s.log_count(r"Traceback") for s in run.servers)
        rows.append(("tracebacks in the server logs", str(errors_logged)))
        checks.check("no traceback logged (no crash)", errors_logged == 0)
        print()
        print("SQLite that cannot write")
        print(prod.table(rows))
        if checks.failed:
            for server in run.servers:
                print(f"\nlog of {server.name} (last lines):\n{server.tail(15)}")


def _one_token(settings: dict[str, str]) -> str:
    from sqlalchemy import select

    from passports.models import Passport

    with prod.database(settings) as session:
        return session.scalar(select(Passport.token).where(Passport.revoked_at.is_(None)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("postgres", "sqlite"))
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--down-at", type=float, default=3.0)
    parser.add_argument("--outage", type=float, default=4.0)
    parser.add_argument("--after", type=float, default=6.0)
    args = parser.parse_args(argv)
    started = time.monotonic()
    print(f"machine             {prod.machine()}")
    checks = Checks()
    try:
        if args.only in (None, "postgres"):
            postgres_restart(checks, args)
        if args.only in (None, "sqlite"):
            print()
            sqlite_faults(checks, args)
    except CheckFailed as exc:
        checks.fail(exc)
    print()
    checks.print()
    print(f"\ntotal {time.monotonic() - started:.1f} s; {checks.failed} check(s) failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
