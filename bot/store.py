"""SQLite persistence: feeds, subscriptions, articles and the delivery outbox.

The store only writes what the pure steps decided. The outbox rule that makes crashes harmless lives here: an article
and its pending deliveries are inserted in one transaction, and a delivery becomes ``sent`` only after the sink
confirmed it. ``UNIQUE(channel_id, story_key)`` makes "posted once per channel" a database fact, not a hope.
Schema changes are numbered steps keyed on ``PRAGMA user_version``, each run in a transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.models import Article, Delivery, Feed, Subscription

MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema
    """
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL DEFAULT '',
        etag TEXT,
        last_modified TEXT,
        interval INTEGER NOT NULL,
        next_check REAL NOT NULL,
        last_checked REAL,
        error_count INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        disabled_reason TEXT,
        initialized INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE INDEX feeds_due ON feeds(next_check) WHERE disabled_reason IS NULL;
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
        guild_id INTEGER NOT NULL,
        channel_id INTEGER NOT NULL,
        mention_role_id INTEGER,
        include_words TEXT NOT NULL DEFAULT '',
        exclude_words TEXT NOT NULL DEFAULT '',
        interval INTEGER,
        paused_reason TEXT,
        created_at REAL NOT NULL,
        UNIQUE(feed_id, channel_id)
    );
    CREATE INDEX subscriptions_guild ON subscriptions(guild_id);
    CREATE INDEX subscriptions_channel ON subscriptions(channel_id);
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        story_key TEXT NOT NULL,
        url TEXT,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        author TEXT,
        published REAL,
        image TEXT,
        source TEXT NOT NULL DEFAULT '',
        first_seen REAL NOT NULL,
        UNIQUE(feed_id, key)
    );
    CREATE INDEX articles_story ON articles(feed_id, story_key);
    CREATE INDEX articles_feed_seen ON articles(feed_id, first_seen);
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        subscription_id INTEGER REFERENCES subscriptions(id) ON DELETE SET NULL,
        channel_id INTEGER NOT NULL,
        story_key TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL DEFAULT 0,
        nonce TEXT NOT NULL,
        message_id INTEGER,
        last_error TEXT,
        created_at REAL NOT NULL,
        sent_at REAL,
        UNIQUE(channel_id, story_key)
    );
    CREATE INDEX deliveries_pending ON deliveries(next_attempt, id) WHERE status = 'pending';
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, summary, body, content='articles', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, summary, body) VALUES (new.id, new.title, new.summary, new.body);
    END;
    CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, summary, body)
        VALUES ('delete', old.id, old.title, old.summary, old.body);
    END;
    CREATE TRIGGER articles_au AFTER UPDATE OF title, summary, body ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, summary, body)
        VALUES ('delete', old.id, old.title, old.summary, old.body);
        INSERT INTO articles_fts(rowid, title, summary, body) VALUES (new.id, new.title, new.summary, new.body);
    END;
    """,
    # 2: small key/value facts about this installation (the registered slash-command set's hash)
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 3: how long each feed's last check took, so slow feeds start first when many are due at once
    """
    ALTER TABLE feeds ADD COLUMN check_seconds REAL NOT NULL DEFAULT 0;
    """,
)


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value else None


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _words(value: str) -> tuple[str, ...]:
    return tuple(w for w in value.split("\n") if w)


@dataclass(frozen=True, slots=True)
class ArticleWrite:
    """One new article and the subscriptions that should post it, as decided upstream."""

    article: Article
    deliver_to: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A subscription with its feed's health, for `/feed list` and autocomplete."""

    subscription: Subscription
    feed: Feed


class StoreError(Exception):
    pass


