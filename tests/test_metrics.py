"""The Prometheus endpoint as an operator scrapes it, with the loops running on a real store."""

from __future__ import annotations

import asyncio
import re

import aiohttp

from bot.metrics import serve_metrics
from bot.runtime import open_services, run_loops
from tests.conftest import NO_DNS, RecordingSink, Site, follow, rss
from tests.discord_harness import eventually


async def test_metrics_show_checks_posts_and_database_state(site: Site, make_config, clock) -> None:
    site.set("/feed", rss([{"title": "One", "link": site.url("/s/1"), "guid": "1"}]))
    site.set("/bad", "nope", status=500)
    config = make_config(metrics={"heartbeat_minutes": 0})
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        await follow(services, site.url("/feed"))
        await follow(services, site.url("/bad"), channel=200)
        sink = RecordingSink()
        stop = asyncio.Event()
        loops = asyncio.create_task(run_loops(services, sink, stop))
        await eventually(lambda: len(sink.posts) == 1)
        async with (
            serve_metrics(services.metrics, services.store, "127.0.0.1:0", clock) as url,
            aiohttp.ClientSession() as http,
        ):
            async with http.get(url) as response:
                assert response.status == 200
                text = await response.text()
            async with http.get(url.replace("/metrics", "/healthz")) as response:
                assert response.status == 200
        stop.set()
        await loops
    lines = {
        line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if line and not line.startswith("#")
    }
    assert lines['newsbot_feed_checks_total{outcome="ok"}'] == 1
    assert lines['newsbot_feed_checks_total{outcome="failed"}'] == 1
    assert lines['newsbot_posts_total{result="sent"}'] == 1
    assert lines['newsbot_feeds{state="failing"}'] == 1 and lines['newsbot_feeds{state="total"}'] == 2
    assert lines["newsbot_articles_stored"] == 1
    assert lines['newsbot_deliveries{status="sent"}'] == 1
    assert "newsbot_event_loop_lag_seconds" in lines and "newsbot_feed_check_seconds_count" in lines


_HEARTBEAT = re.compile(r"heartbeat: (\d+) feeds checked and (\d+) posts sent in the last .* min; (\d+) posts pending")


async def test_heartbeat_logs_what_was_done(site: Site, make_config, clock, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    site.set("/feed", rss([{"title": "One", "link": site.url("/s/1"), "guid": "1"}]))
    config = make_config(metrics={"heartbeat_minutes": 0.005})  # every 0.3 s
    async with open_services(config, clock=clock, resolver=NO_DNS) as services:
        await follow(services, site.url("/feed"))
        sink = RecordingSink()
        stop = asyncio.Event()
        with caplog.at_level(logging.INFO, logger="bot.runtime"):
            loops = asyncio.create_task(run_loops(services, sink, stop))

            def totals() -> tuple[int, int, int]:
                """Feeds checked and posts sent over every heartbeat so far, and the last one's pending count: the
                check and the post may fall in two heartbeats (one every 0.3 s here)."""
                found = [
                    tuple(map(int, m.groups()))
                    for m in (_HEARTBEAT.search(r.getMessage()) for r in caplog.records)
                    if m is not None
                ]
                return (sum(f[0] for f in found), sum(f[1] for f in found), found[-1][2]) if found else (0, 0, -1)

            await eventually(lambda: totals() == (1, 1, 0))
            await asyncio.sleep(0.7)  # two more heartbeats: nothing counted twice
            assert totals() == (1, 1, 0)
            stop.set()
            await loops
