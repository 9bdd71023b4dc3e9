"""The server ``make run`` starts, on a throwaway database, for the verify-page benchmarks.

The same steps as the Makefile's ``run`` target, in a temporary folder:
``ENVIRONMENT=development``, ``PUBLIC_BASE_URL=http://127.0.0.1:PORT`` (a free port),
``flask db upgrade``, ``flask keys ensure``, ``flask demo seed --if-empty``, ``flask demo
logins`` (which prints the demo passport's QR URL), then ``flask run --host 127.0.0.1
--port PORT`` (werkzeug's threaded server). Differences, none of which is on a measured
path: the SQLite file lives in the temporary folder and the secrets come from the
environment (freshly generated, as ``python -m app.instance`` would write them), so the run
leaves the clone's ``instance/`` database alone; the development trust anchor is the
clone's ``instance/dev-trust-anchor.pem``, as with ``make run`` (``flask keys ensure``
creates it when missing). The server runs in its own process group and is killed by it,
and the folder is removed, when the block ends for any reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from benchmarks.prod import BIN, ROOT, child_env, free_port, generated_secrets, healthy_within

QR_LINE = re.compile(r"verify \(QR\):\s+(\S+)")


class DevServer:
    """``with DevServer(**settings) as server:`` — ``server.url``, ``server.qr_url``."""

    def __init__(self, **extra_settings: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bench-devserver-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = {
            "ENVIRONMENT": "development",
            "PUBLIC_BASE_URL": self.url,
            "DATABASE_URL": f"sqlite:///{self.folder / 'skills.db'}",
            **generated_secrets(),
            **extra_settings,
        }
        self.log = self.folder / "server.log"
        self.proc: subprocess.Popen | None = None
        self.qr_url = ""

    def flask(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "flask"), *args],
            cwd=ROOT,
            env=child_env(self.settings),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def __enter__(self) -> DevServer:
        try:
            self.flask("db", "upgrade")
            self.flask("keys", "ensure")
            self.flask("demo", "seed", "--if-empty")
            found = QR_LINE.search(self.flask("demo", "logins"))
            if found is None:
                raise RuntimeError("`flask demo logins` printed no demo passport QR URL")
            self.qr_url = found.group(1)
            with self.log.open("ab") as log:
                self.proc = subprocess.Popen(
                    [str(BIN / "flask"), "run", "--host", "127.0.0.1", "--port", str(self.port)],
                    cwd=ROOT,
                    env=child_env(self.settings),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self, wait: float = 60) -> None:
        if not healthy_within(self.proc, self.port, wait):
            raise RuntimeError(
                f"the server did not start; log:\n{self.log.read_text(errors='replace')}"
            )

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)
