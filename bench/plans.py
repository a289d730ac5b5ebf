"""The query plans behind the hot queries: every one should SEARCH an index, none SCAN a growing table.

    python bench/plans.py

Creates a store in a temporary file (schema and migrations as in production) and prints SQLite's
EXPLAIN QUERY PLAN for the queries the poller, the outbox and the slash commands run all the time.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.store import Store

QUERIES = {
    "due feeds (the poller's lease claim, a batch at a time)": (
        "UPDATE feeds SET next_check = ?, lease_owner = ?, lease_until = ? WHERE id IN (SELECT f.id FROM feeds f "
        "WHERE f.disabled_reason IS NULL AND f.next_check <= ? AND EXISTS "
        "(SELECT 1 FROM subscriptions s WHERE s.feed_id = f.id) ORDER BY f.check_seconds DESC, f.next_check, f.id "
        "LIMIT ?) RETURNING *",
        (0, "p", 0, 0, 128),
    ),
    "known identities and stories (every feed fetch, one round trip)": (
        "SELECT key, story_key FROM articles WHERE feed_id = ? AND key IN (?, ?) UNION ALL "
        "SELECT key, story_key FROM articles WHERE feed_id = ? AND story_key IN (?, ?)",
        (1, "a", "b", 1, "a", "b"),
    ),
    "pending deliveries (outbox, every few seconds)": (
        "WITH p AS (SELECT d.id, d.next_attempt, ROW_NUMBER() OVER (PARTITION BY d.channel_id ORDER BY d.id) AS rn, "
        "FIRST_VALUE(d.next_attempt) OVER (PARTITION BY d.channel_id ORDER BY d.id) AS head_due "
        "FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
        "WHERE d.status = 'pending' AND s.paused_reason IS NULL) SELECT d.id FROM p JOIN deliveries d ON d.id = p.id "
        "WHERE p.rn <= ? AND p.head_due <= ? AND p.next_attempt <= ? ORDER BY d.id LIMIT ?",
        (10, 0, 0, 200),
    ),
    "subscriptions of a feed": ("SELECT * FROM subscriptions WHERE feed_id = ?", (1,)),
    "guild subscriptions (/feed list, autocomplete)": (
        "SELECT s.*, f.url FROM subscriptions s JOIN feeds f ON f.id = s.feed_id WHERE s.guild_id = ? ORDER BY s.id",
        (1,),
    ),
    "latest articles (/news latest)": (
        "SELECT a.* FROM articles a WHERE a.feed_id IN (SELECT s.feed_id FROM subscriptions s WHERE s.guild_id = ?) "
        "ORDER BY COALESCE(a.published, a.first_seen) DESC, a.id DESC LIMIT ?",
        (1, 5),
    ),
    "search (/news search)": (
        "SELECT a.* FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ? "
        "AND a.feed_id IN (SELECT feed_id FROM subscriptions WHERE guild_id = ?) "
        "ORDER BY bm25(articles_fts, 10.0, 3.0, 1.0) LIMIT ?",
        ('"storm"', 1, 5),
    ),
}


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Store.open(Path(tmp) / "plans.db") as store:
            for name, (sql, params) in QUERIES.items():
                print(f"{name}:")
                for line in await store.explain(sql, params):
                    print(f"    {line}")


if __name__ == "__main__":
    asyncio.run(main())
