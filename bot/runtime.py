"""Owns the long-lived resources (database, HTTP session) and runs the loops; shared by dry run and Discord.

One ``async with`` opens and closes everything, in the style of discord.py's advanced startup example, so a Ctrl-C
or SIGTERM at any point closes the database cleanly and leaves undelivered posts pending for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver

from bot.articles import ArticleBuilder
from bot.config import Config
from bot.deliver import Deliverer, Notify, Sink
from bot.fetch import Fetcher
from bot.poll import DiscoveryError, Poller, discover
from bot.store import Store
from bot.workers import Workers

log = logging.getLogger(__name__)


@dataclass
class Services:
    config: Config
    store: Store
    fetcher: Fetcher
    builder: ArticleBuilder
    workers: Workers
    clock: Callable[[], float]

    def poller(self, on_queued: Callable[[], None] | None = None) -> Poller:
        return Poller(self.store, self.fetcher, self.config, self.builder, self.workers, clock=self.clock,
                      on_queued=on_queued)

    def deliverer(self, sink: Sink, notify: Notify | None = None) -> Deliverer:
        return Deliverer(self.store, sink, self.config.delivery, clock=self.clock, notify=notify)


@contextlib.asynccontextmanager
async def open_services(config: Config, *, resolver: AbstractResolver | None = None,
                        clock: Callable[[], float] = time.time) -> AsyncIterator[Services]:
    async with Store.open(config.database_path) as store, Fetcher.open(config, resolver) as fetcher:
        workers = Workers(config.bot.workers)
        builder = ArticleBuilder(fetcher, config.articles, workers)
        # Everything imported and built so far lives as long as the process: freezing it keeps the collector from
        # re-walking it on every full collection (measured: 69 ms gen-2 pauses during a cold round otherwise).
        gc.freeze()
        # lxml and sqlite3 release the GIL around C work; with worker threads busy, the event loop then waits up to
        # the switch interval to get it back, once per call (measured: 100+ ms stalls in a cold round at 5 ms).
        sys.setswitchinterval(0.001)
        try:
            yield Services(config, store, fetcher, builder, workers, clock)
        finally:
            workers.close()


async def sync_config_feeds(services: Services) -> int:
    """Subscriptions named in the config file exist in the store (added, never removed: admins own the rest)."""
    added = 0
    now = services.clock()
    for entry in services.config.feeds:
        url = entry.url
        if await services.store.feed_by_url(url) is None:
            try:  # a page URL in the config is resolved to its feed, as `/feed add` does
                url = (await discover(services.fetcher, url, max_items=services.config.polling.max_items)).url
            except DiscoveryError as exc:
                log.error("config feed %s: %s", entry.url, exc)
                continue
        feed = await services.store.ensure_feed(url, services.config.polling.default_interval, now)
        sub = await services.store.subscribe(feed, entry.guild_id, entry.channel_id, now=now,
                                             initial_posts=services.config.polling.initial_posts)
        added += sub is not None
    return added


async def run_loops(services: Services, sink: Sink, stop: asyncio.Event, notify: Notify | None = None,
                    poller: Poller | None = None, deliverer: Deliverer | None = None) -> None:
    """Poll and deliver until `stop` is set; each loop survives its own errors."""
    deliverer = deliverer or services.deliverer(sink, notify)
    poller = poller or services.poller(on_queued=deliverer.wake.set)
    tasks = [asyncio.create_task(poller.run_forever(stop), name="poll"),
             asyncio.create_task(deliverer.run_forever(stop), name="deliver")]
    try:
        await stop.wait()
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_round(services: Services, sink: Sink) -> tuple[int, int]:
    """One poll round and a full drain of the outbox: the dry run's `--once` and the demo."""
    stats = await services.poller().run_once()
    deliverer = services.deliverer(sink)
    sent = 0
    while True:
        batch = await deliverer.run_once()
        if not batch:
            break
        sent += batch
    for url, reason in stats.errors.items():
        log.warning("feed %s: %s", url, reason)
    return stats.checked, sent
