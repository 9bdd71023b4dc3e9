"""What a visitor with a passport in hand meets: the home page, the verdict, link previews.

Messengers read the og: tags of the page a link opens. The tags point at files this app
serves, by absolute URL under PUBLIC_BASE_URL, and never carry a holder's name or result.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from passports.services import holders
from passports.settings import current_settings

BASE = "https://skills.example.kz"


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.icons: list[str] = []
        self.title = ""
        self._in_title = False
        self._in_head = True

    def handle_starttag(self, tag, attrs):
        if not self._in_head:
            return  # charts' SVG <title>s and the body are not what a messenger reads
        values = dict(attrs)
        if tag == "meta" and ("property" in values or "name" in values):
            self.meta[values.get("property") or values["name"]] = values.get("content") or ""
        if tag == "link" and "icon" in (values.get("rel") or ""):
            self.icons.append(values["href"])
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):
        self._in_title = False
        self._in_head = self._in_head and tag != "head"


def head_of(response) -> _Head:
    assert response.status_code == 200
    parser = _Head()
    parser.feed(response.get_data(as_text=True))
    return parser


def test_home_page_has_a_card_and_an_icon_served_here(client):
    head = head_of(client.get("/?lang=ru"))
    for key in ("og:title", "og:description", "og:image", "description", "twitter:card"):
        assert head.meta.get(key), key
    assert "паспорт" in head.meta["og:title"].lower()
    image = head.meta["og:image"]
    assert image.startswith(f"{BASE}/")
    served = client.get(image.removeprefix(BASE))
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.get_data().startswith(b"\x89PNG")
    served.close()
    assert head.icons and all(not icon.startswith("http") for icon in head.icons)
    for icon in head.icons:
        response = client.get(icon)
        assert response.status_code == 200, icon
        response.close()
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.get_data()[:4] == b"\x00\x00\x01\x00"


def _private_texts(issued) -> list[str]:
    snapshot = issued.passport.snapshot
    holder = snapshot["holder"]
    result = snapshot["result"]
    return [
        *holder["name"].split(),
        holder["name_latin"].split()[0],
        str(result["total"]).replace(".", ","),
        str(result["total"]),
        str(result["percent"]),
    ]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_private_and_shared_pages_preview_without_name_or_result(client, issued, lang):
    token = holders.private_link_token(current_settings(), issued.passport)
    pages = [f"/my/{token}", f"/s/{issued.passport.share_slug}", "/V"]
    for page in pages:
        head = head_of(client.get(f"{page}?lang={lang}"))
        preview = " ".join([head.title, *head.meta.values()])
        assert head.meta["og:image"].startswith(f"{BASE}/"), page
        for private in _private_texts(issued):
            assert private not in preview, (page, private)


@pytest.mark.parametrize(
    ("lang", "scan", "staff", "grade"),
    [
        ("kk", "QR кодты сканерлеңіз", "жүйеге кіру", "5 ішінен 5"),
        ("ru", "Отсканируйте QR-код", "вход в систему", "5 из 5"),
        ("en", "Scan the QR code", "sign in", "5 of 5"),
    ],
)
def test_home_page_is_for_the_visitor_with_a_passport(client, issued, lang, scan, staff, grade):
    """Signed out: scan or number + code first, statistics next, signing in last."""
    from passports.services import secrets

    html = client.get(f"/?lang={lang}").get_data(as_text=True)
    form = html.index('action="/check"')
    assert html.index(scan) < form < html.index('href="/stats"') < html.index('href="/login"')
    assert 'name="number"' in html and 'name="code"' in html
    assert html.index(staff) > html.index('href="/stats"')
    passport = issued.passport
    code = secrets.printed_code(current_settings(), passport.number, passport.code_nonce)
    checked = client.post("/check", data={"number": passport.number, "code": code})
    verdict = checked.get_data(as_text=True)
    assert 'data-status="genuine"' in verdict
    # the grade says what it means: "5 of 5", not a bare digit
    assert passport.snapshot["result"]["grade"] == 5
    assert f"<dd>{grade}</dd>" in verdict
    share = client.get(f"/s/{passport.share_slug}").get_data(as_text=True)
    assert f"<dd>{grade}</dd>" in share
