"""Load on the production server: public verification, and 50 experts saving marks.

One gunicorn instance (``gunicorn -c gunicorn.conf.py wsgi:app``, ``ENVIRONMENT=production``,
default workers: 2 × cores + 1) on a throwaway, durable PostgreSQL cluster seeded with
``flask demo seed``. Rate limits stay on, raised by configuration (prod.RAISED_LIMITS).
The client is this process: threads with one ``http.client`` connection each, on the same
cores as the server (its CPU time is printed).

(a) Verification, each phase bounded by ``--seconds`` and ``--requests`` with
    ``--concurrency`` threads: ``GET /V`` (the page a QR code opens), then
    ``POST /api/v1/verify`` with the real tokens of the demo passports (every answer must
    be 200 and ``valid``). Printed: requests/s, p50/p95/p99 latency, errors.
(b) Marking: ``--experts`` expert accounts in exams of 10 experts (demo scheme, 11
    present candidates each) sign in and save marks concurrently, with no pause between
    saves unless ``--think`` gives a mean pause. Each expert owns one candidate's cells
    and writes them with the version it last saw (a 409 there would be a wrong
    conflict); about one write in six goes to four cells of
    a shared candidate that all ten experts of the exam edit, so real conflicts happen:
    on 409 the expert takes the current value and version from the answer and, half of
    the time, overwrites it; now and then an expert reloads the shared form's grid.
    Checked afterwards against the database: every acknowledged write is in the cell's
    audit history at the acknowledged version, every cell holds its last acknowledged
    write, the audit chains verify, no 5xx, and every 409 named a version other than the
    one sent.

Exit status 1 when a correctness check fails (5xx, wrong answers, lost updates, false
conflicts). The figures are information, not targets.

    .venv/bin/python -m benchmarks.load [--seconds 20] [--requests 20000] [--concurrency 32]
        [--experts 50] [--writes 30] [--mark-seconds 45] [--think 0]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from benchmarks import prod
from benchmarks.prod import CONNECTION_ERRORS, XHR, CheckFailed, Client

SHARED_CELLS = 4
EXPERTS_PER_EXAM = 10


# --- (a) verification -------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    client_cpu: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def row(self) -> tuple[str, ...]:
        rate = self.requests / self.seconds if self.seconds else 0
        bad = sum(self.errors.values()) + sum(n for s, n in self.statuses.items() if s != 200)
        return (
            self.name,
            f"{self.requests:,}",
            f"{self.seconds:.1f} s",
            f"{rate:,.0f}",
            prod.ms(prod.percentile(self.latencies, 0.50)),
            prod.ms(prod.percentile(self.latencies, 0.95)),
            prod.ms(prod.percentile(self.latencies, 0.99)),
            str(bad),
            f"{self.client_cpu:.1f} s",
        )


PHASE_HEADER = ("phase", "requests", "time", "req/s", "p50", "p95", "p99", "errors", "client CPU")


def hammer(name: str, port: int, send, check, args: argparse.Namespace) -> Phase:
    """``args.concurrency`` threads call ``send(client, n)`` until time or count runs out."""
    phase = Phase(name)
    counter = iter(range(args.requests))
    lock = threading.Lock()
    deadline = [0.0]
    start = threading.Event()

    def worker() -> None:
        client = Client(port, timeout=30)
        local_lat: list[float] = []
        local_status: Counter = Counter()
        local_err: Counter = Counter()
        start.wait()
        while time.monotonic() < deadline[0]:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            try:
                reply = send(client, n)
            except CONNECTION_ERRORS as exc:
                local_err[type(exc).__name__] += 1
                continue
            local_lat.append(reply.seconds)
            local_status[reply.status] += 1
            if reply.status == 200 and not check(reply):
                local_err["wrong answer"] += 1
        client.close()
        with lock:
            phase.latencies.extend(local_lat)
            phase.statuses.update(local_status)
            phase.errors.update(local_err)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    began = time.monotonic()
    deadline[0] = began + args.seconds
    start.set()
    for thread in threads:
        thread.join(args.seconds + 60)
    phase.seconds = time.monotonic() - began
    phase.client_cpu = time.process_time() - cpu
    return phase


def tokens(settings: dict[str, str]) -> list[str]:
    from sqlalchemy import select

    from passports.models import Passport

    with prod.database(settings) as session:
        return list(
            session.scalars(
                select(Passport.token).where(
                    Passport.revoked_at.is_(None), Passport.superseded_by_id.is_(None)
                )
            )
        )


def verification_load(port: int, settings: dict[str, str], args) -> list[Phase]:
    real = tokens(settings)
    if not real:
        raise CheckFailed("the demo seed issued no passports")
    page = hammer(
        "GET /V",
        port,
        lambda client, n: client.request("GET", "/V"),
        lambda reply: b"<html" in reply.body[:300].lower(),
        args,
    )
    api = hammer(
        "POST /api/v1/verify",
        port,
        lambda client, n: client.request(
            "POST", "/api/v1/verify", json_body={"token": real[n % len(real)]}
        ),
        lambda reply: json.loads(reply.body).get("valid") is True,
        args,
    )
    return [page, api]


# --- (b) marking ------------------------------------------------------------------------


@dataclass
class MarkStats:
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    grid_latencies: list[float] = field(default_factory=list)
    conflicts: int = 0
    overwrites: int = 0
    false_conflicts: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    connection_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, problem: str, into: list[str]) -> None:
        with self.lock:
            into.append(problem)


class Expert:
    """One simulated expert: owns ``own`` cells, shares ``shared`` with the exam's others."""

    def __init__(self, email, port, own, shared, ledger, stats, seed) -> None:
        self.email = email
        self.client = Client(port, timeout=60)
        self.own = own
        self.shared = shared
        self.ledger = ledger
        self.stats = stats
        self.rng = random.Random(seed)
        self.versions: dict[prod.Cell, int | None] = {}
        self.values: dict[prod.Cell, int | None] = {}

    def put(self, cell: prod.Cell, value: int) -> prod.Reply | None:
        expected = self.versions.get(cell)
        try:
            reply = self.client.request(
                "PUT", cell.path, json_body=cell.body(value, expected), headers=XHR
            )
        except CONNECTION_ERRORS as exc:
            with self.stats.lock:
                self.stats.connection_errors += 1
            self.stats.note(f"{cell.target}: {type(exc).__name__}", self.stats.unexpected)
            self.ledger.unacknowledged(cell)
            return None
        with self.stats.lock:
            self.stats.statuses[reply.status] += 1
            self.stats.latencies.append(reply.seconds)
        if reply.status == 200:
            data = reply.json()
            if cell.parse(data["value"]) != value:
                self.stats.note(f"{cell.target}: stored {data['value']}", self.stats.unexpected)
            self.ledger.ack(cell, data["version"], value)
            self.versions[cell], self.values[cell] = data["version"], value
        elif reply.status == 409:
            current = reply.json().get("current") or {}
            if current.get("version") == expected:
                self.stats.note(
                    f"{cell.target}: 409 although version {expected} is current",
                    self.stats.false_conflicts,
                )
            with self.stats.lock:
                self.stats.conflicts += 1
            self.versions[cell] = current.get("version")
            self.values[cell] = cell.parse(current["value"]) if current.get("value") else None
        else:
            self.stats.note(
                f"{cell.target}: HTTP {reply.status} {reply.text[:200]}", self.stats.unexpected
            )
        return reply

    def new_value(self, cell: prod.Cell) -> int:
        return self.rng.choice([v for v in cell.values() if v != self.values.get(cell)])

    def reload_grid(self) -> None:
        cell = self.shared[0]
        try:
            reply = self.client.request("GET", f"/api/v1/exams/{cell.exam_id}/forms/{cell.form_id}")
        except CONNECTION_ERRORS:
            with self.stats.lock:
                self.stats.connection_errors += 1
            return
        with self.stats.lock:
            self.stats.statuses[reply.status] += 1
            self.stats.grid_latencies.append(reply.seconds)
        if reply.status != 200:
            self.stats.note(f"grid: HTTP {reply.status}", self.stats.unexpected)
            return
        for row in reply.json()["rows"]:
            for item in row["cells"]:
                for cell in self.shared:
                    if (row["enrolment_id"], item["aspect"], item["seat"]) == (
                        cell.enrolment_id,
                        cell.address,
                        cell.seat,
                    ):
                        self.versions[cell] = item["version"]
                        self.values[cell] = (
                            cell.parse(item["value"]) if item["value"] is not None else None
                        )

    def run(self, writes: int, think: float, start: threading.Event, deadline: list[float]) -> None:
        start.wait()
        done = 0
        while done < writes and time.monotonic() < deadline[0]:
            if think:
                pause = min(self.rng.expovariate(1 / think), 4 * think)
                time.sleep(max(0.0, min(pause, deadline[0] - time.monotonic())))
                if time.monotonic() >= deadline[0]:
                    break
            roll = self.rng.random()
            if roll < 0.05:
                self.reload_grid()
                continue
            done += 1
            if roll < 0.22:
                cell = self.rng.choice(self.shared)
                reply = self.put(cell, self.new_value(cell))
                if reply is not None and reply.status == 409 and self.rng.random() < 0.5:
                    with self.stats.lock:
                        self.stats.overwrites += 1
                    self.put(cell, self.new_value(cell))
            else:
                cell = self.rng.choice(self.own)
                reply = self.put(cell, self.new_value(cell))
                if reply is not None and reply.status == 409:
                    self.stats.note(
                        f"{cell.target}: 409 on a cell only this expert writes",
                        self.stats.false_conflicts,
                    )
        self.client.close()


