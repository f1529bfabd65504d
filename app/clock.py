"""The one way the system reads the time and writes it down: aware UTC, ISO 8601 with ``Z``."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utc_now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in UTC, the default start of a subscription."""
    return utc_now().date()


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """``moment`` as ISO 8601 in UTC with microseconds and a ``Z``: one fixed width,
    so timestamps sort as text (Elasticsearch, logs) exactly as they sort in time."""
    return as_utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


def iso_now() -> str:
    """The current instant as :func:`iso_utc` writes it."""
    return iso_utc(utc_now())
