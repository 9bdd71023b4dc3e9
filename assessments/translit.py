"""Transliterate Kazakh Cyrillic names to Latin the way Kazakh passports and ID cards do.

The table follows the ICAO-style practice of Kazakh identity documents: Kazakh letters lose
their diacritic and the result is upper-case ASCII.

====  =====  ====  =====  ====  =====  ====  =====
Cyr.  Latin  Cyr.  Latin  Cyr.  Latin  Cyr.  Latin
====  =====  ====  =====  ====  =====  ====  =====
А     A      Ж     ZH     Ө     O      Ф     F
Ә     A      З     Z      П     P      Х     KH
Б     B      И     I      Р     R      Һ     H
В     V      Й     I      С     S      Ц     TS
Г     G      К     K      Т     T      Ч     CH
Ғ     G      Қ     K      У     U      Ш     SH
Д     D      Л     L      Ұ     U      Щ     SHCH
Е     E      М     M      Ү     U      Ъ     (none)
Ё     E      Н     N      Ы     Y      Ь     (none)
Э     E      Ң     N      І     I      Ю     IU
О     O                                Я     IA
====  =====  ====  =====  ====  =====  ====  =====

Examples: Нұрланқызы → NURLANKYZY, Әлібекова → ALIBEKOVA, Айгерім → AIGERIM.

Other characters: Latin letters pass through upper-cased, Latin letters with diacritics
lose them (é → E), the Latin schwa Ə that some keyboards produce for Ә gives A, hyphens are
kept, runs of whitespace become one space, and everything else (digits, apostrophes, dots,
other scripts) is dropped.
"""

from __future__ import annotations

import unicodedata

_TABLE = {
    "А": "A",
    "Ә": "A",
    "Б": "B",
    "В": "V",
    "Г": "G",
    "Ғ": "G",
    "Д": "D",
    "Е": "E",
    "Ё": "E",
    "Ж": "ZH",
    "З": "Z",
    "И": "I",
    "Й": "I",
    "К": "K",
    "Қ": "K",
    "Л": "L",
    "М": "M",
    "Н": "N",
    "Ң": "N",
    "О": "O",
    "Ө": "O",
    "П": "P",
    "Р": "R",
    "С": "S",
    "Т": "T",
    "У": "U",
    "Ұ": "U",
    "Ү": "U",
    "Ф": "F",
    "Х": "KH",
    "Һ": "H",
    "Ц": "TS",
    "Ч": "CH",
    "Ш": "SH",
    "Щ": "SHCH",
    "Ъ": "",
    "Ы": "Y",
    "І": "I",
    "Ь": "",
    "Э": "E",
    "Ю": "IU",
    "Я": "IA",
    "Ə": "A",  # Latin capital schwa, typed for Ә on some keyboards
}

TABLE: dict[str, str] = {**_TABLE, **{cyr.lower(): lat for cyr, lat in _TABLE.items()}}
"""Every letter this module knows, in both cases, mapped to its upper-case Latin form."""

_HYPHENS = frozenset("-‐‑‒–—")


def _latin(char: str) -> str:
    if char in TABLE:
        return TABLE[char]
    if char.isascii() and char.isalpha():
        return char.upper()
    if char in _HYPHENS:
        return "-"
    if char.isspace():
        return " "
    # é → e + combining accent: keep the ASCII letters of the decomposition
    return "".join(
        c.upper() for c in unicodedata.normalize("NFKD", char) if c.isascii() and c.isalpha()
    )


def transliterate(text: str) -> str:
    """Spell a name in upper-case Latin letters as a Kazakh identity document would.

    Rule: the table in this module's docstring; Latin letters are upper-cased, hyphens kept,
    whitespace collapsed to single spaces and trimmed, anything else dropped.
    """
    latin = "".join(_latin(char) for char in unicodedata.normalize("NFC", text))
    return " ".join(latin.split())
