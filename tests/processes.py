"""Waiting for a child process (gunicorn, redis-server) by what it says, not by the clock.

``ProcessLog(stream)`` reads a child's binary pipe on a thread as lines arrive and keeps them;
``wait_for(text, count)`` blocks until that many lines hold ``text`` (e.g. gunicorn's
"Booting worker", redis's "Ready to accept connections"). It fails at once if the child
closes the pipe (it died) and, as a last resort against a hung child, after ``timeout``
seconds: a bound on a failure, never a pause that a passing run depends on.
"""

from __future__ import annotations

import threading
from typing import IO


class ProcessLog:
    def __init__(self, stream: IO[bytes]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        with stream:  # the pipe is ours: closed when the child closes its end
            for line in iter(stream.readline, b""):
                with self._changed:
                    self.lines.append(line.decode("utf-8", "replace"))
                    self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def wait_for(self, text: str, count: int = 1, timeout: float = 120.0) -> None:
        """Return once ``count`` lines contain ``text``; raise if the child ends first."""
        with self._changed:
            self._changed.wait_for(lambda: self._count(text) >= count or self._closed, timeout)
            if self._count(text) < count:
                state = "closed its output" if self._closed else f"was silent for {timeout} s"
                raise AssertionError(
                    f"waited for {count} line(s) with {text!r}; the process {state}:\n"
                    + "".join(self.lines)
                )

    def text(self) -> str:
        """Everything read so far (after the process ended: everything it wrote)."""
        self._reader.join(timeout=30)
        with self._changed:
            return "".join(self.lines)
