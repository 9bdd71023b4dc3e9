"""How passports write moments: ISO 8601 in UTC with ``Z``, and NumericDate seconds. Pure.

Every JSON answer, credential, status list and CLI line writes a moment with ``iso_z``;
every ``--at``/``--valid-from`` option and test vector reads one with ``numeric_date``.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso_z(moment: datetime, timespec: str = "auto") -> str:
    """Write ``moment`` as ISO 8601 in UTC ending in ``Z`` (``timespec`` as ``isoformat``)."""
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def iso_z_or_none(moment: datetime | None) -> str | None:
    """``iso_z`` of a moment that may be missing (None stays None)."""
    return iso_z(moment) if moment else None


def from_numeric_date(seconds: int) -> datetime:
    """The aware UTC datetime of a NumericDate (whole seconds since the epoch)."""
    return datetime.fromtimestamp(seconds, UTC)


def numeric_date(text: str) -> int:
    """Return the NumericDate of an ISO 8601 moment; one without an offset is UTC.

    Raises ValueError when ``text`` is not an ISO 8601 moment.
    """
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
