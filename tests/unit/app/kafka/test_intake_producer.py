"""app.kafka.intake_producer's pure parts: its librdkafka configuration keeps the 202's promise,
and each delivery report settles the request awaiting it once."""

from __future__ import annotations

import asyncio
from collections import deque

import pytest
from confluent_kafka import KafkaError

from app.kafka.intake_producer import DeliveryFailed, Report, producer_config, settle_reports
from app.settings import get_settings


def test_every_record_waits_for_the_in_sync_replicas_and_is_written_once_where_faust_puts_it() -> (
    None
):
    config = producer_config(get_settings())

    assert config["acks"] == "all"
    assert config["enable.idempotence"] is True
    # Java's partitioner, which aiokafka's default (and so Faust's) also is.
    assert config["partitioner"] == "murmur2_random"
    assert config["linger.ms"] == get_settings().producer_linger_ms


async def test_each_report_settles_its_request_with_the_error_if_any() -> None:
    loop = asyncio.get_running_loop()
    delivered, refused = loop.create_future(), loop.create_future()
    error = KafkaError(KafkaError.NOT_ENOUGH_REPLICAS)
    reports: deque[Report] = deque([(delivered, None), (refused, error)])

    settle_reports(reports)

    assert not reports
    assert delivered.result() is None
    with pytest.raises(DeliveryFailed, match="(?i)replicas"):
        refused.result()


async def test_a_report_for_a_request_that_gave_up_is_dropped() -> None:
    gave_up = asyncio.get_running_loop().create_future()
    gave_up.cancel()
    reports: deque[Report] = deque([(gave_up, None)])

    settle_reports(reports)

    assert not reports and gave_up.cancelled()
