"""Several real `newsbot run` processes, one per shard, sharing one real PostgreSQL against the fake Discord.

Each guild's posts come only from the process that owns its shard; each due feed is fetched by exactly one
process per round (counted at the feed server); a process SIGKILLed mid-round and mid-post loses and duplicates
nothing: its leased feeds are polled by the others once the leases run out, its guilds' posts go out when it is back
(its shard's lock went with its connection). A second process started for a shard that is running is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.config import parse_config
from bot.runtime import open_services
from tests.conftest import NO_DNS, Site, newsbot_process, rss
from tests.fake_discord import TOKEN, FakeDiscord, running
from tests.postgres import PostgresForTests

SHARDS = 3
FEEDS = 6


def items(site: Site, feed: int, upto: int) -> str:
    return rss(
        [
            {
                "title": f"F{feed} story {n}",
                "link": site.url(f"/f{feed}/s/{n}"),
                "guid": f"f{feed}-{n}",
                "description": f"Story {n} of feed {feed}.",
            }
            for n in range(upto, 0, -1)
        ],
        title=f"Feed {feed}",
    )


def write_config(path: Path, fake: FakeDiscord, dsn: str) -> None:
    path.write_text(f"""
[bot]
database = "{dsn}"
log_level = "INFO"
workers = 0
[discord]
api_base_url = "{fake.base}/api/v10"
gateway_url = "{fake.base.replace("http", "ws")}/gateway"
[network]
allowed_networks = ["127.0.0.0/8"]
[polling]
initial_posts = 100
max_age_days = 36500
min_interval = 30
default_interval = 3600
lease_seconds = 10
[articles]
fetch_pages = false
[delivery]
per_channel_interval = 0.02
send_timeout = 2.0
retry_base = 0.2
""")


@contextlib.asynccontextmanager
async def bots(config: Path, log_dir: Path) -> AsyncIterator[dict[int, asyncio.subprocess.Process]]:
    procs: dict[int, asyncio.subprocess.Process] = {}
    try:
        yield procs
    finally:
        for proc in procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 20)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def start(config: Path, shard: int, log_dir: Path, name: str = "") -> asyncio.subprocess.Process:
    log = open(log_dir / f"{name or f'shard{shard}'}.log", "ab")  # noqa: SIM115, ASYNC230 (the child holds it)
    return await newsbot_process(
        "run",
        "-c",
        str(config),
        "--shards",
        str(shard),
        "--shard-count",
        str(SHARDS),
        env={"DISCORD_TOKEN": TOKEN},
        output=log,
    )


async def until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    try:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not reached in {timeout} s: {what}") from None


@pytest.mark.slow
async def test_three_shard_processes_share_polling_and_post_each_guilds_news_once(
    tmp_path: Path, site: Site, postgres: PostgresForTests
) -> None:
    dsn = await postgres.new_database()
    fake = FakeDiscord()
    fake.rate_per_channel = (10_000, 1.0)
    guilds = [fake.add_guild(f"G{s}", channels=("news",), shard=(s, SHARDS)) for s in range(SHARDS)]
    channels = {s: next(iter(g.channels)) for s, g in enumerate(guilds)}
    upto = {f: 4 for f in range(FEEDS)}

    def serve(feed: int):  # type: ignore[no-untyped-def]
        async def handler(request: web.Request) -> web.Response:
            await asyncio.sleep(0.2)  # a round takes long enough to be interrupted
            return web.Response(text=items(site, feed, upto[feed]), content_type="application/rss+xml")

        return handler

    for f in range(FEEDS):
        site.handle(f"/feed{f}", serve(f))

    def expected(shard: int) -> set[str]:
        return {site.url(f"/f{f}/s/{n}") for f in range(FEEDS) for n in range(1, upto[f] + 1)}

    def urls(shard: int) -> list[str]:
        return [m["embeds"][0]["url"] for m in fake.posted(channels[shard])]

    def hits() -> dict[int, int]:
        return {f: site.hits.get(f"/feed{f}", 0) for f in range(FEEDS)}

    async with running(fake):
        config = tmp_path / "config.toml"
        write_config(config, fake, dsn)
        settings = parse_config(
            {
                "bot": {"database": dsn, "workers": 0},
                "polling": {"default_interval": 3600},
                "network": {"allowed_networks": ["127.0.0.0/8"]},
            }
        )
        from bot.usecases import FollowRequest

        async with open_services(settings, resolver=NO_DNS) as admin:
            for f in range(FEEDS):  # every guild follows every feed (as /feed add would have stored it)
                for s, guild in enumerate(guilds):
                    await admin.app.subscribe(FollowRequest(site.url(f"/feed{f}"), guild.id, channels[s]))
            async with bots(config, tmp_path) as procs:
                # 1. Shards 0 and 2 only: shard 1's guild gets nothing, every feed is fetched exactly once.
                for s in (0, 2):
                    procs[s] = await start(config, s, tmp_path)
                await until(lambda: all(set(urls(s)) == expected(s) for s in (0, 2)), 60, "shards 0 and 2 posted")
                await asyncio.sleep(1.0)
                assert urls(1) == [], "a process posted for a guild on a shard it does not run"
                assert hits() == {f: 1 for f in range(FEEDS)}, "a feed was fetched twice in one round"
                # 2. Shard 1's process starts: its guild's posts go out, polled by nobody again.
                procs[1] = await start(config, 1, tmp_path)
                await until(lambda: set(urls(1)) == expected(1), 60, "shard 1 posted")
                assert hits() == {f: 1 for f in range(FEEDS)}
                # A second process given shard 1 is refused at start, and shard 1's process goes on.
                twin = await start(config, 1, tmp_path, name="shard1-twin")
                assert await asyncio.wait_for(twin.wait(), 60) == 2
                refusal = (tmp_path / "shard1-twin.log").read_text()
                assert "shard(s) 1 of 3 are run by another newsbot process" in refusal, refusal
                for s, guild in enumerate(guilds):  # each guild's commands answered by its own shard's process
                    reply = await fake.invoke(guild, guild.channels[channels[s]], "news", "sources")
                    assert all(f"Feed {f}" in reply.text() for f in range(FEEDS)), reply.text()
                # 3. New items; every feed due now (NOTIFY wakes every poller). Shard 0 is killed mid-round.
                for f in range(FEEDS):
                    upto[f] = 7
                before = hits()
                feeds = [await admin.store.feed_by_url(site.url(f"/feed{f}")) for f in range(FEEDS)]
                for feed in feeds:
                    assert feed is not None
                    await admin.store.make_due(feed.id)
                await until(lambda: sum(hits().values()) > sum(before.values()), 20, "a poll started")
                await asyncio.sleep(0.3)
                procs[0].send_signal(signal.SIGKILL)
                await procs[0].wait()
                # The others take over shard 0's leased feeds when the leases (10 s) run out.
                await until(lambda: all(set(urls(s)) == expected(s) for s in (1, 2)), 60, "shards 1, 2 caught up")
                assert all(h > before[f] for f, h in hits().items()), "a feed was not polled after the kill"
                # 4. Shard 0 is back: its guild's posts go out, none twice.
                procs[0] = await start(config, 0, tmp_path)
                await until(lambda: set(urls(0)) == expected(0), 60, "shard 0 caught up after restart")
                await asyncio.sleep(1.0)
    for s in range(SHARDS):
        posted = urls(s)
        assert len(posted) == len(set(posted)) == len(expected(s)), f"shard {s}: lost or duplicated posts"
    assert fake.rejected == []
