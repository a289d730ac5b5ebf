"""Timestamps read from feeds and pages, as aware UTC datetimes, or None when the value is not a real date.

Publishers fill empty date fields with placeholders: ``0001-01-01T00:00:00Z`` (a .NET/Go zero value, seen in
USA Today's JSON-LD among the dev pages), the Unix epoch, a year 9999. Taken at face value they show as a post's
date, sort the article last in `/news latest` and make a backfill skip it as too old, so they count as no date:
the next source of the date is used instead (the page when the feed had none, htmldate when the page's markup had
none). The bounds are wide on purpose; anything a newsroom could mean lies between them.
"""

from __future__ import annotations

from datetime import UTC, datetime

EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)  # before: the epoch (1970-01-01) and year-one placeholders
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # after: 9999-12-31 and other "never" values


def plausible(moment: datetime | None) -> datetime | None:
    return moment if moment is not None and EARLIEST <= moment < LATEST else None


def iso_time(value: object) -> datetime | None:
    """ISO 8601 text (``Z`` allowed; no offset means UTC) to UTC, or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return plausible((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC))
    except (ValueError, OverflowError):  # OverflowError: year 1 with a positive offset is before year 1 in UTC
        return None


def epoch_time(seconds: float) -> datetime | None:
    try:
        return plausible(datetime.fromtimestamp(seconds, UTC))
    except (OverflowError, ValueError, OSError):
        return None
