"""Is the bot responsive while it polls? Slash-command latency and event-loop stalls during a cold round.

    python bench/responsive.py [--feeds 1000]

The bot runs against the fake Discord (tests/fake_discord.py) and the feed farm; a cold round over N feeds starts
while a member asks `/news latest` every 100 ms. Prints the slowest and p95 reply time and the longest stall of the
event loop (a 10 ms ticker measures how late it wakes). Beside it, the same measures with the bot idle.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import discord
import discord.gateway
from farm import Farm, FarmProcess, FarmSpec

from bot.config import parse_config
from bot.discordbot.client import discord_endpoints, make_bot
from bot.runtime import open_services, tune_process
from bot.usecases import FollowRequest
from tests.fake_discord import TOKEN, FakeDiscord, running


async def ticker(stop: asyncio.Event, lags: list[float], period: float = 0.01) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(period)
        lags.append(loop.time() - t - period)


async def ask(fake: FakeDiscord, guild, channel, stop: asyncio.Event, times: list[float]) -> None:  # type: ignore[no-untyped-def]
    while not stop.is_set():
        t0 = time.perf_counter()
        await fake.invoke(guild, channel, "news", "latest", {"count": 5})
        times.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.1)


def summary(name: str, replies: list[float], lags: list[float]) -> str:
    p95 = sorted(replies)[max(0, int(len(replies) * 0.95) - 1)]
    return (
        f"{name:<22}{len(replies):>8}{statistics.median(replies):>10.1f}{p95:>9.1f}{max(replies):>9.1f}"
        f"{max(lags) * 1000:>12.1f}"
    )


async def bench(feeds: int, port: int, workers: int) -> None:
    fake = FakeDiscord()
    fake.rate_per_channel = (1000, 1.0)  # posting pace is bench/deliver.py's subject, not this one's
    guild = fake.add_guild("G", channels=("news", *(f"c{i}" for i in range(20))))
    channel = fake.channel(guild, "news")
    others = [c for c in guild.channels if c != channel.id]
    spec = FarmSpec(feeds=feeds, seed=5, timeout_sleep=3.0)
    with FarmProcess(spec, port) as farm, tempfile.TemporaryDirectory() as tmp:
        async with running(fake):
            config = parse_config(
                {
                    "bot": {"database": str(Path(tmp) / "r.db"), "workers": workers},
                    "discord": {
                        "api_base_url": f"{fake.base}/api/v10",
                        "gateway_url": fake.base.replace("http", "ws") + "/gateway",
                    },
                    "network": {"allowed_networks": ["127.0.0.0/8"]},
                    "fetch": {"timeout": 5.0},
                    "polling": {"max_age_days": 36500},
                    "articles": {"fetch_pages": True},
                    "delivery": {"per_channel_interval": 0.05},
                }
            )
            with discord_endpoints(config):
                async with open_services(config) as services:
                    healthy = next(i for i, st in enumerate(Farm(spec).states) if st.fault is None)
                    first = await services.app.subscribe(FollowRequest(farm.urls[healthy], guild.id, channel.id))
                    bot = make_bot(services, guild_ready_timeout=0.2)
                    tune_process()  # as `newsbot run` does (bot.discordbot.client._run_bot)
                    task = asyncio.create_task(bot.start(TOKEN))
                    for _ in range(1200):
                        if fake.command_syncs and fake.posted(channel.id):
                            break
                        await asyncio.sleep(0.05)
                    else:
                        state = await services.store.feed(first.subscription.feed_id)
                        raise RuntimeError(
                            f"no first post: syncs={fake.command_syncs} ready={bot.is_ready()} "
                            f"feed={state} counts={await services.store.delivery_counts()}"
                        )
                    stop = asyncio.Event()
                    idle_lags: list[float] = []
                    idle: list[float] = []
                    tick = asyncio.create_task(ticker(stop, idle_lags))
                    asking = asyncio.create_task(ask(fake, guild, channel, stop, idle))
                    await asyncio.sleep(3)
                    stop.set()
                    await asyncio.gather(tick, asking)
                    # The cold round: every other farm feed is added now, posting to one channel each (20 channels).
                    for i, url in enumerate(farm.urls):
                        if i == healthy:
                            continue
                        await services.app.subscribe(FollowRequest(url, guild.id, others[i % len(others)]))
                    stop = asyncio.Event()
                    busy_lags: list[float] = []
                    busy: list[float] = []
                    tick = asyncio.create_task(ticker(stop, busy_lags))
                    bot.poke_poller()
                    t0 = time.perf_counter()
                    asking = asyncio.create_task(ask(fake, guild, channel, stop, busy))
                    while await services.store.count_checked_feeds() < feeds and time.perf_counter() - t0 < 600:
                        await asyncio.sleep(0.5)
                    stop.set()
                    await asyncio.gather(tick, asking)
                    round_s = time.perf_counter() - t0
                    await bot.close()
                    await asyncio.gather(task, return_exceptions=True)
    pool = f"{workers} worker processes" if workers else "parsing and extraction in a thread"
    print(f"{feeds} feeds, {pool}: cold round took {round_s:.1f} s (article pages fetched and summarized)")
    print(f"{'state':<22}{'replies':>8}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'max stall ms':>12}")
    print(summary("idle (baseline)", idle, idle_lags))
    print(summary("during cold round", busy, busy_lags))


def main() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--port", type=int, default=18383)
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[0, 1, 2], help="bot.workers values to compare (0 = thread)"
    )
    args = parser.parse_args()
    original = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        for workers in args.workers:
            asyncio.run(bench(args.feeds, args.port, workers))
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = original


if __name__ == "__main__":
    main()
