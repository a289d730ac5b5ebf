"""Extracted article pages shared by every process of the bot: a cache keyed by the link's normalized URL.

Within a process the article builder's own memory already fetches a link once however many feeds carry it. This
table does the same across processes and restarts: polling leases spread feeds over processes at random, so
without it a story carried by two feeds is fetched (and extracted) once per process that meets it. Only pages
that gave an article are kept, with the fields their extraction skipped (``extract(known=…)``), for a day.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.extract import Extracted, Field
from bot.store.rows import StoreBase

_FIELDS: tuple[Field, ...] = ("title", "author", "published", "site_name")


class PageStore(StoreBase):
    async def cached_page(self, url: str, since: float) -> tuple[Extracted, frozenset[Field]] | None:
        """The page stored for `url` at `since` or later, and the fields its extraction was told not to read."""
        row = await self._db.fetchrow(
            "SELECT text, title, author, published, language, site_name, image, skipped FROM pages "
            "WHERE url = ? AND fetched >= ?",
            (url, since),
        )
        if row is None:
            return None
        published = row["published"]
        page = Extracted(
            text=row["text"],
            title=row["title"],
            author=row["author"],
            published=datetime.fromtimestamp(published, UTC) if published is not None else None,
            language=row["language"],
            site_name=row["site_name"],
            image=row["image"],
        )
        return page, frozenset(f for f in _FIELDS if f in row["skipped"].split(","))

    async def save_page(self, url: str, page: Extracted, skipped: frozenset[Field], now: float) -> None:
        await self._db.execute(
            "INSERT INTO pages (url, fetched, skipped, text, title, author, published, language, site_name, image) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET fetched = excluded.fetched, "
            "skipped = excluded.skipped, text = excluded.text, title = excluded.title, author = excluded.author, "
            "published = excluded.published, language = excluded.language, site_name = excluded.site_name, "
            "image = excluded.image",
            (
                url,
                now,
                ",".join(sorted(skipped)),
                page.text,
                page.title,
                page.author,
                page.published.timestamp() if page.published else None,
                page.language,
                page.site_name,
                page.image,
            ),
        )

    async def pages_with_image(self, image: str, besides: str, at_most: int) -> int:
        """How many stored pages other than `besides` carry `image`, counted up to `at_most` (an index lookup)."""
        row = await self._db.fetchrow(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM pages WHERE image = ? AND url <> ? LIMIT ?) AS others",
            (image, besides, at_most),
        )
        return int(row["n"]) if row is not None else 0

    async def prune_pages(self, before: float) -> int:
        return await self._db.execute("DELETE FROM pages WHERE fetched < ?", (before,))
