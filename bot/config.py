"""Operator configuration: one TOML file, secrets from the environment.

Every setting has a default here and in ``config.example.toml``; a typo must not silently fall back to a default,
so unknown keys are errors. Errors name the dotted key so the operator can find it without reading code.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from bot.language import AS_WRITTEN, primary


class ConfigError(Exception):
    """A configuration problem the operator must fix before the bot can start."""


@dataclass(frozen=True)
class BotSection:
    database: str = "newsbot.db"  # SQLite file (relative to the config file) or a postgresql:// DSN
    log_level: str = "INFO"
    workers: int = 1  # processes that parse feeds and extract pages off the event loop (0 = a thread instead)


@dataclass(frozen=True)
class DiscordSection:
    token_file: str = ""  # a file holding the token; DISCORD_TOKEN in the environment wins
    sharded: bool = False  # AutoShardedBot for bots in more than ~2,000 guilds
    shards: str = ""  # shard ids this process runs, e.g. "0-3" or "0,2" (needs shard_count; implies sharded)
    shard_count: int = 0  # total shards of the bot across all processes (0 = one process runs them all)
    max_feeds_per_guild: int = 50
    api_base_url: str = ""  # REST base for a Discord REST proxy (or the test suite's fake Discord)
    gateway_url: str = ""  # gateway websocket URL for a gateway proxy (or the test suite's fake Discord)
    notice_channel_id: int = 0  # where delivery problems are announced when the guild has no system channel


@dataclass(frozen=True)
class PollingSection:
    default_interval: int = 900  # seconds between checks of one feed
    min_interval: int = 300  # the shortest interval an admin may set
    max_backoff: int = 21600  # failures back off exponentially up to this
    disable_after_failures: int = 10  # consecutive failures before a feed is disabled
    concurrency: int = 64  # feeds fetched at once, all hosts together
    per_host_concurrency: int = 2  # requests at once to one host
    initial_posts: int = 1  # newest items posted when a feed is first followed
    max_age_days: int = 7  # items older than this are recorded but never posted
    max_items: int = 500  # items read from one feed document; the rest are ignored
    lease_seconds: float = 300.0  # a process claims a due feed for this long; a crashed one's feeds wait this long


@dataclass(frozen=True)
class FetchSection:
    timeout: float = 20.0  # total seconds for one request, body included
    max_body_bytes: int = 5_000_000  # after decompression
    max_redirects: int = 5
    user_agent: str = "newsbot/0.1 (Discord news bot; +https://github.com/newsbot/newsbot)"


@dataclass(frozen=True)
class NetworkSection:
    allow_private: bool = False  # allow every non-public address (only for a closed network)
    allowed_networks: tuple[str, ...] = ()  # CIDRs allowed although not public, e.g. ["127.0.0.0/8"]


@dataclass(frozen=True)
class ArticlesSection:
    fetch_pages: bool = True  # fetch each posted article's page to summarize the article itself
    summary_sentences: int = 3
    summary_chars: int = 500
    extraction: str = "precision"  # trafilatura's mode: "precision" (default), "balanced" (~20% faster), "recall"
    retention_days: float = 90.0  # article bodies older than this are pruned; identities are kept forever


@dataclass(frozen=True)
class SummariesSection:
    """Optional abstractive summaries (bot/llm.py); the extractive summary is always made and is the fallback."""

    provider: str = "extractive"  # or "openai-compatible": OpenAI, Ollama, llama.cpp's server, vLLM
    base_url: str = ""  # e.g. "http://127.0.0.1:11434/v1" (Ollama) or "https://api.openai.com/v1"
    model: str = ""
    api_key_env: str = "NEWSBOT_LLM_API_KEY"  # the environment variable holding the key (none needed locally)
    timeout: float = 8.0  # seconds: a post waits at most this long for the model, then goes out extractive
    max_concurrency: int = 4
    max_input_chars: int = 12_000  # of article text sent per request
    cache_size: int = 2048  # answers kept in memory, per article and language
    # Translate every summary into this language ("" = as written); /feed language and /feed edit override it.
    language: str = ""

    def api_key(self) -> str:
        return os.environ.get(self.api_key_env, "").strip() if self.api_key_env else ""


@dataclass(frozen=True)
class DeliverySection:
    max_attempts: int = 8  # transient failures before an error is logged (the post keeps being retried)
    per_channel_interval: float = 1.0  # seconds between two posts in one channel
    send_timeout: float = 30.0  # seconds to wait for Discord to confirm one post before retrying it
    retry_base: float = 5.0  # first retry delay in seconds; doubles per attempt up to 15 minutes


@dataclass(frozen=True)
class MetricsSection:
    bind: str = ""  # host:port for the Prometheus /metrics endpoint, e.g. "127.0.0.1:9108"; empty = off
    heartbeat_minutes: float = 15.0  # a log line with feeds checked and posts sent this often (0 = never)


@dataclass(frozen=True)
class FeedEntry:
    url: str
    channel_id: int = 0  # 0 = console only (dry run)
    guild_id: int = 0
    name: str = ""


@dataclass(frozen=True)
class Config:
    bot: BotSection = field(default_factory=BotSection)
    discord: DiscordSection = field(default_factory=DiscordSection)
    polling: PollingSection = field(default_factory=PollingSection)
    fetch: FetchSection = field(default_factory=FetchSection)
    network: NetworkSection = field(default_factory=NetworkSection)
    articles: ArticlesSection = field(default_factory=ArticlesSection)
    summaries: SummariesSection = field(default_factory=SummariesSection)
    delivery: DeliverySection = field(default_factory=DeliverySection)
    metrics: MetricsSection = field(default_factory=MetricsSection)
    feeds: tuple[FeedEntry, ...] = ()
    base_dir: Path = Path(".")  # the config file's folder; not a TOML key

    @property
    def database(self) -> str | Path:
        """A ``postgresql://`` DSN as given, or the SQLite file's path (relative to the config file)."""
        if self.bot.database.startswith(("postgresql://", "postgres://")):
            return self.bot.database
        path = Path(self.bot.database)
        return path if path.is_absolute() or str(path) == ":memory:" else self.base_dir / path

    @property
    def shard_ids(self) -> tuple[int, ...] | None:
        """The shards this process runs, or None for all of them (validated in ``_check_ranges``)."""
        return parse_shards(self.discord.shards, self.discord.shard_count) if self.discord.shards else None

    def token(self) -> str | None:
        """The token from DISCORD_TOKEN, else from the configured file; never stored on the object."""
        env = os.environ.get("DISCORD_TOKEN", "").strip()
        if env:
            return env
        if self.discord.token_file:
            path = Path(self.discord.token_file)
            if not path.is_absolute():
                path = self.base_dir / path
            try:
                return path.read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                raise ConfigError(f"discord.token_file: cannot read {path}: {exc.strerror}") from exc
        return None


