"""The status table's transitions: absent -> final, and final never changes."""

from tables.status import may_record, status_from_response

SUCCESS = {"status": "success"}
ERROR = {"status": "error"}


def test_first_outcome_is_recorded() -> None:
    assert may_record(None, SUCCESS)
    assert may_record(None, ERROR)


def test_final_status_is_never_replaced() -> None:
    assert not may_record(SUCCESS, ERROR)
    assert not may_record(ERROR, SUCCESS)
    assert not may_record(SUCCESS, SUCCESS)


def test_non_final_records_are_never_written() -> None:
    assert not may_record(None, {"status": "pendente"})


def test_status_record_keeps_what_clients_read() -> None:
    record = status_from_response(
        {
            "correlation_id": "c",
            "status": "success",
            "message": "ok",
            "original_event_type": "criar_usuario",
            "user_id": 1,
            "request_timestamp": "t0",
            "timestamp": "t1",
            "requested_by": "alice",
        }
    )
    assert record == {
        "correlation_id": "c",
        "status": "success",
        "message": "ok",
        "original_event_type": "criar_usuario",
        "user_id": 1,
        "requested_at": "t0",
        "processed_at": "t1",
        "requested_by": "alice",
    }
