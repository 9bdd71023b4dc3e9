"""The print-ready passport: one A4 page with Kazakh, Russian and English labels.

The fonts are DejaVu Sans from the folder named by ``PDF_FONT_DIR`` (its Cyrillic has every
Kazakh letter), cut down once per process to the scripts a passport uses (Latin, Cyrillic
with the Kazakh letters, punctuation) and embedded as a subset, so a page takes tens of
milliseconds. The QR code is drawn as vector rectangles from ``qr_matrix`` (50 mm wide: about
0.75 mm a module, read by phone cameras from paper). Output is deterministic (the creation
date is the issue time), so any app instance regenerates the same file; a small per-process
cache keeps recent ones.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from threading import Lock
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from fpdf import FPDF
from fpdf.enums import MethodReturnValue

from app.i18n import local_time
from assessments import scoring
from passports.models import Passport
from passports.qr import qr_matrix
from passports.services import PassportError, secrets
from passports.services.verification import passport_url
from passports.settings import current_settings

FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
# Latin, Latin-1, Cyrillic (Kazakh letters included), dashes, quotes, №, ₸: what passports
# print; fewer glyphs make the per-PDF font subsetting faster
CHARSET = frozenset(
    [
        *range(0x20, 0x7F),
        *range(0xA0, 0x100),
        *range(0x400, 0x500),
        *range(0x2010, 0x2027),
        *(0x2030, 0x2039, 0x203A, 0x2116, 0x20B8, 0x2212),
    ]
)
SUBSET_VERSION = "2"
CACHE_SIZE = 32

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 15.0
QR_SIZE = 50.0
INK = (27, 36, 48)
MUTED = (91, 102, 117)
BRAND = (11, 92, 173)
TRACK = (227, 232, 239)
HEAD_FILL = (238, 242, 246)
LEADING = 0.45  # line height in mm per point of font size
ROW_SIZES = (8.0, 7.2, 6.5, 6.0)  # type sizes tried for the profile and module rows
MIN_GAP = 0.8  # mm between rows at the least

LABELS = {
    "title": _l("Skills Passport"),
    "subtitle": _l("Demonstration exam by WorldSkills standards"),
    "holder": _l("Holder"),
    "competence": _l("Competence"),
    "centre": _l("Competence centre"),
    "college": _l("College"),
    "exam_dates": _l("Exam date"),
    "result": _l("Result"),
    "grade": _l("Grade"),
    "issued": _l("Issued"),
    "valid_until": _l("Valid until"),
    "no_expiry": _l("no expiry"),
    "number": _l("Passport number"),
    "code": _l("Verification code"),
    "scan": _l("Scan to verify"),
    "profile": _l("Skills profile by WSOS section"),
    "modules": _l("Marks by module"),
    "module": _l("Module"),
    "mark": _l("Mark"),
    "max": _l("Maximum"),
    "issuer": _l("Issuer"),
    "how": _l(
        "To check this passport, scan the QR code with a phone camera, or open %(url)s and "
        "enter the passport number and verification code."
    ),
}

_fonts_lock = Lock()
_cache: OrderedDict[str, bytes] = OrderedDict()
_cache_lock = Lock()


# --- fonts ------------------------------------------------------------------------------


def _subset_font(source: Path, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.ERROR)
    font = TTFont(str(source))
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(CHARSET))
    subsetter.subset(font)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(handle)
    font.save(temporary)
    os.replace(temporary, target)


def font_paths() -> dict[str, Path]:
    """Return the subset fonts by style, building them on first use (PassportError if missing)."""
    folder = Path(current_app.config["PDF_FONT_DIR"])
    paths: dict[str, Path] = {}
    with _fonts_lock:
        for style, name in FONT_FILES.items():
            source = folder / name
            if not source.is_file():
                raise PassportError(
                    "font_missing", path=str(source), files=", ".join(FONT_FILES.values())
                )
            stat = source.stat()
            digest = hashlib.sha256(
                f"{source}:{stat.st_size}:{stat.st_mtime_ns}:{SUBSET_VERSION}".encode()
            ).hexdigest()[:16]
            target = None
            for base in (Path(current_app.instance_path) / "cache", Path(tempfile.gettempdir())):
                candidate = base / "passport-fonts" / f"{source.stem}-{digest}.ttf"
                if candidate.is_file():
                    target = candidate
                    break
                try:
                    candidate.parent.mkdir(parents=True, exist_ok=True)
                    _subset_font(source, candidate)
                except OSError:
                    continue
                target = candidate
                break
            if target is None:
                raise PassportError("font_cache_unwritable")
            paths[style] = target
    return paths


# --- formatting -------------------------------------------------------------------------


def tri(key: str, **params: Any) -> str:
    """A label in Kazakh, Russian and English, "kk / ru / en" (repeats dropped)."""
    parts: list[str] = []
    for locale in ("kk", "ru", "en"):
        with force_locale(locale):
            text = str(LABELS[key])
        text = text % params if params else text
        if text not in parts:
            parts.append(text)
    return " / ".join(parts)


def printable(text: str) -> str:
    """Replace characters the embedded font subset lacks (never expected in names)."""
    return "".join(ch if ord(ch) in CHARSET or ch == "\n" else "?" for ch in text or "")


def number(value: str | Fraction) -> str:
    """Two decimals with a decimal comma, as Kazakh and Russian write them."""
    if isinstance(value, Fraction):
        value = str(scoring.round_half_up(value, 2))
    return str(value).replace(".", ",")


def _date(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}.{month}.{year}"


def _local_date(moment: datetime) -> str:
    return local_time(moment).strftime("%d.%m.%Y")


def _names(names: dict[str, str], first: str = "kk") -> list[str]:
    ordered = [names.get(first, "")] + [names.get(k, "") for k in ("kk", "ru", "en")]
    result: list[str] = []
    for name in ordered:
        if name and name not in result:
            result.append(name)
    return result


# --- drawing ----------------------------------------------------------------------------


class _Page:
    """Draws text that wraps at word boundaries: nothing is ever cut short."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    def _font(self, size: float, bold: bool, color: tuple[int, int, int]) -> None:
        self.pdf.set_font("sans", "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def height(self, w: float, size: float, value: str, *, bold: bool = False) -> float:
        """The height ``text`` would take for ``value`` in a column ``w`` wide."""
        self._font(size, bold, INK)
        lines = self.pdf.multi_cell(
            w, size * LEADING, printable(value), dry_run=True, output=MethodReturnValue.LINES
        )
        return len(lines) * size * LEADING

    def text(
        self,
        x: float,
        y: float,
        w: float,
        size: float,
        value: str,
        *,
        bold: bool = False,
        color: tuple[int, int, int] = INK,
        align: str = "L",
    ) -> float:
        """Text wrapped within ``w`` (words kept whole where they fit); return the y below it."""
        self._font(size, bold, color)
        self.pdf.set_xy(x, y)
        self.pdf.multi_cell(w, size * LEADING, printable(value), align=align)
        return self.pdf.get_y()


def _draw_qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(url, "M")
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            pdf.rect(
                x + start * module, y + row_index * module, (column - start) * module, module, "F"
            )


def _fact(page: _Page, x: float, y: float, w: float, key: str, values: Sequence[str]) -> float:
    """A trilingual label over its values (the first one bold); return the y below."""
    y = page.text(x, y, w, 7, tri(key), color=MUTED) + 0.4
    for index, value in enumerate(values):
        first = index == 0
        y = page.text(
            x, y, w, 10.5 if first else 8, value, bold=first, color=INK if first else MUTED
        )
        y += 0.4
    return y + 1.8


def _stacked(key: str) -> str:
    """A column heading: its Kazakh, Russian and English words one under another."""
    return "\n".join(dict.fromkeys(tri(key).split(" / ")))


def grade_text(grade: int) -> str:
    """The grade with its scale, "4 / 5", so a reader abroad knows what the digit means."""
    return f"{grade} / {scoring.TOP_GRADE}"


def draw_passport(pdf: FPDF, passport: Passport) -> None:
    """Add one page with the passport to ``pdf``.

    Every label and name wraps within its column instead of being cut, so the page grows
    downwards into the space above the footer; a long scheme gets tighter rows and smaller
    type, and only one that still does not fit continues on a second page.
    """
    settings = current_settings()
    snapshot = passport.snapshot
    page = _Page(pdf)
    pdf.add_page()
    width = PAGE_W - 2 * MARGIN

    # header band: title (left), issuer (right)
    pdf.set_fill_color(*BRAND)
    pdf.rect(0, 0, PAGE_W, 6, "F")
    issuer_w = 66.0
    head_w = width - issuer_w - 6
    with force_locale("kk"):
        title_kk = str(LABELS["title"])
    y = page.text(MARGIN, 11, head_w, 20, title_kk, bold=True, color=BRAND) + 0.6
    rest = tri("title").split(" / ")[1:]
    y = page.text(MARGIN, y, head_w, 9.5, " / ".join(rest), color=BRAND) + 0.8
    left_bottom = page.text(MARGIN, y, head_w, 7.5, tri("subtitle"), color=MUTED)
    issuer = snapshot["issuer"]
    right_x = PAGE_W - MARGIN - issuer_w
    y = page.text(right_x, 12, issuer_w, 7, tri("issuer"), color=MUTED, align="R") + 0.3
    for name in _names(issuer["name"]):
        y = page.text(right_x, y, issuer_w, 8, name, align="R") + 0.2
    rule = max(left_bottom, y) + 2.5
    pdf.set_draw_color(*TRACK)
    pdf.set_line_width(0.4)
    pdf.line(MARGIN, rule, PAGE_W - MARGIN, rule)

    # holder
    holder = snapshot["holder"]
    y = page.text(MARGIN, rule + 3.5, width, 7, tri("holder"), color=MUTED) + 0.6
    y = page.text(MARGIN, y, width, 19, holder["name"], bold=True) + 0.4
    y = page.text(MARGIN, y, width, 11, holder["name_latin"], color=MUTED) + 2.5

    # facts (left) and QR (right)
    left_w = width - QR_SIZE - 8
    facts_top = y
    competence = snapshot["competence"]
    names = _names(competence["name"])
    y = _fact(
        page,
        MARGIN,
        y,
        left_w,
        "competence",
        [f"{competence['code']} — {names[0] if names else ''}", *names[1:]],
    )
    y = _fact(page, MARGIN, y, left_w, "centre", _names(snapshot["centre"]["name"]))
    y = _fact(page, MARGIN, y, left_w, "college", _names(snapshot["college"]["name"]))
    exam = snapshot["exam"]
    dates = _date(exam["start_date"])
    if exam["end_date"] != exam["start_date"]:
        dates += f" – {_date(exam['end_date'])}"
    y = _fact(page, MARGIN, y, left_w, "exam_dates", [dates])
    result = snapshot["result"]
    y = _fact(
        page,
        MARGIN,
        y,
        left_w,
        "result",
        [
            f"{number(result['total'])} / {number(result['max'])}  ·  "
            f"{number(result['percent'])} %  ·  {tri('grade').split(' / ')[0]} "
            f"{grade_text(result['grade'])}"
        ],
    )
    expiry = _local_date(passport.expires_at) if passport.expires_at else tri("no_expiry")
    y = _fact(page, MARGIN, y, left_w, "issued", [_local_date(passport.issued_at)])
    facts_bottom = _fact(page, MARGIN, y, left_w, "valid_until", [expiry])

    qr_x = PAGE_W - MARGIN - QR_SIZE
    _draw_qr(pdf, passport_url(passport, settings.public_base_url), qr_x, facts_top, QR_SIZE)
    y = facts_top + QR_SIZE + 1
    y = page.text(qr_x, y, QR_SIZE, 6.5, tri("scan"), color=MUTED, align="C") + 2
    y = page.text(qr_x, y, QR_SIZE, 6.5, tri("number"), color=MUTED, align="C") + 0.4
    y = page.text(qr_x, y, QR_SIZE, 13, passport.number, bold=True, align="C") + 2
    y = page.text(qr_x, y, QR_SIZE, 6.5, tri("code"), color=MUTED, align="C") + 0.4
    code = secrets.printed_code(settings, passport.number, passport.code_nonce)
    qr_bottom = page.text(qr_x, y, QR_SIZE, 13, code, bold=True, align="C")

    # footer first: the profile and the modules fill the space above it
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/check"
    how = tri("how", url=base)
    footer_top = PAGE_H - 8 - page.height(width, 6.5, how) - 1.5

    sections = snapshot["sections"]
    criteria = snapshot["criteria"]
    label_w, track_w = 92.0, 56.0
    mark_w = width - label_w - track_w - 2
    columns = [
        (18.0, "module", "L"),
        (width - 18 - 3 * 26, None, "L"),
        (26.0, "mark", "R"),
        (26.0, "max", "R"),
        (26.0, None, "R"),
    ]
    section_labels = [
        f"{section['key']}. " + (_names(section["name"])[0] if section["name"] else "")
        for section in sections
    ]
    head_h = max(page.height(w - 2, 7.5, _stacked(k), bold=True) for w, k, _a in columns if k)
    top = max(facts_bottom, qr_bottom) + 4
    titles_h = page.height(width, 10, tri("profile"), bold=True) + page.height(
        width, 10, tri("modules"), bold=True
    )
    # a long scheme (many sections and modules with long names) gets a smaller type, never cuts
    for size in ROW_SIZES:
        heights = [page.height(label_w - 2, size, label) for label in section_labels]
        heights += [page.height(columns[1][0] - 2, size, c["name"]) for c in criteria]
        needed = sum(heights) + head_h + titles_h + 14
        room = (footer_top - top - needed) / max(len(heights) + 1, 1)
        if room >= MIN_GAP:
            break
    else:  # does not fit one page at any size: the normal type, continued on a second page
        size = ROW_SIZES[0]
        heights = [page.height(label_w - 2, size, label) for label in section_labels]
        heights += [page.height(columns[1][0] - 2, size, c["name"]) for c in criteria]
        room = 1.6
    gap = max(MIN_GAP, min(3.4, room))

    def footer() -> None:
        pdf.set_draw_color(*TRACK)
        pdf.line(MARGIN, footer_top, PAGE_W - MARGIN, footer_top)
        page.text(MARGIN, footer_top + 1.5, width, 6.5, how, color=MUTED)

    def room(y: float, height: float) -> float:
        """``y``, or the top of a continuation page when ``height`` no longer fits."""
        if y + height <= footer_top - 1:
            return y
        footer()
        pdf.add_page()
        return MARGIN

    y = page.text(MARGIN, top, width, 10, tri("profile"), bold=True) + 2.5
    for label, height, section in zip(section_labels, heights, sections, strict=False):
        y = room(y, height)
        page.text(MARGIN, y, label_w - 2, size, label)
        share = Fraction(section["units"], section["max_units"]) if section["max_units"] else 0
        pdf.set_fill_color(*TRACK)
        pdf.rect(MARGIN + label_w, y + 0.2, track_w, 3.2, "F")
        if share:
            pdf.set_fill_color(*BRAND)
            pdf.rect(MARGIN + label_w, y + 0.2, float(track_w * share), 3.2, "F")
        page.text(
            MARGIN + label_w + track_w + 2,
            y,
            mark_w,
            size,
            f"{number(section['mark'])} / {number(section['max'])}",
            color=MUTED,
        )
        y += height + gap

    y = room(y + 2, 12 + head_h + (heights[len(sections)] if criteria else 0))
    y = page.text(MARGIN, y, width, 10, tri("modules"), bold=True) + 2.5
    pdf.set_fill_color(*HEAD_FILL)
    pdf.rect(MARGIN, y - 1, width, head_h + 2, "F")
    x = MARGIN
    for w, key, align in columns:
        label = _stacked(key) if key else ("%" if align == "R" else "")
        page.text(x + 1, y, w - 2, 7.5, label, bold=True, align=align)
        x += w
    y += head_h + 1 + gap
    for criterion, height in zip(criteria, heights[len(sections) :], strict=True):
        y = room(y, height)
        percent = (
            Fraction(100 * criterion["units"], criterion["max_units"])
            if criterion["max_units"]
            else Fraction(0)
        )
        cells = [
            criterion["key"],
            criterion["name"],
            number(criterion["mark"]),
            number(criterion["max"]),
            number(percent),
        ]
        x = MARGIN
        for (w, _key, align), value in zip(columns, cells, strict=True):
            page.text(x + 1, y, w - 2, size, value, align=align)
            x += w
        y += height + gap
        pdf.set_draw_color(*TRACK)
        pdf.line(MARGIN, y - gap / 2 - 0.4, PAGE_W - MARGIN, y - gap / 2 - 0.4)
    footer()


def _new_document(title: str, created: datetime) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    for style, path in font_paths().items():
        pdf.add_font("sans", style, str(path))
    pdf.set_creator("Skills Passport")
    pdf.set_title(printable(title))
    pdf.set_creation_date(created.astimezone(UTC))
    return pdf


def _cache_key(passports: Iterable[Passport]) -> str:
    digest = hashlib.sha256(current_app.config["PUBLIC_BASE_URL"].encode())
    digest.update(current_app.config["PDF_FONT_DIR"].encode())
    for passport in passports:
        digest.update(f"|{passport.number}|{passport.token}|{passport.code_nonce}".encode())
    return digest.hexdigest()


def passport_pdf(passport: Passport) -> bytes:
    """The passport's one-page PDF (cached per process; identical on every instance)."""
    key = _cache_key([passport])
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    pdf = _new_document(f"Skills Passport {passport.number}", passport.issued_at)
    draw_passport(pdf, passport)
    data = bytes(pdf.output())
    with _cache_lock:
        _cache[key] = data
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return data


def passports_pdf(passports: Sequence[Passport], title: str) -> bytes:
    """One print-ready document, one page per passport (not cached)."""
    created = max((p.issued_at for p in passports), default=datetime(2000, 1, 1, tzinfo=UTC))
    pdf = _new_document(title, created)
    for passport in passports:
        draw_passport(pdf, passport)
    return bytes(pdf.output())
