"""``app.db.DirectRead``: the verify API's one-row read through the driver gives what
SQLAlchemy's Core gives, on both databases, and the driver's errors as SQLAlchemy's."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError

from app.db import DirectRead
from passports.models import TrustList

LISTS = TrustList.__table__
LIST_BY_SEQ = select(LISTS.c.id, LISTS.c.seq, LISTS.c.development, LISTS.c.issued_at).where(
    LISTS.c.seq >= bindparam("seq")
)


def test_a_pooled_read_gives_what_core_gives(db):
    # the development list the suite installed is committed: a pooled connection sees it
    read = DirectRead(LIST_BY_SEQ, "ListRow")
    with db.engine.connect() as connection:
        expected = connection.execute(LIST_BY_SEQ, {"seq": 0}).first()
    row = read.first(db.engine, {"seq": 0})
    assert expected is not None and tuple(row) == tuple(expected)
    assert row.development is True  # SQLite's 0/1 read as a bool, as Core reads it
    assert isinstance(row.issued_at, datetime) and row.issued_at.utcoffset().total_seconds() == 0
    assert read.first(db.engine, {"seq": 10**9}) is None


def test_a_driver_error_is_raised_as_sqlalchemys(db):
    broken = DirectRead(select(text("no_such_column")).select_from(LISTS), "Broken")
    with pytest.raises(DBAPIError) as raised:
        broken.first(db.engine, {})
    assert "no_such_column" in str(raised.value)
    # the pooled connection went back clean: the next read works
    assert DirectRead(LIST_BY_SEQ, "ListRow").first(db.engine, {"seq": 0}) is not None
