"""Every registered route, every role, anonymous too: the outcome must match this table.

A new route without a row here fails ``test_every_route_has_a_row`` — decide who
may use it, write it down, and the HTTP walk below checks the app agrees.
"""

from __future__ import annotations

import re

import pytest

from app.auth.permissions import PERMISSIONS, view_policy
from tests.factories import UserFactory

ROLES = ("admin", "centre_manager", "chief_expert", "expert")
ALL = frozenset(ROLES)
ADMIN = frozenset({"admin"})
MANAGERS = frozenset({"admin", "centre_manager"})
OFFICE = frozenset({"admin", "centre_manager", "chief_expert"})
MARKERS = frozenset({"chief_expert", "expert"})
CHIEF = frozenset({"chief_expert"})
PUBLIC = "public"

# endpoint -> PUBLIC or the set of roles allowed past the role check
EXPECTED: dict[str, object] = {
    "static": PUBLIC,
    "web.home": PUBLIC,
    "web.favicon": PUBLIC,
    "web.dashboard": PUBLIC,  # redirects anonymous visitors to the login page itself
    "web.switch_language": PUBLIC,
    "web.healthz": PUBLIC,
    "web.readyz": PUBLIC,
    "web.asset": PUBLIC,
    "offline.service_worker": PUBLIC,
    # not by role: METRICS_TOKEN or METRICS_ALLOW_FROM (loopback, as the test client)
    "observability.metrics": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": ALL,
    "auth.change_password": ALL,
    "auth.forgot_password": PUBLIC,
    "auth.reset_password": PUBLIC,
    "auth.users": ADMIN,
    "auth.create_user": ADMIN,
    "auth.edit_user": ADMIN,
    "auth.reset_user_password": ADMIN,
    "auth.centre_experts": frozenset({"centre_manager"}),
    "auth.invite_expert": frozenset({"centre_manager"}),
    "auth.renew_invitation": frozenset({"centre_manager"}),
    "auth.accept_invitation": PUBLIC,
    "reference.index": ALL,
    "reference.competences": ALL,
    "reference.competence": ALL,
    "reference.new_competence": ADMIN,
    "reference.edit_competence": ADMIN,
    "reference.centres": ALL,
    "reference.new_centre": ADMIN,
    "reference.edit_centre": ADMIN,
    "reference.colleges": ALL,
    "reference.new_college": ADMIN,
    "reference.edit_college": ADMIN,
    "reference.enterprises": ALL,
    "reference.new_enterprise": ADMIN,
    "reference.edit_enterprise": ADMIN,
    "reference.import_file": ADMIN,
    "reference.template": ALL,
    "candidates.index": OFFICE,  # centre staff see only their centre's candidates
    "candidates.search": OFFICE,
    "candidates.detail": OFFICE,
    "candidates.create": MANAGERS,
    "candidates.edit": MANAGERS,
    "candidates.import_file": MANAGERS,
    "candidates.enrol": MANAGERS,  # then only into exams of the user's centre
    "candidates.template": MANAGERS,
    "candidates.export": ADMIN,
    "candidates.erase": ADMIN,
    "schemes.index": ALL,
    "schemes.detail": ALL,
    "schemes.export": ALL,
    "schemes.upload": ADMIN,
    "schemes.settings": ADMIN,
    "exams.view": ALL,
    "exams.create": MANAGERS,
    "exams.detail": ALL,
    "exams.assign": MANAGERS,
    "exams.enrol": MANAGERS,
    "exams.attendance": ALL,  # then the centre's managers and the exam's chief only
    "exams.mark_all_present": ALL,  # the same
    "exams.finalise": CHIEF,
    "exams.confirm_finalise": CHIEF,
    "exams.reopen": ADMIN,
    "exams.set_early_marking": ADMIN,
    "marking.form": ALL,  # then only exams the user may see; marks only by its experts
    "marking.lock": CHIEF,
    "marking.confirm_lock": CHIEF,
    "marking.seat": CHIEF,  # the seat form without JavaScript; the script uses api.put_seat
    "marking.exam_progress": ALL,  # then only exams the user may see
    "marking.unlock": CHIEF,
    "api.openapi": PUBLIC,
    "api.form_data": ALL,
    "api.put_mark": MARKERS,
    "api.mark_history": ALL,  # then the exam's chief expert and administrators only
    "api.import_marks": MARKERS,
    "api.lock": CHIEF,
    "api.unlock": CHIEF,
    "api.put_seat": CHIEF,
    "results.index": OFFICE,
    "results.exam": OFFICE,  # then only exams the user may see (assessments.access)
    "results.candidate": OFFICE,
    "results.download": OFFICE,  # never with the IIN
    "results.download_with_iin": ADMIN,  # candidates.personal_data; POST, logged, no-store
    "results.protocol": OFFICE,
    "results.marking_forms": ALL,  # blank paper forms for the exam's experts too
    # passports: verification, share and graduate pages are public (unguessable links)
    "passports.static": PUBLIC,
    "passports.verify_page": PUBLIC,
    "passports.jwks": PUBLIC,
    "passports.jwk": PUBLIC,
    "passports.trust_list": PUBLIC,
    "passports.status_list": PUBLIC,
    "passports.check": PUBLIC,
    "passports.share": PUBLIC,
    "passports.holder": PUBLIC,
    "passports.holder_pdf": PUBLIC,
    "passports.holder_credential": PUBLIC,
    "passports_api.verify": PUBLIC,
    "passport_admin.index": MANAGERS,  # then only exams the user may see (assessments.access)
    "passport_admin.search": MANAGERS,  # IIN searches are posted and answered in place
    "passport_admin.exam": MANAGERS,
    "passport_admin.exam_pdf": MANAGERS,
    "passport_admin.exam_links": MANAGERS,
    "passport_admin.detail": MANAGERS,
    "passport_admin.pdf": MANAGERS,
    "passport_admin.issue": ADMIN,
    "passport_admin.revoke": ADMIN,
    "passport_admin.reissue": ADMIN,
    "passport_admin.regenerate_link": ADMIN,
    "passport_admin.keys_page": ADMIN,
    "passport_admin.rotate_keys": ADMIN,
    # reports: centre managers see their centre's figures only (reports/services.py)
    "reports.dashboard": MANAGERS,
    "reports.export": MANAGERS,
    "reports.profile": MANAGERS,
    "reports.stats": PUBLIC,
    "reports.stats_api": PUBLIC,
    "reports.stats_csv": PUBLIC,
}


