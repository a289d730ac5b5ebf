"""The outbox: pending deliveries per shard, oldest first per channel, and their states."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from bot.models import Delivery
from bot.store.backend import OUTBOX_CHANNEL, POLL_CHANNEL
from bot.store.records import ShardSet
from bot.store.rows import (
    StoreBase,
    article_of,
)


class OutboxStore(StoreBase):
    async def pending_deliveries(
        self, now: float, limit: int, per_channel: int = 10, shards: ShardSet | None = None
    ) -> list[Delivery]:
        """Due deliveries of the guilds on `shards` (all when None), oldest first within each channel and fairly
        across channels.

        At most `per_channel` per channel, so one busy channel cannot starve the others; and a channel whose oldest
        pending delivery is waiting for a retry yields nothing, so no later post can overtake it. Paused or removed
        subscriptions' rows wait.
        """
        shard_sql, shard_params = self._shard_filter(shards)
        rows = await self._db.fetch(
            "WITH p AS (SELECT d.id, d.next_attempt, "
            "ROW_NUMBER() OVER (PARTITION BY d.channel_id ORDER BY d.id) AS rn, "
            "FIRST_VALUE(d.next_attempt) OVER (PARTITION BY d.channel_id ORDER BY d.id) AS head_due "
            "FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
            f"WHERE d.status = 'pending' AND s.paused_reason IS NULL {shard_sql}) "
            "SELECT d.id AS d_id, d.subscription_id, d.channel_id, d.nonce, d.attempts, s.guild_id, "
            "s.mention_role_id, s.name AS sub_name, a.*, "
            # The subscription's translation language, else its server's ('' = the operator's default).
            "CASE WHEN s.language <> '' THEN s.language ELSE COALESCE(g.language, '') END AS sub_language "
            "FROM p JOIN deliveries d ON d.id = p.id "
            "JOIN subscriptions s ON s.id = d.subscription_id JOIN articles a ON a.id = d.article_id "
            "LEFT JOIN guild_settings g ON g.guild_id = s.guild_id "
            "WHERE p.rn <= ? AND p.head_due <= ? AND p.next_attempt <= ? ORDER BY d.id LIMIT ?",
            (*shard_params, per_channel, now, now, limit),
        )
        out = []
        for r in rows:
            article = article_of(r)
            if r["sub_name"]:  # the name the subscription was given labels its posts
                article = dataclasses.replace(article, source=r["sub_name"])
            out.append(
                Delivery(
                    r["d_id"],
                    article,
                    r["subscription_id"],
                    r["channel_id"],
                    r["guild_id"],
                    r["mention_role_id"],
                    r["nonce"],
                    r["attempts"],
                    r["sub_language"],
                )
            )
        return out

    async def mark_attempt(self, delivery_id: int) -> None:
        """Counted before the send, so after a crash we know a message may already exist."""
        await self._db.execute("UPDATE deliveries SET attempts = attempts + 1 WHERE id = ?", (delivery_id,))

    async def mark_sent(self, delivery_id: int, message_id: int | None, now: float) -> None:
        await self._db.execute(
            "UPDATE deliveries SET status = 'sent', message_id = ?, sent_at = ?, last_error = NULL WHERE id = ?",
            (message_id, now, delivery_id),
        )

    async def retry_later(self, delivery_id: int, error: str, when: float) -> None:
        await self._db.execute(
            "UPDATE deliveries SET last_error = ?, next_attempt = ? WHERE id = ?", (error[:500], when, delivery_id)
        )

    async def mark_failed(self, delivery_id: int, error: str) -> None:
        await self._db.execute(
            "UPDATE deliveries SET status = 'failed', last_error = ? WHERE id = ?", (error[:500], delivery_id)
        )

    async def delivery_counts(self) -> dict[str, int]:
        rows = await self._db.fetch("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
        return {r[0]: r[1] for r in rows}

    def _shard_filter(self, shards: ShardSet | None) -> tuple[str, list[Any]]:
        """`AND <guild on one of these shards>` (Discord's `(guild_id >> 22) % count`), or nothing for all."""
        if shards is None or shards.everything:
            return "", []
        clause, values = self._db.any_of("((s.guild_id / 4194304) % ?)", shards.ids)
        return f"AND {clause}", [shards.count, *values]

    async def next_delivery_time(self, shards: ShardSet | None = None) -> float | None:
        shard_sql, shard_params = self._shard_filter(shards)
        row = await self._db.fetchrow(
            "SELECT MIN(d.next_attempt) FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
            f"WHERE d.status = 'pending' AND s.paused_reason IS NULL {shard_sql}",
            shard_params,
        )
        return row[0] if row else None

    async def watch_outbox(self, callback: Callable[[list[int]], None]) -> None:
        """`callback(guild_ids)` whenever any process queues posts (PostgreSQL); one process needs no watching."""
        await self._db.listen(
            OUTBOX_CHANNEL, lambda payload: callback([int(g) for g in payload.split(",") if g.isdigit()])
        )

    async def watch_feeds(self, callback: Callable[[], None]) -> None:
        """`callback()` whenever any process made a feed due now (a follow in another shard's process)."""
        await self._db.listen(POLL_CHANNEL, lambda _payload: callback())

    # ----- translated summaries (a cache the deliverer keeps so a restart or another process does not pay twice)

    async def translation(self, source: str, language: str) -> str | None:
        """The stored translation of the text whose digest is `source` into `language`, if any."""
        rows = await self._db.fetch(
            "SELECT text FROM translations WHERE source = ? AND language = ?", (source, language)
        )
        return str(rows[0]["text"]) if rows else None

    async def save_translation(self, source: str, language: str, text: str, now: float) -> None:
        await self._db.execute(
            "INSERT INTO translations (source, language, text, created) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (source, language) DO NOTHING",
            (source, language, text, now),
        )

    async def prune_translations(self, before: float) -> int:
        """Forget translations made before `before` (the articles they were for are past their retention)."""
        return await self._db.execute("DELETE FROM translations WHERE created < ?", (before,))
