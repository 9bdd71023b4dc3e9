"""The folder where gunicorn's workers keep their Prometheus values (multiprocess mode).

prometheus_client writes each worker's counters and histograms to files named
``<kind>_<pid>.db`` in ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds up every file.
Workers come and go (gunicorn recycles them after ``max_requests``), so the master folds
an exited worker's files into one ``<kind>_archive.db`` per kind: totals stay the same
and the folder does not grow with every recycled worker. Folding and reading take a
file lock, so a scrape never sees a value twice or not at all.

gunicorn calls ``child_exit`` inside its SIGCHLD handler, where another exit can
interrupt it: there ``worker_exited`` only notes the pid, and ``fold_exited_workers``
does the work from the master's main loop (gunicorn's ``pre_fork``). gunicorn's master
imports this module at start (``on_starting``), never lazily inside a signal handler.
Only the standard library and prometheus_client here.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import multiprocess
from prometheus_client.mmap_dict import MmapedDict, mmap_key

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
FOLDED_KINDS = ("counter", "histogram")
ARCHIVE = "archive"
LOCK_FILE = ".lock"
LOCK_WAIT_SECONDS = 1.0

# pids of exited workers whose files are not folded yet (appended in a signal handler)
_exited: list[int] = []


class LockBusy(Exception):
    """The folder's lock could not be had in time."""


@contextmanager
def collect_lock(
    path: str | os.PathLike, *, exclusive: bool = False, wait: float | None = None
) -> Iterator[None]:
    """Hold the folder's lock: shared to read the values, exclusive to fold files.

    ``wait`` None waits as long as it takes; otherwise ``LockBusy`` after that many seconds.
    """
    fd = os.open(Path(path) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        if wait is None:
            fcntl.flock(fd, mode)
        else:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockBusy(str(path)) from None
                    time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # releases the lock


def clear(path: str | os.PathLike) -> None:
    """Remove values left by an earlier run, which would otherwise add to this one's."""
    Path(path).mkdir(parents=True, exist_ok=True)
    with collect_lock(path, exclusive=True):
        for leftover in Path(path).glob("*.db"):
            leftover.unlink()
    _exited.clear()


def worker_exited(pid: int) -> None:
    """Note an exited worker (safe inside a signal handler: no I/O, no lock, no import)."""
    _exited.append(pid)


def fold_exited_workers(path: str | os.PathLike) -> None:
    """Fold the files of every noted worker; a busy lock leaves the rest for the next call."""
    while _exited:
        try:
            retire_worker(_exited[0], path, wait=LOCK_WAIT_SECONDS)
        except LockBusy:
            return
        _exited.pop(0)


def retire_worker(pid: int, path: str | os.PathLike, *, wait: float | None = None) -> None:
    """Fold an exited worker's counters and histograms into the archive files."""
    folder = Path(path)
    multiprocess.mark_process_dead(pid, str(folder))  # its live gauges, if any
    with collect_lock(folder, exclusive=True, wait=wait):
        for kind in FOLDED_KINDS:
            dead = folder / f"{kind}_{pid}.db"
            if not dead.exists():
                continue
            archive = folder / f"{kind}_{ARCHIVE}.db"
            sources = [str(dead)] + ([str(archive)] if archive.exists() else [])
            # raw values (histogram buckets not yet cumulative), as the files hold them
            merged = multiprocess.MultiProcessCollector.merge(sources, accumulate=False)
            draft = folder / f"{kind}_{ARCHIVE}.db.new"  # not *.db: never read half-written
            draft.unlink(missing_ok=True)
            store = MmapedDict(str(draft))
            try:
                for metric in merged:
                    for sample in metric.samples:
                        key = mmap_key(
                            metric.name,
                            sample.name,
                            list(sample.labels),
                            list(sample.labels.values()),
                            metric.documentation,
                        )
                        store.write_value(key, sample.value, sample.timestamp or 0.0)
            finally:
                store.close()
            os.replace(draft, archive)
            dead.unlink()
