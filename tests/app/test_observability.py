"""Request logs (one line per request, nothing secret in it) and the Prometheus /metrics."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import metrics_store
from app.config import PROJECT_ROOT, ConfigError
from app.metrics import allowed_networks
from app.observability import _DropWerkzeugRequestLines, log_format, loggable_path, request_id
from assessments.personal_data import decrypt_iin
from assessments.services.marks import seats
from passports.services import holders
from passports.settings import current_settings
from tests.assessments.marking_setup import build_exam
from tests.factories import PASSWORD, UserFactory
from tests.passports import conftest as passport_fixtures
from tests.processes import ProcessLog

# an issued passport (tests/passports/conftest.py)
issued = passport_fixtures.issued
signing_key = passport_fixtures.signing_key
credential_key = passport_fixtures.credential_key
XHR = {"X-Requested-With": "XMLHttpRequest"}
LOG_FIELDS = {
    "time",
    "level",
    "logger",
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "size",
    "user_id",
    "remote_addr",
}


def log_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if line.strip()]


def json_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in log_lines(capsys)]


# --- request log ----------------------------------------------------------------------


def test_a_request_gives_one_json_line_with_its_facts(app, client, capsys, monkeypatch):
    monkeypatch.setitem(app.config, "LOG_FORMAT", "json")
    capsys.readouterr()
    response = client.get("/healthz", headers={"X-Request-ID": "lb-4f2a.77:1"})
    (line,) = json_lines(capsys)
    assert set(line) == LOG_FIELDS
    assert response.headers["X-Request-ID"] == "lb-4f2a.77:1" == line["request_id"]
    assert (line["method"], line["route"], line["status"]) == ("GET", "/healthz", 200)
    assert line["size"] == len(response.data)
    assert line["user_id"] is None and line["remote_addr"] == "127.0.0.1"
    assert line["logger"] == "skills_passport.request"
    assert isinstance(line["duration_ms"], float) and 0 <= line["duration_ms"] < 10_000
    assert line["time"].endswith("Z") and datetime.fromisoformat(line["time"]).tzinfo


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("0f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0", True),
        ("nginx-request-42", True),
        ("", False),
        ("has spaces", False),
        ("line\r\nbreak", False),
        ("<script>", False),
        ("x" * 65, False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_it_is_a_short_plain_token(incoming, kept):
    made = request_id(incoming)
    assert (made == incoming) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", made)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_log_lines_hold_no_iin_token_query_or_form_data(
    sign_in, app, client, session, issued, capsys, monkeypatch, fmt
):
    monkeypatch.setitem(app.config, "LOG_FORMAT", fmt)
    passport = issued.passport
    iin = decrypt_iin(issued.candidate(0).iin_encrypted)
    link = holders.private_link_token(current_settings(), passport)
    admin = UserFactory(role="admin")
    capsys.readouterr()

    sign_in(admin)
    holder = client.get(f"/my/{link}?iin={iin}&token={passport.token}")
    assert holder.status_code == 200
    assert client.get(f"/my/{link}/").status_code == 404  # matches no route
    assert client.post("/api/v1/verify", json={"token": passport.token}).status_code == 200
    found = client.post("/candidates/search", data={"q": iin})
    assert found.status_code == 302 and "/candidates/" in found.headers["Location"]

    lines = log_lines(capsys)
    assert len(lines) == 5  # sign-in, private page, unmatched, verify, search: one each
    text = "\n".join(lines)
    cookie = client.get_cookie("session")
    for secret in (iin, link, passport.token, "iin=", "?", admin.email, PASSWORD, cookie.value):
        assert secret not in text
    if fmt == "json":
        entries = [json.loads(line) for line in lines]
        assert [e["route"] for e in entries] == [
            "/login",
            "/my/<token>",
            "<unmatched>",
            "/api/v1/verify",
            "/candidates/search",
        ]
        assert entries[2]["path"] == "/my/<redacted>/"
        assert entries[4]["user_id"] == admin.id and entries[4]["status"] == 302
    else:
        assert "/my/<token> 200" in lines[1] and "/my/<redacted>/" in lines[2]
        assert f"user={admin.id}" in lines[4]


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/favicon.ico", "/favicon.ico"),
        ("/exams/12/nothing", "/exams/12/nothing"),
        ("/my/AbCdEf0123456789/", "/my/<redacted>/"),
        ("/my/x/passport.pdf/extra", "/my/<redacted>/passport.pdf/extra"),
        ("/s/slug123/", "/s/<redacted>/"),
        ("/candidates/980101300123", "/candidates/<redacted>"),
        ("/V/eyJhbGciOiJFUzI1NiJ9.payload.signature", "/V/<redacted>"),
        ("/wp-login.php", "/wp-login.php"),
    ],
)
def test_unmatched_paths_are_logged_with_secret_looking_parts_blanked(path, logged):
    assert loggable_path(path) == logged


def test_the_development_servers_own_request_line_is_dropped():
    keep = _DropWerkzeugRequestLines()

    def record(msg, *args):
        return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, msg, args, None)

    request_line = record('127.0.0.1 - - [23/Nov/2026 10:00:00] "%s" %s %s', "GET /?iin=1", 200, 5)
    assert not keep.filter(request_line)
    assert keep.filter(record(" * Running on %s", "http://127.0.0.1:5000"))
    assert keep.filter(record("Error on request:"))


def test_request_log_can_be_switched_off(app, client, capsys, monkeypatch):
    monkeypatch.setitem(app.config, "REQUEST_LOG", False)
    capsys.readouterr()
    response = client.get("/healthz")
    assert log_lines(capsys) == []
    assert response.headers["X-Request-ID"]  # the id is still given


def test_log_format_defaults_by_environment_and_refuses_unknown_values(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOG_FORMAT", "")
    assert log_format(app) == "text"  # the test app runs as development
    monkeypatch.setitem(app.config, "ENVIRONMENT", "production")
    assert log_format(app) == "json"
    monkeypatch.setitem(app.config, "LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        log_format(app)


# --- /metrics -------------------------------------------------------------------------


def scrape(client, **kwargs) -> dict[tuple, float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"].startswith("text/plain")
    values = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            values[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return values


def sample(values, name: str, **labels) -> float:
    return values.get((name, *sorted(labels.items())), 0.0)


VERIFY = "skills_passport_passport_verifications_total"
MARKS = "skills_passport_marks_saved_total"
LATENCY = "skills_passport_http_request_duration_seconds_count"


def test_metrics_count_verifications_by_channel_and_verdict(client, session, issued):
    token = issued.passport.token
    before = scrape(client)
    client.post("/api/v1/verify", json={"token": token})
    client.post("/api/v1/verify", json={"token": token}, headers={"Sec-Fetch-Site": "same-origin"})
    client.post("/api/v1/verify", json={"token": "AAAA"})
    client.post("/api/v1/verify", json={})  # a bad request is no verification
    client.post("/check", data={"number": issued.passport.number, "code": "ZZZZ-ZZZZ"})
    after = scrape(client)

    def delta(**labels):
        return sample(after, VERIFY, **labels) - sample(before, VERIFY, **labels)

    assert delta(channel="api", verdict="genuine") == 1
    assert delta(channel="page", verdict="genuine") == 1
    assert delta(channel="api", verdict="invalid") == 1
    assert delta(channel="check", verdict="not_found") == 1
    route = {"route": "/api/v1/verify", "method": "POST"}
    assert (
        sample(after, LATENCY, **route, status="2xx")
        - sample(before, LATENCY, **route, status="2xx")
        == 3
    )
    assert (
        sample(after, LATENCY, **route, status="4xx")
        - sample(before, LATENCY, **route, status="4xx")
        == 1
    )


def test_metrics_count_marks_saved_by_source(sign_in, client, session):
    setup = build_exam(session)
    url = f"/api/v1/exams/{setup.exam.id}/marks"
    before = scrape(client)
    # the expert sits in judge seat 1 (a judge seat is written by the expert seated there)
    seats.assign_seat(session, setup.forms["A1"], 1, setup.experts[0], setup.chief)
    sign_in(setup.experts[0])
    cell = {"enrolment_id": setup.enrolments[0].id, "aspect": "A1.1", "seat": 0}
    saved = client.put(url, json={**cell, "value": "1", "expected_version": None}, headers=XHR)
    assert saved.status_code == 200
    stale = client.put(url, json={**cell, "value": "0", "expected_version": None}, headers=XHR)
    assert stale.status_code == 409  # refused: not counted
    rows = [
        # an expert names candidates by their number in the exam, never by IIN
        {"candidate": setup.enrolments[1].candidate_number, "aspect": "A1.1", "score": 1},
        {
            "candidate": setup.enrolments[1].candidate_number,
            "aspect": "A1.3",
            "judge": 1,
            "score": 2,
        },
    ]
    assert client.post(f"{url}/import", json=rows, headers=XHR).status_code == 200
    after = scrape(client)
    assert sample(after, MARKS, source="grid") - sample(before, MARKS, source="grid") == 1
    assert sample(after, MARKS, source="json") - sample(before, MARKS, source="json") == 2


def test_metrics_families_are_exposed_and_unmatched_routes_share_one_label(client):
    client.get("/no/such/page/123456789012")
    text = client.get("/metrics").get_data(as_text=True)
    for family in (
        "skills_passport_http_request_duration_seconds",
        "skills_passport_passport_verifications_total",
        "skills_passport_marks_saved_total",
        "skills_passport_passports_issued_total",
    ):
        assert f"# TYPE {family.removesuffix('_total')}" in text
    assert 'route="<unmatched>"' in text
    assert "123456789012" not in text and "/no/such" not in text


def test_metrics_need_the_token_when_one_is_set(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-token-0123456789")
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "skills_passport" not in refused.get_data(as_text=True)
    wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-wrong"})
    assert wrong.status_code == 401
    assert scrape(client, headers={"Authorization": "Bearer scrape-token-0123456789"})


@pytest.mark.parametrize(
    ("environ", "headers", "status"),
    [
        ({"REMOTE_ADDR": "127.0.0.1"}, {}, 200),
        ({"REMOTE_ADDR": "::1"}, {}, 200),
        ({"REMOTE_ADDR": "::ffff:127.0.0.1"}, {}, 200),
        ({"REMOTE_ADDR": "203.0.113.9"}, {}, 403),
        ({"REMOTE_ADDR": "10.1.2.3"}, {}, 403),
        # through a proxy the app does not trust (TRUSTED_PROXIES 0): the client is unknown
        ({"REMOTE_ADDR": "127.0.0.1"}, {"X-Forwarded-For": "203.0.113.9"}, 403),
    ],
)
def test_without_a_token_metrics_are_for_allowed_networks_only(client, environ, headers, status):
    response = client.get("/metrics", environ_base=environ, headers=headers)
    assert response.status_code == status


def test_allowed_networks_setting_is_parsed_or_refused():
    assert [str(n) for n in allowed_networks("127.0.0.0/8, ::1 10.0.0.0/24")] == [
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/24",
    ]
    assert allowed_networks("") == []
    with pytest.raises(ConfigError, match="METRICS_ALLOW_FROM"):
        allowed_networks("10.0.0.0/33")


# --- several worker processes ---------------------------------------------------------

WORKER = """
import sys
from prometheus_client import Counter, Histogram
counter = Counter("demo_events", "Events.", ["kind"])
histogram = Histogram("demo_seconds", "Seconds.", ["route"])
for _ in range(int(sys.argv[1])):
    counter.labels(kind="a").inc()
    histogram.labels(route="/x").observe(0.2)
