"""The bot: one object owning the Discord connection, started and stopped together with the pipeline loops.

Intents are the least that work: ``guilds`` only (channel and guild lifecycle), no message content, no members.
Slash commands are registered when the command set changed since the last registration (its hash is kept in the
database), not on every start; `newsbot sync` forces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import discord
import discord.gateway
import yarl
from discord.ext import commands

from bot.config import Config, ConfigError
from bot.discordbot.errors import on_tree_error
from bot.discordbot.feeds_cog import FeedsCog
from bot.discordbot.news_cog import NewsCog
from bot.discordbot.sink import DiscordSink
from bot.runtime import Services, open_services, run_loops, tune_process
from bot.store import ShardSet

log = logging.getLogger(__name__)

COMMANDS_HASH_KEY = "commands_hash"


if TYPE_CHECKING:
    _BotBase = commands.Bot  # what the mixin is mixed into, for the type checker
else:
    _BotBase = object


class NewsBotMixin(_BotBase):
    """Shared by the plain and the auto-sharded bot; see ``make_bot``."""

    services: Services
    start_loops: bool

    def _init_newsbot(self, services: Services, start_loops: bool) -> None:
        self.services = services
        self.start_loops = start_loops
        self.stop_event = asyncio.Event()
        self._loops: asyncio.Task[None] | None = None
        self.failed = False  # set when the loops died: `newsbot run` then exits non-zero
        self._newsbot_stop: asyncio.Future[None] | None = None
        self.sink = DiscordSink(self, services.config.delivery.send_timeout)
        self._deliverer = services.deliverer(self.sink, notify=self.notify)
        self._poller = services.poller(on_queued=self._deliverer.wake.set)
        services.app.on_follow = self._poller.wake.set
        services.metrics.shard_probe = self._shard_state

    def poke_poller(self) -> None:
        self._poller.wake.set()

    def _shard_state(self) -> tuple[int, int]:
        shards = getattr(self, "shards", None)
        if isinstance(shards, dict):
            return sum(1 for s in shards.values() if not s.is_closed()), len(shards)
        return (0 if self.is_closed() or not self.is_ready() else 1), 1

    async def setup_hook(self) -> None:
        await self.add_cog(FeedsCog(self))
        await self.add_cog(NewsCog(self))
        self.tree.error(on_tree_error)
        if self.start_loops:
            self._loops = asyncio.create_task(self._run_loops(), name="newsbot-loops")
            self._loops.add_done_callback(self._loops_ended)

    def _loops_ended(self, task: asyncio.Future[None]) -> None:
        """The loops end only when the bot closes; any other end leaves a bot that answers commands but polls
        and posts nothing, so the process stops (non-zero) and its supervisor (systemd) starts it again."""
        if self.stop_event.is_set() or task.cancelled():
            return
        log.error("polling and posting stopped unexpectedly; stopping the bot", exc_info=task.exception())
        self.failed = True
        self._newsbot_stop = asyncio.ensure_future(self.close())

    def commands_hash(self) -> str:
        payload = [c.to_dict(self.tree) for c in self.tree.get_commands()]
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    async def sync_if_changed(self, force: bool = False) -> bool:
        digest = self.commands_hash()
        if not force and await self.services.store.get_meta(COMMANDS_HASH_KEY) == digest:
            return False
        await self.tree.sync()
        await self.services.store.set_meta(COMMANDS_HASH_KEY, digest)
        log.info("registered %d slash command groups with Discord", len(self.tree.get_commands()))
        return True

    async def _run_loops(self) -> None:
        await self.wait_until_ready()  # READY carries the application id that command sync needs
        try:
            await self.sync_if_changed()
        except discord.HTTPException:
            log.exception("could not register slash commands; they may be out of date until `newsbot sync`")
        log.info(
            "connected as %s to %d servers (%s); polling and posting",
            self.user,
            len(self.guilds),
            f"shards {list(self.services.shards.ids)} of {self.services.shards.count}"
            if self.services.shards
            else "all shards",
        )
        await run_loops(self.services, self.sink, self.stop_event, poller=self._poller, deliverer=self._deliverer)

    async def notify(self, guild_id: int, channel_id: int, reason: str) -> None:
        """Tell a guild's admins that posting to a channel stopped, where the bot can still write."""
        guild = self.get_guild(guild_id)
        if guild is None:
            return
        candidates = [guild.system_channel, guild.get_channel(self.services.config.discord.notice_channel_id)]
        for channel in candidates:
            if (
                isinstance(channel, discord.TextChannel)
                and channel.id != channel_id
                and channel.permissions_for(guild.me).send_messages
            ):
                await channel.send(
                    f"⚠️ newsbot stopped posting to <#{channel_id}>: {discord.utils.escape_markdown(reason)}. "
                    "Fix it, then an admin can use `/feed resume` (see `/feed list`).",
                    allowed_mentions=discord.AllowedMentions.none(),
                )
                return

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        # Kept, paused: if the channel was deleted by mistake, `/feed edit` can point the feeds elsewhere.
        await self.services.store.pause_channel(channel.id, "the channel was deleted")

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        # Kept, paused: re-inviting the bot and `/feed resume` restores everything.
        await self.services.store.pause_guild(guild.id, "the bot was removed from the server")

    async def close(self) -> None:
        self.stop_event.set()
        if self._loops is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._loops, timeout=15)
        await super().close()


