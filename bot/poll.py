"""The poller: due feeds are fetched, parsed, decided on and stored. A thin I/O shell over the pure steps.

Each feed's check is one unit of failure: whatever goes wrong (network, a hostile document, a bug) ends as a
one-line reason stored on that feed and a log line, and the round goes on with the others. Reading the document
(parse, identities, plain text) runs in worker processes (``bot.workers``) so the event loop, and with it slash
commands, stays responsive during a cold round.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot import schedule
from bot.aiotools import wait_any
from bot.articles import PAGE_TTL, ArticleBuilder
from bot.config import Config
from bot.decide import decide_new, examine
from bot.discover import find_feed_links
from bot.fetch import Fetcher, FetchError, FetchResult
from bot.models import Feed, ParsedFeed
from bot.parse import NotAFeed, ParseError, parse_feed_async
from bot.store import ArticleWrite, Store
from bot.workers import WorkerCrashed, Workers

log = logging.getLogger(__name__)


@dataclass
class RoundStats:
    checked: int = 0
    not_modified: int = 0
    failed: int = 0
    new_articles: int = 0
    deliveries: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # feed URL -> reason


@dataclass(frozen=True, slots=True)
class Discovered:
    """A user-given URL resolved to a feed: the feed URL and its parsed content."""

    url: str
    parsed: ParsedFeed
    via_page: str | None  # the HTML page the feed was found on, if any


class DiscoveryError(Exception):
    pass


async def discover(fetcher: Fetcher, url: str, *, max_items: int = 500) -> Discovered:
    """Fetch what a user gave us; if it is a web page, follow its advertised feed. Clear errors either way."""
    try:
        result = await fetcher.get(url)
    except FetchError as exc:
        raise DiscoveryError(f"could not fetch {url}: {exc.reason}") from None
    try:
        parsed = await parse_feed_async(result.body, result.url, result.content_type, max_items=max_items)
        return Discovered(result.url, parsed, None)
    except NotAFeed:
        links = find_feed_links(result.body, result.url)
    except ParseError as exc:
        raise DiscoveryError(f"{url} is not a feed: {exc}") from None
    if not links:
        raise DiscoveryError(
            f'{url} is a web page with no feed link (no <link rel="alternate"> to RSS, Atom or '
            "JSON Feed); ask the site for its feed URL"
        )
    last_error = ""
    for link in links[:3]:
        try:
            found = await fetcher.get(link)
            parsed = await parse_feed_async(found.body, found.url, found.content_type, max_items=max_items)
            return Discovered(found.url, parsed, result.url)
        except FetchError as exc:
            last_error = f"{link}: {exc.reason}"
        except ParseError as exc:
            last_error = f"{link} is not a feed: {exc}"
    raise DiscoveryError(f"the page links to a feed, but it failed ({last_error})")


class Poller:
    """Claims due feeds (a lease, so several processes never check one feed at once), checks each, and hands
    the pure outcome to the store. ``owner`` names this process in the leases it holds."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        config: Config,
        builder: ArticleBuilder,
        workers: Workers,
        *,
        clock: Callable[[], float] = time.time,
        on_queued: Callable[[], None] | None = None,
        owner: str = "",
    ) -> None:
        self._store = store
        self._fetcher = fetcher
        self._workers = workers
        self._config = config
        self._builder = builder
        self._clock = clock
        self._on_queued = on_queued
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.wake = asyncio.Event()  # set when a feed was added, so it is checked now rather than next round
        self._last_prune = 0.0
        self.observe: Callable[[str, float], None] = lambda _outcome, _seconds: None  # metrics hook

    async def run_once(self, limit: int = 100_000) -> RoundStats:
        """Check every feed that is due now (and not leased elsewhere), concurrently within the fetcher's limits.

        Feeds are claimed a batch at a time, as slots free up, not all at once: processes sharing a database
        then split a round between them, and a process that dies holds the leases of one batch, not of the round.
        """
        stats = RoundStats()
        width = self._config.polling.concurrency * 2
        # Bound the feeds in flight, not just the requests: fetched documents must not pile up in memory while
        # they wait for the database.
        slots = asyncio.Semaphore(width)
        tasks: set[asyncio.Task[None]] = set()

        async def bounded(feed: Feed) -> None:
            try:
                await self.check(feed, stats)
            finally:
                slots.release()

        claimed = 0
        while claimed < limit:
            batch = await self._store.claim_due_feeds(
                self._clock(), min(width, limit - claimed), owner=self.owner, lease=self._config.polling.lease_seconds
            )
            if not batch:
                break
            claimed += len(batch)
            for feed in batch:
                await slots.acquire()
                task = asyncio.create_task(bounded(feed))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        return stats

    async def check(self, feed: Feed, stats: RoundStats | None = None) -> None:
        stats = stats if stats is not None else RoundStats()
        stats.checked += 1
        started = time.monotonic()
        try:
            result = await self._fetcher.get(feed.url, etag=feed.etag, last_modified=feed.last_modified)
            if result.not_modified:
                stats.not_modified += 1
                await self._store.apply_outcome(
                    feed, schedule.after_not_modified(feed, now=self._clock(), took=result.seconds)
                )
                self.observe("not_modified", time.monotonic() - started)
                return
            created = await self._ingest(feed, result, stats)
            stats.deliveries += created
            self.observe("ok", time.monotonic() - started)
            if created and self._on_queued:
                self._on_queued()
        except FetchError as exc:
            await self._fail(feed, exc.reason, stats, retry_after=exc.retry_after, gone=exc.gone, took=exc.seconds)
        except ParseError as exc:
            reason = "the URL now serves a web page, not a feed" if isinstance(exc, NotAFeed) else str(exc)
            await self._fail(feed, reason, stats)
        except WorkerCrashed:
            await self._fail(feed, "reading the feed crashed the parser; it will be tried again later", stats)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("checking feed %s failed unexpectedly", feed.url)
            await self._fail(feed, f"internal error: {type(exc).__name__}: {str(exc)[:200]}", stats)

    async def _ingest(self, feed: Feed, result: FetchResult, stats: RoundStats) -> int:
        examined = await self._workers.run(
            examine, result.body, result.url, result.content_type, feed.id, self._config.polling.max_items
        )
        found = examined.candidates
        known_keys, known_stories = await self._store.known_identities(
            feed.id,
            [c.key for c in found],
            [c.story_key for c in found],
            {c.former: c.entry.link for c in found if c.former},
        )
        unseen = any(not c.known(known_keys, known_stories) for c in found)
        # Nothing new (the common re-read of an unchanged feed without validators): no subscriptions to look up.
        subs = await self._store.subscriptions_for_feed(feed.id) if unseen else []
        now = self._clock()
        new = decide_new(
            feed,
            found,
            known_keys,
            known_stories,
            subs,
            datetime.fromtimestamp(now, UTC),
            initial_posts=self._config.polling.initial_posts,
            max_age=timedelta(days=self._config.polling.max_age_days),
        )
        articles = await self._builder.build_all(feed.id, examined.title, new, examined.language)
        writes = [ArticleWrite(article, item.deliver_to) for article, item in zip(articles, new, strict=True)]
        stats.new_articles += len(writes)
        outcome = schedule.after_fetch(
            feed,
            now=self._clock(),
            took=result.seconds,
            title=examined.title,
            etag=result.etag,
            last_modified=result.last_modified,
            moved_to=result.permanent_url,
        )
        return await self._store.apply_outcome(feed, outcome, writes)

    async def _fail(
        self,
        feed: Feed,
        reason: str,
        stats: RoundStats,
        *,
        retry_after: float | None = None,
        gone: bool = False,
        took: float = 0.0,
    ) -> None:
        stats.failed += 1
        stats.errors[feed.url] = reason
        p = self._config.polling
        outcome = schedule.after_failure(
            feed,
            now=self._clock(),
            took=took,
            error=reason,
            limit=p.disable_after_failures,
            max_backoff=p.max_backoff,
            retry_after=retry_after,
            gone=gone,
        )
        log.warning(
            "feed %s failed (%d in a row): %s%s",
            feed.url,
            outcome.error_count,
            reason,
            f"; disabled: {outcome.disabled_reason}" if outcome.disabled_reason else "",
        )
        self.observe("failed", took)
        await self._store.apply_outcome(feed, outcome)

    async def prune(self, every: float = 3600.0) -> int:
        """Forget article text past the retention (at most once per `every` seconds); identities stay."""
        now = self._clock()
        if now - self._last_prune < every:
            return 0
        self._last_prune = now
        before = now - self._config.articles.retention_days * 86_400
        pruned = await self._store.prune_bodies(before)
        await self._store.prune_translations(before)
        await self._store.prune_pages(now - PAGE_TTL)
        if pruned:
            log.info("pruned the text of %d old articles", pruned)
        return pruned

    async def run_forever(self, stop: asyncio.Event, idle: float = 30.0) -> None:
        while not stop.is_set():
            await self.prune()
            stats = await self.run_once()
            if stats.checked:
                log.info(
                    "checked %d feeds: %d unchanged, %d failed, %d new articles, %d posts queued",
                    stats.checked,
                    stats.not_modified,
                    stats.failed,
                    stats.new_articles,
                    stats.deliveries,
                )
            next_due = await self._store.next_due_time()
            wait = idle if next_due is None else min(idle, max(0.5, next_due - self._clock()))
            await wait_any(stop, self.wake, timeout=wait)
            self.wake.clear()
