"""The soak's retention: overridable, checked against the rolling audit, and the bounds it implies."""

from __future__ import annotations

import pytest

from chaos.soak_retention import (
    SOAK_RETENTION,
    SoakRetention,
    check_audit_fits,
    evidence_kept_s,
    index_bound,
    row_bound,
)

DEFAULT = SoakRetention.from_environment({})


def test_the_default_is_the_docs_soak_retention_and_the_environment_overrides_it() -> None:
    assert dict(DEFAULT.env) == SOAK_RETENTION
    shorter = SoakRetention.from_environment({"LEDGER_MARGIN_HOURS": "0.01", "OTHER": "x"})
    assert shorter.env["LEDGER_MARGIN_HOURS"] == "0.01"
    assert "OTHER" not in shorter.env


def test_the_default_retention_outlives_the_default_audit_slices() -> None:
    # ledger 0.35 h = 1260 s, log 0.02 d = 1728 s, Kafka 900 s
    check_audit_fits(DEFAULT, lag_s=120, every_s=120)


def test_a_ledger_kept_shorter_than_twice_a_slices_age_is_refused() -> None:
    # 0.02 + 0.005 + 0.005 h = 108 s, under 2 x (30 + 30) s
    short = SoakRetention.from_environment(
        {
            "EVENT_RETENTION_HOURS": "0.02",
            "EVENT_SEGMENT_HOURS": "0.005",
            "LEDGER_MARGIN_HOURS": "0.005",
        }
    )
    with pytest.raises(ValueError, match="the ledger"):
        check_audit_fits(short, lag_s=30, every_s=30)


def test_kafka_must_keep_an_event_twice_the_time_between_reads_of_the_topic() -> None:
    with pytest.raises(ValueError, match="Kafka"):
        check_audit_fits(DEFAULT, lag_s=10, every_s=500)


def test_an_event_log_kept_too_briefly_is_refused() -> None:
    short = SoakRetention.from_environment({"LOG_RETENTION_DAYS": "0.001"})  # 86.4 s
    with pytest.raises(ValueError, match="event log"):
        check_audit_fits(short, lag_s=30, every_s=30)


def test_rows_are_bounded_by_the_rate_over_a_retention_and_an_interval() -> None:
    # 200/s x (1260 + 30) s x 1.2
    assert row_bound(DEFAULT, 200) == 309_600


def test_indices_are_bounded_by_the_periods_a_retention_and_an_interval_span() -> None:
    # hourly indices, 1728 + 30 s: one period, plus the current one
    assert index_bound(DEFAULT) == 2
    daily_week = SoakRetention.from_environment(
        {"LOG_INDEX_HOURS": "24", "LOG_RETENTION_DAYS": "7", "RETENTION_INTERVAL_S": "300"}
    )
    assert index_bound(daily_week) == 9


def test_the_audit_may_reach_a_request_until_the_first_of_its_ledger_row_or_document_goes() -> None:
    retention = SoakRetention.from_environment({"LOG_RETENTION_DAYS": "0.005"})  # 432 s
    assert evidence_kept_s(retention) == pytest.approx(432.0)
    assert evidence_kept_s(SoakRetention.from_environment({})) == pytest.approx(0.35 * 3600)
