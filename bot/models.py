"""Domain types shared by the pure steps and the I/O shells.

Plain frozen dataclasses: the pure modules (parse, decide, render, summarize) take and return these, and nothing here
knows about HTTP, SQLite or Discord. Times are aware UTC datetimes in the domain and Unix seconds in storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Entry:
    """One item as a feed document describes it, before we decide anything about it."""

    guid: str | None  # the feed's own id for the item (RSS guid, Atom id, JSON Feed id)
    link: str | None  # absolute article URL
    title: str  # plain text
    content_html: str  # the richest body the feed gives (content, else description), still HTML
    author: str | None
    published: datetime | None
    image: str | None  # enclosure / media:content / media:thumbnail, absolute


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    site_url: str | None  # the site the feed belongs to
    entries: tuple[Entry, ...]  # document order (usually newest first)
    kind: str  # "rss20", "atom10", "json11", … for logs and `preview`
    language: str = ""  # what the feed declares for itself (`bot.language.primary`), "" when it does not


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed as stored: where it lives and how healthy it is."""

    id: int
    url: str
    title: str
    etag: str | None
    last_modified: str | None
    interval: int  # seconds
    next_check: float  # Unix time
    last_checked: float | None
    error_count: int
    last_error: str | None
    disabled_reason: str | None
    initialized: bool  # a first successful fetch happened (no-flood applies before it)


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    feed_id: int
    guild_id: int
    channel_id: int
    mention_role_id: int | None
    include_words: tuple[str, ...]
    exclude_words: tuple[str, ...]
    paused_reason: str | None
    interval: int | None = None  # per-subscription request; the feed polls at the smallest one
    name: str = ""  # what the admin or the config called it; labels its posts and `/feed list` when set
    # Summaries translated into this language (needs [summaries] with a model); "" = the server's default (else the
    # operator's), "none" = as written whatever the defaults say.
    language: str = ""


@dataclass(frozen=True, slots=True)
class Article:
    """What we store and post: one story from one feed, with the text we will show."""

    feed_id: int
    key: str  # identity inside the feed (guid, else normalized link, else hash)
    story_key: str  # identity across feeds: the normalized link when there is one
    url: str | None
    title: str
    summary: str  # plain text shown in the post
    author: str | None
    published: datetime | None
    image: str | None
    source: str  # the feed's or site's name
    body: str = ""  # extracted article text (for search)
    id: int | None = None
    language: str = ""  # as its page or feed declares it (`bot.language`); "" unknown


@dataclass(frozen=True, slots=True)
class EmbedField:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Post:
    """A message exactly as it will appear, within Discord's limits; sinks only translate it."""

    title: str
    url: str | None
    description: str
    author: str | None
    timestamp: datetime | None
    image: str | None
    footer: str
    color: int
    content: str | None = None  # message text outside the embed (a role mention)
    mention_role_id: int | None = None  # the only mention that may ping
    fields: tuple[EmbedField, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A pending post of one article to one channel: the outbox row the sink works on."""

    id: int
    article: Article
    subscription_id: int | None
    channel_id: int
    guild_id: int
    mention_role_id: int | None
    nonce: str
    attempts: int
    language: str = ""  # the subscription's translation language, else its server's; "" = the operator's, "none"
