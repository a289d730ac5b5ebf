"""Two processes never post for the same shard: claims on a real PostgreSQL, the dry run refused beside a bot,
and a process that lost its claim posting nothing until it holds it again.

Two ``Store`` objects on one database stand for two processes: a claim lives on a connection of its own, and
PostgreSQL's advisory locks belong to connections.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import generate_latest

from bot.config import parse_config
from bot.runtime import Services, open_services
from bot.store import ShardSet, Store, StoreError, claims
from tests.conftest import NO_DNS, FakeClock, RecordingSink, Site, follow, newsbot_process, rss


@pytest.fixture
async def dsn(postgres) -> str:  # type: ignore[no-untyped-def]
    return str(await postgres.new_database())


async def test_overlapping_ranges_and_other_shard_counts_are_refused(dsn: str) -> None:
    async with Store.open(dsn) as first, Store.open(dsn) as second, Store.open(dsn) as third:
        await first.claim_shards(ShardSet((0, 1), 4))
        with pytest.raises(StoreError, match=r"shard\(s\) 1 of 4 are run by another newsbot process"):
            await second.claim_shards(ShardSet((1, 2), 4))
        await second.claim_shards(ShardSet((2, 3), 4))  # the refused claim left nothing behind: 2 is free
        with pytest.raises(StoreError, match="runs the bot as 4 shard"):
            await third.claim_shards(ShardSet((0,), 8))
        with pytest.raises(StoreError, match="runs the bot as 4 shard"):
            await third.claim_shards(None)  # one process for every guild, beside a sharded bot
        assert first.may_post and second.may_post
    async with Store.open(dsn) as again:
        await again.claim_shards(ShardSet((0, 1), 4))  # the first process is gone: its shards are free at once


async def test_a_second_unsharded_process_is_refused_and_the_first_keeps_posting(dsn: str) -> None:
    async with Store.open(dsn) as first, Store.open(dsn) as second:
        await first.claim_shards(None)
        with pytest.raises(StoreError, match="already posts from this database"):
            await second.claim_shards(None)
        assert first.may_post


async def test_dry_run_refuses_to_run_beside_a_posting_process(dsn: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[bot]\ndatabase = "{dsn}"\n')
    async with Store.open(dsn) as bot:
        await bot.claim_shards(ShardSet((0, 1), 2))
        process = await newsbot_process("run", "-c", str(config), "--dry-run", "--once")
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "newsbot: database: another newsbot process on this database runs the bot as 2 shard" in err.decode()


@pytest.fixture
async def pg_services(tmp_path: Path, clock: FakeClock, dsn: str) -> AsyncIterator[Services]:
    config = parse_config(
        {"bot": {"database": dsn}, "network": {"allowed_networks": ["127.0.0.0/8"]}, "fetch": {"timeout": 5}},
        base_dir=tmp_path,
    )
    async with open_services(config, clock=clock, resolver=NO_DNS) as svc:
        yield svc


async def posting_gauge(services: Services) -> float:
    await services.metrics.refresh(services.store, services.clock())
    line = next(
        x for x in generate_latest(services.metrics.registry).decode().splitlines() if x.startswith("newsbot_posting ")
    )
    return float(line.split()[1])


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_a_process_that_lost_its_claim_posts_nothing_until_it_holds_it_again(
    pg_services: Services, site: Site, dsn: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(claims, "_RETRY_TAKEN", 0.2)
    services = pg_services
    site.set("/feed.xml", rss([{"title": "Pier reopens", "link": site.url("/a/1"), "guid": "1"}]))
    await follow(services, site.url("/feed.xml"))
    await services.poller().run_once()
    await services.store.claim_shards(None)

    # Another connection queues for the shard's lock; when this process's claim connection is cut (what a
    # database restart does), PostgreSQL hands the lock to the one waiting before this process can reconnect.
    other = await asyncpg.connect(dsn)
    admin = await asyncpg.connect(dsn)
    try:
        waiting = asyncio.create_task(other.execute("SELECT pg_advisory_lock($1, 0)", claims._SHARD_LOCK))
        await asyncio.sleep(0.2)
        holder = await admin.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::int8::oid "
            "AND objid = 0 AND objsubid = 2",
            claims._SHARD_LOCK,
        )
        with caplog.at_level(logging.ERROR, logger="bot.store.claims"):
            await admin.execute("SELECT pg_terminate_backend($1)", holder)
            await asyncio.wait_for(waiting, 10)
            await _until(lambda: not services.store.may_post)
            await asyncio.sleep(0.5)  # it retries, and finds the shard taken
        assert not services.store.may_post and await posting_gauge(services) == 0
        assert "cannot post: another newsbot process already posts from this database" in caplog.text
        sink = RecordingSink()
        assert await services.deliverer(sink).run_once() == 0 and sink.titles() == []
    finally:
        await other.close()  # the other process ends: its lock goes with its connection
        await admin.close()
    await _until(lambda: services.store.may_post)
    assert await posting_gauge(services) == 1
    sink = RecordingSink()
    assert await services.deliverer(sink).run_once() == 1 and sink.titles() == ["Pier reopens"]


async def test_a_claim_connection_that_stops_answering_is_dropped_and_retaken(
    dsn: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(claims, "_PROBE_EVERY", 0.05)
    monkeypatch.setattr(claims, "_PROBE_TIMEOUT", 1e-9)  # no answer is quick enough: as if the server were gone
    async with Store.open(dsn) as store:
        with caplog.at_level(logging.INFO, logger="bot.store.claims"):
            await store.claim_shards(ShardSet((0,), 2))
            await _until(lambda: "did not answer" in caplog.text)
            monkeypatch.setattr(claims, "_PROBE_TIMEOUT", 10.0)  # the server answers again
            await _until(lambda: "retaken; posting resumes" in caplog.text)
        assert store.may_post
        assert "lost the PostgreSQL connection that holds this process's shards" in caplog.text
