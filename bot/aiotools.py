"""Small asyncio helpers shared by the background loops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def wait_any(*events: asyncio.Event, timeout: float) -> None:
    """Sleep until one of the events is set or the timeout passes, whichever is first."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


async def retry(
    attempt: Callable[[], Awaitable[None]],
    *,
    stopped: Callable[[], bool],
    failed: Callable[[Exception, float], float],
    first_delay: float = 0.5,
    max_delay: float = 30.0,
) -> bool:
    """Run `attempt` until it succeeds (True) or `stopped()` says to give up (False), for the connections that must
    come back by themselves after a database outage. After each failure, `failed(error, backoff)` logs it and
    returns how long to wait: the backoff (0.5 s doubling to 30 s) or a figure of its own."""
    delay = first_delay
    while not stopped():
        try:
            await attempt()
        except Exception as exc:
            wait = failed(exc, delay)
            await asyncio.sleep(wait)
            if wait == delay:
                delay = min(delay * 2, max_delay)
            continue
        return True
    return False
