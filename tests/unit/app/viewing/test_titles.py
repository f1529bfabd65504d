"""CatalogueQuery: the rules of ``GET /conteudos``'s parameters, all in one model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.viewing.titles import MAX_TITLE_ID, CatalogueQuery


def broken_fields(exc: ValidationError) -> set[str]:
    return {".".join(map(str, e["loc"])) or "corpo" for e in exc.errors()}


def test_no_parameters_means_the_first_page_of_20_unfiltered() -> None:
    query = CatalogueQuery.model_validate({})
    assert (query.tipo, query.categoria, query.q, query.limit) == (None, None, None, 20)
    assert query.after_id == 0


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ("filme", "filme"),
        ("Filme", "filme"),
        ("SÉRIE", "série"),
        ("serie", "série"),
        (" documentario ", "documentário"),
    ],
)
def test_tipo_is_matched_whatever_its_case_or_accents(given: str, kind: str) -> None:
    assert CatalogueQuery.model_validate({"tipo": given}).tipo == kind


def test_an_unknown_tipo_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        CatalogueQuery.model_validate({"tipo": "novela"})
    assert broken_fields(err.value) == {"tipo"}


def test_every_broken_parameter_is_listed() -> None:
    with pytest.raises(ValidationError) as err:
        CatalogueQuery.model_validate(
            {"tipo": "podcast", "limit": "0", "cursor": "abc", "q": "x" * 101, "genero": "Drama"}
        )
    assert broken_fields(err.value) == {"tipo", "limit", "cursor", "q", "genero"}


@pytest.mark.parametrize(("limit", "valid"), [("1", True), ("100", True), ("101", False)])
def test_limit_is_1_to_100(limit: str, valid: bool) -> None:
    if valid:
        assert CatalogueQuery.model_validate({"limit": limit}).limit == int(limit)
    else:
        with pytest.raises(ValidationError):
            CatalogueQuery.model_validate({"limit": limit})


def test_blank_parameters_are_absent() -> None:
    query = CatalogueQuery.model_validate({"q": "  ", "tipo": "", "categoria": "", "cursor": ""})
    assert (query.q, query.tipo, query.categoria, query.after_id) == (None, None, None, 0)


def test_search_text_is_trimmed_and_bounded() -> None:
    assert CatalogueQuery.model_validate({"q": "  verão "}).q == "verão"
    assert CatalogueQuery.model_validate({"q": "v" * 100}).q == "v" * 100


@pytest.mark.parametrize("field", ["q", "categoria"])
@pytest.mark.parametrize("text", ["a\x00b", "tab\tinside", "\udcff"])
def test_text_with_control_characters_is_refused(field: str, text: str) -> None:
    with pytest.raises(ValidationError) as err:
        CatalogueQuery.model_validate({field: text})
    assert broken_fields(err.value) == {field}


def test_the_cursor_is_the_last_id_of_the_previous_page() -> None:
    assert CatalogueQuery.model_validate({"cursor": "1019"}).after_id == 1019
    assert CatalogueQuery.model_validate({"cursor": str(MAX_TITLE_ID)}).after_id == MAX_TITLE_ID


@pytest.mark.parametrize("cursor", [str(MAX_TITLE_ID + 1), "-1", "12a", "1" * 11])
def test_a_cursor_that_no_page_ends_with_is_refused(cursor: str) -> None:
    with pytest.raises(ValidationError) as err:
        CatalogueQuery.model_validate({"cursor": cursor})
    assert broken_fields(err.value) == {"cursor"}
