"""When each feed is next checked and what one check changes on it: pure arithmetic over times and plain data,
so tests set the clock instead of sleeping, and the poller only hands the outcome to ``Store.apply_outcome``."""

from __future__ import annotations

import hashlib

from bot.models import Feed
from bot.store.records import FeedOutcome


def phase(url: str) -> float:
    """A stable fraction in [0, 1) per feed, so feeds added together spread over their interval."""
    return int.from_bytes(hashlib.blake2b(url.encode(), digest_size=4).digest(), "big") / 2**32


def next_check_after_success(now: float, interval: int, url: str) -> float:
    """The next slot on this feed's own phase at least half an interval away.

    Anchoring to a per-feed phase (instead of `now + interval`) keeps a thousand feeds added in one minute from
    staying bunched forever: after their first check they fall into evenly spread slots.
    """
    offset = phase(url) * interval
    slot = (now - offset) // interval * interval + offset
    while slot <= now + interval / 2:
        slot += interval
    return slot


def next_check_after_failure(
    now: float, interval: int, error_count: int, max_backoff: int, retry_after: float | None = None
) -> float:
    """Exponential backoff from the feed's interval, capped; a server's Retry-After wins when it is longer."""
    delay = min(interval * 2 ** max(0, error_count - 1), max_backoff)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_backoff))
    return float(now + max(delay, 1.0))


def disable_reason(error_count: int, limit: int, last_error: str, gone: bool) -> str | None:
    if gone:
        return f"the server says the feed is gone ({last_error})"
    if error_count >= limit:
        return f"failed {error_count} times in a row; last error: {last_error}"
    return None


def after_fetch(
    feed: Feed,
    *,
    now: float,
    took: float,
    title: str,
    etag: str | None,
    last_modified: str | None,
    moved_to: str | None,
) -> FeedOutcome:
    """A document was read: validators replaced, errors cleared, the feed initialized, next slot on its phase."""
    return FeedOutcome(
        checked_at=now,
        next_check=next_check_after_success(now, feed.interval, feed.url),
        took=took,
        error_count=0,
        last_error=None,
        disabled_reason=None,
        title=title,
        etag=etag,
        last_modified=last_modified,
        initialized=True,
        moved_to=moved_to,
    )


def after_not_modified(feed: Feed, *, now: float, took: float) -> FeedOutcome:
    """304: nothing changes but the time, and the feed is healthy again."""
    return FeedOutcome(
        checked_at=now,
        next_check=next_check_after_success(now, feed.interval, feed.url),
        took=took,
        error_count=0,
        last_error=None,
        disabled_reason=None,
        title=feed.title,
        etag=feed.etag,
        last_modified=feed.last_modified,
        initialized=feed.initialized,
    )


def after_failure(
    feed: Feed,
    *,
    now: float,
    took: float,
    error: str,
    limit: int,
    max_backoff: int,
    retry_after: float | None = None,
    gone: bool = False,
) -> FeedOutcome:
    """One more failure in a row: back off (Retry-After honoured), and disable after `limit` or on 410 Gone."""
    count = feed.error_count + 1
    return FeedOutcome(
        checked_at=now,
        took=took,
        error_count=count,
        last_error=error[:500],
        next_check=next_check_after_failure(now, feed.interval, count, max_backoff, retry_after),
        disabled_reason=disable_reason(count, limit, error, gone),
        title=feed.title,
        etag=feed.etag,
        last_modified=feed.last_modified,
        initialized=feed.initialized,
    )
