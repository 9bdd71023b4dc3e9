"""Two stateless production instances on one PostgreSQL: shared state, and a crash under load.

One throwaway PostgreSQL cluster (durable: fsync and synchronous commit on), migrated and
seeded with ``flask db upgrade`` / ``flask demo seed``; two gunicorn instances A and B
(``gunicorn -c gunicorn.conf.py wsgi:app``, ``ENVIRONMENT=production``, the same generated
secrets, different ports). Checked:

(a) passports: an administrator signed in on A rotates the signing key and re-issues a
    passport through A's pages; B (whose key cache was warmed before the rotation) verifies
    the new passport's QR URL with ``POST /api/v1/verify`` and reports the old one
    superseded; B serves ``GET /V`` and the new key in its JWK Set; a passport revoked
    through B is reported revoked by A. The session cookie from A works on B.
(b) marks: a mark saved through A is read back through B's form grid; an expert on B
    writing the same cell from a stale version gets 409 with A's value; B's change is
    then read through A.
(c) crash: ``--clients`` experts save marks through both instances (half start on each),
    each on their own cells with the version they last saw; after ``--kill-at`` seconds
    instance A is killed with SIGKILL (master and workers at once). Clients whose request
    fails at the connection level retry the same request (same value and expected
    version, so it is idempotent) on the other instance. Afterwards every acknowledged
    (2xx) write must be in the database at its acknowledged version, and each cell must
    hold the last acknowledged value.

Exit status 1 when any check fails.

    .venv/bin/python -m benchmarks.cluster [--clients 16] [--seconds 12] [--kill-at 4]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import threading
import time

from benchmarks import prod
from benchmarks.prod import XHR, CheckFailed, Client
from passports.settings import current_settings


class Checks:
    """Named pass/fail results, printed as a table."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str]] = []
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.rows.append((name, ("ok" if ok else "FAILED") + (f" ({detail})" if detail else "")))
        if not ok:
            self.failed += 1
        return ok

    def fail(self, exc: Exception) -> None:
        """A step that could not run: the whole message above, its first line in the table."""
        print(f"\nFAILED: {exc}")
        self.check("run", False, str(exc).strip().splitlines()[0])

    def print(self) -> None:
        print(prod.table(self.rows, ("check", "result")))


def demo_passports(settings: dict[str, str]) -> tuple[int, list[tuple[str, str]]]:
    """The finalised demo exam's id and its current passports (number, QR URL)."""
    from sqlalchemy import select

    from passports.models import Passport
    from passports.services import verification

    with prod.database(settings) as session:
        rows = session.scalars(
            select(Passport)
            .where(Passport.revoked_at.is_(None), Passport.superseded_by_id.is_(None))
            .order_by(Passport.id)
        ).all()
        return rows[0].exam_id, [
            (p.number, verification.passport_url(p, current_settings().public_base_url))
            for p in rows
        ]


def verify(client: Client, url: str) -> dict:
    reply = client.request("POST", "/api/v1/verify", json_body={"url": url})
    if reply.status != 200:
        raise CheckFailed(f"POST /api/v1/verify: HTTP {reply.status}")
    return reply.json()


