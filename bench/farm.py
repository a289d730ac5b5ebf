"""A local feed farm: N generated feeds (RSS 2.0, Atom and JSON Feed mixed) on 128 loopback addresses.

Deterministic from a seed. Each feed has 50 items linking to ~50 KB article pages; gzip when asked, a latency per
request, a share of faulty feeds (500s, timeouts, malformed XML), and ``bump`` adds new items to a share of feeds
between rounds. Runs in its own process so the measured process pays only for its own work.

Calibrated to the figures the scale issue gives for "such feeds" on this kind of machine, so the peer's ratio means
what it meant there:
- items as news sites publish them: a description with a lead image, links and emphasis over three paragraphs
  (~1 KB of HTML), an author and three categories. feedparser reads such a feed in ~27 ms (the issue: ~32 ms per
  50-item feed, ~1,500 items/s); the first farm's three-sentence items took 12 ms.
- a third of the feeds send no ETag or Last-Modified (many real servers don't), so an unchanged round is "two
  thirds 304", as the issue measured the peer's second round; the rest answer conditional requests with 304.

    python bench/farm.py --feeds 2000   # serve until Ctrl-C; prints the URL list file
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import html
import json
import multiprocessing
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from aiohttp import web

ITEMS = 50
HOSTS = 128  # 127.0.0.1 … 127.0.0.128: ~16 feeds per host, so per-host limits act as on the real web
WORDS = (
    "harbour council ferry storm market budget vote school bridge energy river police court weather rail "
    "station museum festival season report plan minister health hospital water price wage union"
).split()


@dataclass
class FarmSpec:
    feeds: int = 2000
    seed: int = 7
    latency: tuple[float, float] = (0.05, 0.2)
    faulty: float = 0.03  # share of feeds that fail: 500s, timeouts, malformed XML, in equal parts
    timeout_sleep: float = 30.0
    no_validators: float = 1 / 3  # share of feeds that send no ETag/Last-Modified: always a full 200


@dataclass
class FeedState:
    index: int
    kind: str  # rss | atom | json
    fault: str | None
    validators: bool = True
    newest: int = ITEMS  # item numbers run newest..newest-49
    version: int = 0
    modified: datetime = field(default_factory=lambda: datetime(2026, 11, 1, tzinfo=UTC))


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def host_of(i: int) -> str:
    return f"127.0.0.{1 + i % HOSTS}"


def feed_url(base_port: int, i: int) -> str:
    return f"http://{host_of(i)}:{base_port}/feed/{i}"


class Farm:
    def __init__(self, spec: FarmSpec) -> None:
        self.spec = spec
        rng = random.Random(spec.seed)
        self.states = []
        for i in range(spec.feeds):
            roll = rng.random()
            fault = None
            if roll < spec.faulty:
                fault = ("500", "timeout", "malformed")[int(roll / spec.faulty * 3) % 3]
            validators = rng.random() >= spec.no_validators
            self.states.append(FeedState(i, ("rss", "atom", "json")[i % 3], fault, validators))
        self.requests = 0
        self.feed_hits: dict[int, int] = {}

    def bump(self, share: float, count: int, seed: int) -> int:
        rng = random.Random(seed)
        bumped = 0
        for st in self.states:
            if st.fault is None and rng.random() < share:
                st.newest += count
                st.version += 1
                st.modified += timedelta(hours=1)
                bumped += 1
        return bumped

    def _item(self, st: FeedState, n: int, base: str) -> dict[str, Any]:
        rng = random.Random(st.index * 100_003 + n)
        link = f"{base}/article/{st.index}/{n}"
        description = (
            f'<p><img src="{base}/img/{st.index}/{n}.jpg" alt="{sentence(rng, 5)}" width="800" height="450"></p>'
            f'<p>{sentence(rng, 16)} <a href="{base}/topic/{rng.choice(WORDS)}">{sentence(rng, 3)}</a> '
            f"{sentence(rng, 14)}</p><p>{sentence(rng, 18)} <em>{sentence(rng, 6)}</em> {sentence(rng, 12)}</p>"
            f"<p>{sentence(rng, 15)} <strong>{sentence(rng, 4)}</strong> {sentence(rng, 16)}</p>"
            f'<p><a href="{link}">Continue reading</a></p>'
        )
        return {
            "title": sentence(rng, 7).rstrip("."),
            "link": link,
            "guid": f"feed{st.index}-item{n}",
            "description": description,
            "author": f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}",
            "categories": [rng.choice(WORDS) for _ in range(3)],
            "date": st.modified - timedelta(minutes=st.newest - n),
        }

    def render(self, st: FeedState, base: str) -> tuple[bytes, str]:
        items = [self._item(st, n, base) for n in range(st.newest, st.newest - ITEMS, -1)]
        if st.kind == "json":
            doc = {
                "version": "https://jsonfeed.org/version/1.1",
                "title": f"Farm feed {st.index}",
                "home_page_url": base + "/",
                "items": [
                    {
                        "id": it["guid"],
                        "url": it["link"],
                        "title": it["title"],
                        "content_html": it["description"],
                        "date_published": it["date"].isoformat(),
                        "authors": [{"name": it["author"]}],
                        "tags": it["categories"],
                    }
                    for it in items
                ],
            }
            return json.dumps(doc).encode(), "application/feed+json"
        if st.kind == "atom":
            entries = "".join(
                f'<entry><title>{html.escape(it["title"])}</title><link href="{it["link"]}"/>'
                f"<id>{it['guid']}</id><updated>{it['date'].isoformat()}</updated>"
                f"<author><name>{it['author']}</name></author>"
                + "".join(f'<category term="{c}"/>' for c in it["categories"])
                + f'<summary type="html">{html.escape(it["description"])}</summary></entry>'
                for it in items
            )
            body = (
                f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>Farm feed {st.index}</title><id>urn:farm:{st.index}</id>"
                f"<updated>{st.modified.isoformat()}</updated>{entries}</feed>"
            )
            return body.encode(), "application/atom+xml"
        entries = "".join(
            f"<item><title>{html.escape(it['title'])}</title><link>{it['link']}</link>"
            f'<guid isPermaLink="false">{it["guid"]}</guid><pubDate>{format_datetime(it["date"])}</pubDate>'
            f"<dc:creator>{it['author']}</dc:creator>"
            + "".join(f"<category>{c}</category>" for c in it["categories"])
            + f"<description>{html.escape(it['description'])}</description></item>"
            for it in items
        )
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<channel><title>Farm feed {st.index}"
            f"</title><link>{base}/</link><description>farm</description>{entries}</channel></rss>"
        )
        return body.encode(), "application/rss+xml"

    async def latency(self, key: int) -> None:
        lo, hi = self.spec.latency
        if hi > 0:
            await asyncio.sleep(random.Random(key * 7919 + self.requests).uniform(lo, hi))

    async def handle_feed(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        st = self.states[int(request.match_info["i"])]
        self.feed_hits[st.index] = self.feed_hits.get(st.index, 0) + 1
        await self.latency(st.index)
        if st.fault == "500":
            return web.Response(status=500, text="boom")
        if st.fault == "timeout":
            await asyncio.sleep(self.spec.timeout_sleep)
        if st.fault == "malformed":
            return web.Response(body=b"<?xml version='1.0'?><rss><channel><title>x</ti", content_type="text/xml")
        validators = {}
        if st.validators:
            etag = f'"v{st.version}-{hashlib.blake2b(str(st.index).encode(), digest_size=4).hexdigest()}"'
            validators = {"ETag": etag, "Last-Modified": format_datetime(st.modified, usegmt=True)}
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers=validators)
        base = f"http://{request.host}"
        body, ctype = self.render(st, base)
        resp = web.Response(body=body, headers={**validators, "Content-Type": ctype})
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            resp.enable_compression()
        return resp

    async def handle_article(self, request: web.Request) -> web.Response:
        self.requests += 1
        i, n = int(request.match_info["i"]), int(request.match_info["n"])
        await self.latency(i * 31 + n)
        rng = random.Random(i * 1_000_003 + n)
        paras = "".join(f"<p>{sentence(rng, 18)} {sentence(rng, 12)}</p>" for _ in range(230))
        nav = "".join(f"<li><a href='/s/{k}'>{sentence(rng, 2)}</a></li>" for k in range(40))
        page = (
            f"<!DOCTYPE html><html lang='en'><head><title>Article {n}</title>"
            f"<meta property='og:image' content='/img/{i}/{n}.jpg'></head><body><nav><ul>{nav}</ul></nav>"
            f"<article><h1>{sentence(rng, 6)}</h1>{paras}</article><footer>{sentence(rng, 10)}</footer>"
            "</body></html>"
        )
        resp = web.Response(text=page, content_type="text/html")
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            resp.enable_compression()
        return resp

    async def handle_control(self, request: web.Request) -> web.Response:
        data = await request.json()
        bumped = self.bump(data["share"], data["count"], data["seed"])
        return web.json_response({"bumped": bumped, "requests": self.requests})

    async def handle_hits(self, request: web.Request) -> web.Response:
        """Requests per feed since the last call (bench/shards.py: was every feed fetched exactly once?)."""
        hits, self.feed_hits = self.feed_hits, {}
        return web.json_response({"hits": [hits.get(i, 0) for i in range(len(self.states))]})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hits", self.handle_hits)
        app.router.add_get("/feed/{i}", self.handle_feed)
        app.router.add_get("/article/{i}/{n}", self.handle_article)
        app.router.add_post("/control", self.handle_control)
        return app


async def serve(spec: FarmSpec, port: int, ready: multiprocessing.synchronize.Event | None = None) -> None:
    farm = Farm(spec)
    runner = web.AppRunner(farm.app(), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    for h in range(HOSTS):
        await web.TCPSite(runner, f"127.0.0.{1 + h}", port, backlog=1024).start()
    if ready is not None:
        ready.set()
    await asyncio.Event().wait()


def _run(spec: FarmSpec, port: int, ready: multiprocessing.synchronize.Event) -> None:
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(spec, port, ready))


class FarmProcess:
    """The farm in a child process; `urls` are the feed URLs, `bump` asks it to add items."""

    def __init__(self, spec: FarmSpec, port: int) -> None:
        self.spec = spec
        self.port = port
        ctx = multiprocessing.get_context("spawn")
        self._ready = ctx.Event()
        self._proc = ctx.Process(target=_run, args=(spec, port, self._ready), daemon=True)

    def __enter__(self) -> FarmProcess:
        self._proc.start()
        if not self._ready.wait(30):
            raise RuntimeError("feed farm did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.join(5)

    @property
    def urls(self) -> list[str]:
        return [feed_url(self.port, i) for i in range(self.spec.feeds)]

    async def bump(self, share: float, count: int, seed: int) -> int:
        import aiohttp

        async with (
            aiohttp.ClientSession() as s,
            s.post(f"http://127.0.0.1:{self.port}/control", json={"share": share, "count": count, "seed": seed}) as r,
        ):
            return int((await r.json())["bumped"])


def main() -> None:
    parser = argparse.ArgumentParser(description="serve a feed farm on 127.0.0.1-128")
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--port", type=int, default=18080)
    args = parser.parse_args()
    asyncio.run(serve(FarmSpec(feeds=args.feeds), args.port))


if __name__ == "__main__":
    main()
