"""Passport pages, in three modules.

``public``: the ``passports`` blueprint — the QR verification page, the JWK Set, the signed
status lists, the manual check by number + code and the share page. ``holder``: the
graduate's private page on the same blueprint. ``staff``: the ``passport_admin`` blueprint
(signed in). ``common`` holds what the public, holder and staff pages show alike.
"""
