from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.translit import TABLE, transliterate


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Нұрланқызы", "NURLANKYZY"),
        ("Әлібекова", "ALIBEKOVA"),
        ("Айгерім", "AIGERIM"),
        ("Ғалым", "GALYM"),
        ("Өмірзақ", "OMIRZAK"),
        ("Ұлан", "ULAN"),
        ("Үміт", "UMIT"),
        ("Жұмабек", "ZHUMABEK"),
        ("Хасен", "KHASEN"),
        ("Цой", "TSOI"),
        ("Чингиз", "CHINGIZ"),
        ("Шынар", "SHYNAR"),
        ("Щербаков", "SHCHERBAKOV"),
        ("Юлия", "IULIIA"),
        ("Яна", "IANA"),
        ("Ёлкин", "ELKIN"),
        ("Объедков", "OBEDKOV"),
        ("Игорь", "IGOR"),
        ("Эльмира", "ELMIRA"),
        ("Таңат", "TANAT"),
        ("Һадиса", "HADISA"),
        ("Вадим", "VADIM"),
        ("Еркебұлан", "ERKEBULAN"),
        ("Ілияс", "ILIIAS"),
        ("Сейтқали-Әбенова", "SEITKALI-ABENOVA"),
        ("Құдайберген-Ұлы", "KUDAIBERGEN-ULY"),
        ("Мұхамеджан–Ғабдулла", "MUKHAMEDZHAN-GABDULLA"),  # en dash
        ("нұрланқызы", "NURLANKYZY"),
        ("Айгерім Нұрланқызы", "AIGERIM NURLANKYZY"),
        ("  Айгерім   Нұрланқызы ", "AIGERIM NURLANKYZY"),
    ],
)
def test_transliterate_names(cyrillic: str, latin: str) -> None:
    assert transliterate(cyrillic) == latin


@pytest.mark.parametrize(
    ("text", "latin"),
    [
        ("John Smith", "JOHN SMITH"),
        ("José", "JOSE"),
        ("O'Brien", "OBRIEN"),
        ("Ж.Б. Әлиев", "ZHB ALIEV"),
        ("Əlіbekova", "ALIBEKOVA"),  # Latin schwa and Ukrainian-style і typed for Ә and І
        ("Й", "I"),
        ("И\u0306", "I"),  # decomposed Й
        ("Е\u0308", "E"),  # decomposed Ё
        ("", ""),
    ],
)
def test_transliterate_other_characters(text: str, latin: str) -> None:
    assert transliterate(text) == latin


def test_table_covers_the_whole_kazakh_alphabet_in_both_cases() -> None:
    alphabet = "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯ"
    for letter in alphabet:
        assert letter in TABLE
        assert TABLE[letter.lower()] == TABLE[letter]


@given(st.text())
def test_output_is_upper_case_ascii(text: str) -> None:
    assert re.fullmatch(r"[A-Z -]*", transliterate(text))