"""


def _totals(folder: Path) -> dict[tuple, float]:
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(folder))
    with metrics_store.collect_lock(folder):
        text = generate_latest(registry).decode()
    return {
        (s.name, *sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_retired_workers_values_are_folded_into_the_archive(tmp_path):
    env = {**os.environ, metrics_store.MULTIPROC_ENV: str(tmp_path)}
    pids = []
    for count in (3, 4, 5):
        worker = subprocess.run(
            [sys.executable, "-c", WORKER + "import os; print(os.getpid())", str(count)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        pids.append(int(worker.stdout))
    before = _totals(tmp_path)
    assert before[("demo_events_total", ("kind", "a"))] == 12
    assert before[("demo_seconds_bucket", ("le", "0.25"), ("route", "/x"))] == 12
    for pid in pids[:2]:
        metrics_store.retire_worker(pid, tmp_path)
    assert _totals(tmp_path) == before
    names = sorted(p.name for p in tmp_path.glob("*.db"))
    kept = ("archive", pids[2])
    assert names == sorted(f"{kind}_{pid}.db" for kind in ("counter", "histogram") for pid in kept)
    metrics_store.clear(tmp_path)
    assert list(tmp_path.glob("*.db")) == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (loopback)
        return response.read().decode()


def _healthz_count(base: str) -> float:
    values = _totals_from_text(_get(f"{base}/metrics"))
    return values.get((LATENCY, ("method", "GET"), ("route", "/healthz"), ("status", "2xx")), 0.0)


def _totals_from_text(text: str) -> dict[tuple, float]:
    return {
        (s.name, *sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def _burst(url: str, count: int) -> None:
    """``count`` requests at once: sync workers take one each, so all workers serve some."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        assert all(pool.map(_get, [url] * count))