def passports_across(checks: Checks, settings, a: prod.Server, b: prod.Server) -> None:
    exam_id, current = demo_passports(settings)
    (old_number, old_url), (other_number, other_url) = current[0], current[1]
    on_a, on_b = Client(a.port), Client(b.port)
    before = verify(on_b, old_url)
    checks.check("B verifies a seeded passport", before["status"] == "genuine")

    admin = Client(a.port)
    admin.login(*prod.ADMIN)
    token = admin.csrf_token("/passports/keys")
    rotated = admin.request("POST", "/passports/keys/rotate", form={"csrf_token": token})
    checks.check("A rotates the signing key (admin page)", rotated.status == 302)
    # in production the new key signs only once the anchor has listed it (docs/deployment.md)
    prod.install_trust_list(settings)
    token = admin.csrf_token(f"/passports/{old_number}")
    reissued = admin.request("POST", f"/passports/{old_number}/reissue", form={"csrf_token": token})
    location = reissued.headers.get("location", "")
    new_number = location.rstrip("/").rsplit("/", 1)[-1]
    checks.check(
        "A re-issues a passport (admin page)",
        reissued.status == 302 and new_number not in ("", old_number),
        f"{old_number} -> {new_number}",
    )
    # the administrator's session cookie from A is valid on B: sessions are signed cookies
    links = admin.request("GET", f"/passports/exams/{exam_id}/links.csv", port=b.port)
    rows = list(csv.DictReader(io.StringIO(links.text)))
    qr = {row["number"]: row["qr_url"] for row in rows}
    checks.check(
        "B lists the new passport to A's admin session",
        links.status == 200 and new_number in qr,
    )
    if new_number not in qr:
        return
    answer = verify(on_b, qr[new_number])
    checks.check(
        "passport issued through A verifies through B (new key)",
        answer["valid"] is True
        and answer["status"] == "genuine"
        and answer["passport"]["number"] == new_number,
        f"status {answer['status']}",
    )
    old = verify(on_b, old_url)
    checks.check("B reports the replaced passport superseded", old["status"] == "superseded")
    page = on_b.request("GET", "/V")
    checks.check(
        "B serves the verification page GET /V",
        page.status == 200 and page.headers.get("content-type", "").startswith("text/html"),
    )
    jwks_a = on_a.request("GET", "/.well-known/jwks.json").json()
    jwks_b = on_b.request("GET", "/.well-known/jwks.json").json()
    kids_a = sorted(k["kid"] for k in jwks_a["keys"])
    kids_b = sorted(k["kid"] for k in jwks_b["keys"])
    checks.check("A and B publish the same JWK Set", kids_a == kids_b and len(kids_b) == 2)

    token = admin.csrf_token(f"/passports/{other_number}", port=b.port)
    revoked = admin.request(
        "POST",
        f"/passports/{other_number}/revoke",
        form={"csrf_token": token, "reason": "Benchmark: revoked through instance B"},
        port=b.port,
    )
    answer = verify(on_a, other_url)
    checks.check(
        "passport revoked through B is revoked on A",
        revoked.status == 302 and answer["status"] == "revoked",
        f"status {answer['status']}",
    )


def grid_cell(reply: prod.Reply, cell: prod.Cell) -> tuple[str | None, int | None]:
    for row in reply.json()["rows"]:
        if row["enrolment_id"] == cell.enrolment_id:
            for item in row["cells"]:
                if item["aspect"] == cell.address and item["seat"] == cell.seat:
                    return item["value"], item["version"]
    raise CheckFailed(f"cell {cell.target} is not in the form grid")


def marks_across(checks: Checks, exam: prod.BenchExam, a: prod.Server, b: prod.Server) -> None:
    cell = next(c for c in exam.cells_by_enrolment[exam.enrolments[-1]] if c.kind == "M")
    grid_path = f"/api/v1/exams/{exam.id}/forms/{cell.form_id}"
    chief = Client(a.port)
    chief.login(*prod.CHIEF)
    saved = chief.request("PUT", cell.path, json_body=cell.body(25, None), headers=XHR)
    checks.check("chief saves a mark through A", saved.status == 200, f"HTTP {saved.status}")
    seen = grid_cell(chief.request("GET", grid_path, port=b.port), cell)
    checks.check("the mark is read back through B", seen == (cell.text(25), 1), f"B shows {seen}")
    expert = Client(b.port)
    expert.login(exam.experts[-1], prod.EXPERT_PASSWORD)
    stale = expert.request("PUT", cell.path, json_body=cell.body(50, None), headers=XHR)
    current = stale.json().get("current", {}) if stale.status == 409 else {}
    checks.check(
        "a stale write through B gets 409 with A's value",
        stale.status == 409 and current.get("value") == cell.text(25),
        f"HTTP {stale.status}",
    )
    fresh = expert.request("PUT", cell.path, json_body=cell.body(50, 1), headers=XHR)
    seen = grid_cell(chief.request("GET", grid_path, port=a.port), cell)
    checks.check(
        "B's change is read back through A",
        fresh.status == 200 and seen == (cell.text(50), 2),
        f"A shows {seen}",
    )