_SECTIONS = {k: v for k, v in get_type_hints(Config).items() if k not in ("feeds", "base_dir")}


def _coerce(key: str, value: Any, annotation: Any) -> Any:
    """Check one value against its field type; TOML already gives typed values, so only check and widen."""
    if annotation in (int, "int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{key}: must not be negative, got {value}")
        return value
    if annotation in (float, "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{key}: must not be negative, got {value}")
        return float(value)
    if annotation in (bool, "bool"):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if annotation in (str, "str"):
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{key}: expected a list of strings, got {value!r}")


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix}: expected a table, got {data!r}")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            raise ConfigError(f"{prefix}.{key}: unknown key (known: {', '.join(sorted(names))})")
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.name not in data
    ]
    if missing:
        raise ConfigError(f"{prefix}.{missing[0]}: required")
    return cls(**{k: _coerce(f"{prefix}.{k}", v, hints[k]) for k, v in data.items()})


def parse_config(data: dict[str, Any], base_dir: Path = Path(".")) -> Config:
    """Validate a decoded TOML document; pure so tests and `check-config` share it."""
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key == "feeds":
            if not isinstance(value, list):
                raise ConfigError("feeds: expected [[feeds]] tables")
            sections["feeds"] = tuple(_build(FeedEntry, v, f"feeds[{i}]") for i, v in enumerate(value))
        elif key in _SECTIONS:
            sections[key] = _build(_SECTIONS[key], value, key)
        else:
            raise ConfigError(f"{key}: unknown section (known: {', '.join([*sorted(_SECTIONS), 'feeds'])})")
    config = Config(**sections, base_dir=base_dir)
    _check_ranges(config)
    return config


