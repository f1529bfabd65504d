"""app.telemetry.logging_setup: JSON and text lines carrying the bound correlation id."""

from __future__ import annotations

import asyncio
import logging

import orjson

from app.telemetry import logging_setup


def record(message: str = "hello", **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("web.test", logging.INFO, __file__, 1, message, None, None)
    entry.__dict__.update(extra)
    logging_setup.CorrelationFilter().filter(entry)
    return entry


def test_json_line_has_level_logger_message_and_extras() -> None:
    line = orjson.loads(logging_setup.JsonFormatter().format(record(http_status=202)))
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "web.test", "hello")
    assert line["http_status"] == 202
    assert "correlation_id" not in line


def test_bound_correlation_id_is_on_every_line() -> None:
    token = logging_setup.bind_correlation_id("01a2-cid")
    try:
        assert (
            orjson.loads(logging_setup.JsonFormatter().format(record()))["correlation_id"]
            == "01a2-cid"
        )
        assert logging_setup.TextFormatter().format(record()).endswith("correlation_id=01a2-cid")
    finally:
        logging_setup.unbind_correlation_id(token)
    assert logging_setup.current_correlation_id() is None


async def test_binding_stays_inside_its_task() -> None:
    async def request(cid: str) -> str | None:
        logging_setup.bind_correlation_id(cid)
        await asyncio.sleep(0)
        return logging_setup.current_correlation_id()

    assert await asyncio.gather(request("a"), request("b")) == ["a", "b"]
    assert logging_setup.current_correlation_id() is None


def test_a_lone_event_binds_its_id_a_batch_does_not() -> None:
    token = logging_setup.bind_correlation_id(None)
    try:
        logging_setup.bind_event_correlation_id([b'{"correlation_id": "abc"}'])
        assert logging_setup.current_correlation_id() == "abc"
        logging_setup.bind_event_correlation_id([b'{"correlation_id": "abc"}', b"{}"])
        assert logging_setup.current_correlation_id() is None
        logging_setup.bind_event_correlation_id([b"not json"])
        assert logging_setup.current_correlation_id() is None
    finally:
        logging_setup.unbind_correlation_id(token)


def test_logging_config_merges_into_the_workers() -> None:
    config = logging_setup.logging_config("json")
    assert config["merge"] is True
    assert config["formatters"]["app"]["()"] is logging_setup.JsonFormatter
    assert config["handlers"]["default"]["filters"] == ["correlation"]
