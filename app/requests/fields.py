"""The field rules every request shares: user ids, instants, free text, and the base models.

Client commands and query strings are pydantic models built on :class:`Command`
and :class:`Query`: the HTTP edge parses into them (422 listing each broken
field), the events embed them, and the agents validate what they consume
against them again, so a rule is written once. Each concept's own rules live
beside it (:mod:`app.accounts.commands`, :mod:`app.viewing.titles`, ...).
Field names are the public contract's (Portuguese).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.clock import as_utc

#: Largest user id: integers JavaScript clients hold exactly.
MAX_USER_ID = 2**53 - 1
UserId = Annotated[int, Field(ge=1, le=MAX_USER_ID)]
#: An instant; one without a zone is taken as UTC.
UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
#: Most items one page of any listing holds.
MAX_PAGE_SIZE = 100


def check_printable(value: str) -> str:
    """Text without control characters or lone surrogates (PostgreSQL refuses both)."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError("não pode conter caracteres de controle ou inválidos")
    return value


#: One line of free text (a search, a place): 1-100 printable characters, trimmed.
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(check_printable),
]


class Command(BaseModel):
    """Base of client commands: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Query(Command):
    """Base of query-string models: a blank parameter is an absent one."""

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: object) -> object:
        # An HTML form or a client building URLs sends "q=" for "no filter".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data
