"""Plain data the store takes and returns: nothing here knows which database is behind it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import Article, Feed, Subscription


class StoreError(Exception):
    """The database cannot be used as asked (a newer schema, a second process on SQLite, a non-empty target)."""


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

    @property
    def label(self) -> str:
        """What members and admins see it called: the name it was given, else the feed's title, else its URL."""
        return self.subscription.name or self.feed.title or self.feed.url


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """A feed's whole state after one check, decided by ``schedule.after_*`` (pure) and written by
    ``Store.apply_outcome`` in one statement, so no check leaves a feed half-updated (or still leased)."""

    checked_at: float
    next_check: float
    took: float
    error_count: int
    last_error: str | None
    disabled_reason: str | None
    title: str
    etag: str | None
    last_modified: str | None
    initialized: bool
    moved_to: str | None = None  # a permanent redirect: the stored URL becomes this (unless another feed has it)


@dataclass(frozen=True, slots=True)
class Follow:
    """A channel to subscribe to a feed URL, with its settings: the input of ``Store.follow``."""

    url: str
    guild_id: int
    channel_id: int
    interval: int
    mention_role_id: int | None = None
    include_words: tuple[str, ...] = ()
    exclude_words: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class Followed:
    """What ``Store.follow`` did: the subscription (None when the channel already followed the feed)."""

    feed: Feed
    subscription: Subscription | None
    backfilled: int = 0


@dataclass(frozen=True, slots=True)
class ShardSet:
    """The Discord shards one process serves: it posts only for guilds on these shards."""

    ids: tuple[int, ...]
    count: int

    def owns(self, guild_id: int) -> bool:
        return (guild_id >> 22) % self.count in self.ids

    @property
    def everything(self) -> bool:
        return set(self.ids) == set(range(self.count))
