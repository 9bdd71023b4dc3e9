"""The time the application believes it is: one injectable clock.

``app.config["CLOCK"]`` may hold a callable returning an aware UTC datetime; tests set
it to fix the date, so no rule ever depends on the machine's calendar. Views read the
date here and hand it to services as an argument.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    """Return the current time (aware, UTC) from the configured clock."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock is not None else datetime.now(UTC)


def local_today() -> date:
    """Return today's date where the exams are held (the configured TIMEZONE)."""
    return now().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
