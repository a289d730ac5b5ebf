"""Feeds and polling: leases, known identities, and one check's outcome written in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.models import Feed
from bot.store.backend import POLL_CHANNEL, Conn
from bot.store.records import ArticleWrite, FeedOutcome
from bot.store.rows import (
    ARTICLE_COLUMNS,
    StoreBase,
    add_delivery,
    feed_of,
    notify_outbox,
    subscriptions_of,
    ts,
)
from bot.urls import same_link


class FeedStore(StoreBase):
    async def feed(self, feed_id: int) -> Feed | None:
        row = await self._db.fetchrow("SELECT * FROM feeds WHERE id = ?", (feed_id,))
        return feed_of(row) if row else None

    async def feed_by_url(self, url: str) -> Feed | None:
        row = await self._db.fetchrow("SELECT * FROM feeds WHERE url = ?", (url,))
        return feed_of(row) if row else None

    async def claim_due_feeds(self, now: float, limit: int, *, owner: str, lease: float) -> list[Feed]:
        """Lease up to `limit` due feeds to `owner` for `lease` seconds in one statement, and return them.

        The lease is the feed's next check moved to ``now + lease``: a claimed feed is no longer due (so claims
        never re-read the rows of feeds in flight), and if its process dies before writing the outcome the feed
        simply falls due again when the lease ends. On PostgreSQL the rows are locked with SKIP LOCKED, so
        processes claiming at the same moment get disjoint feeds. The slowest last time are claimed first, walking
        the ``feeds_claim`` index (a feed that takes 8 s then overlaps the others instead of finishing alone at the
        end; measured: the farm's warm round went from 12.9 s to 8.2 s); the poller claims until none is due, so
        the fast ones are never starved."""
        rows = await self._db.fetch(
            "UPDATE feeds SET next_check = ?, lease_owner = ?, lease_until = ? WHERE id IN ("
            "SELECT f.id FROM feeds f WHERE f.disabled_reason IS NULL AND f.next_check <= ? "
            "AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = f.id) "
            "ORDER BY f.check_seconds DESC, f.next_check, f.id LIMIT ? "
            f"{self._db.for_update} {'OF f SKIP LOCKED' if self._db.for_update else ''}) RETURNING *",
            (now + lease, owner, now + lease, now, limit),
            write=True,
        )
        rows.sort(key=lambda r: (-r["check_seconds"], r["id"]))
        return [feed_of(r) for r in rows]

    async def next_due_time(self) -> float | None:
        """When the next feed falls due (a leased feed's next check is its lease's end)."""
        row = await self._db.fetchrow(
            "SELECT MIN(next_check) FROM feeds f WHERE disabled_reason IS NULL "
            "AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = f.id)"
        )
        return row[0] if row else None

    async def known_identities(
        self,
        feed_id: int,
        keys: Sequence[str],
        stories: Sequence[str],
        formers: Mapping[str, str | None] | None = None,
    ) -> tuple[set[str], set[str]]:
        """Which of these keys and story keys this feed already has: a bounded lookup (two indexes), one round
        trip per chunk rather than one per column.

        `formers` maps a key's former spelling (``urls.former_key``) to the link the entry has now; a former key
        counts as known only when the article stored under it had that same link (or when no link is expected).
        So an article stored before fragments counted is recognised, while a new anchor on the same page, whose
        former key is the same, is not mistaken for it."""
        known_keys: set[str] = set()
        known_stories: set[str] = set()
        keys, stories = list(keys), list(stories)
        for start in range(0, max(len(keys), len(stories)), self._db.chunk // 2):
            key_clause, key_params = self._db.any_of("key", keys[start : start + self._db.chunk // 2])
            story_clause, story_params = self._db.any_of("story_key", stories[start : start + self._db.chunk // 2])
            rows = await self._db.fetch(
                f"SELECT key, story_key FROM articles WHERE feed_id = ? AND {key_clause} "
                f"UNION ALL SELECT key, story_key FROM articles WHERE feed_id = ? AND {story_clause}",
                (feed_id, *key_params, feed_id, *story_params),
            )
            known_keys.update(r[0] for r in rows)  # a row found by its story brings its key along: known too
            known_stories.update(r[1] for r in rows)
        wanted = dict(formers or {})
        names = list(wanted)
        for start in range(0, len(names), self._db.chunk):
            clause, params = self._db.any_of("key", names[start : start + self._db.chunk])
            rows = await self._db.fetch(
                f"SELECT key, url FROM articles WHERE feed_id = ? AND {clause}", (feed_id, *params)
            )
            known_keys.update(r[0] for r in rows if wanted[r[0]] is None or same_link(r[1], wanted[r[0]]))
        return known_keys, known_stories

    async def apply_outcome(self, feed: Feed, outcome: FeedOutcome, writes: Sequence[ArticleWrite] = ()) -> int:
        """One check's result in one transaction: new articles, their deliveries, the feed's new state (and its
        lease released). Returns deliveries created. Articles go in with one statement: one round trip, not one per
        article."""
        created: list[int] = []
        if not writes and not (outcome.moved_to and outcome.moved_to != feed.url):
            # One statement is atomic by itself: no transaction, so a 304 or a re-read costs one round trip.
            await self._update_feed(self._db, feed, outcome)
            return 0
        async with self._db.transaction() as tx:
            if writes:
                created = await self._insert_articles(tx, feed.id, outcome.checked_at, writes)
            if outcome.moved_to and outcome.moved_to != feed.url:
                await tx.execute(
                    "UPDATE feeds SET url = ? WHERE id = ? AND NOT EXISTS (SELECT 1 FROM feeds o WHERE o.url = ?)",
                    (outcome.moved_to, feed.id, outcome.moved_to),
                )
            await self._update_feed(tx, feed, outcome)
        return len(created)

    @staticmethod
    async def _update_feed(conn: Conn, feed: Feed, outcome: FeedOutcome) -> None:
        await conn.execute(
            "UPDATE feeds SET title = ?, etag = ?, last_modified = ?, next_check = ?, last_checked = ?, "
            "error_count = ?, last_error = ?, disabled_reason = ?, initialized = ?, check_seconds = ?, "
            "lease_owner = NULL, lease_until = 0 WHERE id = ?",
            (
                outcome.title,
                outcome.etag,
                outcome.last_modified,
                outcome.next_check,
                outcome.checked_at,
                outcome.error_count,
                outcome.last_error,
                outcome.disabled_reason,
                int(outcome.initialized),
                outcome.took,
                feed.id,
            ),
        )

    async def _insert_articles(self, tx: Conn, feed_id: int, now: float, writes: Sequence[ArticleWrite]) -> list[int]:
        subs = {s.id: s for s in await subscriptions_of(tx, feed_id)}
        await tx.insert_new(
            "articles",
            ARTICLE_COLUMNS,
            [
                (
                    feed_id,
                    a.key,
                    a.story_key,
                    a.url,
                    a.title,
                    a.summary,
                    a.body,
                    a.author,
                    ts(a.published),
                    a.image,
                    a.source,
                    now,
                    a.language,
                )
                for a in (w.article for w in writes)
            ],
        )
        posting = [w for w in writes if any(i in subs for i in w.deliver_to)]
        ids: dict[str, int] = {}
        for clause, params in self._in("key", [w.article.key for w in posting]):
            rows = await tx.fetch(f"SELECT id, key FROM articles WHERE feed_id = ? AND {clause}", (feed_id, *params))
            ids.update({r["key"]: r["id"] for r in rows})
        created: list[int] = []
        guilds: set[int] = set()
        for w in posting:
            for sub in (subs[i] for i in w.deliver_to if i in subs and w.article.key in ids):
                if await add_delivery(tx, ids[w.article.key], sub, w.article.story_key, now):
                    created.append(sub.id)
                    guilds.add(sub.guild_id)
        await notify_outbox(tx, guilds)
        return created

    async def make_due(self, feed_id: int, when: float = 0.0) -> None:
        """Check this feed at `when` (0: now), and wake the pollers of every process."""
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE feeds SET next_check = ? WHERE id = ?", (when, feed_id))
            await tx.notify(POLL_CHANNEL, str(feed_id))
