"""The use cases — follow, follow many, unfollow, preview, edit, pause, resume, summarize a URL — in one place.

Slash commands, the CLI and the config file's ``[[feeds]]`` all call these, so "follow a feed" means one thing
everywhere: the URL is checked against the address policy, resolved to a feed (a page's advertised feed is found),
and the feed, subscription and backfill are written in one store transaction. Every rule a use case applies is a
pure function (``bot.decide``); every failure a user can cause is a ``UseCaseError`` whose text is fit to show
them. The clock is the injected one, so tests decide what "now" is.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.articles import ArticleBuilder
from bot.config import Config
from bot.decide import backfill, candidates, preview_choice
from bot.fetch import Fetcher
from bot.language import AS_WRITTEN
from bot.models import Article, Subscription
from bot.netguard import refusal_for_url
from bot.poll import Discovered, DiscoveryError, discover
from bot.store import Follow, Store, SubscriptionView
from bot.translate import Translations

log = logging.getLogger(__name__)


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}")


def language_tag(value: str) -> str:
    """A BCP 47 language tag as given (``de``, ``pt-BR``, ``zh-Hant``), or UseCaseError for anything else."""
    value = value.strip()
    if not _LANGUAGE_TAG.fullmatch(value):
        raise UseCaseError(f"`{value[:20]}` is not a language code like `de`, `fr` or `pt-BR`.")
    return value


class UseCaseError(Exception):
    """Something the user asked for cannot be done; the message says why, in words fit to show them."""


class AlreadyFollowing(UseCaseError):
    """The channel follows this feed already (for the config file: nothing to do)."""


@dataclass(frozen=True, slots=True)
class FollowRequest:
    url: str
    guild_id: int
    channel_id: int
    mention_role_id: int | None = None
    include_words: tuple[str, ...] = ()
    exclude_words: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class Preview:
    """What a preview shows: the article as it would post, or why there is none."""

    feed_url: str
    title: str
    article: Article | None
    empty_reason: str = ""


@dataclass(frozen=True, slots=True)
class FollowResult:
    subscription: Subscription
    preview: Preview | None
    backfilled: int


@dataclass
class BulkResult:
    added: list[FollowResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    already: int = 0  # requests whose channel already followed the feed (not in `skipped`)


def _probe(request: FollowRequest) -> Subscription:
    """The subscription a request would create, for the pure filter rules before it exists."""
    return Subscription(
        0,
        0,
        request.guild_id,
        request.channel_id,
        request.mention_role_id,
        request.include_words,
        request.exclude_words,
        None,
        None,
        request.name,
    )


class NewsApp:
    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        builder: ArticleBuilder,
        config: Config,
        *,
        clock: Callable[[], float] = time.time,
        on_follow: Callable[[], None] | None = None,
        translations: Translations | None = None,
    ) -> None:
        self.translations = translations  # posts and `/news summarize` in a server's or subscription's language
        self.store = store
        self.fetcher = fetcher
        self.builder = builder
        self.config = config
        self.clock = clock
        self.on_follow = on_follow  # wakes the poller so a new feed is checked now, not next round

    @property
    def _max_age(self) -> timedelta:
        return timedelta(days=self.config.polling.max_age_days)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def refusal(self, url: str) -> str | None:
        return refusal_for_url(url, self.fetcher.policy)

    async def _discover(self, url: str) -> Discovered:
        reason = self.refusal(url)
        if reason:
            raise UseCaseError(f"That URL can't be used: {reason}.")
        try:
            return await discover(self.fetcher, url, max_items=self.config.polling.max_items)
        except DiscoveryError as exc:
            raise UseCaseError(str(exc)) from None

    async def _room(self, guild_id: int, wanted: int = 1) -> int:
        """How many more feeds this guild may follow (the config's own feeds are not limited)."""
        if guild_id == 0:
            return wanted
        limit = self.config.discord.max_feeds_per_guild
        return max(0, limit - await self.store.count_guild_subscriptions(guild_id))

    async def follow(self, request: FollowRequest, *, with_preview: bool = True) -> FollowResult:
        """Follow a feed or page URL in a channel; the preview (if asked) obeys the subscription's filters."""
        if not await self._room(request.guild_id):
            raise UseCaseError(
                f"This server already follows {self.config.discord.max_feeds_per_guild} feeds, the "
                "most allowed. Remove one with `/feed remove` first."
            )
        found = await self._discover(request.url)
        result = await self.subscribe(request, found.url)
        preview = await self._preview(found, _probe(request)) if with_preview else None
        return FollowResult(result.subscription, preview, result.backfilled)

    async def subscribe(self, request: FollowRequest, feed_url: str | None = None) -> FollowResult:
        """Follow a URL already known to be a feed (no fetch): the one store transaction every follow ends in."""
        feed_url = feed_url or request.url
        rule = functools.partial(self._backfill, self._now())
        done = await self.store.follow(
            Follow(
                feed_url,
                request.guild_id,
                request.channel_id,
                self.config.polling.default_interval,
                request.mention_role_id,
                request.include_words,
                request.exclude_words,
                request.name,
            ),
            now=self.clock(),
            backfill=rule,
        )
        if done.subscription is None:
            raise AlreadyFollowing(
                f"<#{request.channel_id}> already follows {feed_url}."
                if request.channel_id
                else f"{feed_url} is already followed."
            )
        if self.on_follow:
            self.on_follow()
        return FollowResult(done.subscription, None, done.backfilled)

    def _backfill(self, now: datetime, sub: Subscription, recent: Sequence[Article]) -> Sequence[Article]:
        return backfill(sub, recent, now, max_age=self._max_age, count=self.config.polling.initial_posts)

    async def follow_many(self, requests: Sequence[FollowRequest], *, what: str = "feeds") -> BulkResult:
        """Follow many URLs at once (a config listing thousands, an OPML import): discovered concurrently within
        the fetcher's global and per-host limits, known feeds not fetched again, progress logged every 5 s."""
        out = BulkResult()
        room: dict[int, int] = {}
        for guild in {r.guild_id for r in requests}:
            room[guild] = await self._room(guild, wanted=len(requests))
        slots = asyncio.Semaphore(self.config.polling.concurrency)
        done = 0
        last_log = time.monotonic()

        async def one(request: FollowRequest) -> None:
            nonlocal done, last_log
            took_room = False
            try:
                if room[request.guild_id] <= 0:
                    raise UseCaseError(f"server limit of {self.config.discord.max_feeds_per_guild} reached")
                room[request.guild_id] -= 1
                took_room = True
                known = await self.store.feed_by_url(request.url)
                if known is not None:
                    url = known.url
                else:
                    async with slots:
                        url = (await self._discover(request.url)).url
                out.added.append(await self.subscribe(request, url))
            except UseCaseError as exc:
                room[request.guild_id] += took_room  # a failed follow gives its place back
                if isinstance(exc, AlreadyFollowing):
                    out.already += 1
                else:
                    out.skipped.append((request.url, str(exc)))
            done += 1
            if time.monotonic() - last_log >= 5.0:
                last_log = time.monotonic()
                log.info(
                    "following %s: %d of %d done (%d added, %d skipped)",
                    what,
                    done,
                    len(requests),
                    len(out.added),
                    len(out.skipped),
                )

        await asyncio.gather(*(one(r) for r in requests))
        if requests:
            log.info("following %s: %d added, %d skipped", what, len(out.added), len(out.skipped))
        return out

    async def unfollow(self, view: SubscriptionView) -> None:
        await self.store.unsubscribe(view.subscription.id)

    async def _preview(self, found: Discovered, sub: Subscription) -> Preview:
        found_items = candidates(found.parsed, 0)
        if not found_items:
            return Preview(found.url, found.parsed.title, None, "The feed has no articles yet.")
        chosen = preview_choice(found_items, sub, self._now(), max_age=self._max_age)
        if chosen is None:
            return Preview(
                found.url,
                found.parsed.title,
                None,
                "None of its current articles passes this subscription's filters and age limit "
                f"({self.config.polling.max_age_days} days), so nothing would post right now.",
            )
        article = await self.builder.build(
            0, sub.name or found.parsed.title, chosen.to_post((0,)), found.parsed.language
        )
        return Preview(found.url, found.parsed.title, article)

    async def preview(self, view: SubscriptionView) -> Preview:
        """`/feed test`: the article this subscription would post next, fetched now, stored nowhere."""
        return await self._preview(await self._discover(view.feed.url), view.subscription)

    async def preview_url(self, url: str, count: int) -> tuple[Discovered, list[Article]]:
        """`newsbot preview`: the newest `count` items of any feed or page as they would post (no filters)."""
        found = await self._discover(url)
        items = candidates(found.parsed, 0)[:count]
        language = found.parsed.language
        return found, [await self.builder.build(0, found.parsed.title, c.to_post((0,)), language) for c in items]

    async def edit(self, view: SubscriptionView, **changes: object) -> None:
        """Change a subscription; a new channel also takes the posts already queued for the old one."""
        if "interval" in changes:
            minimum = self.config.polling.min_interval
            if int(changes["interval"]) < minimum:  # type: ignore[call-overload]
                raise UseCaseError(f"The shortest interval is {minimum // 60} minutes.")
        if "language" in changes:
            changes["language"] = self.translation_language(str(changes["language"]))
        if "channel_id" in changes and any(
            v.subscription.channel_id == changes["channel_id"] and v.feed.id == view.feed.id
            for v in await self.store.guild_subscriptions(view.subscription.guild_id)
        ):
            raise UseCaseError(f"<#{changes['channel_id']}> already follows this feed.")
        await self.store.update_subscription(view.subscription.id, **changes)

    def translation_language(self, value: str) -> str:
        """What an admin typed for a translation language, as stored: "none" or "off" → "none" (as written),
        "default" or nothing → "" (the level above: the server's, else the operator's), else a checked tag. Only a
        tag needs a model."""
        value = value.strip()
        if value.lower() in (AS_WRITTEN, "off"):
            return AS_WRITTEN
        if value.lower() in ("", "default"):
            return ""
        tag = language_tag(value)
        if self.config.summaries.provider == "extractive":
            raise UseCaseError(
                "Translation needs a language model: the bot's operator can set `[summaries] provider` in its "
                "config. Summaries are posted in the article's own language meanwhile."
            )
        return tag

    async def set_server_language(self, guild_id: int, value: str) -> str:
        """`/feed language`: the language this server's summaries are translated into, for every subscription that
        names none of its own ("none": as written; "": the operator's default). Returns what was stored."""
        language = self.translation_language(value)
        await self.store.set_guild_language(guild_id, language)
        return language

    async def pause(self, view: SubscriptionView, reason: str) -> None:
        await self.store.update_subscription(view.subscription.id, paused_reason=reason[:100])

    async def resume(self, view: SubscriptionView) -> None:
        """Resume a paused subscription; a feed disabled after failures is enabled and checked now."""
        await self.store.resume(view.subscription.id, now=self.clock())
        if self.on_follow:
            self.on_follow()

    async def summarize_url(self, url: str, guild_id: int | None = None) -> Article:
        """`/news summarize`: the one page asked for is fetched even when feeds' pages are not
        (``articles.fetch_pages = false`` limits the bot's own traffic, not a member's explicit request). Asked in a
        server, the summary comes in the server's language (`/feed language`, else the operator's), as its posts do."""
        reason = self.refusal(url)
        if reason:
            raise UseCaseError(f"That URL can't be used: {reason}.")
        page = await self.builder.page(url)
        if page is None:
            raise UseCaseError("I couldn't read an article at that address (it may be blocked, not HTML, or empty).")
        title = page.title or url
        article = Article(
            feed_id=0,
            key="",
            story_key="",
            url=url,
            title=title,
            summary=await self.builder.abstract(url, title, page.text, self.builder.summary(page.text)),
            author=page.author,
            published=page.published,
            image=page.image,
            source=page.site_name or (url.split("/")[2] if url.count("/") >= 2 else url),
            language=page.language or "",
        )
        if self.translations is None or guild_id is None:
            return article
        return await self.translations.into(article, await self.store.guild_language(guild_id), url)

    async def sync_config_feeds(self) -> int:
        """The config file's ``[[feeds]]`` exist as subscriptions (added, never removed: admins own the rest);
        each entry's ``name`` labels its posts."""
        requests = [FollowRequest(e.url, e.guild_id, e.channel_id, name=e.name) for e in self.config.feeds]
        result = await self.follow_many(requests, what="config feeds")
        for url, reason in result.skipped:
            log.error("config feed %s: %s", url, reason)
        return len(result.added)
