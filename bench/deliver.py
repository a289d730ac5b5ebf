"""Posting throughput: pending deliveries through the real discord.py bot to the fake Discord, rate limits on.

    python bench/deliver.py [--posts 1000] [--channels 20]

The fake Discord (tests/fake_discord.py) enforces Discord's per-channel bucket (5 messages per 5 s) with real 429s
and rate-limit headers. Prints messages/s, 429s received, and whether every channel got its posts in order; beside
it, the ceiling this rate limit allows (channels × 1 message/s).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bot.config import parse_config
from bot.discordbot.client import discord_endpoints, make_bot
from bot.models import Article
from bot.runtime import open_services
from bot.store import ArticleWrite, FeedOutcome
from bot.usecases import FollowRequest
from tests.fake_discord import TOKEN, FakeDiscord, running


async def bench(posts: int, channels: int, interval: float) -> None:
    fake = FakeDiscord()
    guild = fake.add_guild("Bench", channels=tuple(f"c{i}" for i in range(channels)))
    channel_ids = list(guild.channels)
    with tempfile.TemporaryDirectory() as tmp:
        async with running(fake):
            config = parse_config(
                {
                    "bot": {"database": str(Path(tmp) / "d.db")},
                    "discord": {
                        "api_base_url": f"{fake.base}/api/v10",
                        "gateway_url": fake.base.replace("http", "ws") + "/gateway",
                    },
                    "delivery": {"per_channel_interval": interval},
                    "network": {"allowed_networks": ["127.0.0.0/8"]},
                }
            )
            with discord_endpoints(config):
                async with open_services(config) as services:
                    store = services.store
                    now = time.time()
                    start = datetime.now(UTC)
                    for c, cid in enumerate(channel_ids):
                        sub = (
                            await services.app.subscribe(FollowRequest(f"http://127.0.0.1:9/feed/{c}", guild.id, cid))
                        ).subscription
                        feed = await store.feed(sub.feed_id)
                        assert feed is not None
                        writes = []
                        for n in range(posts // channels):
                            article = Article(
                                feed.id,
                                f"k{n}",
                                f"s{c}-{n}",
                                f"https://news.example/{c}/{n}",
                                f"Channel {c} story {n}",
                                "A short summary sentence. Another one.",
                                "Desk",
                                start + timedelta(seconds=n),
                                None,
                                f"Feed {c}",
                            )
                            writes.append(ArticleWrite(article, (sub.id,)))
                        # Far-future next check: this bench measures posting only, the poller stays idle.
                        await store.apply_outcome(
                            feed,
                            FeedOutcome(
                                checked_at=now,
                                next_check=now + 10**6,
                                took=0.0,
                                error_count=0,
                                last_error=None,
                                disabled_reason=None,
                                title=f"Feed {c}",
                                etag=None,
                                last_modified=None,
                                initialized=True,
                            ),
                            writes,
                        )
                    total = (posts // channels) * channels
                    bot = make_bot(services, guild_ready_timeout=0.2)
                    t0 = time.perf_counter()
                    task = asyncio.create_task(bot.start(TOKEN))
                    while sum(len(fake.posted(c)) for c in channel_ids) < total:
                        await asyncio.sleep(0.05)
                        if task.done():
                            raise RuntimeError(f"bot stopped: {task.exception()}")
                    wall = time.perf_counter() - t0
                    await bot.close()
                    await asyncio.gather(task, return_exceptions=True)
    in_order = all(
        [m["embeds"][0]["title"] for m in fake.posted(cid)]
        == [f"Channel {c} story {n}" for n in range(posts // channels)]
        for c, cid in enumerate(channel_ids)
    )
    duplicates = total - len({m["embeds"][0]["url"] for c in channel_ids for m in fake.posted(c)})
    count, window = fake.rate_per_channel
    ceiling = channels * count / window
    print(
        f"{total} posts to {channels} channels, per-channel limit {count}/{window:g} s, "
        f"newsbot paces {1 / interval if interval else float('inf'):g}/s per channel"
    )
    print(
        f"newsbot: {wall:.1f} s, {total / wall:.1f} messages/s; 429s received: {fake.rate_limited}; "
        f"order kept in every channel: {in_order}; duplicates: {duplicates}; rejected: {len(fake.rejected)}"
    )
    print(
        f"ceiling allowed by Discord's per-channel limit: {ceiling:.1f} messages/s "
        f"(newsbot at {total / wall / ceiling:.0%} of it)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0, help="delivery.per_channel_interval")
    args = parser.parse_args()
    asyncio.run(bench(args.posts, args.channels, args.interval))


if __name__ == "__main__":
    main()
