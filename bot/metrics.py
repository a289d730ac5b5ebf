"""Prometheus metrics (``prometheus-client``, text format at ``/metrics``), off unless ``[metrics] bind`` is set.

Counters and histograms are updated where things happen (the poller's checks, the deliverer's sends, the sink's
429s); gauges that describe the database (feeds due or failing, articles, pending posts) are read from the store
when scraped, so they are exact and cost nothing between scrapes. Each process serves its own endpoint and labels
nothing itself: Prometheus adds ``instance``. One registry per process object, so tests can run several.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from bot.aiotools import wait_any
from bot.store import Store

log = logging.getLogger(__name__)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.checks = Counter(
            "newsbot_feed_checks", "Feed checks by outcome (ok, not_modified, failed)", ["outcome"], registry=r
        )
        self.fetch_seconds = Histogram(
            "newsbot_feed_check_seconds",
            "Time to check one feed",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60),
            registry=r,
        )
        self.posts = Counter(
            "newsbot_posts", "Posts by result in this process (sent, retry, failed)", ["result"], registry=r
        )
        self.ratelimits = Counter("newsbot_discord_429", "Discord 429 responses seen by this process", registry=r)
        self.loop_lag = Gauge("newsbot_event_loop_lag_seconds", "Lateness of a 1 s timer on the event loop", registry=r)
        self.shards = Gauge("newsbot_shards_connected", "Discord shards of this process connected", registry=r)
        self.shards_total = Gauge("newsbot_shards", "Discord shards this process runs", registry=r)
        self.posting = Gauge(
            "newsbot_posting", "1 while this process may post; 0 while it lost its shards' claim", registry=r
        )
        self.feeds = Gauge("newsbot_feeds", "Followed feeds by state (all processes)", ["state"], registry=r)
        self.articles = Gauge("newsbot_articles_stored", "Articles stored (all processes)", registry=r)
        self.deliveries = Gauge("newsbot_deliveries", "Deliveries by status (all processes)", ["status"], registry=r)
        self.llm_requests = Counter(
            "newsbot_llm_requests",
            "LLM summary/translation requests by outcome (ok, timeout, http_429, http_5xx, bad_answer, ungrounded, "
            "rate_limited, unreachable)",
            ["outcome"],
            registry=r,
        )
        self.llm_tokens = Counter(
            "newsbot_llm_tokens", "LLM tokens used, by kind (prompt, completion)", ["kind"], registry=r
        )
        self.shard_probe: Callable[[], tuple[int, int]] = lambda: (0, 0)  # (connected, total), set by the bot

    def observe_check(self, outcome: str, seconds: float) -> None:
        self.checks.labels(outcome).inc()
        self.fetch_seconds.observe(seconds)

    def observe_llm(self, outcome: str, prompt_tokens: int, completion_tokens: int) -> None:
        self.llm_requests.labels(outcome).inc()
        if prompt_tokens:
            self.llm_tokens.labels("prompt").inc(prompt_tokens)
        if completion_tokens:
            self.llm_tokens.labels("completion").inc(completion_tokens)

    async def refresh(self, store: Store, now: float) -> None:
        for state, count in (await store.feed_counts(now)).items():
            self.feeds.labels(state).set(count)
        self.articles.set(await store.article_count())
        counts = await store.delivery_counts()
        for status in ("pending", "sent", "failed"):
            self.deliveries.labels(status).set(counts.get(status, 0))
        connected, total = self.shard_probe()
        self.shards.set(connected)
        self.shards_total.set(total)
        self.posting.set(1 if store.may_post else 0)

    async def watch_loop(self, stop: asyncio.Event, every: float = 1.0) -> None:
        """Event-loop lag: how late a timer fires. Anything over tens of ms means slash commands wait too."""
        while not stop.is_set():
            start = time.monotonic()
            await wait_any(stop, timeout=every)
            if not stop.is_set():
                self.loop_lag.set(max(0.0, time.monotonic() - start - every))


@contextlib.asynccontextmanager
async def serve_metrics(metrics: Metrics, store: Store, bind: str, clock: Callable[[], float]) -> AsyncIterator[str]:
    """``GET /metrics`` (Prometheus text) and ``GET /healthz`` on `bind`; yields the URL it listens on."""

    async def scrape(_request: web.Request) -> web.Response:
        await metrics.refresh(store, clock())
        return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health(_request: web.Request) -> web.Response:
        await store.get_meta("health")  # the database answers
        return web.Response(text="ok\n")

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", health)
    host, _, port = bind.rpartition(":")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host.strip("[]") or "127.0.0.1", int(port))
    await site.start()
    actual = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://{host or '127.0.0.1'}:{actual}/metrics"
    log.info("metrics at %s", url)
    try:
        yield url
    finally:
        await runner.cleanup()
