"""The print-ready PDF: one A4 page, Kazakh text extractable, number and code printed."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from passports import pdf as passport_pdf
from passports.services import PassportError, holders, issuance, secrets
from passports.settings import current_settings


def text_of(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_one_a4_page_with_the_kazakh_name_number_and_code(session, issued):
    passport = issued.passport
    reader, text = text_of(passport_pdf.passport_pdf(passport))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert "Әлібекова Айгерім Нұрланқызы" in text
    assert "ALIBEKOVA AIGERIM" in text
    assert passport.number in text
    assert secrets.printed_code(current_settings(), passport.number, passport.code_nonce) in text
    assert "87,50" in text  # total with the decimal comma
    fonts = {str(f) for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert fonts  # embedded (DejaVu subset)


def test_pdf_is_deterministic_across_instances(session, issued):
    first = passport_pdf.passport_pdf(issued.passport)
    passport_pdf._cache.clear()
    assert passport_pdf.passport_pdf(issued.passport) == first


def test_missing_font_is_a_clear_error(app, session, issued):
    passport_pdf._cache.clear()
    folder = app.config["PDF_FONT_DIR"]
    app.config["PDF_FONT_DIR"] = "/nonexistent"
    try:
        with pytest.raises(PassportError) as caught:
            passport_pdf.passport_pdf(issued.passport)
        assert "PDF_FONT_DIR" in str(caught.value)
    finally:
        app.config["PDF_FONT_DIR"] = folder


def test_cli_writes_one_or_all_of_an_exam(app, session, issued, tmp_path):
    runner = app.test_cli_runner()
    one = tmp_path / "one.pdf"
    result = runner.invoke(args=["passports", "pdf", issued.passport.number, "-o", str(one)])
    assert result.exit_code == 0, result.output
    assert "Әлібекова" in text_of(one.read_bytes())[1]
    issuance.reissue(
        session, current_settings(), issued.passport
    )  # the exam PDF holds current passports only
    every = tmp_path / "all.pdf"
    result = runner.invoke(
        args=["passports", "pdf", "--exam", str(issued.exam.id), "-o", str(every)]
    )
    assert result.exit_code == 0, result.output
    reader, _text = text_of(every.read_bytes())
    assert len(reader.pages) == 1
    assert runner.invoke(args=["passports", "pdf", "-o", str(every)]).exit_code == 2


def test_downloads(sign_in, client, session, issued):

    token = holders.private_link_token(current_settings(), issued.passport)
    response = client.get(f"/my/{token}/passport.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert issued.passport.number in response.headers["Content-Disposition"]
    sign_in("admin")
    assert client.get(f"/passports/{issued.passport.number}/passport.pdf").status_code == 200
    exam_pdf = client.get(f"/passports/exams/{issued.exam.id}/passports.pdf")
    assert exam_pdf.status_code == 200 and exam_pdf.data.startswith(b"%PDF")


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler's pdftoppm is not installed")
def test_the_printed_qr_code_scans(session, issued, tmp_path):
    """Rendered like a 150 dpi office scan, the vector QR code decodes to the passport's URL."""
    import zxingcpp
    from PIL import Image

    from passports.services.verification import passport_url

    source = tmp_path / "passport.pdf"
    source.write_bytes(passport_pdf.passport_pdf(issued.passport))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", str(source), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    with Image.open(tmp_path / "page.png") as image:
        codes = [
            barcode.text
            for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        ]
    assert codes == [passport_url(issued.passport, current_settings().public_base_url)]


def _longest(rows):
    """The demo entry whose names, all three languages together, are the longest."""
    return max((names for _code, names, *_rest in rows), key=lambda names: sum(map(len, names)))


@pytest.fixture
def long_names(session, signing_key):
    """A passport of the demo's longest competence, centre and college names (kk, ru, en)."""
    from assessments import demo
    from tests.passports.factories import DEMO_NAME, Sitting, finalised_exam

    exam = finalised_exam([Sitting(names=DEMO_NAME)])
    names = {
        "competence": _longest(demo.COMPETENCES),
        "centre": _longest(demo.CENTRES),
        "college": _longest(demo.COLLEGES),
    }
    targets = {
        "competence": exam.exam.competence,
        "centre": exam.exam.centre,
        "college": exam.candidate(0).college,
    }
    for kind, target in targets.items():
        target.name_kk, target.name_ru, target.name_en = names[kind]
    session.flush()
    passport = issuance.issue_for_exam(session, current_settings(), exam.exam).new_passports[0]
    return passport, names


def test_nothing_is_cut_short(long_names):
    """Every label and every name is printed whole, in Kazakh, Russian and English."""
    passport, names = long_names
    reader, text = text_of(passport_pdf.passport_pdf(passport))
    assert len(reader.pages) == 1
    flat = " ".join(text.split())
    assert "…" not in flat and "..." not in flat
    for triple in names.values():
        for name in triple:
            assert " ".join(name.split()) in flat, name
    for label in (
        "Демонстрационный экзамен по стандартам WorldSkills",
        "Demonstration exam by WorldSkills standards",
        "Паспорт нөмірі / Номер паспорта / Passport number",
        "Тексеру коды / Код проверки / Verification code",
        "Ең жоғары балл",
        "Skills profile by WSOS section",
    ):
        assert label in flat, label
    assert f"{passport.snapshot['result']['grade']} / 5" in flat  # the grade with its scale


def test_a_very_long_scheme_continues_on_a_second_page_rather_than_overprint(session, issued):
    """Eight long sections and eight long modules: smaller type first, then a second page."""
    import copy

    passport = issued.passport
    snapshot = copy.deepcopy(passport.snapshot)
    section, criterion = snapshot["sections"][0], snapshot["criteria"][0]
    long_section = (
        "Коммуникация және тұлғааралық дағдылар, жұмысты ұйымдастыру және өзін-өзі басқару"
    )
    long_module = "Серверлік бағдарламалау және деректер қорын жобалау, қауіпсіздік талаптары"
    snapshot["sections"] = [
        dict(section, key=str(n), name={"kk": f"{long_section} {n}"}) for n in range(1, 9)
    ]
    snapshot["criteria"] = [
        dict(criterion, key=letter, name=f"{long_module} {letter}") for letter in "ABCDEFGH"
    ]
    passport.snapshot = snapshot
    passport_pdf._cache.clear()
    reader, _text = text_of(passport_pdf.passport_pdf(passport))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert len(pages) == 2
    flat = " ".join(pages)
    assert "…" not in flat
    for n in range(1, 9):
        assert f"{n}. {long_section} {n}" in flat
    for letter in "ABCDEFGH":
        assert f"{long_module} {letter}" in flat
    for page in pages:  # the footer with the check instructions closes every page
        assert page.rstrip().endswith("enter the passport number and verification code.")
