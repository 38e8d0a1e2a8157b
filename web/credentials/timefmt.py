"""XML Schema dateTime as credentials write it: UTC, whole seconds, `Z` (`2026-12-04T18:00:00Z`)."""

from __future__ import annotations

from datetime import UTC, datetime

from .errors import DocumentError


def now() -> datetime:
    """The current time, UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def format_time(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` of an aware datetime (converted to UTC)."""
    if moment.tzinfo is None:
        raise ValueError("a credential time must carry a time zone")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object, what: str = "time") -> datetime:
    """An aware datetime from an XML Schema dateTime with a zone (`Z` or `±hh:mm`)."""
    if not isinstance(text, str):
        raise DocumentError(f"{what} is not a date-time string")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DocumentError(f"{what} {text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise DocumentError(f"{what} {text!r} has no time zone")
    return moment.astimezone(UTC)
