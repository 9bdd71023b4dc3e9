"""Benchmark: ``POST /api/v1/verify`` against ``GET /healthz`` on the server of ``make run``.

Starts the server the way ``make run`` does (benchmarks/devserver.py: a throwaway database,
the demo seed, ``flask run`` — werkzeug's threaded server — on a free port), with the verify
API's rate limit raised through the environment (the limiter still counts every request).
One client (this script: one ``http.client`` connection, opened again for each request
since werkzeug's development server closes every connection after its answer;
``Accept-Encoding: gzip`` as browsers and HTTP libraries send it) sends the two requests
in turn for ``--seconds``, so that both see the same machine from moment to moment (it is
shared): the demo passport's token to the verify API (every answer must be 200 and
``genuine``), and the health probe. Each request is timed from sending to the last byte of
its answer (its status and body are checked after that, untimed); a route's throughput is
its count over its own total time, i.e. what the one client would get asking only it.
Printed: requests per second of each and their ratio, and the ratio of the median times
beside it (the two differ when a few requests stalled on a busy machine; it says so).

Run: ``.venv/bin/python -m benchmarks.verify_api_throughput [--seconds 10]``.
Exit status 1 when the ratio is below the target (0.7).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import statistics
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from benchmarks.devserver import DevServer

TARGET_RATIO = 0.7
HEADERS = {"Accept": "application/json", "Accept-Encoding": "gzip"}


def token_of(qr_url: str) -> str:
    return urlsplit(qr_url).fragment


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.body = json.dumps({"token": token})

    def verify(self) -> Callable[[], None]:
        """Ask the verify API; return the check of its answer (run outside the timing)."""
        headers = {**HEADERS, "Content-Type": "application/json"}
        self.conn.request("POST", "/api/v1/verify", body=self.body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        encoding = response.getheader("Content-Encoding")

        def check() -> None:
            if response.status != 200:
                raise RuntimeError(f"verify API answered {response.status}: {data[:200]!r}")
            body = gzip.decompress(data) if encoding == "gzip" else data
            if json.loads(body)["status"] != "genuine":
                raise RuntimeError(f"the demo passport is not genuine: {body[:200]!r}")

        return check

    def healthz(self) -> Callable[[], None]:
        self.conn.request("GET", "/healthz", headers=HEADERS)
        response = self.conn.getresponse()
        response.read()

        def check() -> None:
            if response.status != 200:
                raise RuntimeError(f"/healthz answered {response.status}")

        return check

    def interleaved(self, seconds: float) -> dict[str, list[float]]:
        """Ask both routes in turn for ``seconds``; return each one's request times."""
        times: dict[str, list[float]] = {"verify": [], "healthz": []}
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            for name, ask in (("verify", self.verify), ("healthz", self.healthz)):
                start = time.perf_counter()
                check = ask()
                times[name].append(time.perf_counter() - start)
                check()
        return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)

    with DevServer(VERIFY_API_RATE_LIMIT="1000000 per minute") as server:
        client = Client(server.port, token_of(server.qr_url))
        client.interleaved(1.0)  # warm-up, not counted: templates, key cache, connection
        times = client.interleaved(args.seconds)
        client.conn.close()

    rates = {name: len(spent) / sum(spent) for name, spent in times.items()}
    ratio = rates["verify"] / rates["healthz"]
    for name, label in (("verify", "POST /api/v1/verify"), ("healthz", "GET /healthz")):
        median = statistics.median(times[name]) * 1000
        print(
            f"{label + ':':<21}{rates[name]:7,.0f} req/s ({len(times[name])} requests, "
            f"median {median:.2f} ms)"
        )
    by_median = statistics.median(times["healthz"]) / statistics.median(times["verify"])
    print(
        f"verify API / healthz: {ratio:.2f} (target ≥ {TARGET_RATIO}); one client, "
        f"{args.seconds:g} s, flask run's server; from the median times: {by_median:.2f}"
    )
    if abs(ratio - by_median) > 0.1:
        # a few requests stalled for long (the process waited for a core): the totals
        # then say more about the machine than about the routes
        print("the machine was too busy for a steady figure (the two ratios differ): run again")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
