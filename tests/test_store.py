"""The store's own guarantees on both backends, and what is particular to each (one process on SQLite, moving
an installation to PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.cli import main
from bot.models import Article
from bot.runtime import open_services, run_loops, supervise
from bot.store import ArticleWrite, FeedOutcome, Store, StoreError
from tests.conftest import NO_DNS, RecordingSink, Site, follow, poll_and_deliver, rss
from tests.discord_harness import eventually
from tests.postgres import PostgresForTests


def article(feed_id: int, key: str, title: str, summary: str, body: str = "") -> Article:
    return Article(
        feed_id=feed_id,
        key=key,
        story_key=key,
        url=f"http://example.test/{key}",
        title=title,
        summary=summary,
        author=None,
        published=None,
        image=None,
        source="S",
        body=body,
    )


async def store_articles(services, writes: list[Article]) -> None:  # type: ignore[no-untyped-def]
    sub = await follow(services, "http://example.test/feed")
    feed = await services.store.feed(sub.feed_id)
    outcome = FeedOutcome(
        checked_at=1.0,
        next_check=2.0,
        took=0.1,
        error_count=0,
        last_error=None,
        disabled_reason=None,
        title="T",
        etag=None,
        last_modified=None,
        initialized=True,
    )
    await services.store.apply_outcome(feed, outcome, [ArticleWrite(a, ()) for a in writes])


async def test_search_ranks_title_over_summary_over_body_on_both_backends(services) -> None:
    feed = 1
    await store_articles(
        services,
        [
            article(feed, "body", "Weather", "Rain today.", "A storm is coming up the coast."),
            article(feed, "title", "Storm warning", "Wind and rain."),
            article(feed, "summary", "Coast news", "The storm passed at night."),
            article(feed, "none", "Markets", "Shares rose."),
        ],
    )
    found = await services.store.search_articles(1, "storm", 10)
    assert [a.key for a in found] == ["title", "summary", "body"]
    assert {a.key for a in await services.store.search_articles(1, "storm coast", 10)} == {"body", "summary"}
    assert await services.store.search_articles(2, "storm", 10) == []  # another guild sees nothing
    assert await services.store.search_articles(1, '"  ', 10) == []


async def test_both_words_must_match(services) -> None:
    await store_articles(services, [article(1, "a", "Storm", "Coast."), article(1, "b", "Storm", "Inland.")])
    assert [a.key for a in await services.store.search_articles(1, "storm inland", 10)] == ["b"]


async def test_a_second_process_on_one_sqlite_file_is_refused_with_the_postgresql_option(tmp_path: Path) -> None:
    path = tmp_path / "one.db"
    async with Store.open(path):
        with pytest.raises(StoreError, match="postgresql://"):
            async with Store.open(path):
                pass
    async with Store.open(path):  # released on close
        pass


async def test_run_refuses_partial_shards_on_sqlite(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "c.toml"
    config.write_text('[bot]\ndatabase = "x.db"\n')
    assert main(["run", "-c", str(config), "--dry-run", "--shards", "0-1", "--shard-count", "4"]) == 2
    assert "postgresql://" in capsys.readouterr().err


async def test_migrate_copies_everything_and_the_bot_goes_on_without_reposting(
    site: Site,
    tmp_path: Path,
    postgres: PostgresForTests,
    clock,  # type: ignore[no-untyped-def]
    capsys,
) -> None:
    from bot.config import parse_config

    items = [{"title": f"Story {n}", "link": site.url(f"/s/{n}"), "guid": f"g{n}"} for n in (3, 2, 1)]
    site.set("/feed", rss(items, language="de"))
    settings = {
        "network": {"allowed_networks": ["127.0.0.0/8"]},
        "polling": {"initial_posts": 3},
        "articles": {"fetch_pages": False},
    }
    lite = parse_config({**settings, "bot": {"database": str(tmp_path / "old.db")}})
    sink = RecordingSink()
    async with open_services(lite, clock=clock, resolver=NO_DNS) as services:
        await follow(services, site.url("/feed"), channel=100)
        await follow(services, site.url("/feed"), channel=200)
        await services.poller().run_once()
        sent = await services.deliverer(sink).run_once(limit=4)  # two still pending at the move
        await services.store.set_meta("commands_hash", "abc")
        await services.store.set_guild_language(1, "fr")
        before = await services.store.table_counts()
    assert sent == 4
    config = tmp_path / "config.toml"
    config.write_text(f'[bot]\ndatabase = "{tmp_path / "old.db"}"\n')
    dsn = await postgres.new_database()
    migrated = await asyncio.to_thread(main, ["migrate", "-c", str(config), "--to", dsn])
    assert migrated == 0
    assert "counts verified" in capsys.readouterr().out
    again = await asyncio.to_thread(main, ["migrate", "-c", str(config), "--to", dsn])
    assert again == 1  # a non-empty target is refused
    assert "not empty" in capsys.readouterr().err
    moved = parse_config({**settings, "bot": {"database": dsn}})
    site.set(
        "/feed", rss([{"title": f"Story {n}", "link": site.url(f"/s/{n}"), "guid": f"g{n}"} for n in (4, 3, 2, 1)])
    )
    async with open_services(moved, clock=clock, resolver=NO_DNS) as services:
        assert await services.store.table_counts() == before
        assert await services.store.get_meta("commands_hash") == "abc"
        assert await services.store.guild_language(1) == "fr"  # a server's settings move too
        assert {a.language for a in await services.store.latest_articles(1, limit=10)} == {"de"}
        feed = await services.store.feed_by_url(site.url("/feed"))
        assert feed is not None
        await services.store.make_due(feed.id)
        await poll_and_deliver(services, sink)
        await services.deliverer(sink).run_once()
        new_sub = await follow(services, site.url("/feed"), channel=300)  # ids continue past the copied ones
        assert new_sub.id > 2
    for channel in (100, 200):  # the pending two went out, then only the new story; nothing twice
        assert sorted(sink.titles(channel)) == ["Story 1", "Story 2", "Story 3", "Story 4"]


async def test_a_loop_that_raises_is_logged_and_restarted(caplog) -> None:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("database went away")
        if runs == 2:
            return  # ended without being asked to
        stop.set()

    with caplog.at_level(logging.ERROR):
        await asyncio.wait_for(supervise("poll", flaky, stop, first_delay=0.01), 5)
    assert runs == 3
    assert "the poll loop failed" in caplog.text and "database went away" in caplog.text
    assert "ended unexpectedly" in caplog.text


async def test_a_database_outage_is_survived_and_posting_resumes(
    site: Site,
    postgres: PostgresForTests,
    caplog,  # type: ignore[no-untyped-def]
) -> None:
    """Every connection to the database is killed while the loops run (as a PostgreSQL restart would): the loops
    that meet the dead connections log it and start again, the notification listener reconnects, and a story
    that arrives afterwards is posted, once."""
    import asyncpg

    from bot.config import parse_config

    dsn = await postgres.new_database()
    config = parse_config(
        {
            "bot": {"database": dsn, "workers": 0},
            "network": {"allowed_networks": ["127.0.0.0/8"]},
            "articles": {"fetch_pages": False},
            "delivery": {"per_channel_interval": 0},
            "metrics": {"heartbeat_minutes": 0},
        }
    )
    site.set("/feed", rss([{"title": "Before", "link": site.url("/s/1"), "guid": "1"}]))
    sink = RecordingSink()
    async with open_services(config, resolver=NO_DNS) as services:
        sub = await follow(services, site.url("/feed"))
        stop = asyncio.Event()
        loops = asyncio.create_task(run_loops(services, sink, stop))
        await eventually(lambda: sink.titles() == ["Before"])
        admin = await asyncpg.connect(dsn)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert killed >= 2  # the pool's connections and the listener
        site.set(
            "/feed",
            rss(
                [
                    {"title": "After", "link": site.url("/s/2"), "guid": "2"},
                    {"title": "Before", "link": site.url("/s/1"), "guid": "1"},
                ]
            ),
        )
        with caplog.at_level(logging.INFO):
            await eventually(lambda: "notifications restored" in caplog.text, timeout=15)
            for _ in range(3):  # the first statements on a killed connection fail; the store answers again
                try:
                    await services.store.make_due(sub.feed_id)
                    break
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    await asyncio.sleep(0.2)
            await eventually(lambda: sink.titles() == ["Before", "After"], timeout=20)
        stop.set()
        await loops
    assert sink.titles() == ["Before", "After"]


async def test_shared_pages_keep_every_field_and_what_was_skipped_and_are_pruned(services) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from bot.extract import Extracted

    store: Store = services.store
    page = Extracted("Text.\nMore.", "T", None, datetime(2026, 11, 30, 8, 15, tzinfo=UTC), "de", "Blatt", "https://i/1")
    await store.save_page("https://a.test/1", page, frozenset({"author", "title"}), now=1000.0)
    assert await store.cached_page("https://a.test/1", since=1000.0) == (page, frozenset({"author", "title"}))
    assert await store.cached_page("https://a.test/1", since=1000.5) is None  # older than asked
    assert await store.cached_page("https://a.test/2", since=0.0) is None
    newer = Extracted("Corrected.", None, "Ed Vale", None, None, None, None)
    await store.save_page("https://a.test/1", newer, frozenset(), now=2000.0)  # read again: replaces it
    assert await store.cached_page("https://a.test/1", since=0.0) == (newer, frozenset())
    assert await store.prune_pages(before=2000.5) == 1
    assert await store.cached_page("https://a.test/1", since=0.0) is None
