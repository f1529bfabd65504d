"""``make chaos`` at small size: every fault scenario, audited.

Each test runs one scenario of :mod:`chaos.scenarios` on topics and a consumer
group of its own, with a real worker process, against the real services (which
it stops and starts: run them alone, not beside another suite). ``make test``
runs the quick ones (a worker crash, PostgreSQL and Kafka down, poison events,
sign-ups sent twice) and the two that once showed Faust dropping records (a
worker joining then killed, two of three killed at once); the slow ones are marked
``extended`` and left to ``make chaos`` (every scenario at full size) and to
``pytest -m extended`` (these tests). The broker-loss scenario starts a
three-broker cluster of its own when the stack has one broker
(:mod:`chaos.cluster`).
"""

from __future__ import annotations

import asyncio

import pytest

from chaos import scenarios
from chaos.run import table
from chaos.stage import Options, Row

pytestmark = [pytest.mark.integration, pytest.mark.disruptive, pytest.mark.timeout(240)]

#: Slow enough (40 s to 2.5 min each here) to be left out of ``make test``.
extended = pytest.mark.extended

SMALL = Options(n=100, pg_outage_s=5.0, es_outage_s=3.0, fuzz_examples=5, audit_timeout_s=90.0)


def _check(row: Row) -> None:
    """Nothing lost, nothing doubled, every status final, every scenario check true."""
    print(table([row]))  # shown by pytest when the test fails
    verdict = row.verdict
    assert verdict.accepted > 0
    assert verdict.lost_count == 0, verdict.lost[:10]
    assert verdict.doubled_count == 0, verdict.doubled[:10]
    assert verdict.all_final, dict(verdict.statuses)
    assert verdict.fallback_bytes == 0
    assert all(row.checks.values()), row.checks


def test_a_worker_killed_mid_load_and_restarted_loses_and_doubles_nothing() -> None:
    _check(asyncio.run(scenarios.worker_crash(SMALL)))


def test_postgresql_down_under_load_delays_effects_without_losing_them() -> None:
    _check(asyncio.run(scenarios.postgres_outage(SMALL)))


@extended
def test_elasticsearch_down_under_load_logs_every_event_once_through_the_fallback_file() -> None:
    _check(asyncio.run(scenarios.elasticsearch_outage(SMALL)))


def test_kafka_restart_answers_quick_503s_and_keeps_every_accepted_request() -> None:
    _check(asyncio.run(scenarios.kafka_restart(SMALL)))


def test_final_statuses_read_through_a_rebalance_survivor_answer_within_a_second() -> None:
    _check(asyncio.run(scenarios.rebalance(SMALL)))


def test_poison_events_become_dead_letters_and_the_stream_goes_on() -> None:
    _check(asyncio.run(scenarios.poison_events(SMALL)))


@extended
def test_fuzzing_the_api_from_its_openapi_spec_finds_no_5xx_no_undocumented_answer_no_crash() -> (
    None
):
    _check(asyncio.run(scenarios.fuzz_api(SMALL)))


@extended
def test_a_broker_of_three_killed_under_load_refuses_loses_and_doubles_nothing() -> None:
    _check(asyncio.run(scenarios.broker_loss(SMALL)))


def test_two_of_three_workers_killed_at_once_lose_and_double_nothing() -> None:
    _check(asyncio.run(scenarios.two_workers_killed(SMALL)))


@extended
def test_elasticsearch_disk_full_logs_every_event_once_through_the_fallback_file() -> None:
    _check(asyncio.run(scenarios.elasticsearch_disk_full(SMALL)))


def test_a_sign_up_sent_twice_with_one_idempotency_key_answers_one_user_id() -> None:
    _check(asyncio.run(scenarios.signups_sent_twice(SMALL)))


@extended
def test_people_erased_under_load_across_a_crash_leave_no_trace() -> None:
    _check(asyncio.run(scenarios.erasures_across_a_crash(SMALL)))
