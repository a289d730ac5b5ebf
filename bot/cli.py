"""Command line: `newsbot run | demo | preview | check-config | sync`.

Errors the operator must fix (bad config, missing token) end the program with one clear line and exit code 2,
before anything starts. The token never appears in output or logs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config, ConfigError, load_config, parse_config, with_shards
from bot.store import StoreError

log = logging.getLogger("newsbot")


def _safe_database(config: Config) -> str:
    """The database for messages: a DSN's password replaced, so it never reaches a terminal or a log."""
    import re

    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", str(config.database))


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsbot", description="A Discord news bot that posts readable summaries.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (with DISCORD_TOKEN) or a console dry run")
    run.add_argument("-c", "--config", default="config.toml")
    run.add_argument("--dry-run", action="store_true", help="print posts to the console instead of Discord")
    run.add_argument("--once", action="store_true", help="with --dry-run: one round, drain the outbox, exit")
    run.add_argument("--shards", default=None, help='shard ids this process runs, e.g. "0-3" (PostgreSQL only)')
    run.add_argument("--shard-count", type=int, default=None, help="total shards over all processes")
    migrate = sub.add_parser("migrate", help="copy the config's SQLite database into an empty PostgreSQL database")
    migrate.add_argument("-c", "--config", default="config.toml")
    migrate.add_argument("--to", required=True, metavar="DSN", help="postgresql://user@host/database")
    check = sub.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("-c", "--config", default="config.toml")
    preview = sub.add_parser("preview", help="print the newest items of a feed or page as they would post")
    preview.add_argument("url")
    preview.add_argument("-c", "--config", default=None)
    preview.add_argument("-n", "--count", type=int, default=3)
    sub.add_parser("demo", help="serve a bundled news site on 127.0.0.1 and print what newsbot posts")
    sync = sub.add_parser("sync", help="register slash commands with Discord now")
    sync.add_argument("-c", "--config", default="config.toml")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config) if getattr(args, "config", None) else parse_config({})
    except ConfigError as exc:
        print(f"newsbot: config error: {exc}", file=sys.stderr)
        return 2
    _setup_logging(config.bot.log_level)
    try:
        if args.command == "run" and (args.shards is not None or args.shard_count is not None):
            count = args.shard_count if args.shard_count is not None else config.discord.shard_count
            shards = args.shards if args.shards is not None else f"0-{max(count, 1) - 1}"
            config = with_shards(config, shards, count)
        if args.command == "migrate":
            return asyncio.run(_migrate(config, args.to))
        if args.command == "check-config":
            print(f"{args.config}: OK ({len(config.feeds)} feeds in the file, database {_safe_database(config)})")
            return 0
        if args.command == "demo":
            from bot.demo import run_demo

            return 0 if asyncio.run(run_demo()) else 1
        if args.command == "preview":
            return asyncio.run(_preview(config, args.url, args.count))
        if args.command == "sync":
            from bot.discordbot.client import sync_commands

            return asyncio.run(sync_commands(config))
        if args.dry_run:
            return asyncio.run(_dry_run(config, once=args.once))
        from bot.discordbot.client import run_bot

        return asyncio.run(run_bot(config))
    except ConfigError as exc:
        print(f"newsbot: config error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"newsbot: database: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _install_stop(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def _dry_run(config: Config, *, once: bool) -> int:
    from bot.console import ConsoleSink
    from bot.runtime import open_services, run_loops, run_round, tune_process

    if not config.feeds:
        log.warning("no [[feeds]] in the config: nothing to poll (add one, or try `newsbot demo`)")
    async with open_services(config) as services:
        await services.store.claim_shards(None)  # it marks posts sent: never beside a bot posting them for real
        await services.app.sync_config_feeds()
        tune_process()
        if once:
            checked, sent = await run_round(services, ConsoleSink())
            log.info("dry run: checked %d feeds, printed %d posts", checked, sent)
            return 0
        stop = asyncio.Event()
        _install_stop(stop)
        log.info("dry run: polling %d configured feeds; Ctrl-C stops", len(config.feeds))
        await run_loops(services, ConsoleSink(), stop)
    return 0


async def _migrate(config: Config, target: str) -> int:
    """SQLite → PostgreSQL, refusing a non-empty target; the counts are checked before it says done."""
    from bot.store import Store, StoreError, is_postgres
    from bot.store.copy import copy_database

    if is_postgres(config.database):
        print("newsbot: migrate: the config's database is already PostgreSQL", file=sys.stderr)
        return 2
    if not is_postgres(target):
        print("newsbot: migrate: --to must be a postgresql:// DSN", file=sys.stderr)
        return 2
    if not Path(config.database).exists():  # noqa: ASYNC240 (once, before anything runs)
        print(f"newsbot: migrate: {config.database} does not exist", file=sys.stderr)
        return 2
    try:
        async with Store.open(config.database) as source, Store.open(target) as destination:
            copied = await copy_database(source, destination)
    except StoreError as exc:
        print(f"newsbot: migrate: {exc}", file=sys.stderr)
        return 1
    print(
        "copied " + ", ".join(f"{n} {table}" for table, n in copied.items()) + "; counts verified. "
        "Now set bot.database to the new DSN and start newsbot."
    )
    return 0


async def _preview(config: Config, url: str, count: int) -> int:
    """Stores nothing: discovery, page fetch and summary run exactly as for a post, then print."""
    import dataclasses
    import tempfile

    from bot.console import format_post
    from bot.render import render
    from bot.runtime import open_services
    from bot.usecases import UseCaseError

    with tempfile.TemporaryDirectory() as scratch:  # the same use case as `/feed add`, over a throwaway store
        scratch_config = dataclasses.replace(
            config, bot=dataclasses.replace(config.bot, database=str(Path(scratch) / "preview.db"), workers=0)
        )
        async with open_services(scratch_config) as services:
            try:
                found, articles = await services.app.preview_url(url, count)
            except UseCaseError as exc:
                print(f"newsbot: {exc}", file=sys.stderr)
                return 1
            print(
                f"{found.parsed.title} — {found.url} ({found.parsed.kind}, {len(found.parsed.entries)} items)"
                + (f", found on {found.via_page}" if found.via_page else "")
            )
            for article in articles:
                print(format_post(render(article), "preview"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
