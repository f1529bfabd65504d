"""The pure helpers of the PostgreSQL service."""

from __future__ import annotations

import pytest

from app.storage.catalogue import contains_pattern


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("verão", "%verão%"),
        ("100%", "%100\\%%"),
        ("a_b", "%a\\_b%"),
        ("c:\\filmes", "%c:\\\\filmes%"),
    ],
)
def test_search_text_matches_anywhere_with_its_wildcards_taken_literally(
    text: str, pattern: str
) -> None:
    assert contains_pattern(text) == pattern
