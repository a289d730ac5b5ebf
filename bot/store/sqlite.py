"""The SQLite backend: one file, one process, one connection shared by every task (the embedded default).

Writers take an asyncio lock so no statement of another task slips into an open transaction. A second process on
the same file is refused at open (an exclusive ``flock`` on ``<file>.lock``, released by the kernel however the
process dies): leases and per-shard delivery need PostgreSQL, and the message says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.backend import Conn, Row, split_sql, sqlite_match
from bot.store.records import StoreError

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
    # 4: poll leases (which process checks a feed, until when; claims walk feeds_claim, slowest first) and the
    # name a subscription was given
    """
    ALTER TABLE feeds ADD COLUMN lease_owner TEXT;
    ALTER TABLE feeds ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
    CREATE INDEX feeds_claim ON feeds(check_seconds DESC, next_check, id) WHERE disabled_reason IS NULL;
    ALTER TABLE subscriptions ADD COLUMN name TEXT NOT NULL DEFAULT '';
    """,
    # 5: the language a subscription's summaries are translated into ('' = as the article is written)
    """
    ALTER TABLE subscriptions ADD COLUMN language TEXT NOT NULL DEFAULT '';
    """,
    # 6: translated summaries by the translated text's digest and language, so neither a restart nor another
    # process asks the model twice for the same one (a cache: `newsbot migrate` does not copy it)
    """
    CREATE TABLE translations (
        source TEXT NOT NULL,
        language TEXT NOT NULL,
        text TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (source, language)
    );
    CREATE INDEX translations_created ON translations(created);
    """,
    # 7: extracted article pages by normalized URL, so a link that several feeds carry is fetched once by
    # whichever process builds it first, not once per process or per restart (a cache: not copied by migrate)
    """
    CREATE TABLE pages (
        url TEXT PRIMARY KEY,
        fetched REAL NOT NULL,
        skipped TEXT NOT NULL,
        text TEXT NOT NULL,
        title TEXT,
        author TEXT,
        published REAL,
        language TEXT,
        site_name TEXT,
        image TEXT
    );
    CREATE INDEX pages_fetched ON pages(fetched);
    """,
    # 8: the language an article's page or feed declares, so a summary already in a subscription's language is
    # not sent to the model for translation (`bot.language`); '' = not declared, as for every older article. And a
    # server's own settings: the language its subscriptions' summaries are translated into unless they say
    # otherwise ('' = the operator's `[summaries] language`, 'none' = as written)
    """
    ALTER TABLE articles ADD COLUMN language TEXT NOT NULL DEFAULT '';
    CREATE TABLE guild_settings (guild_id INTEGER PRIMARY KEY, language TEXT NOT NULL DEFAULT '');
    """,
    # 9: pages by their image, to tell a site's default card from a story's picture: an image that two other
    # pages carry is the site's, not the story's (`ArticleBuilder`, `bot.images.SHARED`)
    """
    CREATE INDEX pages_image ON pages(image) WHERE image IS NOT NULL;
    """,
)


class _Conn:
    """Statements on the shared connection; ``locked`` when the caller already holds the writer lock."""

    def __init__(self, db: aiosqlite.Connection, lock: asyncio.Lock, locked: bool) -> None:
        self._db = db
        self._lock = lock
        self._locked = locked

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        if self._locked:
            yield
        else:
            async with self._lock:
                yield

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._writing():
            cur = await self._db.execute(sql, params)
            return cur.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._writing():
            await self._db.executemany(sql, rows)

    async def insert_new(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        marks = ",".join("?" * len(columns))
        await self.executemany(
            f"INSERT INTO {table}({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING", rows
        )

    async def fetch(self, sql: str, params: Sequence[Any] = (), *, write: bool = False) -> list[Row]:
        if write:
            async with self._writing():
                return list(await self._db.execute_fetchall(sql, params))
        # One round trip to the database thread (execute + fetch + close would be three).
        return list(await self._db.execute_fetchall(sql, params))

    async def fetchrow(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return next(iter(await self._db.execute_fetchall(sql, params)), None)

    async def notify(self, channel: str, payload: str) -> None:
        return None  # one process: the poller wakes its own deliverer directly


class SQLiteBackend(_Conn):
    name = "sqlite"
    for_update = ""  # BEGIN IMMEDIATE already serializes writers
    chunk = 400

    def __init__(self, db: aiosqlite.Connection) -> None:
        super().__init__(db, asyncio.Lock(), locked=False)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, path: str | Path) -> AsyncIterator[SQLiteBackend]:
        with _single_process(path):
            db = await aiosqlite.connect(str(path), isolation_level=None)
            try:
                db.row_factory = aiosqlite.Row
                await db.execute("PRAGMA journal_mode=WAL")
                await db.execute("PRAGMA synchronous=NORMAL")
                await db.execute("PRAGMA foreign_keys=ON")
                await db.execute("PRAGMA busy_timeout=5000")
                backend = cls(db)
                await backend._migrate()
                yield backend
            finally:
                await db.close()

    async def _migrate(self) -> None:
        row = await self.fetchrow("PRAGMA user_version")
        version = row[0] if row else 0
        if version > len(MIGRATIONS):
            raise StoreError(f"database schema version {version} is newer than this newsbot ({len(MIGRATIONS)})")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self.transaction() as tx:
                for statement in split_sql(script):
                    await tx.execute(statement)
                await tx.execute(f"PRAGMA user_version={number}")

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield _Conn(self._db, self._lock, locked=True)
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            else:
                await self._db.execute("COMMIT")

    def any_of(self, expression: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{expression} IN ({','.join('?' * len(values))})", list(values)

    async def search(self, guild_id: int, query: str, limit: int) -> list[Row]:
        match = sqlite_match(query)
        if match is None:
            return []
        return await self.fetch(
            "SELECT a.* FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
            "WHERE articles_fts MATCH ? AND a.feed_id IN (SELECT feed_id FROM subscriptions WHERE guild_id = ?) "
            "ORDER BY bm25(articles_fts, 10.0, 3.0, 1.0), a.id LIMIT ?",
            (match, guild_id, limit),
        )

    async def after_prune(self) -> None:
        # One big UPDATE (and its FTS rewrite) grows the WAL file; give the space back.
        await self.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def listen(self, channel: str, callback: Callable[[str], None]) -> None:
        return None

    async def finish_load(self, conn: Conn) -> None:
        return None

    async def claim_shards(self, ids: Sequence[int], count: int) -> None:
        return None  # one process per file already (`_single_process`)

    may_post = True


@contextlib.contextmanager
def _single_process(path: str | Path) -> Any:
    if str(path) == ":memory:":
        yield
        return
    lock_path = f"{path}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                f"another newsbot process is using {path}. SQLite serves one process; to run several "
                '(shards, machines), use PostgreSQL: bot.database = "postgresql://user@host/newsbot" '
                "(see README, Scaling past one machine)"
            ) from None
        yield
    finally:
        os.close(fd)
