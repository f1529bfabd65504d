"""Event wire format (the contract's flat JSON, validated on the way in) and signed correlation ids."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
import pytest
from pydantic import ValidationError

from app.accounts.commands import PaymentMade, Preferences, PreferencesUpdated, decode_user_event
from app.requests.envelope import (
    SCHEMA_VERSION,
    CorrelationIds,
    check_uuid,
    encode_event,
    is_derived,
    issued_at,
    replays_in,
)
from app.requests.outcomes import refusal_response, response_event

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


def test_every_event_and_outcome_carries_the_schema_version_it_was_written_in() -> None:
    event = PaymentMade(correlation_id=CID, user_id=7, valor=Decimal(1), forma_pagamento="Pix")
    assert orjson.loads(encode_event(event))["schema_version"] == SCHEMA_VERSION
    assert response_event(event, "success", "ok")["schema_version"] == SCHEMA_VERSION
    refused = refusal_response(b'{"correlation_id": "%s"}' % CID.encode(), "bad")
    assert refused is not None and refused["schema_version"] == SCHEMA_VERSION


def test_an_event_without_a_schema_version_reads_as_version_1() -> None:
    fields = {"event_type": "atualizar_config", "correlation_id": CID, "user_id": 3}
    fields["preferencias"] = {"idioma": "pt-BR", "notificacoes": True}
    assert decode_user_event(orjson.dumps(fields)).schema_version == 1


def test_an_event_of_a_version_newer_than_the_reader_is_refused_with_the_field_named() -> None:
    event = PreferencesUpdated(correlation_id=CID, user_id=3, preferencias=Preferences())
    newer = orjson.loads(encode_event(event)) | {"schema_version": SCHEMA_VERSION + 1}
    with pytest.raises(ValidationError, match="schema_version"):
        decode_user_event(orjson.dumps(newer))


def test_a_replayed_event_hands_its_replay_count_to_its_outcome() -> None:
    event = PaymentMade(
        correlation_id=CID, user_id=7, valor=Decimal(1), forma_pagamento="Pix", replays=2
    )
    assert decode_user_event(encode_event(event)).replays == 2
    assert response_event(event, "success", "ok")["replays"] == 2
    raw = b'{"correlation_id": "%s", "replays": 3}' % CID.encode()
    refused = refusal_response(raw, "bad")
    assert refused is not None and refused["replays"] == 3
    assert replays_in({"replays": True}) == replays_in({"replays": -1}) == replays_in([]) == 0


def test_issued_ids_are_uuid7_and_verify() -> None:
    ids = CorrelationIds("secret")
    value = ids.issue("alice")
    assert uuid.UUID(value).version == 7
    assert ids.is_issued(value, "alice")


def test_ids_signed_with_another_secret_or_altered_do_not_verify() -> None:
    value = CorrelationIds("secret").issue("alice")
    altered = value[:-1] + ("0" if value[-1] != "0" else "1")
    assert not CorrelationIds("other").is_issued(value, "alice")
    assert not CorrelationIds("secret").is_issued(altered, "alice")


def test_random_uuids_and_garbage_do_not_verify() -> None:
    ids = CorrelationIds("secret")
    assert not ids.is_issued(str(uuid.uuid4()), "alice")
    assert not ids.is_issued("not-a-uuid", "alice")
    assert not ids.is_issued("", "alice")


def test_issue_time_is_read_back_from_the_id() -> None:
    value = CorrelationIds("secret").issue("alice")
    assert abs(issued_at(value) - datetime.now(UTC)) < timedelta(seconds=2)


def test_only_an_id_derived_from_an_idempotency_key_reads_as_derived() -> None:
    ids = CorrelationIds("secret")
    assert is_derived(ids.derive("alice", "pedido-1"))
    assert not is_derived(ids.issue("alice"))


def test_ids_are_unique_even_when_many_share_a_millisecond() -> None:
    ids = CorrelationIds("secret")
    assert len({ids.issue("alice") for _ in range(200_000)}) == 200_000


def test_uppercase_spelling_of_an_id_is_not_the_issued_id() -> None:
    ids = CorrelationIds("secret")
    assert not ids.is_issued(ids.issue("alice").upper(), "alice")


def test_an_id_verifies_only_for_the_caller_it_was_issued_to() -> None:
    ids = CorrelationIds("secret")
    value = ids.issue("alice")
    assert ids.is_issued(value, "alice")
    assert not ids.is_issued(value, "bob")


def test_derived_ids_repeat_for_one_caller_and_key_and_verify() -> None:
    ids = CorrelationIds("secret")
    first = ids.derive("alice", "pedido-42")
    assert ids.derive("alice", "pedido-42") == first
    assert uuid.UUID(first).version == 8
    assert ids.is_issued(first, "alice")
    assert not ids.is_issued(first, "bob")
    assert ids.derive("bob", "pedido-42") != first
    assert ids.derive("alice", "pedido-43") != first
    assert issued_at(first) is None


def test_ids_are_written_and_checked_in_exactly_uuids_canonical_form() -> None:
    ids = CorrelationIds("secret")
    for value in [ids.issue("alice") for _ in range(500)] + [
        ids.derive("a", str(n)) for n in range(500)
    ]:
        assert str(uuid.UUID(value)) == value
        assert check_uuid(value) == value
        assert is_derived(value) == (uuid.UUID(value).version == 8)
    canonical = str(uuid.uuid4())
    for spelling in (
        canonical.upper(),
        canonical.replace("-", ""),
        f"{{{canonical}}}",
        f"urn:uuid:{canonical}",
        canonical + "\n",
        " " + canonical,
        "",
    ):
        with pytest.raises(ValueError):
            check_uuid(spelling)
