from __future__ import annotations

import re
import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.collation import KAZAKH_ALPHABET, kazakh_sorted, sort_key

ALPHABET = "А Ә Б В Г Ғ Д Е Ё Ж З И Й К Қ Л М Н Ң О Ө П Р С Т У Ұ Ү Ф Х Һ Ц Ч Ш Щ Ъ Ы І Ь Э Ю Я"
LETTERS = ALPHABET.split()


def reference_key(*parts: str) -> tuple[tuple[int, ...], ...]:
    """Compare names part by part, letter by letter, by position in the alphabet (BRIEF §5)."""
    return tuple(tuple(LETTERS.index(char.upper()) for char in part) for part in parts)


def test_module_alphabet_is_the_brief_alphabet() -> None:
    assert list(KAZAKH_ALPHABET) == LETTERS


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("А", "Ә"),
        ("Ә", "Б"),
        ("Г", "Ғ"),
        ("Ғ", "Д"),
        ("Е", "Ё"),
        ("К", "Қ"),
        ("Қ", "Л"),
        ("Н", "Ң"),
        ("Ң", "О"),
        ("О", "Ө"),
        ("Ө", "П"),
        ("У", "Ұ"),
        ("Ұ", "Ү"),
        ("Ү", "Ф"),
        ("Х", "Һ"),
        ("Һ", "Ц"),
        ("Ы", "І"),
        ("І", "Ь"),
        ("Аян", "Әлия"),
        ("Кәрім", "Қайрат"),
        ("Ұлан", "Үміт"),
    ],
)
def test_kazakh_letters_sit_in_their_place(before: str, after: str) -> None:
    assert sort_key(before) < sort_key(after)


def test_every_letter_follows_the_previous_one() -> None:
    keys = [sort_key(letter) for letter in LETTERS]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_case_is_ignored() -> None:
    assert sort_key("Әлібекова", "Айгерім") == sort_key("ӘЛІБЕКОВА", "айгерім")


def test_parts_are_compared_one_after_another() -> None:
    # a shorter last name sorts first whatever the first names are
    assert sort_key("Ан", "Б") < sort_key("Ана", "А")
    assert sort_key("Ахметов", "Әлихан") < sort_key("Ахметов", "Ерлан")
    assert sort_key("Ахметов", "Ерлан", "Бекұлы") < sort_key("Ахметов", "Ерлан", "Серікұлы")
    # an empty first name sorts before any first name
    assert sort_key("Ахметов", "", "Я") < sort_key("Ахметов", "А")


def test_empty_trailing_parts_do_not_change_the_key() -> None:
    assert sort_key("Ан", "Б", "") == sort_key("Ан", "Б") == sort_key("Ан", "Б", None)
    assert sort_key() == sort_key("") == ""


def test_words_inside_a_part() -> None:
    assert sort_key("Сейтқали-Әбенова") == sort_key("Сейтқали  Әбенова")
    assert sort_key("Ли Ана") < sort_key("Лиана")
    assert sort_key(" Ана ") == sort_key("Ана")


def test_digits_before_cyrillic_before_latin_and_punctuation_ignored() -> None:
    assert sort_key("7") < sort_key("А") < sort_key("Я") < sort_key("a") < sort_key("z")
    assert sort_key("О'Нил") == sort_key("ОНил")
    assert sort_key("José") == sort_key("Jose")
    assert sort_key("И\u0306") == sort_key("Й")  # decomposed input


def test_kazakh_order_differs_from_code_point_order() -> None:
    names = [
        "Яна", "Әлия", "Бек", "Алма", "Іляс", "Ыбырай", "Ұлан", "Үміт", "Уәли", "Қайрат", "Кәрім",
    ]  # fmt: skip
    assert sorted(names) == [
        "Іляс", "Алма", "Бек", "Кәрім", "Уәли", "Ыбырай", "Яна", "Қайрат", "Үміт", "Ұлан", "Әлия",
    ]  # fmt: skip
    assert kazakh_sorted(names) == [
        "Алма", "Әлия", "Бек", "Кәрім", "Қайрат", "Уәли", "Ұлан", "Үміт", "Ыбырай", "Іляс", "Яна",
    ]  # fmt: skip


def test_kazakh_sorted_with_a_key_returning_parts() -> None:
    people = [
        {"last": "Ахметова", "first": "Әйгерім"},
        {"last": "Ахметов", "first": "Ерлан"},
        {"last": "Ахметова", "first": "Айгерім"},
        {"last": "Әбенов", "first": "Бауыржан"},
    ]
    ordered = kazakh_sorted(people, key=lambda p: (p["last"], p["first"]))
    assert [(p["last"], p["first"]) for p in ordered] == [
        ("Ахметов", "Ерлан"),
        ("Ахметова", "Айгерім"),
        ("Ахметова", "Әйгерім"),
        ("Әбенов", "Бауыржан"),
    ]
    assert kazakh_sorted(people, key=lambda p: p["last"], reverse=True)[0]["last"] == "Әбенов"


def test_kazakh_sorted_is_stable() -> None:
    assert kazakh_sorted(["ә", "Ә", "ә"], key=str) == ["ә", "Ә", "ә"]


def test_database_order_by_matches() -> None:
    names = ["Үміт", "Ұлан", "Уәли", "Іляс", "Ыбырай", "Әлия", "Алма", "Smith", "Ғалым", "Гүл"]
    with sqlite3.connect(":memory:") as db:
        db.execute("create table person (name text, name_key text)")
        db.executemany("insert into person values (?, ?)", [(n, sort_key(n)) for n in names])
        rows = [name for (name,) in db.execute("select name from person order by name_key")]
    db.close()
    assert rows == kazakh_sorted(names)


kazakh_text = st.text(alphabet="".join(LETTERS) + "".join(LETTERS).lower(), max_size=8)


@given(st.text())
def test_key_is_lower_case_ascii_letters_only(text: str) -> None:
    key = sort_key(text, text)
    assert re.fullmatch(r"[a-z]*", key)
    assert len(key) % 2 == 0


@given(
    st.tuples(kazakh_text, kazakh_text, kazakh_text),
    st.tuples(kazakh_text, kazakh_text, kazakh_text),
)
def test_key_order_matches_the_reference_comparator(a: tuple, b: tuple) -> None:
    assert (sort_key(*a) < sort_key(*b)) == (reference_key(*a) < reference_key(*b))
    assert (sort_key(*a) == sort_key(*b)) == (reference_key(*a) == reference_key(*b))


@given(st.lists(st.tuples(kazakh_text, kazakh_text), max_size=20))
def test_sorting_by_key_matches_the_reference(names: list[tuple[str, str]]) -> None:
    by_key = sorted(names, key=lambda n: sort_key(*n))
    by_reference = sorted(names, key=lambda n: reference_key(*n))
    assert by_key == by_reference