def _check_ranges(config: Config) -> None:
    p = config.polling
    if p.min_interval < 30:
        raise ConfigError("polling.min_interval: must be at least 30 seconds")
    if p.default_interval < p.min_interval:
        raise ConfigError("polling.default_interval: must be at least polling.min_interval")
    if p.concurrency < 1 or p.per_host_concurrency < 1:
        raise ConfigError("polling.concurrency: must be at least 1")
    if p.disable_after_failures < 1:
        raise ConfigError("polling.disable_after_failures: must be at least 1")
    if config.fetch.timeout <= 0:
        raise ConfigError("fetch.timeout: must be more than 0")
    if config.fetch.max_body_bytes < 1024:
        raise ConfigError("fetch.max_body_bytes: must be at least 1024")
    if config.articles.extraction not in ("precision", "balanced", "recall"):
        raise ConfigError('articles.extraction: must be "precision", "balanced" or "recall"')
    llm = config.summaries
    if llm.provider not in ("extractive", "openai-compatible"):
        raise ConfigError('summaries.provider: must be "extractive" or "openai-compatible"')
    if llm.provider == "openai-compatible" and not (llm.base_url.startswith(("http://", "https://")) and llm.model):
        raise ConfigError('summaries: provider "openai-compatible" needs base_url (http:// or https://) and model')
    if llm.language and not primary(llm.language) and llm.language != AS_WRITTEN:
        raise ConfigError(f"summaries.language: {llm.language[:20]!r} is not a language code like de, fr or pt-BR")
    if llm.timeout <= 0 or llm.max_concurrency < 1:
        raise ConfigError("summaries.timeout and summaries.max_concurrency: must be more than 0")
    if config.bot.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("bot.log_level: must be one of DEBUG, INFO, WARNING, ERROR")
    for i, cidr in enumerate(config.network.allowed_networks):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ConfigError(f"network.allowed_networks[{i}]: {cidr!r} is not a network like 127.0.0.0/8") from None
    for i, feed in enumerate(config.feeds):
        if not feed.url.startswith(("http://", "https://")):
            raise ConfigError(f"feeds[{i}].url: must start with http:// or https://")
    if config.discord.shards or config.discord.shard_count:
        ids = parse_shards(
            config.discord.shards or f"0-{max(config.discord.shard_count, 1) - 1}", config.discord.shard_count
        )
        if not config.bot.database.startswith(("postgresql://", "postgres://")) and set(ids) != set(
            range(config.discord.shard_count)
        ):
            raise ConfigError(
                "discord.shards: running only some shards means other processes run the rest, and "
                "they must share one database: set bot.database to a postgresql:// DSN"
            )
    if config.polling.lease_seconds < 10:
        raise ConfigError("polling.lease_seconds: must be at least 10")
    if config.metrics.bind and config.metrics.bind.rpartition(":")[2].isdigit() is False:
        raise ConfigError("metrics.bind: expected host:port, e.g. 127.0.0.1:9108")
    if config.discord.api_base_url and not config.discord.api_base_url.startswith(("http://", "https://")):
        raise ConfigError("discord.api_base_url: must start with http:// or https://")
    if config.discord.gateway_url and not config.discord.gateway_url.startswith(("ws://", "wss://")):
        raise ConfigError("discord.gateway_url: must start with ws:// or wss://")


def parse_shards(text: str, count: int) -> tuple[int, ...]:
    """ "0-3" or "0,2,5" (ranges inclusive) as shard ids, each below `count`."""
    ids: set[int] = set()
    for part in text.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ConfigError(f'discord.shards: {text!r} is not like "0-3" or "0,2"')
        first, last = int(low), int(high or low)
        if first > last:
            raise ConfigError(f"discord.shards: {part!r} runs backwards")
        ids.update(range(first, last + 1))
    if count < 1:
        raise ConfigError("discord.shard_count: set the total number of shards when discord.shards is set")
    if max(ids) >= count:
        raise ConfigError(f"discord.shards: shard {max(ids)} does not exist with discord.shard_count = {count}")
    return tuple(sorted(ids))


def with_shards(config: Config, shards: str, count: int) -> Config:
    """The command line's ``--shards 0-3 --shard-count 8`` over the config file's values."""
    discord = dataclasses.replace(config.discord, shards=shards, shard_count=count)
    updated = dataclasses.replace(config, discord=discord)
    _check_ranges(updated)
    return updated


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(data, base_dir=path.resolve().parent)
