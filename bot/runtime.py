"""Owns the long-lived resources (database, HTTP session, workers) and runs the loops; shared by dry run and Discord.

One ``async with`` opens and closes everything, in the style of discord.py's advanced startup example, so a Ctrl-C
or SIGTERM at any point closes the database cleanly and leaves undelivered posts pending for the next start.

Supervision is decided here, once: a loop that raises (a database outage, a bug in a rule) is logged with its
traceback and restarted after a backoff (1 s doubling to 60 s), so the bot never looks alive while doing nothing.
Process-wide tuning (``tune_process``) is for programs to call, never done by opening services.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver

from bot.aiotools import wait_any
from bot.articles import ArticleBuilder
from bot.config import Config
from bot.deliver import Deliverer, Notify, Sink
from bot.fetch import Fetcher
from bot.llm import LLMSummarizer, open_llm
from bot.metrics import Metrics, serve_metrics
from bot.poll import Poller
from bot.store import ShardSet, Store
from bot.translate import Translations
from bot.usecases import NewsApp
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
    app: NewsApp
    metrics: Metrics
    shards: ShardSet | None = None  # the Discord shards this process posts for (None: every guild)
    llm: LLMSummarizer | None = None  # abstractive summaries and translations, when [summaries] names a model

    def poller(self, on_queued: Callable[[], None] | None = None) -> Poller:
        poller = Poller(
            self.store, self.fetcher, self.config, self.builder, self.workers, clock=self.clock, on_queued=on_queued
        )
        poller.observe = self.metrics.observe_check
        return poller

    def deliverer(self, sink: Sink, notify: Notify | None = None) -> Deliverer:
        return Deliverer(
            self.store,
            sink,
            self.config.delivery,
            clock=self.clock,
            notify=notify,
            shards=self.shards,
            metrics=self.metrics,
            translations=self.app.translations,
        )


def tune_process() -> None:
    """For long-running commands (`run`, benchmarks), after start-up. Everything imported and built so far lives
    as long as the process: freezing it keeps the collector from re-walking it (measured: 69 ms gen-2 pauses in a
    cold round otherwise). lxml and sqlite3 release the GIL around C work; with threads busy, the event loop then
    waits up to the switch interval to get it back, once per call (measured: 100+ ms stalls at 5 ms)."""
    gc.freeze()
    sys.setswitchinterval(0.001)


@contextlib.asynccontextmanager
async def open_services(
    config: Config,
    *,
    resolver: AbstractResolver | None = None,
    clock: Callable[[], float] = time.time,
    shards: ShardSet | None = None,
) -> AsyncIterator[Services]:
    metrics = Metrics()
    async with (
        Store.open(config.database) as store,
        Fetcher.open(config, resolver) as fetcher,
        open_llm(config.summaries, metrics) as llm,
    ):
        workers = Workers(config.bot.workers)
        builder = ArticleBuilder(fetcher, config.articles, workers, llm=llm, store=store, clock=clock)
        translations = Translations(
            store, llm, config.summaries.language, max_chars=config.articles.summary_chars, clock=clock
        )
        app = NewsApp(store, fetcher, builder, config, clock=clock, translations=translations)
        try:
            yield Services(config, store, fetcher, builder, workers, clock, app, metrics, shards, llm)
        finally:
            workers.close()


async def supervise(
    name: str,
    run: Callable[[], Awaitable[None]],
    stop: asyncio.Event,
    *,
    first_delay: float = 1.0,
    max_delay: float = 60.0,
) -> None:
    """Run `run()` until `stop`; if it raises or returns early, log it and start it again after a backoff."""
    delay = first_delay
    while not stop.is_set():
        started = time.monotonic()
        try:
            await run()
            if stop.is_set():
                return
            log.error("the %s loop ended unexpectedly; restarting it in %.0f s", name, delay)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the %s loop failed; restarting it in %.0f s", name, delay)
        if time.monotonic() - started > max_delay:
            delay = first_delay  # it ran fine for a while: this is a new problem, not the same one again
        await wait_any(stop, timeout=delay)
        delay = min(delay * 2, max_delay)


async def heartbeat(services: Services, stop: asyncio.Event, every: float) -> None:
    """One log line per `every` seconds: feeds checked and posts sent since the last one, so a quiet log means
    a quiet bot, not a dead one."""
    metrics = services.metrics
    last_checks, last_posts = 0.0, 0.0
    while True:
        await wait_any(stop, timeout=every)
        if stop.is_set():
            return
        checks = sum(s.value for m in metrics.checks.collect() for s in m.samples if s.name.endswith("_total"))
        posts = sum(
            s.value
            for m in metrics.posts.collect()
            for s in m.samples
            if s.name.endswith("_total") and s.labels.get("result") == "sent"
        )
        pending = (await services.store.delivery_counts()).get("pending", 0)
        log.info(
            "heartbeat: %d feeds checked and %d posts sent in the last %.0f min; %d posts pending",
            checks - last_checks,
            posts - last_posts,
            every / 60,
            pending,
        )
        last_checks, last_posts = checks, posts


async def run_loops(
    services: Services,
    sink: Sink,
    stop: asyncio.Event,
    notify: Notify | None = None,
    poller: Poller | None = None,
    deliverer: Deliverer | None = None,
) -> None:
    """Poll and deliver until `stop` is set, each loop supervised; metrics and heartbeat when configured."""
    deliverer = deliverer or services.deliverer(sink, notify)
    poller = poller or services.poller(on_queued=deliverer.wake.set)
    services.app.on_follow = poller.wake.set
    shards = services.shards

    def on_outbox(guild_ids: list[int]) -> None:
        if shards is None or not guild_ids or any(shards.owns(g) for g in guild_ids):  # []: unknown, look
            deliverer.wake.set()

    await services.store.watch_outbox(on_outbox)
    await services.store.watch_feeds(poller.wake.set)
    jobs: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("poll", lambda: poller.run_forever(stop)),
        ("deliver", lambda: deliverer.run_forever(stop)),
        ("event-loop watch", lambda: services.metrics.watch_loop(stop)),
    ]
    if services.config.metrics.heartbeat_minutes:
        every = services.config.metrics.heartbeat_minutes * 60
        jobs.append(("heartbeat", lambda: heartbeat(services, stop, every)))
    async with contextlib.AsyncExitStack() as stack:
        if services.config.metrics.bind:
            await stack.enter_async_context(
                serve_metrics(services.metrics, services.store, services.config.metrics.bind, services.clock)
            )
        tasks = [asyncio.create_task(supervise(name, job, stop), name=name) for name, job in jobs]
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