class Store:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        # One connection is shared by every task: writers take this lock so no statement of another task can
        # slip into (or be rolled back with) an open transaction.
        self._lock = asyncio.Lock()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, path: str | Path) -> AsyncIterator[Store]:
        db = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=5000")
            store = cls(db)
            await store._migrate()
            yield store
        finally:
            await db.close()

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = row[0] if row else 0
        if version > len(MIGRATIONS):
            raise StoreError(f"database schema version {version} is newer than this newsbot ({len(MIGRATIONS)})")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            statements = [s.strip() for s in _split_sql(script) if s.strip()]
            async with self.transaction():
                for statement in statements:
                    await self._db.execute(statement)
                await self._db.execute(f"PRAGMA user_version={number}")

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            else:
                await self._db.execute("COMMIT")

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._lock:
            cur = await self._db.execute(sql, params)
            return cur.rowcount

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        # One round trip to the database thread (execute + fetch + close would be three).
        return list(await self._db.execute_fetchall(sql, params))

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        rows = await self._db.execute_fetchall(sql, params)
        return next(iter(rows), None)

    # ----- feeds

    @staticmethod
    def _feed(row: aiosqlite.Row) -> Feed:
        return Feed(row["id"], row["url"], row["title"], row["etag"], row["last_modified"], row["interval"],
                    row["next_check"], row["last_checked"], row["error_count"], row["last_error"],
                    row["disabled_reason"], bool(row["initialized"]))

    async def ensure_feed(self, url: str, interval: int, now: float) -> Feed:
        """The feed for this URL, created due now if it is new."""
        await self._write(
            "INSERT INTO feeds(url, interval, next_check, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(url) DO NOTHING",
            (url, interval, now, now),
        )
        row = await self._one("SELECT * FROM feeds WHERE url = ?", (url,))
        assert row is not None
        return self._feed(row)

    async def feed(self, feed_id: int) -> Feed | None:
        row = await self._one("SELECT * FROM feeds WHERE id = ?", (feed_id,))
        return self._feed(row) if row else None

    async def feed_by_url(self, url: str) -> Feed | None:
        row = await self._one("SELECT * FROM feeds WHERE url = ?", (url,))
        return self._feed(row) if row else None

    async def due_feeds(self, now: float, limit: int) -> list[Feed]:
        """Enabled feeds with at least one subscription whose check time has come: the `limit` most overdue, and
        of those the slowest last time first. When many feeds are due at once (a restart, a bot whose feeds share
        one interval), a feed that takes 8 s then overlaps the others instead of finishing alone at the end
        (measured: the farm's warm round went from 12.9 s to 8.x s, 99% of it done in 5 s either way)."""
        rows = await self._all(
            "SELECT * FROM (SELECT * FROM feeds f WHERE disabled_reason IS NULL AND next_check <= ? "
            "AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = f.id) ORDER BY next_check LIMIT ?) "
            "ORDER BY check_seconds DESC, next_check",
            (now, limit),
        )
        return [self._feed(r) for r in rows]

    async def next_due_time(self) -> float | None:
        row = await self._one(
            "SELECT MIN(next_check) FROM feeds f WHERE disabled_reason IS NULL "
            "AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = f.id)")
        return row[0] if row else None

    async def known_identities(self, feed_id: int, keys: Sequence[str], stories: Sequence[str]
                               ) -> tuple[set[str], set[str]]:
        """Which of these keys and story keys this feed already has: a bounded lookup, not a table scan."""
        known_keys: set[str] = set()
        known_stories: set[str] = set()
        for chunk in _chunks(list(keys), 400):
            rows = await self._all(
                f"SELECT key FROM articles WHERE feed_id = ? AND key IN ({','.join('?' * len(chunk))})",
                (feed_id, *chunk))
            known_keys.update(r[0] for r in rows)
        for chunk in _chunks(list(stories), 400):
            rows = await self._all(
                f"SELECT story_key FROM articles WHERE feed_id = ? AND story_key IN ({','.join('?' * len(chunk))})",
                (feed_id, *chunk))
            known_stories.update(r[0] for r in rows)
        return known_keys, known_stories

    async def record_success(self, feed: Feed, *, now: float, next_check: float, title: str, etag: str | None,
                             last_modified: str | None, writes: Sequence[ArticleWrite],
                             moved_to: str | None = None, took: float = 0.0) -> int:
        """Articles, their deliveries and the feed's new state in one transaction. Returns deliveries created.

        Rows go in with executemany: one round trip to the database thread per feed, not one per article.
        """
        created = 0
        async with self.transaction() as db:
            subs = {s.id: s for s in await self.subscriptions_for_feed(feed.id)}
            await db.executemany(
                "INSERT INTO articles(feed_id, key, story_key, url, title, summary, body, author, published, "
                "image, source, first_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                [(feed.id, a.key, a.story_key, a.url, a.title, a.summary, a.body, a.author, _ts(a.published),
                  a.image, a.source, now) for a in (w.article for w in writes)])
            posting = [w for w in writes if any(i in subs for i in w.deliver_to)]
            if posting:
                ids: dict[str, int] = {}
                for chunk in _chunks([w.article.key for w in posting], 400):
                    rows = await self._all(
                        f"SELECT id, key FROM articles WHERE feed_id = ? AND key IN ({','.join('?' * len(chunk))})",
                        (feed.id, *chunk))
                    ids.update({r["key"]: r["id"] for r in rows})
                rows_to_add = [(ids[w.article.key], subs[i], w.article.story_key) for w in posting
                               for i in w.deliver_to if i in subs and w.article.key in ids]
                before = db.total_changes
                await db.executemany(
                    "INSERT INTO deliveries(article_id, subscription_id, channel_id, story_key, nonce, created_at) "
                    "VALUES (?,?,?,?,?,?) ON CONFLICT(channel_id, story_key) DO NOTHING",
                    [(art_id, sub.id, sub.channel_id, story, secrets.token_hex(12), now)
                     for art_id, sub, story in rows_to_add])
                created = db.total_changes - before
            if moved_to and moved_to != feed.url:
                clash = await self._one("SELECT 1 FROM feeds WHERE url = ?", (moved_to,))
                if clash is None:
                    await db.execute("UPDATE feeds SET url = ? WHERE id = ?", (moved_to, feed.id))
            await db.execute(
                "UPDATE feeds SET title = ?, etag = ?, last_modified = ?, next_check = ?, last_checked = ?, "
                "error_count = 0, last_error = NULL, initialized = 1, check_seconds = ? WHERE id = ?",
                (title, etag, last_modified, next_check, now, took, feed.id),
            )
        return created

    async def _add_delivery(self, article_id: int, sub: Subscription, story: str, now: float) -> int:
        cur = await self._db.execute(
            "INSERT INTO deliveries(article_id, subscription_id, channel_id, story_key, nonce, created_at) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT(channel_id, story_key) DO NOTHING",
            (article_id, sub.id, sub.channel_id, story, secrets.token_hex(12), now),
        )
        return cur.rowcount

    async def record_not_modified(self, feed: Feed, *, now: float, next_check: float, took: float = 0.0) -> None:
        await self._write(
            "UPDATE feeds SET next_check = ?, last_checked = ?, error_count = 0, last_error = NULL, check_seconds = ? "
            "WHERE id = ?", (next_check, now, took, feed.id))

    async def record_failure(self, feed: Feed, *, now: float, next_check: float, error: str,
                             disabled_reason: str | None, took: float = 0.0) -> None:
        await self._write(
            "UPDATE feeds SET next_check = ?, last_checked = ?, error_count = error_count + 1, last_error = ?, "
            "disabled_reason = ?, check_seconds = ? WHERE id = ?",
            (next_check, now, error[:500], disabled_reason, took, feed.id))

    async def enable_feed(self, feed_id: int, now: float) -> None:
        await self._write(
            "UPDATE feeds SET disabled_reason = NULL, error_count = 0, next_check = ? WHERE id = ?", (now, feed_id))

    async def set_feed_interval(self, feed_id: int) -> None:
        """A feed polls at the shortest interval any of its subscriptions asked for."""
        await self._db.execute(
            "UPDATE feeds SET interval = COALESCE((SELECT MIN(interval) FROM subscriptions "
            "WHERE feed_id = feeds.id AND interval IS NOT NULL), interval) WHERE id = ?", (feed_id,))

    # ----- subscriptions

    @staticmethod
    def _sub(row: aiosqlite.Row) -> Subscription:
        return Subscription(row["id"], row["feed_id"], row["guild_id"], row["channel_id"], row["mention_role_id"],
                            _words(row["include_words"]), _words(row["exclude_words"]), row["paused_reason"],
                            row["interval"])

    async def subscriptions_for_feed(self, feed_id: int) -> list[Subscription]:
        return [self._sub(r) for r in await self._all("SELECT * FROM subscriptions WHERE feed_id = ?", (feed_id,))]

    async def subscribe(self, feed: Feed, guild_id: int, channel_id: int, *, now: float,
                        mention_role_id: int | None = None, include: Iterable[str] = (),
                        exclude: Iterable[str] = (), interval: int | None = None, initial_posts: int = 1
                        ) -> Subscription | None:
        """Subscribe a channel; None when it already follows this feed.

        A feed other channels already follow has no "first fetch" left to limit the flood, so the newest
        `initial_posts` stored articles are queued here instead.
        """
        async with self.transaction() as db:
            cur = await db.execute(
                "INSERT INTO subscriptions(feed_id, guild_id, channel_id, mention_role_id, include_words, "
                "exclude_words, interval, created_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                (feed.id, guild_id, channel_id, mention_role_id, "\n".join(include), "\n".join(exclude), interval,
                 now))
            if cur.rowcount != 1:
                return None
            row = await self._one("SELECT * FROM subscriptions WHERE id = ?", (cur.lastrowid,))
            assert row is not None
            sub = self._sub(row)
            if feed.initialized and initial_posts > 0:
                recent = await self._all(
                    "SELECT id, story_key FROM articles WHERE feed_id = ? ORDER BY first_seen DESC, id DESC "
                    "LIMIT ?", (feed.id, initial_posts))
                for art in reversed(recent):
                    await self._add_delivery(art["id"], sub, art["story_key"], now)
            await self.set_feed_interval(feed.id)
        return sub

    async def unsubscribe(self, subscription_id: int) -> None:
        """Drop the subscription and what it has not posted yet; a feed nobody follows is deleted too."""
        async with self.transaction() as db:
            row = await self._one("SELECT feed_id FROM subscriptions WHERE id = ?", (subscription_id,))
            await db.execute("DELETE FROM deliveries WHERE subscription_id = ? AND status = 'pending'",
                             (subscription_id,))
            await db.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
            if row is not None:
                await db.execute(
                    "DELETE FROM feeds WHERE id = ? AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE feed_id = ?)",
                    (row[0], row[0]))

    async def subscription(self, subscription_id: int, guild_id: int) -> SubscriptionView | None:
        """A subscription only when it belongs to this guild: the guard every guild-facing command uses."""
        rows = await self._views("s.id = ? AND s.guild_id = ?", (subscription_id, guild_id))
        return rows[0] if rows else None

    async def guild_subscriptions(self, guild_id: int) -> list[SubscriptionView]:
        return await self._views("s.guild_id = ?", (guild_id,))

    async def count_guild_subscriptions(self, guild_id: int) -> int:
        row = await self._one("SELECT COUNT(*) FROM subscriptions WHERE guild_id = ?", (guild_id,))
        return row[0] if row else 0

    async def _views(self, where: str, params: Sequence[Any]) -> list[SubscriptionView]:
        rows = await self._all(
            "SELECT s.*, f.id AS f_id, f.url, f.title, f.etag, f.last_modified, f.interval AS f_interval, "
            "f.next_check, f.last_checked, f.error_count, f.last_error, f.disabled_reason, f.initialized "
            f"FROM subscriptions s JOIN feeds f ON f.id = s.feed_id WHERE {where} ORDER BY s.id", params)
        return [SubscriptionView(self._sub(r), Feed(
            r["f_id"], r["url"], r["title"], r["etag"], r["last_modified"], r["f_interval"], r["next_check"],
            r["last_checked"], r["error_count"], r["last_error"], r["disabled_reason"], bool(r["initialized"])))
            for r in rows]

    async def update_subscription(self, subscription_id: int, **changes: Any) -> None:
        allowed = {"channel_id", "mention_role_id", "include_words", "exclude_words", "interval", "paused_reason"}
        if not changes or not set(changes) <= allowed:
            raise StoreError(f"cannot change {sorted(set(changes) - allowed)}")
        values = ["\n".join(v) if k.endswith("_words") else v for k, v in changes.items()]
        async with self.transaction() as db:
            await db.execute(f"UPDATE subscriptions SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                             (*values, subscription_id))
            row = await self._one("SELECT feed_id FROM subscriptions WHERE id = ?", (subscription_id,))
            if row is not None and "interval" in changes:
                await db.execute("UPDATE feeds SET interval = ? WHERE id = ?", (changes["interval"], row[0]))
                await self.set_feed_interval(row[0])

    async def pause_channel(self, channel_id: int, reason: str) -> list[int]:
        """Pause every subscription posting to a channel; returns the guilds affected."""
        rows = await self._all("SELECT DISTINCT guild_id FROM subscriptions WHERE channel_id = ? "
                               "AND paused_reason IS NULL", (channel_id,))
        await self._write("UPDATE subscriptions SET paused_reason = ? WHERE channel_id = ? "
                          "AND paused_reason IS NULL", (reason[:300], channel_id))
        return [r[0] for r in rows]

    async def pause_guild(self, guild_id: int, reason: str) -> None:
        await self._write("UPDATE subscriptions SET paused_reason = ? WHERE guild_id = ? "
                               "AND paused_reason IS NULL", (reason[:300], guild_id))

    # ----- outbox

    async def pending_deliveries(self, now: float, limit: int, per_channel: int = 10) -> list[Delivery]:
        """Due deliveries, oldest first within each channel and fairly across channels.

        At most `per_channel` per channel, so one busy channel cannot starve the others; and a channel whose oldest
        pending delivery is waiting for a retry yields nothing, so no later post can overtake it. Paused or removed
        subscriptions' rows wait.
        """
        rows = await self._all(
            "WITH p AS (SELECT d.id, d.next_attempt, "
            "ROW_NUMBER() OVER (PARTITION BY d.channel_id ORDER BY d.id) AS rn, "
            "FIRST_VALUE(d.next_attempt) OVER (PARTITION BY d.channel_id ORDER BY d.id) AS head_due "
            "FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
            "WHERE d.status = 'pending' AND s.paused_reason IS NULL) "
            "SELECT d.id AS d_id, d.subscription_id, d.channel_id, d.nonce, d.attempts, s.guild_id, "
            "s.mention_role_id, a.* FROM p JOIN deliveries d ON d.id = p.id "
            "JOIN subscriptions s ON s.id = d.subscription_id JOIN articles a ON a.id = d.article_id "
            "WHERE p.rn <= ? AND p.head_due <= ? AND p.next_attempt <= ? ORDER BY d.id LIMIT ?",
            (per_channel, now, now, limit))
        return [Delivery(r["d_id"], _article(r), r["subscription_id"], r["channel_id"], r["guild_id"],
                         r["mention_role_id"], r["nonce"], r["attempts"]) for r in rows]

    async def mark_attempt(self, delivery_id: int) -> None:
        """Counted before the send, so after a crash we know a message may already exist."""
        await self._write("UPDATE deliveries SET attempts = attempts + 1 WHERE id = ?", (delivery_id,))

    async def mark_sent(self, delivery_id: int, message_id: int | None, now: float) -> None:
        await self._write(
            "UPDATE deliveries SET status = 'sent', message_id = ?, sent_at = ?, last_error = NULL WHERE id = ?",
            (message_id, now, delivery_id))

    async def retry_later(self, delivery_id: int, error: str, when: float) -> None:
        await self._write("UPDATE deliveries SET last_error = ?, next_attempt = ? WHERE id = ?",
                               (error[:500], when, delivery_id))

    async def mark_failed(self, delivery_id: int, error: str) -> None:
        await self._write("UPDATE deliveries SET status = 'failed', last_error = ? WHERE id = ?",
                               (error[:500], delivery_id))

    async def delivery_counts(self) -> dict[str, int]:
        rows = await self._all("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
        return {r[0]: r[1] for r in rows}

    async def next_delivery_time(self) -> float | None:
        row = await self._one(
            "SELECT MIN(d.next_attempt) FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
            "WHERE d.status = 'pending' AND s.paused_reason IS NULL")
        return row[0] if row else None

    # ----- lookups for members

    async def latest_articles(self, guild_id: int, limit: int, feed_id: int | None = None) -> list[Article]:
        feed_filter = "AND s.feed_id = ?" if feed_id is not None else ""
        params: list[Any] = [guild_id] + ([feed_id] if feed_id is not None else []) + [limit]
        rows = await self._all(
            "SELECT a.* FROM articles a WHERE a.feed_id IN (SELECT s.feed_id FROM subscriptions s "
            f"WHERE s.guild_id = ? {feed_filter}) ORDER BY COALESCE(a.published, a.first_seen) DESC, a.id DESC "
            "LIMIT ?", params)
        return [_article(r) for r in rows]

    async def search_articles(self, guild_id: int, query: str, limit: int) -> list[Article]:
        """FTS5 search over this guild's feeds only; the query is quoted term by term so no syntax leaks in."""
        terms = [t.replace('"', '""') for t in query.split() if t.strip('"')][:20]
        if not terms:
            return []
        match = " ".join(f'"{t}"' for t in terms)
        rows = await self._all(
            "SELECT a.* FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
            "WHERE articles_fts MATCH ? AND a.feed_id IN (SELECT feed_id FROM subscriptions WHERE guild_id = ?) "
            "ORDER BY bm25(articles_fts, 10.0, 3.0, 1.0) LIMIT ?", (match, guild_id, limit))
        return [_article(r) for r in rows]

    async def prune_bodies(self, before: float, batch: int = 2000) -> int:
        """Forget old article text; the identity rows stay so a pruned article can never post again.

        In batches, with a WAL checkpoint after: one huge UPDATE (and its FTS rewrite) would balloon the WAL file.
        """
        total = 0
        while True:
            changed = await self._write(
                "UPDATE articles SET body = '' WHERE id IN (SELECT id FROM articles WHERE first_seen < ? "
                "AND body != '' LIMIT ?)", (before, batch))
            total += changed
            if changed < batch:
                break
        if total:
            await self._write("PRAGMA wal_checkpoint(TRUNCATE)")
        return total

    async def get_meta(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._write("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
                          "excluded.value", (key, value))

    async def count_checked_feeds(self) -> int:
        row = await self._one("SELECT COUNT(*) FROM feeds WHERE last_checked IS NOT NULL")
        return row[0] if row else 0

    async def count_articles_with_body(self) -> int:
        row = await self._one("SELECT COUNT(*) FROM articles WHERE body != ''")
        return row[0] if row else 0

    async def article_count(self) -> int:
        row = await self._one("SELECT COUNT(*) FROM articles")
        return row[0] if row else 0


def _article(r: aiosqlite.Row) -> Article:
    return Article(feed_id=r["feed_id"], key=r["key"], story_key=r["story_key"], url=r["url"], title=r["title"],
                   summary=r["summary"], author=r["author"], published=_dt(r["published"]), image=r["image"],
                   source=r["source"], body=r["body"], id=r["id"])


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (which contain ';') whole."""
    out: list[str] = []
    current: list[str] = []
    in_trigger = False
    for line in script.splitlines():
        current.append(line)
        stripped = line.strip().upper()
        if stripped.startswith("CREATE TRIGGER"):
            in_trigger = True
        if (in_trigger and stripped == "END;") or (not in_trigger and stripped.endswith(";")):
            out.append("\n".join(current).rstrip().rstrip(";"))
            current = []
            in_trigger = False
    if "".join(current).strip():
        out.append("\n".join(current))
    return out
