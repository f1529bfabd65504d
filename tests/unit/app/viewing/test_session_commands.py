"""NewSession, SessionQuery and session ids: the rules of the ``/sessoes`` paths."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.requests.fields import MAX_USER_ID
from app.viewing.session_commands import (
    DEMO_SESSION_FIELDS,
    NewSession,
    SessionQuery,
    session_user_id,
)
from demo.people import demo_session_fields

UUID = "01a222cc-d2dd-7673-9115-162d98e7896f"


def broken_fields(exc: ValidationError) -> set[str]:
    return {".".join(map(str, e["loc"])) or "corpo" for e in exc.errors()}


@pytest.mark.parametrize(
    ("user_id", "session_id"), [(7, f"7-{UUID}"), (MAX_USER_ID, f"{MAX_USER_ID}-{UUID}")]
)
def test_a_session_id_names_its_user(user_id: int, session_id: str) -> None:
    assert session_user_id(session_id) == user_id


@pytest.mark.parametrize(
    "session_id",
    [
        UUID,
        f"07-{UUID}",
        f"0-{UUID}",
        f"{MAX_USER_ID + 1}-{UUID}",
        f"7-{UUID.upper()}",
        f"7-{UUID}\n",
        f"7_{UUID}",
        f"7-{UUID[:-1]}",
        f"-7-{UUID}",
        "7",
        "",
    ],
)
def test_anything_else_is_not_a_session_id(session_id: str) -> None:
    with pytest.raises(ValueError):
        session_user_id(session_id)


def test_a_new_session_takes_a_user_a_device_and_a_place() -> None:
    session = NewSession(user_id="12", dispositivo="Smart TV", localizacao="  São Paulo, SP ")
    assert (session.user_id, session.localizacao) == (12, "São Paulo, SP")


def test_a_new_session_lists_every_broken_field_and_unknown_ones() -> None:
    with pytest.raises(ValidationError) as err:
        NewSession.model_validate(
            {"user_id": 0, "dispositivo": "Geladeira", "localizacao": "x" * 101, "tela": 2}
        )
    assert broken_fields(err.value) == {"user_id", "dispositivo", "localizacao", "tela"}


def test_a_new_session_needs_a_user() -> None:
    with pytest.raises(ValidationError) as err:
        NewSession.model_validate(demo_session_fields())
    assert broken_fields(err.value) == {"user_id"}


def test_demo_values_fill_exactly_the_fields_the_spec_leaves_optional() -> None:
    fields = demo_session_fields()
    assert set(fields) == set(DEMO_SESSION_FIELDS)
    assert NewSession.model_validate({"user_id": 1, **fields}).dispositivo == fields["dispositivo"]
    assert NewSession.model_json_schema()["required"] == ["user_id"]


@pytest.mark.parametrize(
    ("given", "active_only"), [({}, True), ({"ativas_apenas": "false"}, False)]
)
def test_the_listing_shows_active_sessions_unless_told_otherwise(
    given: dict[str, str], active_only: bool
) -> None:
    assert SessionQuery.model_validate(given).ativas_apenas is active_only


def test_the_listing_refuses_unknown_parameters_and_non_booleans() -> None:
    with pytest.raises(ValidationError) as err:
        SessionQuery.model_validate({"ativas_apenas": "talvez", "limit": "3"})
    assert broken_fields(err.value) == {"ativas_apenas", "limit"}
