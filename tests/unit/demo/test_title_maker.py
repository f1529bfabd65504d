"""The demo catalogue: every old id names a title, the same one everywhere, in good Portuguese."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import get_args

import pytest

from app.viewing.titles import AgeRating, Title, TitleKind
from demo import title_maker, vocabulary
from demo.title_maker import DEMO_IDS, GENRES, LATEST_YEAR, Dice, demo_catalogue, unused_naming
from demo.vocabulary import Genre, Place, Recipe

#: sha256 of repr(demo_catalogue()). If this changes, ids already seeded into
#: databases would name other titles there than on new machines: don't change
#: the word lists, the seed or the drawing; add titles under new ids instead.
FINGERPRINT = "53a9eb997f60f2935e4146de9401f3710acfb35b5a0f34ea9d55c3995129a7fb"
PORTUGUESE_LETTERS = re.compile(r"[áàâãéêíóôõúç]", re.IGNORECASE)
PORTUGUESE_WORDS = {"de", "do", "da", "em", "no", "na", "o", "a", "os", "as", "um", "uma", "e"}


@pytest.fixture(scope="module")
def titles() -> list[Title]:
    return demo_catalogue()


def test_every_old_id_from_1000_to_9999_names_one_title(titles: list[Title]) -> None:
    assert [t.conteudo_id for t in titles] == list(range(1000, 10_000))
    assert len(titles) == len(DEMO_IDS) == 9000


def test_a_rebuilt_catalogue_is_identical() -> None:
    first = demo_catalogue()
    title_maker._catalogue.cache_clear()
    vocabulary.vocabulary.cache_clear()  # the words read from the file again, too
    assert demo_catalogue() == first


def test_the_catalogue_is_the_one_every_machine_seeded(titles: list[Title]) -> None:
    assert hashlib.sha256(repr(titles).encode()).hexdigest() == FINGERPRINT
    assert (titles[0].titulo, titles[0].tipo) == ("Os Segredos de Santos", "filme")


def test_kinds_and_ratings_are_the_contracts_enumerations(titles: list[Title]) -> None:
    assert {t.tipo for t in titles} == set(get_args(TitleKind))
    assert {t.classificacao for t in titles} <= set(get_args(AgeRating))


def test_only_series_have_seasons(titles: list[Title]) -> None:
    for title in titles:
        if title.tipo == "série":
            assert title.temporadas is not None and title.temporadas >= 1
        else:
            assert title.temporadas is None


def test_genres_fit_the_kind_and_start_with_the_main_one(titles: list[Title]) -> None:
    for title in titles:
        names = {genre.name for genre in GENRES[title.tipo]}
        assert title.generos[0] == title.categoria
        assert set(title.generos) <= names
        assert len(set(title.generos)) == len(title.generos)
    documentary_genres = {t.categoria for t in titles if t.tipo == "documentário"}
    assert {"Natureza", "História", "Ciência", "Esporte", "Música", "Crime real"} <= (
        documentary_genres
    )


def test_numbers_are_in_range(titles: list[Title]) -> None:
    for title in titles:
        assert 0 <= title.avaliacao <= 5 and round(title.avaliacao, 1) == title.avaliacao
        assert 10 <= title.duracao_minutos <= 170
        assert 1970 <= title.ano_lancamento <= LATEST_YEAR


def test_no_two_titles_of_one_kind_share_a_name(titles: list[Title]) -> None:
    for kind in get_args(TitleKind):
        names = [t.titulo.casefold() for t in titles if t.tipo == kind]
        assert len(names) == len(set(names)), kind


def test_mix_is_about_55_30_15(titles: list[Title]) -> None:
    shares = Counter(t.tipo for t in titles)
    assert 0.52 <= shares["filme"] / len(titles) <= 0.58
    assert 0.27 <= shares["série"] / len(titles) <= 0.33
    assert 0.12 <= shares["documentário"] / len(titles) <= 0.18


def test_ratings_are_skewed_like_a_real_catalogue(titles: list[Title]) -> None:
    ratings = [t.avaliacao for t in titles]
    assert sum(3.0 <= r <= 4.5 for r in ratings) / len(ratings) >= 0.75
    assert any(r < 3.0 for r in ratings) and any(r > 4.5 for r in ratings)


def test_most_titles_are_available(titles: list[Title]) -> None:
    available = sum(t.disponivel for t in titles) / len(titles)
    assert 0.9 <= available < 1


def test_text_reads_as_portuguese(titles: list[Title]) -> None:
    for title in titles:
        assert title.titulo[0].isupper() and title.titulo == title.titulo.strip()
        assert title.descricao[0].isupper() and title.descricao.endswith(".")
        assert not {"{", "}", "None"} & set(re.findall(r"[{}]|None", title.descricao))
        assert PORTUGUESE_WORDS & set(title.descricao.lower().split())
    accented = sum(bool(PORTUGUESE_LETTERS.search(t.titulo + t.descricao)) for t in titles)
    assert accented / len(titles) > 0.5


def test_a_fiction_title_naming_a_place_is_set_there(titles: list[Title]) -> None:
    paraty = [t for t in titles if t.titulo.endswith(" em Paraty") and t.tipo == "filme"]
    assert paraty and all(t.descricao.startswith("Em Paraty, ") for t in paraty)


@pytest.mark.parametrize(
    ("place", "where", "whose"),
    [
        (Place("Paraty"), "em Paraty", "de Paraty"),
        (Place("Recife", "o"), "no Recife", "do Recife"),
        (Place("Amazônia", "a"), "na Amazônia", "da Amazônia"),
        (Place("Lençóis Maranhenses", "os"), "nos Lençóis Maranhenses", "dos Lençóis Maranhenses"),
    ],
)
def test_places_contract_prepositions_with_their_article(
    place: Place, where: str, whose: str
) -> None:
    assert (place.em, place.de) == (where, whose)


def test_exhausted_word_lists_fail_loudly_instead_of_repeating_a_title() -> None:
    tiny = Genre(
        "Drama", 1, (Recipe("{head} {tail.em}", ("Um Dia",), (Place("Natal"),)),), ("x",),
        (("12", 1),), (90, 100), (), ("uma professora",),
    )  # fmt: skip
    used = {"um dia em natal"}
    with pytest.raises(RuntimeError, match="exhausted"):
        unused_naming(Dice(1), tiny, used)


def test_dice_draws_are_fixed_by_the_seed() -> None:
    first, again = Dice(7), Dice(7)
    draws = [first.below(1000) for _ in range(20)]
    assert draws == [again.below(1000) for _ in range(20)]
    assert len(set(draws)) > 1
