"""Password-reset form: does a known address answer as fast as an unknown one?

The reset e-mail is sent after the response (app/mail.py), so the time to answer must not
tell an attacker which addresses have accounts. This script starts the app on a loopback
port (werkzeug's server, development settings, a throwaway SQLite database with one
account) and a local SMTP server that takes ``--smtp-delay`` seconds to greet, like a
distant mail server; then it posts the form ``--rounds`` times for the known address and
as often for an unknown one, interleaved, and prints the median and 95th percentile of
each. Not part of ``make test``: it measures, it does not assert.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import shutil
import socketserver
import statistics
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from benchmarks.common import PASSWORD, bench_app, migrate

KNOWN = "known@bench.example"
UNKNOWN = "nobody@bench.example"


class SlowSmtp(socketserver.ThreadingTCPServer):
    """Just enough SMTP for smtplib, greeting after ``delay`` seconds; counts messages."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, delay: float):
        self.delay = delay
        self.delivered = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), SmtpHandler)


class SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        time.sleep(self.server.delay)  # the distant server's handshake
        self.wfile.write(b"220 bench ESMTP\r\n")
        in_data = False
        for raw in self.rfile:
            line = raw.rstrip(b"\r\n")
            if in_data:
                if line == b".":
                    in_data = False
                    with self.server.lock:
                        self.server.delivered += 1
                    self.wfile.write(b"250 queued\r\n")
                continue
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 bench\r\n")
            elif verb == b"DATA":
                in_data = True
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def post_forgot(port: int, email: str) -> float:
    """Seconds until the whole answer to one reset request has arrived."""
    body = urllib.parse.urlencode({"email": email})
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "POST",
        "/password/forgot",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    connection.close()
    if response.status != 302:
        raise SystemExit(f"unexpected answer {response.status} for {email}")
    return elapsed


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--smtp-delay", type=float, default=0.3)
    args = parser.parse_args(argv)

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="bench-reset-"))
    smtp = SlowSmtp(args.smtp_delay)
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    try:
        app = bench_app(
            f"sqlite:///{folder / 'bench.db'}",
            WTF_CSRF_ENABLED=False,
            REQUEST_LOG=False,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=smtp.server_address[1],
            SMTP_USE_TLS=False,
            MAIL_FROM="noreply@bench.example",
        )
        with app.app_context():
            from app.auth import services
            from app.extensions import db

            migrate(quiet=True)
            services.create_user(
                db.session, email=KNOWN, name="Bench", role="expert", password=PASSWORD
            )
            db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_port
        try:
            post_forgot(port, UNKNOWN)  # warm-up: templates, translations
            known, unknown = [], []
            for _ in range(args.rounds):
                known.append(post_forgot(port, KNOWN))
                unknown.append(post_forgot(port, UNKNOWN))
            deadline = time.monotonic() + args.rounds * (args.smtp_delay + 1) + 5
            while smtp.delivered < args.rounds and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            server.shutdown()
    finally:
        smtp.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"SMTP server greets after {args.smtp_delay * 1000:.0f} ms; {args.rounds} requests each")
    print(f"known address       {summary(known)}")
    print(f"unknown address     {summary(unknown)}")
    print(f"e-mails delivered   {smtp.delivered} of {args.rounds} (after the answers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
