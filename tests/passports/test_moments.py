from datetime import UTC, datetime, timedelta, timezone

import pytest

from passports.moments import from_numeric_date, iso_z, iso_z_or_none, numeric_date

ALMATY = timezone(timedelta(hours=5))


def test_iso_z_writes_utc_with_z():
    moment = datetime(2026, 3, 2, 14, 0, 5, 250000, tzinfo=ALMATY)
    assert iso_z(moment) == "2026-03-02T09:00:05.250000Z"
    assert iso_z(moment, "seconds") == "2026-03-02T09:00:05Z"
    assert iso_z_or_none(moment) == "2026-03-02T09:00:05.250000Z"
    assert iso_z_or_none(None) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2026-03-02T09:00:00Z", 1772442000),
        ("2026-03-02T14:00:00+05:00", 1772442000),
        ("2026-03-02T09:00:00", 1772442000),  # no offset: UTC
        (" 2026-03-02 ", 1772409600),
    ],
)
def test_numeric_date_reads_iso_8601(text, seconds):
    assert numeric_date(text) == seconds
    assert from_numeric_date(seconds) == datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z"])
def test_numeric_date_refuses_what_is_not_a_moment(text):
    with pytest.raises(ValueError):
        numeric_date(text)