def marking_load(port: int, settings: dict[str, str], args) -> tuple[list[tuple], bool]:
    exams_needed = -(-args.experts // EXPERTS_PER_EXAM)
    started = time.monotonic()
    exams = prod.bench_exams(
        settings,
        exams=exams_needed,
        experts_per_exam=EXPERTS_PER_EXAM,
        candidates=EXPERTS_PER_EXAM + 1,
        tag="load",
    )
    ledger, stats = prod.Ledger(), MarkStats()
    experts = []
    for n in range(args.experts):
        exam = exams[n // EXPERTS_PER_EXAM]
        slot = n % EXPERTS_PER_EXAM
        shared_row = exam.cells_by_enrolment[exam.enrolments[-1]]
        shared = [c for c in shared_row if c.kind == "M"][:SHARED_CELLS]
        own = exam.cells_by_enrolment[exam.enrolments[slot]]
        experts.append(Expert(exam.experts[slot], port, own, shared, ledger, stats, n))
    setup = time.monotonic() - started

    # every expert signs in at once (scrypt on the server), not timed with the saves
    began = time.monotonic()
    failures: list[str] = []

    def sign_in(expert: Expert) -> None:
        try:
            expert.client.login(expert.email, prod.EXPERT_PASSWORD)
        except (CheckFailed, *CONNECTION_ERRORS) as exc:
            failures.append(f"{expert.email}: {exc}")

    threads = [threading.Thread(target=sign_in, args=(e,), daemon=True) for e in experts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    logins = time.monotonic() - began
    if failures:
        raise CheckFailed("sign-in failed: " + "; ".join(failures[:5]))

    start, deadline = threading.Event(), [0.0]
    threads = [
        threading.Thread(target=e.run, args=(args.writes, args.think, start, deadline), daemon=True)
        for e in experts
    ]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    began = time.monotonic()
    deadline[0] = began + args.mark_seconds
    start.set()
    for thread in threads:
        thread.join(args.mark_seconds + 90)
    elapsed = time.monotonic() - began
    client_cpu = time.process_time() - cpu
    stuck = sum(t.is_alive() for t in threads)

    result = prod.check_ledger(settings, ledger)
    fives = sum(n for s, n in stats.statuses.items() if s >= 500)
    puts = len(stats.latencies)
    rows = [
        ("experts", f"{args.experts} in {len(exams)} exams (10 each, 11 candidates, "
         f"{SHARED_CELLS} shared cells per exam)"),
        ("think time between saves", f"{args.think:g} s (mean, exponential)"
         if args.think else "none: every expert saves flat out"),
        ("setup / sign-in of all experts", f"{setup:.1f} s / {logins:.1f} s"),
        ("saving", f"{elapsed:.1f} s, {puts:,} PUTs = {puts / elapsed:,.0f} writes/s "
         f"(client CPU {client_cpu:.1f} s)"),
        ("PUT latency p50 / p95 / p99", " / ".join(
            prod.ms(prod.percentile(stats.latencies, q)) for q in (0.5, 0.95, 0.99))),
        ("grid reloads, p50", f"{len(stats.grid_latencies)}, "
         f"{prod.ms(prod.percentile(stats.grid_latencies, 0.5))}"),
        ("HTTP statuses", ", ".join(f"{k}: {v:,}" for k, v in sorted(stats.statuses.items()))),
        ("409 conflicts (shared cells) / overwrites", f"{stats.conflicts} / {stats.overwrites}"),
        ("false conflicts", str(len(stats.false_conflicts))),
        ("writes acknowledged", f"{result.acknowledged:,} on {result.cells:,} cells"),
        ("present at their version in the DB", f"{result.present:,}"),
        ("lost updates", str(len(result.lost))),
        ("5xx", str(fives)),
    ]  # fmt: skip
    for line in (result.lost + stats.false_conflicts + stats.unexpected)[:20]:
        print("  PROBLEM:", line)
    ok = (
        result.ok
        and result.acknowledged > 0
        and fives == 0
        and not stats.false_conflicts
        and not stats.unexpected
        and stuck == 0
    )
    return rows, ok


def prove(args: argparse.Namespace, started: float) -> bool:
    ok = True
    with prod.Run("load") as run:
        url = run.postgres()
        settings = prod.production_settings(url, prod.generated_secrets())
        prod.seed(settings)
        server = run.server("app", settings, workers=args.workers).start()
        workers = args.workers or "default"
        print(f"server              gunicorn :{server.port}, workers: {workers}, PostgreSQL")
        print(f"setup               {time.monotonic() - started:.1f} s")
        try:
            phases = verification_load(server.port, settings, args)
            print()
            print(f"Verification: {args.concurrency} concurrent clients, at most "
                  f"{args.seconds:.0f} s or {args.requests:,} requests per phase")  # fmt: skip
            print(prod.table([p.row() for p in phases], PHASE_HEADER))
            for phase in phases:
                bad = sum(phase.errors.values()) + sum(
                    n for s, n in phase.statuses.items() if s != 200
                )
                if bad:
                    ok = False
                    print(f"  {phase.name}: statuses {dict(phase.statuses)}, "
                          f"errors {dict(phase.errors)}")  # fmt: skip
            rows, marks_ok = marking_load(server.port, settings, args)
            print()
            print("Marking: concurrent experts")
            print(prod.table(rows))
            ok = ok and marks_ok
        finally:
            if not ok:
                print("\nserver log (last lines):\n" + server.tail())
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per verification phase")
    parser.add_argument("--requests", type=int, default=20000, help="per verification phase")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--experts", type=int, default=50)
    parser.add_argument("--writes", type=int, default=30, help="saves per expert")
    parser.add_argument("--mark-seconds", type=float, default=45.0)
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean seconds an expert waits between saves"
    )
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    args = parser.parse_args(argv)
    started = time.monotonic()
    print(f"machine             {prod.machine()}")
    try:
        ok = prove(args, started)
    except CheckFailed as exc:
        print(f"\nFAILED: {exc}")
        ok = False
    print(f"\ntotal {time.monotonic() - started:.1f} s; {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
