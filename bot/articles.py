"""Turning a new feed entry into the article we store and post: page fetch, extraction, summary.

Only articles that will actually be posted get their page fetched (recording a cold feed's 50 back-items must not
fetch 50 pages from one site). A URL is fetched at most once however many feeds carry it: concurrent requests for
the same URL share one fetch, recent results are kept in a small bounded cache, and the ``pages`` table shares them
with the other processes and the next start (``bot.store.pages``). A page that fails or has no
article falls back to the feed's own text, with a log line and nothing shown to members.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from bot.cleantext import without_title
from bot.config import ArticlesSection
from bot.decide import NewArticle
from bot.extract import Extracted, Field, Mode, extract
from bot.fetch import PAGE_ACCEPT, Fetcher, FetchError
from bot.images import SHARED
from bot.llm import LLMSummarizer
from bot.models import Article
from bot.render import cut
from bot.store.pages import PageStore
from bot.summarize import iter_sentences, summarize
from bot.urls import normalize_url
from bot.workers import Workers

log = logging.getLogger(__name__)

_MIN_PAGE_TEXT = 200  # characters: less than this and the page was a teaser, a paywall or an error page
PAGE_TTL = 86_400.0  # seconds a page another process extracted is reused: the hours a story runs in several feeds


def headline(text: str, limit: int = 120) -> str:
    """A title for an item that has none (a status update, a microblog post): its own first sentence, cut.

    Decided for items with neither title nor link: they are posted, not skipped (their text is the news), titled
    with what they say rather than "Untitled"; the identity rules are unchanged."""
    first = next(iter_sentences(" ".join(text.split())), None)
    return cut(first.text, limit) if first is not None else ""


def _extract(html: bytes, url: str, mode: Mode, known: frozenset[Field]) -> Extracted | None:
    """`extract` with positional arguments only: what the worker pool sends to another process."""
    return extract(html, url, mode, known=known)


class ArticleBuilder:
    def __init__(
        self,
        fetcher: Fetcher | None,
        config: ArticlesSection,
        workers: Workers,
        cache_size: int = 512,
        *,
        llm: LLMSummarizer | None = None,
        store: PageStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store  # pages other processes (or this one before a restart) fetched: `bot.store.pages`
        self._clock = clock
        self._llm = llm  # abstractive summaries for posted articles, grounded; the extractive one is the fallback
        self._fetcher = fetcher  # `page` always works (`/news summarize`); `build` uses it only with fetch_pages
        self._config = config
        self._workers = workers  # extraction is tens of ms of CPU per page: never on the event loop
        # Per URL: the extraction, and the fields it was told not to read (`extract(known=…)`).
        self._pages: OrderedDict[str, tuple[asyncio.Future[Extracted | None], frozenset[Field]]] = OrderedDict()
        self._cache_size = cache_size

    async def page(self, url: str, known: frozenset[Field] = frozenset()) -> Extracted | None:
        """The extracted article at `url`, fetched once however many feeds carry it. `known`: the fields the caller
        already has, not read from the page (a cached result read with fewer skipped fields serves any caller; one
        that skipped a field this caller needs is fetched again, rare: the same link in two feeds, one missing it).
        """
        if self._fetcher is None:
            return None
        key = normalize_url(url)
        cached = self._pages.get(key)
        if cached is None or not cached[1] <= known:
            future: asyncio.Future[Extracted | None] = asyncio.get_running_loop().create_future()
            self._pages[key] = (future, known)
            self._pages.move_to_end(key)
            while len(self._pages) > self._cache_size:
                self._pages.popitem(last=False)
            try:
                future.set_result(await self._fetch_page(url, key, known))
            except BaseException as exc:
                if self._pages.get(key, (None,))[0] is future:
                    self._pages.pop(key, None)
                future.set_exception(exc)
                future.exception()  # mark retrieved: other waiters see it, nobody gets "never retrieved"
                raise
        else:
            future = cached[0]
            self._pages.move_to_end(key)
        return await asyncio.shield(future)

    async def _fetch_page(self, url: str, key: str, known: frozenset[Field]) -> Extracted | None:
        """The shared page (`key`: the normalized URL) when another process, or this one before a restart, built it;
        else fetched here."""
        if self._store is not None:
            try:
                shared = await self._store.cached_page(key, since=self._clock() - PAGE_TTL)
            except Exception:  # the database is down: fetching the page is what the cache would have saved
                log.warning("shared page cache unavailable for %s", url, exc_info=True)
                shared = None
            if shared is not None and shared[1] <= known:
                return shared[0]
        page = await self._extracted(url, known)
        if page is not None and self._store is not None:
            try:
                await self._store.save_page(key, page, known, self._clock())
            except Exception:
                log.warning("could not share the page %s", url, exc_info=True)
        return page

    async def _extracted(self, url: str, known: frozenset[Field]) -> Extracted | None:
        assert self._fetcher is not None
        try:
            result = await self._fetcher.get(url, accept=PAGE_ACCEPT)
        except FetchError as exc:
            log.info("article page %s not used: %s", url, exc.reason)
            return None
        if "html" not in result.content_type.lower() and result.body.lstrip()[:1] != b"<":
            log.info("article page %s not used: %s is not HTML", url, result.content_type or "unknown type")
            return None
        try:
            return await self._workers.run(_extract, result.body, result.url, self._config.extraction, known)
        except Exception:
            log.exception("extracting %s failed", url)
            return None

    async def build_all(
        self, feed_id: int, source: str, items: Sequence[NewArticle], language: str = ""
    ) -> list[Article]:
        return list(await asyncio.gather(*(self.build(feed_id, source, item, language) for item in items)))

    async def build(self, feed_id: int, source: str, item: NewArticle, language: str = "") -> Article:
        """The article for a new entry; `language` is what its feed declares (the page's own declaration wins)."""
        entry = item.entry
        wanted = self._config.fetch_pages and item.deliver_to and entry.link
        given: dict[Field, object] = {
            "title": entry.title,
            "author": entry.author,
            "published": entry.published,
            "site_name": source,
        }
        known = frozenset(field for field, value in given.items() if value)
        page = await self.page(entry.link, known) if wanted and entry.link else None
        use_page = page is not None and len(page.text) >= max(_MIN_PAGE_TEXT, len(item.text) // 2)
        # A feed description that opens with the title (many CMSs write "<b>Title</b><br>Text") does not repeat it
        # in the post; its furniture is the summarizer's to skip. One that is only links to other stories (Google
        # News' related headlines) is no text about this one.
        feed_text = "" if item.links_only else without_title(item.text, entry.title)
        body = page.text if use_page and page else feed_text
        # Only posts need the real summary; a backlog item (recorded, never posted) keeps a cheap cut of its text
        # for `/news latest` and search. Summarizing a cold feed's 50 back-items would triple a cold round's cost.
        summary = self.summary(body) if item.deliver_to else cut(" ".join(body.split()), self._config.summary_chars)
        if not use_page and len(" ".join(body.split())) <= len(summary):
            body = ""  # the summary already holds all of the feed's text: don't store (and index) it twice
        title = (
            entry.title or (page.title if page and page.title else "") or headline(item.text) or source or "Untitled"
        )
        if item.deliver_to and (body or summary):
            summary = await self.abstract(item.story_key, title, body or summary, summary)
        return Article(
            feed_id=feed_id,
            key=item.key,
            story_key=item.story_key,
            url=entry.link,
            title=title,
            summary=summary,
            author=entry.author or (page.author if page else None),
            published=entry.published or (page.published if page else None),
            image=entry.image or await self._page_picture(page, entry.link),
            source=source or (page.site_name if page and page.site_name else ""),
            body=body,
            language=(page.language if page and page.language else "") or language,
        )

    async def _page_picture(self, page: Extracted | None, link: str | None) -> str | None:
        """The page's picture, unless two other pages stored in the last day carry it too: then it is the site's
        default card, whatever its file name (`bot.images` catches the ones named so). The first two posts of such
        a site still show it; a restart or another process loses nothing of this (the pages table is shared)."""
        if page is None or not page.image or self._store is None or not link:
            return page.image if page else None
        try:
            others = await self._store.pages_with_image(page.image, normalize_url(link), SHARED - 1)
        except Exception:  # the database is down: the picture is more likely right than not
            log.warning("could not tell whether %s is a site's default image", page.image, exc_info=True)
            return page.image
        return None if others >= SHARED - 1 else page.image

    async def abstract(self, key: str, title: str, text: str, extractive: str) -> str:
        """The model's grounded summary of `text` when a model is configured and answers in time, else
        `extractive` (which the caller already has: the fallback costs nothing)."""
        if self._llm is None:
            return extractive
        found = await self._llm.summarize(
            key,
            title,
            text,
            max_sentences=self._config.summary_sentences,
            max_chars=self._config.summary_chars,
        )
        return found or extractive

    def summary(self, text: str) -> str:
        return summarize(text, max_sentences=self._config.summary_sentences, max_chars=self._config.summary_chars)
