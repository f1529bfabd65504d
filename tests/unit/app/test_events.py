"""Event wire format: the contract's flat JSON, validated on the way in."""

from decimal import Decimal

import orjson
import pytest

from app.events import (
    PaymentMade,
    PreferencesUpdated,
    decode_user_event,
    encode_event,
    refusal_response,
    response_event,
)
from app.models import Preferences

CID = "01a222cc-d2dd-7673-9115-162d98e7896f"


def test_event_is_flat_json_with_the_contract_envelope() -> None:
    event = PaymentMade(correlation_id=CID, user_id=7, valor=Decimal("10.5"), forma_pagamento="Pix")
    fields = orjson.loads(encode_event(event))
    assert fields["event_type"] == "pagamento_realizado"
    assert {"correlation_id", "timestamp", "source", "target", "user_id", "valor"} <= set(fields)
    assert fields["timestamp"].endswith("Z")


def test_encoded_events_decode_to_equal_events() -> None:
    event = PreferencesUpdated(correlation_id=CID, user_id=3, preferencias=Preferences())
    assert decode_user_event(encode_event(event)) == event


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"event_type": "apagar_tudo", "correlation_id": "%s", "user_id": 1}' % CID.encode(),
        (
            b'{"event_type": "pagamento_realizado", "correlation_id": "x", "user_id": 1,'
            b' "valor": 1, "forma_pagamento": "Pix"}'
        ),
        (
            b'{"event_type": "pagamento_realizado", "correlation_id": "%s", "user_id": "one",'
            b' "valor": 1, "forma_pagamento": "Pix"}'
        )
        % CID.encode(),
    ],
)
def test_unusable_events_are_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        decode_user_event(raw)


def test_response_nests_request_fields_so_payment_status_cannot_clash() -> None:
    event = PaymentMade(correlation_id=CID, user_id=7, valor=Decimal("10.5"), forma_pagamento="Pix")
    response = response_event(event, "error", "Usuário 7 não encontrado")
    assert response["status"] == "error"
    assert response["dados"]["status"] == "aprovado"
    assert response["original_event_type"] == "pagamento_realizado"
    assert response["request_timestamp"].endswith("Z")


def test_refusal_answers_only_events_naming_a_correlation_id() -> None:
    refused = refusal_response(b'{"correlation_id": "%s", "user_id": 4}' % CID.encode(), "bad")
    assert refused is not None
    assert (refused["status"], refused["user_id"]) == ("error", 4)
    assert refusal_response(b"garbage", "bad") is None
    assert refusal_response(b'{"correlation_id": 12}', "bad") is None
