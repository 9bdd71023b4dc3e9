"""Reference-data pages: who may do what, the forms' checks, the upload with its errors table."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from assessments.iin import make_bin
from assessments.models import Centre, College, Competence, Enterprise
from tests.factories import CompetenceFactory


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["expert", "chief_expert", "centre_manager"])
def test_staff_see_reference_data_but_only_admins_change_it(sign_in, client, role):
    sign_in(role)
    competence = CompetenceFactory(
        code="17", name_kk="Веб-технологиялар", name_en="Web Technologies"
    )
    for path in ("/admin/reference", "/admin/reference/competences", "/admin/reference/centres",
                 "/admin/reference/colleges", "/admin/reference/enterprises",
                 f"/admin/reference/competences/{competence.id}"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    assert "Web Technologies" in page(client.get("/admin/reference/competences"))
    assert "New competence" not in page(client.get("/admin/reference/competences"))
    edit = f"/admin/reference/competences/{competence.id}/edit"
    for path in ("/admin/reference/competences/new", "/admin/reference/colleges/new",
                 "/admin/reference/colleges/import", edit):  # fmt: skip
        assert client.get(path).status_code == 403, path


def test_admin_creates_and_edits_a_college(sign_in, client, session):
    sign_in("admin")
    form = {
        "code": "C01",
        "name_kk": "Алматы колледжі",
        "name_ru": "",
        "name_en": "",
        "city": "Алматы",
    }
    response = client.post("/admin/reference/colleges/new", data=form)
    assert response.status_code == 302
    college = session.scalar(select(College).where(College.code == "C01"))
    response = client.post(
        f"/admin/reference/colleges/{college.id}/edit", data=form | {"name_en": "Almaty College"}
    )
    assert response.status_code == 302
    assert college.name_en == "Almaty College"
    assert "Almaty College" in page(client.get("/admin/reference/colleges"))
    assert "Алматы колледжі" in page(client.get("/admin/reference/colleges?lang=kk"))


def test_form_errors_are_shown_at_the_field_and_nothing_is_saved(sign_in, client, session):
    sign_in("admin")
    good = make_bin(2010, 5, 1)
    wrong_digit = good[:11] + str((int(good[11]) + 1) % 10)
    response = client.post(
        "/admin/reference/enterprises/new", data={"bin": wrong_digit, "name_kk": ""}
    )
    assert response.status_code == 422
    body = page(response)
    assert 'id="bin-error"' in body and "has a wrong check digit" in body
    assert 'id="name_kk-error"' in body and "is required" in body
    assert session.scalar(select(Enterprise)) is None


def section_data(weights: list[str]) -> dict[str, str]:
    data = {}
    for index, weight in enumerate(weights):
        data[f"sections-{index}-section"] = str(index + 1)
        data[f"sections-{index}-section_name_kk"] = f"Бөлім {index + 1}"
        data[f"sections-{index}-weight"] = weight
    return data


def test_competence_form_edits_sections_and_checks_the_weights(sign_in, client, session):
    sign_in("admin")
    head = {"code": "17", "name_kk": "Веб-технологиялар", "name_ru": "", "name_en": ""}
    response = client.post(
        "/admin/reference/competences/new", data=head | section_data(["5", "90"])
    )
    assert response.status_code == 422
    assert "the section weights of competence 17 sum to 95, not 100" in page(response)
    assert session.scalar(select(Competence)) is None

    response = client.post(
        "/admin/reference/competences/new", data=head | section_data(["5", "5", "10", "50", "30"])
    )
    assert response.status_code == 302
    competence = session.scalar(select(Competence).where(Competence.code == "17"))
    assert [s.weight for s in competence.sections] == [Decimal(w) for w in (5, 5, 10, 50, 30)]

    edit = page(client.get(f"/admin/reference/competences/{competence.id}/edit"))
    assert 'value="Бөлім 5"' in edit
    # a bad weight points at its own row
    response = client.post(
        f"/admin/reference/competences/{competence.id}/edit", data=head | section_data(["5", "x"])
    )
    assert response.status_code == 422
    assert 'id="sections-1-weight"' in page(response)
    assert "must be a number of percent" in page(response)


def test_centre_form_accredits_competences(sign_in, client, session):
    sign_in("admin")
    CompetenceFactory(code="17")
    CompetenceFactory(code="39")
    response = client.post(
        "/admin/reference/centres/new",
        data={"code": "ALM-01", "name_kk": "Орталық", "city": "Алматы", "address": "",
              "workstations": "16", "competences": ["39", "17"]},
    )  # fmt: skip
    assert response.status_code == 302
    centre = session.scalar(select(Centre).where(Centre.code == "ALM-01"))
    assert [c.code for c in centre.competences] == ["17", "39"]
    response = client.post(
        f"/admin/reference/centres/{centre.id}/edit",
        data={"code": "ALM-01", "name_kk": "Орталық", "city": "Алматы", "workstations": "0"},
    )
    assert response.status_code == 422
    assert "must be a whole number from 1 to 1000" in page(response)


def test_upload_shows_every_problem_in_a_table_and_imports_nothing(sign_in, client, session):
    sign_in("admin")
    good = make_bin(2010, 5, 1)
    content = f"bin,name_kk\n{good},«Бір» ЖШС\n123,«Екі» ЖШС\n{good},«Үш»\n".encode()
    response = client.post(
        "/admin/reference/enterprises/import",
        data={"file": (io.BytesIO(content), "partners.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    body = page(response)
    assert "Nothing was imported" in body
    assert "partners.csv has 2 problems" in body
    assert '<td class="num">3</td><td>bin</td><td>must be 12 digits</td>' in body
    assert f"<td>{good} already appears in row 2</td>" in body
    assert session.scalar(select(Enterprise)) is None

    response = client.post(
        "/admin/reference/enterprises/import",
        data={"file": (io.BytesIO(f"BIN;Name_KK\n{good};«Бір» ЖШС\n".encode()), "partners.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert session.scalar(select(Enterprise.bin)) == good


def test_upload_without_a_file_is_a_form_error(sign_in, client):
    sign_in("admin")
    response = client.post("/admin/reference/colleges/import", data={})
    assert response.status_code == 422
    assert 'id="file-error"' in page(response)


def test_templates_are_xlsx_with_the_documented_headers(sign_in, client):
    sign_in("expert")
    response = client.get("/admin/reference/centres/template.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header = [cell.value for cell in sheet[1]]
    assert header == ["code", "name_kk", "name_ru", "name_en", "city", "address", "workstations",
                      "competences"]  # fmt: skip
    assert client.get("/admin/reference/nonsense/template.xlsx").status_code == 404


def test_the_import_template_example_imports_cleanly(sign_in, client, session):
    """The example row offered in the template is itself valid (enterprises and colleges)."""
    sign_in("admin")
    for kind in ("colleges", "enterprises"):
        data = client.get(f"/admin/reference/{kind}/template.xlsx").data
        response = client.post(
            f"/admin/reference/{kind}/import",
            data={"file": (io.BytesIO(data), f"{kind}.xlsx")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, page(response)
