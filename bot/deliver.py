"""The outbox worker: pending deliveries become posts, in order per channel, each confirmed before it counts.

A delivery is marked ``sent`` only after the sink returns, so a crash at any moment leaves it pending and it is sent
again after restart; the sink's nonce (Discord's ``enforce_nonce``) turns that resend into the same message.
Transient failures back off and keep the channel's later posts waiting behind them (order is kept); permanent ones
pause the channel's subscriptions with the reason, which admins see in `/feed list`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from bot.aiotools import wait_any
from bot.config import DeliverySection
from bot.models import Delivery, Post
from bot.render import render
from bot.store import ShardSet, Store
from bot.translate import Translations

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger(__name__)


class RejectedSendError(Exception):
    """Discord refused this one message (e.g. invalid form body): drop it, keep the channel going."""


class TransientSendError(Exception):
    """Worth retrying later: timeouts, 5xx, the gateway being down."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentSendError(Exception):
    """Retrying cannot help (unknown channel, missing permissions): pause the channel's subscriptions."""


class Sink(Protocol):
    async def send(self, delivery: Delivery, post: Post) -> int | None: ...


Notify = Callable[[int, int, str], Awaitable[None]]  # (guild_id, channel_id, reason)


def retry_delay(attempts: int, retry_after: float | None, base: float = 5.0) -> float:
    return float(max(retry_after or 0.0, min(base * 2 ** max(0, attempts - 1), 900.0)))


class Deliverer:
    def __init__(
        self,
        store: Store,
        sink: Sink,
        config: DeliverySection,
        *,
        clock: Callable[[], float] = time.time,
        notify: Notify | None = None,
        shards: ShardSet | None = None,
        metrics: Metrics | None = None,
        translations: Translations | None = None,
    ) -> None:
        self._store = store
        self._translations = translations  # summaries into a subscription's or server's language, when set
        self._shards = shards  # this process posts only for guilds on its own shards
        self._metrics = metrics
        self._sink = sink
        self._config = config
        self._clock = clock
        self._notify = notify
        self.wake = asyncio.Event()  # set by the poller when it queued something

    async def run_once(self, limit: int = 200) -> int:
        """Send what is due now; returns how many posts went out (none while this process lost its shard claim)."""
        if not self._store.may_post:
            return 0
        pending = await self._store.pending_deliveries(self._clock(), limit, shards=self._shards)
        by_channel: dict[int, list[Delivery]] = defaultdict(list)
        for delivery in pending:
            by_channel[delivery.channel_id].append(delivery)
        results = await asyncio.gather(*(self._drain(ch, items) for ch, items in by_channel.items()))
        return sum(results)

    async def _drain(self, channel_id: int, items: list[Delivery]) -> int:
        sent = 0
        for index, delivery in enumerate(items):
            if index and self._config.per_channel_interval:
                await asyncio.sleep(self._config.per_channel_interval)
            article = delivery.article
            if self._translations is not None:  # never held back: a failed translation posts the summary as written
                article = await self._translations.into(
                    article, delivery.language, article.story_key or str(delivery.id)
                )
            post = render(article, mention_role_id=delivery.mention_role_id)
            await self._store.mark_attempt(delivery.id)
            try:
                message_id = await self._sink.send(delivery, post)
            except TransientSendError as exc:
                await self._transient(delivery, str(exc), exc.retry_after)
                return sent  # later posts of this channel wait so order is kept
            except PermanentSendError as exc:
                await self._permanent(delivery, str(exc))
                return sent
            except RejectedSendError as exc:
                log.error("Discord rejected delivery %s to channel %s: %s", delivery.id, channel_id, exc)
                await self._store.mark_failed(delivery.id, str(exc))
                self._count("failed")
                continue
            except Exception as exc:  # a sink bug must not kill the loop or lose the delivery
                log.exception("delivery %s to channel %s failed unexpectedly", delivery.id, channel_id)
                await self._transient(delivery, f"internal error: {type(exc).__name__}", None)
                return sent
            await self._store.mark_sent(delivery.id, message_id, self._clock())
            self._count("sent")
            sent += 1
        return sent

    def _count(self, result: str) -> None:
        if self._metrics is not None:
            self._metrics.posts.labels(result).inc()

    async def _transient(self, delivery: Delivery, reason: str, retry_after: float | None) -> None:
        """Retry later, forever: a Discord outage must delay posts, never drop them. The backoff is capped at 15
        minutes, and an error is logged once when a post has failed `max_attempts` times so operators notice."""
        attempts = delivery.attempts
        if attempts == self._config.max_attempts:
            log.error(
                "delivery %s to channel %s has failed %d times (%s); still retrying every few minutes",
                delivery.id,
                delivery.channel_id,
                attempts,
                reason,
            )
        delay = retry_delay(attempts, retry_after, self._config.retry_base)
        self._count("retry")
        log.warning(
            "delivery %s to channel %s failed (%s); retrying in %.0f s", delivery.id, delivery.channel_id, reason, delay
        )
        await self._store.retry_later(delivery.id, reason, self._clock() + delay)

    async def _permanent(self, delivery: Delivery, reason: str) -> None:
        log.warning("pausing subscriptions of channel %s: %s", delivery.channel_id, reason)
        await self._store.retry_later(delivery.id, reason, self._clock())
        guilds = await self._store.pause_channel(delivery.channel_id, reason)
        if self._notify:
            for guild_id in guilds:
                try:
                    await self._notify(guild_id, delivery.channel_id, reason)
                except Exception:
                    log.exception("could not tell guild %s that channel %s was paused", guild_id, delivery.channel_id)

    async def run_forever(self, stop: asyncio.Event, idle: float = 5.0) -> None:
        while not stop.is_set():
            if not self._store.may_post:  # another process may be posting for these shards: wait, say nothing
                await wait_any(stop, timeout=idle)
                continue
            sent = await self.run_once()
            if sent:
                continue
            next_time = await self._store.next_delivery_time(self._shards)
            wait = idle if next_time is None else min(idle, max(0.05, next_time - self._clock()))
            self.wake.clear()
            await wait_any(stop, self.wake, timeout=wait)
