"""Rows to plain data and the pieces of SQL the store's parts share."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.models import Article, Feed, Subscription
from bot.store.backend import OUTBOX_CHANNEL, Backend, Conn, Row

Backfill = Callable[[Subscription, Sequence[Article]], Sequence[Article]]  # pure: which stored articles to post

NEW_DELIVERY = (
    "INSERT INTO deliveries(article_id, subscription_id, channel_id, story_key, nonce, created_at) "
    "VALUES (?,?,?,?,?,?) ON CONFLICT(channel_id, story_key) DO NOTHING RETURNING id"
)
FEED_COLUMNS = (
    "f.id AS f_id, f.url, f.title AS f_title, f.etag, f.last_modified, f.interval AS f_interval, "
    "f.next_check, f.last_checked, f.error_count, f.last_error, f.disabled_reason, f.initialized"
)
ARTICLE_COLUMNS = (
    "feed_id",
    "key",
    "story_key",
    "url",
    "title",
    "summary",
    "body",
    "author",
    "published",
    "image",
    "source",
    "first_seen",
    "language",
)
BACKFILL_WINDOW = 50  # stored articles a new subscription's backfill chooses from


def is_postgres(database: str | Path) -> bool:
    return str(database).startswith(("postgresql://", "postgres://"))


def ts(value: datetime | None) -> float | None:
    return value.timestamp() if value else None


def dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def words(value: str) -> tuple[str, ...]:
    return tuple(w for w in value.split("\n") if w)


def feed_of(r: Row, prefix: str = "") -> Feed:
    """A feed row; `prefix` names the columns a join renamed (``f_id``, ``f_title``, ``f_interval``)."""
    return Feed(
        r[f"{prefix}id"],
        r["url"],
        r[f"{prefix}title"],
        r["etag"],
        r["last_modified"],
        r[f"{prefix}interval"],
        r["next_check"],
        r["last_checked"],
        r["error_count"],
        r["last_error"],
        r["disabled_reason"],
        bool(r["initialized"]),
    )


def sub_of(r: Row) -> Subscription:
    return Subscription(
        r["id"],
        r["feed_id"],
        r["guild_id"],
        r["channel_id"],
        r["mention_role_id"],
        words(r["include_words"]),
        words(r["exclude_words"]),
        r["paused_reason"],
        r["interval"],
        r["name"],
        r["language"],
    )


def article_of(r: Row) -> Article:
    return Article(
        feed_id=r["feed_id"],
        key=r["key"],
        story_key=r["story_key"],
        url=r["url"],
        title=r["title"],
        summary=r["summary"],
        author=r["author"],
        published=dt(r["published"]),
        image=r["image"],
        source=r["source"],
        body=r["body"],
        id=r["id"],
        language=r["language"],
    )


async def notify_outbox(conn: Conn, guild_ids: Sequence[int] | set[int]) -> None:
    if guild_ids:
        await conn.notify(OUTBOX_CHANNEL, ",".join(str(g) for g in sorted(set(guild_ids))))


async def set_feed_interval(tx: Conn, feed_id: int) -> None:
    """A feed polls at the shortest interval any of its subscriptions asked for."""
    await tx.execute(
        "UPDATE feeds SET interval = COALESCE((SELECT MIN(interval) FROM subscriptions "
        "WHERE feed_id = feeds.id AND interval IS NOT NULL), interval) WHERE id = ?",
        (feed_id,),
    )


async def subscriptions_of(conn: Conn, feed_id: int) -> list[Subscription]:
    return [sub_of(r) for r in await conn.fetch("SELECT * FROM subscriptions WHERE feed_id = ?", (feed_id,))]


async def add_delivery(tx: Conn, article_id: int, sub: Subscription, story: str, now: float) -> bool:
    rows = await tx.fetch(NEW_DELIVERY, (article_id, sub.id, sub.channel_id, story, secrets.token_hex(12), now))
    return bool(rows)


class StoreBase:
    """What every part of the store stands on: the backend, and IN lists in the backend's own chunks."""

    def __init__(self, backend: Backend) -> None:
        self._db = backend

    def _in(self, expression: str, values: Sequence[Any]) -> list[tuple[str, list[Any]]]:
        size = self._db.chunk
        return [self._db.any_of(expression, values[i : i + size]) for i in range(0, len(values), size)]
