"""Subscriptions: follow (feed, subscription and backfill in one transaction), unfollow, edit, pause."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.models import Subscription
from bot.store.backend import POLL_CHANNEL
from bot.store.records import Follow, Followed, StoreError, SubscriptionView
from bot.store.rows import (
    BACKFILL_WINDOW,
    FEED_COLUMNS,
    Backfill,
    StoreBase,
    add_delivery,
    article_of,
    feed_of,
    notify_outbox,
    set_feed_interval,
    sub_of,
    subscriptions_of,
)


class SubscriptionStore(StoreBase):
    async def subscriptions_for_feed(self, feed_id: int) -> list[Subscription]:
        return await subscriptions_of(self._db, feed_id)

    async def follow(self, request: Follow, *, now: float, backfill: Backfill | None = None) -> Followed:
        """Feed (created due now if new), subscription and backfill in one transaction.

        A feed other channels already follow has no "first fetch" left to limit the flood, so `backfill` (a pure
        rule: the subscription's filters, max age, how many) picks which stored articles this channel gets now.
        The feed row is locked, so a concurrent unfollow cannot delete the feed being followed."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO feeds(url, interval, next_check, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(url) DO NOTHING",
                (request.url, request.interval, now, now),
            )
            row = await tx.fetchrow(f"SELECT * FROM feeds WHERE url = ? {self._db.for_update}", (request.url,))
            if row is None:
                raise StoreError(f"feed {request.url} vanished while being followed; try again")
            feed = feed_of(row)
            inserted = await tx.fetch(
                "INSERT INTO subscriptions(feed_id, guild_id, channel_id, mention_role_id, include_words, "
                "exclude_words, interval, name, created_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING "
                "RETURNING *",
                (
                    feed.id,
                    request.guild_id,
                    request.channel_id,
                    request.mention_role_id,
                    "\n".join(request.include_words),
                    "\n".join(request.exclude_words),
                    None,
                    request.name,
                    now,
                ),
            )
            if not inserted:
                return Followed(feed, None)
            sub = sub_of(inserted[0])
            added = 0
            if feed.initialized and backfill is not None:
                recent = [
                    article_of(r)
                    for r in await tx.fetch(
                        "SELECT * FROM articles WHERE feed_id = ? ORDER BY first_seen DESC, id DESC LIMIT ?",
                        (feed.id, BACKFILL_WINDOW),
                    )
                ]
                for art in backfill(sub, recent):
                    assert art.id is not None
                    added += await add_delivery(tx, art.id, sub, art.story_key, now)
                if added:
                    await notify_outbox(tx, [sub.guild_id])
            await set_feed_interval(tx, feed.id)
            if not feed.initialized:
                await tx.notify(POLL_CHANNEL, str(feed.id))
        return Followed(feed, sub, added)

    async def unsubscribe(self, subscription_id: int) -> None:
        """Drop the subscription and what it has not posted yet; a feed nobody follows is deleted too."""
        async with self._db.transaction() as tx:
            row = await tx.fetchrow("SELECT feed_id FROM subscriptions WHERE id = ?", (subscription_id,))
            if row is None:
                return
            feed_id = row[0]
            await tx.fetchrow(f"SELECT id FROM feeds WHERE id = ? {self._db.for_update}", (feed_id,))
            await tx.execute(
                "DELETE FROM deliveries WHERE subscription_id = ? AND status = 'pending'", (subscription_id,)
            )
            await tx.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
            await tx.execute(
                "DELETE FROM feeds WHERE id = ? AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE feed_id = ?)",
                (feed_id, feed_id),
            )

    async def subscription(self, subscription_id: int, guild_id: int) -> SubscriptionView | None:
        """A subscription only when it belongs to this guild: the guard every guild-facing command uses."""
        rows = await self._views("s.id = ? AND s.guild_id = ?", (subscription_id, guild_id))
        return rows[0] if rows else None

    async def guild_subscriptions(self, guild_id: int) -> list[SubscriptionView]:
        return await self._views("s.guild_id = ?", (guild_id,))

    async def count_guild_subscriptions(self, guild_id: int) -> int:
        row = await self._db.fetchrow("SELECT COUNT(*) FROM subscriptions WHERE guild_id = ?", (guild_id,))
        return row[0] if row else 0

    async def _views(self, where: str, params: Sequence[Any]) -> list[SubscriptionView]:
        rows = await self._db.fetch(
            f"SELECT s.*, {FEED_COLUMNS} FROM subscriptions s JOIN feeds f ON f.id = s.feed_id WHERE {where} "
            "ORDER BY s.id",
            params,
        )
        return [SubscriptionView(sub_of(r), feed_of(r, "f_")) for r in rows]

    async def update_subscription(self, subscription_id: int, **changes: Any) -> None:
        """Change a subscription's settings. A new channel takes the posts already queued for the old one (but
        not a story the new channel already has: that stays unposted rather than posting twice)."""
        allowed = {
            "channel_id",
            "mention_role_id",
            "include_words",
            "exclude_words",
            "interval",
            "paused_reason",
            "name",
            "language",
        }
        if not changes or not set(changes) <= allowed:
            raise StoreError(f"cannot change {sorted(set(changes) - allowed)}")
        values = ["\n".join(v) if k.endswith("_words") else v for k, v in changes.items()]
        async with self._db.transaction() as tx:
            row = await tx.fetchrow("SELECT feed_id, guild_id FROM subscriptions WHERE id = ?", (subscription_id,))
            if row is None:
                return
            await tx.execute(
                f"UPDATE subscriptions SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                (*values, subscription_id),
            )
            if "channel_id" in changes:
                channel = changes["channel_id"]
                await tx.execute(
                    "DELETE FROM deliveries WHERE subscription_id = ? AND status = 'pending' AND story_key IN "
                    "(SELECT story_key FROM deliveries WHERE channel_id = ?)",
                    (subscription_id, channel),
                )
                await tx.execute(
                    "UPDATE deliveries SET channel_id = ? WHERE subscription_id = ? AND status = 'pending'",
                    (channel, subscription_id),
                )
            if "interval" in changes:
                await tx.execute("UPDATE feeds SET interval = ? WHERE id = ?", (changes["interval"], row[0]))
                await set_feed_interval(tx, row[0])
            if "channel_id" in changes or changes.get("paused_reason", "") is None:
                await notify_outbox(tx, [row[1]])

    async def resume(self, subscription_id: int, *, now: float) -> None:
        """Unpause a subscription and, if its feed was disabled after failures, enable it and check it now: one
        transaction, so no process sees a resumed subscription on a still-disabled feed."""
        async with self._db.transaction() as tx:
            row = await tx.fetchrow("SELECT feed_id, guild_id FROM subscriptions WHERE id = ?", (subscription_id,))
            if row is None:
                return
            await tx.execute("UPDATE subscriptions SET paused_reason = NULL WHERE id = ?", (subscription_id,))
            enabled = await tx.execute(
                "UPDATE feeds SET disabled_reason = NULL, error_count = 0, next_check = ? "
                "WHERE id = ? AND disabled_reason IS NOT NULL",
                (now, row[0]),
            )
            if enabled:
                await tx.notify(POLL_CHANNEL, str(row[0]))
            await notify_outbox(tx, [row[1]])  # its queued posts may go out again

    async def pause_channel(self, channel_id: int, reason: str) -> list[int]:
        """Pause every subscription posting to a channel; returns the guilds affected."""
        rows = await self._db.fetch(
            "UPDATE subscriptions SET paused_reason = ? WHERE channel_id = ? AND paused_reason IS NULL "
            "RETURNING guild_id",
            (reason[:300], channel_id),
            write=True,
        )
        return sorted({r[0] for r in rows})

    async def pause_guild(self, guild_id: int, reason: str) -> None:
        await self._db.execute(
            "UPDATE subscriptions SET paused_reason = ? WHERE guild_id = ? AND paused_reason IS NULL",
            (reason[:300], guild_id),
        )

    async def guild_language(self, guild_id: int) -> str:
        """The server's own translation language ('' = the operator's default, 'none' = as written)."""
        row = await self._db.fetchrow("SELECT language FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return str(row["language"]) if row is not None else ""

    async def set_guild_language(self, guild_id: int, language: str) -> None:
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, language) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET language = excluded.language",
            (guild_id, language),
        )
