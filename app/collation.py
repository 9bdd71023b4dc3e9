"""Sort names in Kazakh alphabetical order, in Python and in the database alike.

Kazakh order is not code-point order (Ә, Ғ, Қ, Ң, Ө, Ұ, Ү, Һ, І sit among the Russian
letters)::

    А Ә Б В Г Ғ Д Е Ё Ж З И Й К Қ Л М Н Ң О Ө П Р С Т У Ұ Ү Ф Х Һ Ц Ч Ш Щ Ъ Ы І Ь Э Ю Я

``sort_key`` turns a name into a string of lower-case ASCII letters whose plain byte order
is that order. Strings made only of ``a``–``z`` compare the same way under SQLite's BINARY
collation and PostgreSQL's "C", "en_US" (glibc) and ICU collations, so the key can be stored
in an indexed column and used in ``ORDER BY`` on every database.

Each character becomes two letters (a code 0–675 written in base 26, ``a`` = 0). In
ascending order:

- ``aa`` separates the parts (last name, first name, middle name), so a shorter last name
  sorts before a longer one that starts with it ("Ан Б" before "Ана А");
- ``ab`` is a word break inside a part (whitespace or hyphen, runs collapsed);
- digits 0–9;
- the 42 Kazakh Cyrillic letters in the order above;
- Latin letters a–z, after Cyrillic.

Comparison ignores case. Letters with diacritics outside these sets fall back to their base
letter (é → e, Ї → І); anything else (apostrophes, dots, other scripts) is ignored. Empty
parts at the end are dropped, so ``sort_key("Ан", "Б", "")`` equals ``sort_key("Ан", "Б")``.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")

KAZAKH_ALPHABET = "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯ"

_PART_BREAK = 0
_WORD_BREAK = 1
_DIGITS_FROM = 2
_CYRILLIC_FROM = _DIGITS_FROM + 10
_LATIN_FROM = _CYRILLIC_FROM + len(KAZAKH_ALPHABET)


def _code(number: int) -> str:
    return chr(ord("a") + number // 26) + chr(ord("a") + number % 26)


def _build_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for offset, digit in enumerate(string.digits):
        codes[digit] = _code(_DIGITS_FROM + offset)
    for offset, letter in enumerate(KAZAKH_ALPHABET):
        codes[letter] = codes[letter.lower()] = _code(_CYRILLIC_FROM + offset)
    for offset, letter in enumerate(string.ascii_lowercase):
        codes[letter] = codes[letter.upper()] = _code(_LATIN_FROM + offset)
    return codes


_CODES = _build_codes()
PART_BREAK = _code(_PART_BREAK)
WORD_BREAK = _code(_WORD_BREAK)
_HYPHENS = frozenset("-‐‑‒–—")


def _part_codes(part: str) -> list[str]:
    codes: list[str] = []
    for char in unicodedata.normalize("NFC", part):
        if char in _CODES:
            codes.append(_CODES[char])
        elif char.isspace() or char in _HYPHENS:
            if codes and codes[-1] != WORD_BREAK:
                codes.append(WORD_BREAK)
        else:
            # é → e + accent, Ї → І + diaeresis: keep what we know of the decomposition
            codes.extend(_CODES[c] for c in unicodedata.normalize("NFKD", char) if c in _CODES)
    while codes and codes[-1] == WORD_BREAK:
        codes.pop()
    return codes


def sort_key(*parts: str | None) -> str:
    """Build an ASCII key (``[a-z]*``) that sorts names in Kazakh alphabetical order.

    Rule: two letters per character as the module docstring describes; parts are joined by
    ``aa``, the lowest code, and empty (or None) parts at the end are dropped.
    """
    encoded = ["".join(_part_codes(part or "")) for part in parts]
    while encoded and not encoded[-1]:
        encoded.pop()
    return PART_BREAK.join(encoded)


def _identity(item: T) -> T:
    return item


def kazakh_sorted(
    items: Iterable[T],
    key: Callable[[T], str | Sequence[str | None] | None] = _identity,
    *,
    reverse: bool = False,
) -> list[T]:
    """Return ``items`` sorted in Kazakh alphabetical order.

    Rule: compare ``sort_key`` of ``key(item)``; a key that returns a tuple or list is read
    as name parts (last, first, middle). Equal keys keep their input order.
    """

    def item_key(item: T) -> str:
        name = key(item)
        if isinstance(name, str) or name is None:
            return sort_key(name)
        return sort_key(*name)

    return sorted(items, key=item_key, reverse=reverse)
