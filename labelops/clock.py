"""The current time as the database stores it (naive UTC), and how the API writes a time."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Returns the current time in UTC (naive, as stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(value: datetime | None) -> str | None:
    """Returns a naive-UTC time as ISO 8601 with a Z (Label Studio's JSON), or None."""
    return value.isoformat() + "Z" if value is not None else None
