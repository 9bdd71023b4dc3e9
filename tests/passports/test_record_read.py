"""The verify API's read of a passport record (``verification._record``): the driver's row
is the Core row, and a request that has not used its session opens none."""

from __future__ import annotations

from app.db import idle_bind
from passports.services import verification


def test_the_passport_record_through_the_driver_is_the_core_row(session, issued):
    passport = issued.passport
    session.commit()  # written to the test's connection; the session holds no transaction
    core = session.execute(verification._RECORD_QUERY, {"number": passport.number}).first()
    session.commit()
    direct = verification._RECORD_READ.first(idle_bind(session), {"number": passport.number})
    assert tuple(direct) == tuple(core)
    assert direct.snapshot == passport.snapshot and direct.issued_at == passport.issued_at
    assert direct._fields == verification.RECORD_COLUMNS


def test_a_request_that_has_not_used_its_session_reads_without_opening_one(session, issued):
    number = issued.passport.number
    session.commit()
    session.remove()
    assert not session.registry.has()
    row = verification._record(session, number)
    assert row is not None and row.number == number
    assert not session.registry.has()  # nothing opened, nothing to close
