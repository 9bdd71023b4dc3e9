"""Migration 0006: a person is one candidate nationally, linked to each centre."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_migrate import check, upgrade
from sqlalchemy import text

from tests.conftest import make_app

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_each_candidates_registering_centre_becomes_its_first_link(database_server):
    app = make_app(database_server("candidate_centres"))
    with app.app_context():
        from app.extensions import db

        upgrade(revision="0005_attendance_registered")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO colleges (id, code, city, name_kk, name_ru, name_en)"
                    " VALUES (1, 'C01', 'Алматы', 'Колледж', 'Колледж', 'College')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO centres (id, code, city, address, name_kk, name_ru, name_en,"
                    " workstations) VALUES (1, 'A', 'Алматы', '', 'А', 'А', 'A', 5),"
                    " (2, 'B', 'Алматы', '', 'Б', 'Б', 'B', 5)"
                )
            )
            for id_, centre in ((1, 1), (2, 2), (3, None)):
                connection.execute(
                    text(
                        "INSERT INTO candidates (id, iin_hash, iin_encrypted, last_name,"
                        " first_name, middle_name, last_name_latin, first_name_latin, sort_key,"
                        " search_text, college_id, specialty, email, centre_id, legal_basis,"
                        " created_at, updated_at) VALUES (:id, :hash, 'x', 'Ә', 'Б', '', 'A',"
                        " 'B', 'k', '', 1, 'S', '', :centre, 'education', :at, :at)"
                    ),
                    {"id": id_, "hash": f"h{id_}", "centre": centre, "at": AT},
                )
        upgrade()
        with db.engine.connect() as connection:
            links = connection.execute(
                text("SELECT candidate_id, centre_id FROM candidate_centres ORDER BY candidate_id")
            ).all()
        assert [tuple(row) for row in links] == [(1, 1), (2, 2)]
        # the models and the migrations agree (`flask db check`)
        check()
        db.engine.dispose()
