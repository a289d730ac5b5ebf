"""Starts a real discord.py bot (newsbot's own) against the fake Discord, with a real store and fetcher."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.config import Config
from bot.discordbot.client import NewsBot, ShardedNewsBot, discord_endpoints, make_bot
from bot.runtime import Services, open_services
from tests.conftest import NO_DNS
from tests.fake_discord import TOKEN, FakeDiscord, running


@dataclass
class Running:
    fake: FakeDiscord
    bot: NewsBot | ShardedNewsBot
    services: Services


def endpoints(fake: FakeDiscord) -> dict[str, str]:
    """The `[discord]` settings that point discord.py at the fake."""
    return {"api_base_url": f"{fake.base}/api/v10", "gateway_url": fake.base.replace("http", "ws") + "/gateway"}


@contextlib.asynccontextmanager
async def discord_bot(fake: FakeDiscord, config_factory, **sections) -> AsyncIterator[Running]:  # type: ignore[no-untyped-def]
    async with running(fake):
        sections["discord"] = {**sections.get("discord", {}), **endpoints(fake)}
        config: Config = config_factory(**sections)
        with discord_endpoints(config):
            async with open_services(config, resolver=NO_DNS) as services:
                bot = make_bot(services, guild_ready_timeout=0.2)
                task = asyncio.create_task(bot.start(TOKEN))
                try:
                    await asyncio.wait_for(bot.wait_until_ready(), 20)
                    await eventually(lambda: fake.command_syncs >= 1)  # commands registered: the bot is usable
                    yield Running(fake, bot, services)
                finally:
                    await bot.close()
                    # The bot task must end, and end cleanly: an exception in it fails the test.
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait_for(task, 10)


async def eventually(predicate, timeout: float = 10.0, interval: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    """Wait for real background work (the bot's loops) to reach a state; fails the test on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)
