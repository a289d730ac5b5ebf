"""The store: feeds, subscriptions, articles and the delivery outbox, written once over either backend.

The store only writes what the pure steps decided. The outbox rule that makes crashes harmless lives here: an article
and its pending deliveries are inserted in one transaction, and a delivery becomes ``sent`` only after the sink
confirmed it. ``UNIQUE(channel_id, story_key)`` makes "posted once per channel" a database fact, not a hope.
Every use case is one transaction (a follow creates the feed, the subscription and its backfill together; an
unfollow locks the feed first), so processes sharing one PostgreSQL database cannot interleave halfway.
Callers get plain dataclasses (``bot.models``, ``bot.store.records``), never a connection or a row.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from bot.models import Article
from bot.store.feeds import FeedStore
from bot.store.outbox import OutboxStore
from bot.store.pages import PageStore
from bot.store.records import ShardSet
from bot.store.rows import (
    article_of,
    is_postgres,
)
from bot.store.subscriptions import SubscriptionStore


class Store(FeedStore, SubscriptionStore, OutboxStore, PageStore):
    """The one store interface: its parts split by concern (feeds, subscriptions, outbox, pages), lookups here."""

    @property
    def backend_name(self) -> str:
        return self._db.name

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, database: str | Path) -> AsyncIterator[Store]:
        """A SQLite file path (the default) or a ``postgresql://`` DSN; the rest of newsbot cannot tell which."""
        if is_postgres(database):
            from bot.store.postgres import PostgresBackend

            async with PostgresBackend.open(str(database)) as pg:
                yield cls(pg)
        else:
            from bot.store.sqlite import SQLiteBackend

            async with SQLiteBackend.open(database) as lite:
                yield cls(lite)

    async def claim_shards(self, shards: ShardSet | None) -> None:
        """Called once by a process that posts: refuses to run beside another process posting for the same shards
        (``bot.store.claims``). None is every guild: shard 0 of 1, so a second such process is refused too."""
        await self._db.claim_shards(shards.ids if shards else (0,), shards.count if shards else 1)

    @property
    def may_post(self) -> bool:
        return self._db.may_post

    # ----- lookups for members

    async def latest_articles(self, guild_id: int, limit: int, feed_id: int | None = None) -> list[Article]:
        feed_filter = "AND s.feed_id = ?" if feed_id is not None else ""
        params: list[Any] = [guild_id] + ([feed_id] if feed_id is not None else []) + [limit]
        rows = await self._db.fetch(
            "SELECT a.* FROM articles a WHERE a.feed_id IN (SELECT s.feed_id FROM subscriptions s "
            f"WHERE s.guild_id = ? {feed_filter}) ORDER BY COALESCE(a.published, a.first_seen) DESC, a.id DESC "
            "LIMIT ?",
            params,
        )
        return [article_of(r) for r in rows]

    async def search_articles(self, guild_id: int, query: str, limit: int) -> list[Article]:
        """Full-text search over this guild's feeds only (FTS5 or tsvector, title above summary above body)."""
        return [article_of(r) for r in await self._db.search(guild_id, query, limit)]

    async def prune_bodies(self, before: float, batch: int = 2000) -> int:
        """Forget old article text; the identity rows stay so a pruned article can never post again.

        In batches: one huge UPDATE (and its search-index rewrite) would balloon the WAL."""
        total = 0
        while True:
            changed = await self._db.execute(
                "UPDATE articles SET body = '' WHERE id IN (SELECT id FROM articles WHERE first_seen < ? "
                "AND body != '' LIMIT ?)",
                (before, batch),
            )
            total += changed
            if changed < batch:
                break
        if total:
            await self._db.after_prune()
        return total

    async def get_meta(self, key: str) -> str | None:
        row = await self._db.fetchrow("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ----- counts (metrics, benchmarks, migrate)

    async def feed_counts(self, now: float) -> dict[str, int]:
        """Followed feeds by health: due now, failing, disabled, and all of them."""
        row = await self._db.fetchrow(
            "SELECT COUNT(*), "
            "COALESCE(SUM(CASE WHEN disabled_reason IS NULL AND next_check <= ? THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN disabled_reason IS NULL AND error_count > 0 THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN disabled_reason IS NOT NULL THEN 1 ELSE 0 END), 0) FROM feeds",
            (now,),
        )
        assert row is not None
        return {"total": row[0], "due": row[1], "failing": row[2], "disabled": row[3]}

    async def count_checked_feeds(self) -> int:
        row = await self._db.fetchrow("SELECT COUNT(*) FROM feeds WHERE last_checked IS NOT NULL")
        return row[0] if row else 0

    async def count_articles_with_body(self) -> int:
        row = await self._db.fetchrow("SELECT COUNT(*) FROM articles WHERE body != ''")
        return row[0] if row else 0

    async def article_count(self) -> int:
        row = await self._db.fetchrow("SELECT COUNT(*) FROM articles")
        return row[0] if row else 0

    async def table_counts(self) -> dict[str, int]:
        from bot.store.backend import TABLES

        counts = {}
        for table in TABLES:
            row = await self._db.fetchrow(f"SELECT COUNT(*) FROM {table}")
            counts[table] = row[0] if row else 0
        return counts

    async def explain(self, sql: str, params: Sequence[Any]) -> list[str]:
        """The database's plan for one of the store's queries (bench/plans.py)."""
        prefix = "EXPLAIN QUERY PLAN" if self._db.name == "sqlite" else "EXPLAIN"
        rows = await self._db.fetch(f"{prefix} {sql}", params)
        return [str(r[3] if self._db.name == "sqlite" else r[0]) for r in rows]
