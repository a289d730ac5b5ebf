"""Soak: many feeds over many simulated hours with a share failing; memory must stay flat, the database bounded.

    python bench/soak.py [--feeds 1000] [--hours 10] [--tick-minutes 15]

The clock is simulated (every tick makes every feed due), the network and database are real: the feed farm serves
1,000 feeds on 127.0.0.1-32 with 3% faulty and a share of feeds gaining items every tick; newsbot's real poller
records and queues them, a null sink drains the outbox, and article text older than the retention (2 simulated
hours here) is pruned while identities stay, so nothing pruned can post again. Prints RSS (the bot with its worker
processes: current, and the highest hourly sample), DB size, articles and posts per simulated hour, and the baseline
of the same run: RSS after the first hour.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from farm import FarmProcess, FarmSpec
from proctree import rss_mb, tree

from bot.config import parse_config
from bot.models import Delivery, Post
from bot.runtime import open_services
from bot.usecases import FollowRequest


def current_rss_mb(farm_pid: int | None) -> float:
    """The bot's RSS with its worker processes (the farm, also a child of this process, excluded)."""
    return sum(rss_mb(p) for p in tree() if p != farm_pid)


class NullSink:
    def __init__(self) -> None:
        self.sent = 0
        self.seen: set[tuple[int, str]] = set()
        self.duplicates = 0

    async def send(self, delivery: Delivery, post: Post) -> int | None:
        key = (delivery.channel_id, post.url or "")
        self.duplicates += key in self.seen
        self.seen.add(key)
        self.sent += 1
        return None


async def soak(feeds: int, hours: float, tick_minutes: float, port: int) -> None:
    spec = FarmSpec(feeds=feeds, seed=3, latency=(0.0, 0.02), timeout_sleep=3.0)
    now = [1_790_000_000.0]
    with FarmProcess(spec, port) as farm, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "soak.db"
        config = parse_config(
            {
                "bot": {"database": str(db)},
                "network": {"allowed_networks": ["127.0.0.0/8"]},
                "polling": {
                    "concurrency": 64,
                    "per_host_concurrency": 4,
                    "max_age_days": 36500,
                    "disable_after_failures": 1000,
                },
                "fetch": {"timeout": 2.0},
                "articles": {"fetch_pages": False, "retention_days": 2 / 24},
                "delivery": {"per_channel_interval": 0},
            }
        )
        async with open_services(config, clock=lambda: now[0]) as services:
            for i, url in enumerate(farm.urls):
                await services.app.subscribe(FollowRequest(url, 1, 1 + i % 50))
            farm_pid = farm._proc.pid
            peak = 0.0
            poller = services.poller()
            sink = NullSink()
            deliverer = services.deliverer(sink)
            ticks = int(hours * 60 / tick_minutes)
            per_hour = int(60 / tick_minutes)
            print(f"{feeds} feeds, {hours:g} simulated hours in {ticks} ticks of {tick_minutes:g} min, 3% faulty")
            print(
                f"{'hour':>5}{'RSS MB':>8}{'peak MB':>9}{'DB MB':>7}{'articles':>10}{'with text':>10}{'posted':>8}"
                f"{'failed':>7}{'s/tick':>7}"
            )
            baseline = None
            t_start = time.perf_counter()
            for tick in range(1, ticks + 1):
                t0 = time.perf_counter()
                await farm.bump(0.2, 2, seed=tick)
                now[0] += tick_minutes * 60
                await poller.prune(every=3600)
                stats = await poller.run_once(limit=feeds + 10)
                while await deliverer.run_once(limit=1000):
                    pass
                if tick % per_hour == 0:
                    with_text = await services.store.count_articles_with_body()
                    rss = current_rss_mb(farm_pid)
                    baseline = baseline or rss
                    peak = max(peak, rss)
                    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e6
                    print(
                        f"{tick // per_hour:>5}{rss:>8.0f}{peak:>9.0f}{size:>7.1f}"
                        f"{await services.store.article_count():>10}{with_text:>10}{sink.sent:>8}"
                        f"{stats.failed:>7}{time.perf_counter() - t0:>7.1f}",
                        flush=True,
                    )
            print(
                f"\nbaseline RSS after hour 1: {baseline:.0f} MB; at the end: {current_rss_mb(farm_pid):.0f} MB "
                f"({current_rss_mb(farm_pid) - (baseline or 0):+.0f} MB); duplicates posted: {sink.duplicates}; "
                f"wall {time.perf_counter() - t_start:.0f} s"
            )


def main() -> None:
    import logging

    logging.basicConfig(level=logging.ERROR)  # failing feeds are part of the plan; their warnings are noise here
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=10)
    parser.add_argument("--tick-minutes", type=float, default=15)
    parser.add_argument("--port", type=int, default=18282)
    args = parser.parse_args()
    asyncio.run(soak(args.feeds, args.hours, args.tick_minutes, args.port))


if __name__ == "__main__":
    main()
