"""Adminer as the stack serves it (``python3 -m stack up``): its address and its forms."""

from __future__ import annotations

import os
from html.parser import HTMLParser

#: Where the stack's Adminer listens (ADMINER_PORT, as the stack tool reads it).
ADMINER_URL = f"http://127.0.0.1:{os.environ.get('ADMINER_PORT', '8081')}"

#: The database Adminer opens on: the stack's (``make test`` points the app, through
#: POSTGRES_DB, at a database of its own, and names the stack's in STACK_POSTGRES_DB).
STACK_DB = os.environ.get("STACK_POSTGRES_DB", os.environ.get("POSTGRES_DB", "streaming_db"))


class _Forms(HTMLParser):
    """Collects every form's fields: named inputs, selects with their chosen option."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append({})
        elif tag == "input" and "name" in attr and self.forms:
            # A browser sends checked boxes only (and the submit button pressed).
            if attr.get("type") != "checkbox" or "checked" in attr:
                self.forms[-1][attr["name"]] = attr.get("value", "")
        elif tag == "select" and self.forms:
            self._select = attr.get("name")
        elif tag == "option" and self._select and "selected" in attr:
            self.forms[-1][self._select] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def forms(html: str) -> list[dict[str, str]]:
    """The fields (name -> value) of every form of a page, in page order."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_with(html: str, field: str) -> dict[str, str]:
    """The fields of the first form that has `field`."""
    for found in forms(html):
        if field in found:
            return found
    raise AssertionError(f"no form with {field!r} on the page")


def listed_tables(html: str) -> set[str]:
    """Tables of the database page (its `tables[]` checkboxes)."""
    parser = _Checkboxes()
    parser.feed(html)
    return parser.tables


class _Checkboxes(HTMLParser):
    """Values of the `tables[]` checkboxes of Adminer's table list."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "input" and attr.get("name") == "tables[]" and attr.get("value"):
            self.tables.add(str(attr["value"]))
