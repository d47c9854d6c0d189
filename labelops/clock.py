"""The current time as the database stores it: naive UTC."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Returns the current time in UTC (naive, as stored)."""
    return datetime.now(UTC).replace(tzinfo=None)
