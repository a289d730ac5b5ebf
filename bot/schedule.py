"""When each feed is next checked: pure arithmetic over times, so tests set the clock instead of sleeping."""

from __future__ import annotations

import hashlib


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


def next_check_after_failure(now: float, interval: int, error_count: int, max_backoff: int,
                             retry_after: float | None = None) -> float:
    """Exponential backoff from the feed's interval, capped; a server's Retry-After wins when it is longer."""
    delay = min(interval * 2 ** max(0, error_count - 1), max_backoff)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_backoff))
    return now + max(delay, 1.0)


def disable_reason(error_count: int, limit: int, last_error: str, gone: bool) -> str | None:
    if gone:
        return f"the server says the feed is gone ({last_error})"
    if error_count >= limit:
        return f"failed {error_count} times in a row; last error: {last_error}"
    return None