class NewsBot(NewsBotMixin, commands.Bot):
    def __init__(self, services: Services, *, start_loops: bool = True, **options: Any) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self._init_newsbot(services, start_loops)


class ShardedNewsBot(NewsBotMixin, commands.AutoShardedBot):
    def __init__(self, services: Services, *, start_loops: bool = True, **options: Any) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self._init_newsbot(services, start_loops)


def intents() -> discord.Intents:
    value = discord.Intents.none()
    value.guilds = True
    return value


def make_bot(services: Services, *, start_loops: bool = True, **options: Any) -> NewsBot | ShardedNewsBot:
    config = services.config
    shard_ids = config.shard_ids
    if shard_ids is not None or config.discord.shard_count:
        options.setdefault("shard_count", config.discord.shard_count)
        if shard_ids is not None:
            options.setdefault("shard_ids", list(shard_ids))
        return ShardedNewsBot(services, start_loops=start_loops, **options)
    cls = ShardedNewsBot if config.discord.sharded else NewsBot
    return cls(services, start_loops=start_loops, **options)


@contextlib.contextmanager
def discord_endpoints(config: Config) -> Iterator[None]:
    """Point discord.py at a REST and gateway proxy (or the test suite's fake Discord) while the block runs.

    discord.py builds every REST URL, the bot's and the interaction webhooks', from one class attribute, and opens
    the first gateway connection of a sharded client to another: there is no per-client setting, so this is a
    process-wide change. It is made here, by the program's entry points (`run`, `sync`) and the tests' harness,
    never as a side effect of building a bot, and undone when the block ends."""
    original = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    if config.discord.api_base_url:
        discord.http.Route.BASE = config.discord.api_base_url.rstrip("/")
    if config.discord.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.discord.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = original


def shard_set(config: Config) -> ShardSet | None:
    """The guilds this process posts for: its shards, when it runs only some of them."""
    ids = config.shard_ids
    return ShardSet(ids, config.discord.shard_count) if ids is not None else None


class _RateLimitCounter(logging.Filter):
    """discord.py retries 429s itself and only logs them; count those log lines for the metrics."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self._services = services

    def filter(self, record: logging.LogRecord) -> bool:
        if "rate limit" in record.getMessage().lower():
            self._services.metrics.ratelimits.inc()
        return True


def _token(config: Config) -> str:
    token = config.token()
    if not token:
        raise ConfigError(
            "no Discord token: set DISCORD_TOKEN or discord.token_file (or run with --dry-run to print posts instead)"
        )
    return token


async def run_bot(config: Config) -> int:
    token = _token(config)
    with discord_endpoints(config):
        return await _run_bot(config, token)


async def _run_bot(config: Config, token: str) -> int:
    async with open_services(config, shards=shard_set(config)) as services:
        await services.store.claim_shards(services.shards)
        await services.app.sync_config_feeds()
        bot = make_bot(services)
        counter = _RateLimitCounter(services)
        logging.getLogger("discord.http").addFilter(counter)
        tune_process()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
        try:
            async with bot:
                await bot.start(token)
        except discord.LoginFailure:
            log.error("Discord refused the token (check DISCORD_TOKEN)")
            return 2
    return 1 if bot.failed else 0


async def sync_commands(config: Config) -> int:
    token = _token(config)
    with discord_endpoints(config):
        async with open_services(config) as services:
            bot = make_bot(services, start_loops=False)
            async with bot:
                await bot.login(token)  # also learns the application id that command registration needs
                await bot.sync_if_changed(force=True)
    print("slash commands registered")
    return 0
