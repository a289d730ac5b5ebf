"""Crash safety: `newsbot run` as a real process, SIGKILLed at random moments while it posts, restarted each time.

At the end every article was posted exactly once per subscribed channel, in order: zero lost, zero duplicated,
counted from the fake Discord's own record of messages.
"""

from __future__ import annotations

import asyncio
import random
import signal
from pathlib import Path

import pytest

from tests.conftest import Site, newsbot_process, rss
from tests.fake_discord import TOKEN, FakeDiscord, running


def write_config(path: Path, fake: FakeDiscord, feed_url: str, guild_id: int, channels: list[int], items: int) -> None:
    feeds = "".join(f'\n[[feeds]]\nurl = "{feed_url}"\nchannel_id = {c}\nguild_id = {guild_id}\n' for c in channels)
    path.write_text(f"""
[bot]
database = "{path.parent / "crash.db"}"
log_level = "WARNING"
[discord]
api_base_url = "{fake.base}/api/v10"
gateway_url = "{fake.base.replace("http", "ws")}/gateway"
[network]
allowed_networks = ["127.0.0.0/8"]
[polling]
initial_posts = {items}
max_age_days = 36500
[articles]
fetch_pages = false
[delivery]
per_channel_interval = 0.03
send_timeout = 2.0
retry_base = 0.2
{feeds}""")


async def crash_run(tmp_path: Path, site: Site, kills: int, items: int, channels: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    fake = FakeDiscord()
    fake.rate_per_channel = (10_000, 1.0)
    guild = fake.add_guild("Crash", channels=tuple(f"c{i}" for i in range(channels)))
    channel_ids = list(guild.channels)
    site.set(
        "/feed",
        rss(
            [
                {"title": f"Story {n}", "link": site.url(f"/s/{n}"), "guid": f"g{n}", "description": f"Text {n}."}
                for n in range(items, 0, -1)
            ]
        ),
    )
    total = items * channels
    survived = 0
    async with running(fake):
        config = tmp_path / "config.toml"
        write_config(config, fake, site.url("/feed"), guild.id, channel_ids, items)

        def posted() -> int:
            return sum(len(fake.posted(c)) for c in channel_ids)

        async def start() -> asyncio.subprocess.Process:
            return await newsbot_process(
                "run", "-c", str(config), env={"DISCORD_TOKEN": TOKEN}, output=asyncio.subprocess.DEVNULL
            )

        for _ in range(kills):
            if posted() >= total:
                break
            before = posted()
            proc = await start()
            try:
                async with asyncio.timeout(60):
                    while posted() == before and proc.returncode is None:
                        await asyncio.sleep(0.01)
                await asyncio.sleep(rng.uniform(0, 0.25))  # somewhere in the middle of posting
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGKILL)
                    survived += 1
                await proc.wait()
        proc = await start()  # the last life: runs until everything is out, then stops politely
        try:
            async with asyncio.timeout(120):
                while posted() < total:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # anything extra (a duplicate) would show up now
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 30)
    lost = duplicated = 0
    for cid in channel_ids:
        urls = [m["embeds"][0]["url"] for m in fake.posted(cid)]
        expected = [site.url(f"/s/{n}") for n in range(1, items + 1)]
        lost += len(set(expected) - set(urls))
        duplicated += len(urls) - len(set(urls))
        assert urls == expected, f"channel {cid}: order or content differs"
    assert fake.rejected == []
    return {"kills": survived, "posted": posted(), "lost": lost, "duplicated": duplicated}


@pytest.mark.slow
async def test_sigkill_during_posting_loses_and_duplicates_nothing(tmp_path: Path, site: Site) -> None:
    result = await crash_run(tmp_path, site, kills=5, items=40, channels=3, seed=1)
    assert result["kills"] >= 3 and result["lost"] == 0 and result["duplicated"] == 0


@pytest.mark.slow
async def test_fifty_sigkills_lose_and_duplicate_nothing(tmp_path: Path, site: Site) -> None:
    result = await crash_run(tmp_path, site, kills=50, items=400, channels=3, seed=2)
    print(f"crash run: {result}")
    assert result["kills"] >= 50 and result["lost"] == 0 and result["duplicated"] == 0
