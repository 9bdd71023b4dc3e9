"""Skills Passports: keys, signing, issuance, QR, PDF, verification and status lists.

``passports`` may import ``assessments``, never the reverse: what assessments needs to know
about passports it learns through the hooks ``init_app`` registers.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the passports hooks on the candidates' personal-data services.

    A candidate holding a passport cannot be erased; their export lists the passports.
    Idempotent: the hooks are module-level and several apps may be created (tests).
    """
    # imported here, not above, so that ``import passports.token`` stays free of the database
    from assessments.services.candidates import personal_data
    from passports.services import holders

    if holders.holds_passport not in personal_data.PASSPORT_CHECKS:
        personal_data.PASSPORT_CHECKS.append(holders.holds_passport)
    if all(key != "passports" for key, _section in personal_data.EXPORT_SECTIONS):
        personal_data.EXPORT_SECTIONS.append(("passports", holders.personal_data))