def test_gunicorn_workers_add_up_and_exited_workers_counts_survive(request, tmp_path):
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("uses no database: once per CI run is enough (--db=sqlite)")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    folder = tmp_path / "metrics"  # does not exist yet: the master makes it
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        # in-memory rate limits would make gunicorn.conf.py run one worker
        "RATELIMIT_ENABLED": "false",
        "REQUEST_LOG": "false",
        metrics_store.MULTIPROC_ENV: str(folder),
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log = ProcessLog(server.stderr)
    try:
        log.wait_for("Booting worker", count=2)
        assert len(_worker_pids(server.pid)) == 2
        _get(f"{base}/healthz")  # waits, queued on the bound socket, until a worker serves it
        _burst(f"{base}/healthz", 29)
        assert _healthz_count(base) == 30
        # every worker that served them exits at once (as when gunicorn recycles them or
        # reloads): the master folds their values into the archive, and counts survive
        exited = set(_worker_pids(server.pid))
        for pid in exited:
            os.kill(pid, signal.SIGTERM)
        log.wait_for("Booting worker", count=4)  # the master replaced both
        assert len(set(_worker_pids(server.pid)) - exited) == 2
        _burst(f"{base}/healthz", 10)
        assert _healthz_count(base) == 40
        left = {p.name for p in folder.glob("*.db")}
        assert "histogram_archive.db" in left  # /healthz touches the latency histogram only
        assert not any(name.endswith(f"_{pid}.db") for name in left for pid in exited)
        assert server.poll() is None  # the master lives on
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        errors = log.text()
    assert "Traceback" not in errors, errors
