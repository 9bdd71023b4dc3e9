"""Every string the UI can show has a Kazakh and a Russian translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "app" / "translations"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
    "ngettext": (1, 2),
}
METHOD_MAP = [
    ("app/**.py", "python"),
    ("assessments/**.py", "python"),
    ("passports/**.py", "python"),
    ("templates/**.html", "jinja2"),
]


def source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHOD_MAP, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def messages() -> set[str]:
    return source_messages()


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_every_source_string_is_translated(messages, locale):
    with open(CATALOGS / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=locale)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(messages - translated)
    assert not missing, f"{len(missing)} strings lack a {locale} translation: {missing[:15]}"


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_placeholders_survive_translation(locale):
    import re

    with open(CATALOGS / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=locale)
    placeholder = re.compile(r"%\((\w+)\)s")
    for message in catalog:
        if not message.id or not message.string or isinstance(message.id, tuple):
            continue
        assert set(placeholder.findall(message.id)) == set(placeholder.findall(message.string)), (
            locale,
            message.id,
        )
        # templates format every string: a bare % in a translation breaks the page
        bare = re.compile(r"%(?!\(\w+\)[sd]|%)")
        assert not bare.search(message.string) or bare.search(message.id), (locale, message.id)
