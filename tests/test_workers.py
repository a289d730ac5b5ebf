"""The worker pool that keeps CPU-heavy parsing off the event loop: real processes, real crashes."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from bot.decide import examine
from bot.parse import ParseError
from bot.workers import WorkerCrashed, Workers
from tests.conftest import rss

ROOT = Path(__file__).resolve().parent.parent


async def test_examine_in_a_process_matches_examine_in_place() -> None:
    body = rss(
        [
            {
                "title": "a",
                "link": "https://example.org/a",
                "description": "&lt;p&gt;First &lt;b&gt;story&lt;/b&gt; &amp;amp; more.&lt;/p&gt;",
            },
            {"title": "b", "link": "https://example.org/b", "description": "Second."},
        ]
    ).encode()
    workers = Workers(1)
    try:
        remote = await workers.run(examine, body, "https://example.org/feed", "application/rss+xml", 7, 500)
    finally:
        workers.close()
    assert remote == examine(body, "https://example.org/feed", "application/rss+xml", 7, 500)
    assert [c.text for c in remote.candidates] == ["First story & more.", "Second."]


async def test_parse_errors_cross_the_process_boundary_with_their_message() -> None:
    workers = Workers(1)
    try:
        with pytest.raises(ParseError, match="not valid JSON"):
            await workers.run(examine, b"{broken", "https://example.org/feed.json", "application/json", 1, 500)
    finally:
        workers.close()


async def test_a_dead_worker_fails_its_job_and_the_next_job_gets_a_fresh_pool() -> None:
    workers = Workers(1)
    try:
        with pytest.raises(WorkerCrashed):
            await workers.run(os._exit, 3)
        assert await workers.run(len, "four") == 4
    finally:
        workers.close()


async def test_a_hung_job_is_killed_and_the_job_queued_behind_it_still_runs() -> None:
    workers = Workers(1, timeout=1.0, tick=0.05)
    try:
        await workers.run(len, "warm")  # the worker is up: the clock below measures the hang, not the start-up
        started = time.monotonic()
        hung, queued = await asyncio.gather(
            workers.run(time.sleep, 30), workers.run(len, "queued"), return_exceptions=True
        )
        assert isinstance(hung, WorkerCrashed) and "gave up after 1 s" in str(hung)
        assert queued == 6  # it waited behind the hung job, then ran on the new pool
        assert time.monotonic() - started < 10
        assert await workers.run(len, "after") == 5
    finally:
        workers.close()


async def test_zero_processes_runs_in_a_thread() -> None:
    workers = Workers(0)
    assert await workers.run(os.getpid) == os.getpid()


async def test_worker_processes_die_with_a_sigkilled_bot(tmp_path, site) -> None:  # type: ignore[no-untyped-def]
    import signal
    import sys

    import psutil

    site.set("/feed", rss([{"title": "a", "link": "https://example.org/a", "guid": "a"}]))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[bot]\ndatabase = "{tmp_path / "w.db"}"\nworkers = 1\n[network]\n'
        f'allowed_networks = ["127.0.0.0/8"]\n[articles]\nfetch_pages = false\n'
        f'[[feeds]]\nurl = "{site.url("/feed")}"\n'
    )
    root = ROOT
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--dry-run",
        "-c",
        str(config),
        cwd=str(root),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        parent = psutil.Process(bot.pid)
        deadline = time.monotonic() + 30
        children: list[psutil.Process] = []
        while time.monotonic() < deadline:  # the pool starts with the first feed read
            children = [c for c in parent.children(recursive=True) if "python" in c.name().lower()]
            if children and site.hits.get("/feed"):
                break
            await asyncio.sleep(0.1)
        assert children, "the bot never started a worker process"
    finally:
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children):
        await asyncio.sleep(0.1)
    alive = [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"worker processes {alive} outlived the bot"