def crash_under_load(
    checks: Checks,
    settings: dict[str, str],
    exams: list[prod.BenchExam],
    a: prod.Server,
    b: prod.Server,
    args: argparse.Namespace,
) -> None:
    ledger, stats = prod.Ledger(), prod.WriteStats()
    start, deadline = threading.Event(), [0.0]
    ready = threading.Barrier(args.clients + 1, timeout=90)
    threads = []
    for i in range(args.clients):
        exam = exams[i % len(exams)]
        slot = i // len(exams)
        home = [a.port, b.port] if (i // len(exams)) % 2 == 0 else [b.port, a.port]
        cells = exam.cells_by_enrolment[exam.enrolments[slot]]
        thread = threading.Thread(
            target=prod.autosave,
            args=(cells, exam.experts[slot], home, ledger, stats, start, deadline, i),
            kwargs={"ready": ready},
            daemon=True,
        )
        threads.append(thread)
        thread.start()
    ready.wait()  # every client has signed in
    began = time.monotonic()
    deadline[0] = began + args.seconds
    start.set()
    time.sleep(args.kill_at)
    killed_at = time.monotonic() - began
    acked_before_kill = ledger.count
    a.kill()
    for thread in threads:
        thread.join(args.seconds + 30)
    stuck = sum(t.is_alive() for t in threads)
    elapsed = time.monotonic() - began

    result = prod.check_ledger(settings, ledger)
    fives = sum(n for status, n in stats.statuses.items() if status >= 500)
    rows = [
        ("clients", f"{args.clients} (half start on A, half on B), {len(exams)} exams"),
        ("run", f"{elapsed:.1f} s; A killed (SIGKILL, master + workers) at {killed_at:.1f} s"),
        ("acknowledged before / after the kill", f"{acked_before_kill} / "
         f"{ledger.count - acked_before_kill}"),
        ("writes acknowledged (2xx)", str(result.acknowledged)),
        ("verified present at their version", str(result.present)),
        ("lost", str(len(result.lost))),
        ("cells written", str(result.cells)),
        ("connection errors -> failovers", str(stats.failovers)),
        ("longest gap between a client's acks", prod.ms(max(stats.gaps, default=0))),
        ("write latency p50 / p99", f"{prod.ms(prod.percentile(stats.latencies, 0.5))} / "
         f"{prod.ms(prod.percentile(stats.latencies, 0.99))}"),
        ("HTTP statuses (0 = no answer)",
         ", ".join(f"{k}: {v}" for k, v in sorted(stats.statuses.items()))),
        ("instance B still serving", "yes" if b.alive else "NO"),
    ]  # fmt: skip
    print()
    print("Crash of one instance under load")
    print(prod.table(rows))
    for line in result.lost[:20]:
        print("  LOST:", line)
    for line in stats.unexpected[:20]:
        print("  UNEXPECTED:", line)
    checks.check(
        "kill -9 of A under load: every acknowledged write present, none lost",
        result.ok and result.acknowledged > 0,
        f"{result.present}/{result.acknowledged} present, {len(result.lost)} lost",
    )
    checks.check(
        "clients failed over to B and went on saving",
        stats.failovers > 0 and acked_before_kill < ledger.count,
    )
    checks.check("no 5xx and no unexpected answer", fives == 0 and not stats.unexpected)
    checks.check("every client finished", stuck == 0)


def prove(checks: Checks, args: argparse.Namespace, started: float) -> None:
    with prod.Run("cluster") as run:
        url = run.postgres()
        settings = prod.production_settings(url, prod.generated_secrets())
        prod.seed(settings)
        exams = prod.bench_exams(
            settings,
            exams=2,
            experts_per_exam=(args.clients + 1) // 2 + 1,
            candidates=(args.clients + 1) // 2 + 1,
            tag="cluster",
        )
        a = run.server("A", settings, workers=args.workers).start()
        b = run.server("B", settings, workers=args.workers).start()
        print(f"database            PostgreSQL (durable), {run.cluster.base}")
        print(f"instances           A :{a.port}, B :{b.port} (gunicorn, ENVIRONMENT=production)")
        print(f"setup               {time.monotonic() - started:.1f} s")
        print()
        try:
            passports_across(checks, settings, a, b)
            marks_across(checks, exams[0], a, b)
            crash_under_load(checks, settings, exams, a, b, args)
        finally:
            if checks.failed:
                print("\nlog of B (last lines):\n" + b.tail())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--kill-at", type=float, default=4.0)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers each")
    args = parser.parse_args(argv)
    checks = Checks()
    print(f"machine             {prod.machine()}")
    started = time.monotonic()
    try:
        prove(checks, args, started)
    except CheckFailed as exc:
        checks.fail(exc)
    print()
    checks.print()
    print(f"\ntotal {time.monotonic() - started:.1f} s; {checks.failed} check(s) failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