def allowed_roles(policy: str) -> object:
    return PUBLIC if policy == "public" else PERMISSIONS[policy]


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_a_row(app):
    missing = sorted({rule.endpoint for rule, _ in routes(app)} - EXPECTED.keys())
    assert not missing, f"routes without a row in EXPECTED: {missing}"
    stale = sorted(EXPECTED.keys() - {rule.endpoint for rule, _ in routes(app)})
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_declared_policy_matches_the_table(app):
    for rule, _method in routes(app):
        policy = view_policy(app, rule.endpoint)
        assert policy is not None, f"{rule.endpoint} declares no permission"
        assert allowed_roles(policy) == EXPECTED[rule.endpoint], rule.endpoint


def build_path(rule) -> str:
    """Fill URL arguments with values that exist for no object (ids 999999)."""

    def fill(match: re.Match) -> str:
        converter, name = match.group(1), match.group(2)
        if converter == "int" or name.endswith("_id") or name in {"id", "exam", "number"}:
            return "999999"
        if name == "code":
            return "kk"
        if name == "kind":
            return "fonts"
        return "x"

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule.rule)


def _outcome(response) -> str:
    if response.status_code == 401:
        return "login"
    if response.status_code in (302, 303) and "/login" in response.headers.get("Location", ""):
        return "login"
    if response.status_code == 403:
        return "forbidden"
    return "allowed"


@pytest.mark.parametrize("role", [None, *ROLES])
def test_http_outcome_matches_the_table(app, client, role):
    if role is not None:
        user = UserFactory(role=role)
        client.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    for rule, method in routes(app):
        if rule.endpoint in ("auth.logout", "auth.login"):
            continue  # these change who is signed in; covered in test_auth.py
        expected = EXPECTED[rule.endpoint]
        response = client.open(build_path(rule), method=method)
        outcome = _outcome(response)
        where = f"{method} {rule.rule} as {role or 'anonymous'}"
        if expected == PUBLIC:
            assert outcome != "forbidden", where
            if rule.endpoint != "web.dashboard":
                assert response.status_code != 401, where
        elif role is None:
            assert outcome == "login", where
        elif role in expected:
            assert outcome == "allowed", f"{where}: {response.status_code}"
        else:
            assert outcome == "forbidden", f"{where}: {response.status_code}"
        assert response.status_code < 500, f"{where}: {response.status_code}"


# --- the judge-seat rule: which seat a marker may write (object level, every path) -------

XHR = {"X-Requested-With": "XMLHttpRequest"}

# (who writes, whose seat, reason given) -> HTTP status and problem code of PUT …/marks
SEAT_RULE = [
    ("holder", "own", "", 200, None),
    ("other expert", "seated", "", 403, "not_your_seat"),
    ("other expert", "seated", "a reason", 403, "not_your_seat"),
    ("other expert", "empty", "", 403, "not_your_seat"),
    ("chief", "seated", "", 422, "reason_required"),
    ("chief", "seated", "typed from the paper form", 200, None),
    ("chief", "empty", "", 422, "reason_required"),
    ("chief", "empty", "typed from the paper form", 200, None),
]


@pytest.mark.parametrize(("writer", "seat_of", "reason", "status", "code"), SEAT_RULE)
def test_the_judge_seat_rule_table(sign_in, client, session, writer, seat_of, reason, status, code):
    from assessments.models import AuditEntry
    from assessments.services.marks import seats
    from tests.assessments.marking_setup import build_exam

    setup = build_exam(session)
    holder, other = setup.experts[0], setup.experts[1]
    seats.assign_seat(session, setup.forms["A1"], 1, holder, setup.chief)
    seats.assign_seat(session, setup.forms["A1"], 3, other, setup.chief)
    seat = 2 if seat_of == "empty" else 1
    sign_in({"holder": holder, "other expert": other, "chief": setup.chief}[writer])
    body = {
        "enrolment_id": setup.enrolments[0].id,
        "aspect": "A1.3",
        "seat": seat,
        "value": "2",
        "expected_version": None,
        "reason": reason,
    }
    response = client.put(f"/api/v1/exams/{setup.exam.id}/marks", json=body, headers=XHR)
    assert response.status_code == status, response.json
    if code:
        assert response.json["code"] == code
    else:  # written, and the audit log keeps who wrote it and why
        entry = session.query(AuditEntry).filter_by(action="mark.set").one()
        assert entry.target.endswith(f"/seat:{seat}") and entry.reason == reason
