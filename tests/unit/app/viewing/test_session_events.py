"""Session events: the contract's flat JSON on ``session_events``, keyed and named by user."""

from __future__ import annotations

import orjson
import pytest

from app.requests.envelope import encode_event
from app.requests.outcomes import response_event
from app.viewing.session_commands import (
    SessionActivity,
    SessionEnded,
    SessionOpened,
    decode_session_event,
    session_id_of,
)

CID = "01a222cc-d2dd-7673-9115-162d98e7896f"
OTHER_CID = "01a222cc-d2dd-7673-9115-162d98e78970"


def opened(user_id: int = 9, correlation_id: str = CID) -> SessionOpened:
    return SessionOpened(
        correlation_id=correlation_id,
        user_id=user_id,
        session_id=session_id_of(user_id, correlation_id),
        dispositivo="iOS",
        localizacao="Natal, RN",
    )


def test_each_session_event_round_trips_as_flat_json() -> None:
    session_id = session_id_of(9, CID)
    events = [
        opened(),
        SessionActivity(correlation_id=OTHER_CID, user_id=9, session_id=session_id),
        SessionEnded(correlation_id=OTHER_CID, user_id=9, session_id=session_id),
    ]
    for event in events:
        fields = orjson.loads(encode_event(event))
        assert fields["session_id"] == session_id
        assert decode_session_event(encode_event(event)) == event
    assert [e.event_type for e in events] == [
        "iniciar_sessao",
        "registrar_atividade",
        "encerrar_sessao",
    ]


def test_an_opened_session_is_named_by_its_user_and_its_request() -> None:
    assert opened().session_id == f"9-{CID}"
    raw = encode_event(opened()).replace(CID.encode(), OTHER_CID.encode(), 1)
    with pytest.raises(ValueError, match="session_id"):
        decode_session_event(raw)


@pytest.mark.parametrize("kind", [SessionActivity, SessionEnded])
def test_a_command_on_another_users_session_is_invalid(
    kind: type[SessionActivity | SessionEnded],
) -> None:
    with pytest.raises(ValueError, match="user_id"):
        kind(correlation_id=OTHER_CID, user_id=10, session_id=session_id_of(9, CID))


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"event_type": "criar_usuario", "correlation_id": "%s", "user_id": 1}' % CID.encode(),
        b'{"event_type": "encerrar_sessao", "correlation_id": "%s", "user_id": 1}' % CID.encode(),
    ],
)
def test_unusable_session_events_are_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        decode_session_event(raw)


def test_the_outcome_repeats_the_session_fields() -> None:
    response = response_event(opened(), "error", "Usuário sem assinatura ativa")
    assert response["original_event_type"] == "iniciar_sessao"
    assert response["dados"] == {
        "dispositivo": "iOS",
        "localizacao": "Natal, RN",
        "session_id": f"9-{CID}",
    }
