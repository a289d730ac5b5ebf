"""Shared test parts: real HTTP servers on 127.0.0.1, a real SQLite file, and a clock tests move by hand."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.config import Config, parse_config
from bot.demo import serve
from bot.models import Delivery, Feed, Post, Subscription
from bot.netguard import StaticResolver
from bot.poll import RoundStats
from bot.runtime import Services, open_services
from bot.store import Store
from bot.usecases import FollowRequest
from tests.postgres import PostgresForTests, start_postgres

ROOT = Path(__file__).resolve().parent.parent


async def newsbot_process(
    *args: str, env: dict[str, str] | None = None, output: Any = None
) -> asyncio.subprocess.Process:
    """``newsbot ARGS`` as a real process of this checkout (``python -m bot``), its output to `output` (a file;
    None: a pipe, read with ``communicate()``)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=str(ROOT),
        stdout=output if output is not None else asyncio.subprocess.PIPE,
        stderr=output if output is not None else asyncio.subprocess.PIPE,
    )


# Tests never resolve real names: an empty table fails every lookup locally, so no DNS packet leaves the machine.
NO_DNS = StaticResolver({})

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Safety net for the network rule: any lookup of a non-loopback name in a test fails loudly, before DNS."""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in _LOOPBACK_NAMES and not name.startswith("127."):
            raise OSError(f"test tried to resolve non-loopback host {name!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def url_of(host: str, path: str = "/", scheme: str = "http") -> str:
    """A URL for a host the guard must refuse. Built, not written: such URLs are only judged, never contacted."""
    return f"{scheme}://{host}{path}"


class FakeClock:
    """Unix time that only moves when a test says so."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Site:
    """A real aiohttp server whose routes a test sets and changes while it runs."""

    base: str = ""
    routes: dict[str, Handler] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    requests: list[web.Request] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def set(
        self,
        path: str,
        body: str | bytes,
        content_type: str = "application/rss+xml",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = body.encode() if isinstance(body, str) else body

        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(body=payload, status=status, headers={"Content-Type": content_type, **(headers or {})})

        self.routes[path] = handler

    def handle(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path_qs if request.path_qs in self.routes else request.path
        self.hits[path] = self.hits.get(path, 0) + 1
        self.requests.append(request)
        handler = self.routes.get(path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    s = Site()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", s.dispatch)
    async with serve(app) as base:
        s.base = base
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresForTests]:
    yield from start_postgres()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test that opens a store runs once on SQLite (a file) and once on PostgreSQL (a fresh database).

    The PostgreSQL runs belong to the full tier (CI, `./scripts/test`), so a developer's quick loop
    (`-m "not slow"`) stays under a minute; the PostgreSQL-only tests (migrate, an outage) are in both."""
    if request.param == "sqlite":
        return str(tmp_path / "newsbot.db")
    server: PostgresForTests = request.getfixturevalue("postgres")
    return await server.new_database()


@pytest.fixture
def make_config(tmp_path: Path, database: str) -> Callable[..., Config]:
    def make(**sections: Any) -> Config:
        data: dict[str, Any] = {
            "bot": {"database": database},
            "network": {"allowed_networks": ["127.0.0.0/8"]},
            "delivery": {"per_channel_interval": 0},
            "fetch": {"timeout": 5},
            "articles": {"fetch_pages": True},
        }
        for key, value in sections.items():
            if isinstance(value, dict):
                data[key] = {**data.get(key, {}), **value}
            else:
                data[key] = value
        return parse_config(data, base_dir=tmp_path)

    return make


@pytest.fixture
async def services(make_config: Callable[..., Config], clock: FakeClock) -> AsyncIterator[Services]:
    async with open_services(make_config(), clock=clock, resolver=NO_DNS) as svc:
        yield svc


def rss(items: list[dict[str, str]], title: str = "Test Feed", language: str = "") -> str:
    """An RSS 2.0 document; each item may have title, link, guid, description, pubDate."""
    declared = f"<language>{language}</language>" if language else ""
    parts = []
    for item in items:
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in item.items())
        parts.append(f"<item>{fields}</item>")
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://example.test/</link>{declared}{''.join(parts)}</channel></rss>"
    )


async def settle() -> None:
    await asyncio.sleep(0)


class RecordingSink:
    """A sink that remembers what it was asked to post; can be told to fail or block."""

    def __init__(self) -> None:
        self.posts: list[tuple[int, Post]] = []
        self.fail_with: Exception | None = None
        self.block_after: int | None = None
        self.blocked = asyncio.Event()

    async def send(self, delivery: Delivery, post: Post) -> int | None:
        if self.fail_with is not None:
            raise self.fail_with
        if self.block_after is not None and len(self.posts) >= self.block_after:
            self.blocked.set()
            await asyncio.Event().wait()  # hangs until cancelled, like a crash mid-send
        self.posts.append((delivery.channel_id, post))
        return len(self.posts)

    def titles(self, channel: int | None = None) -> list[str]:
        return [p.title for c, p in self.posts if channel is None or c == channel]


async def follow(services: Services, url: str, channel: int = 100, guild: int = 1, **kw: Any) -> Subscription:
    """Subscribe a channel to a feed URL through the application layer, without discovery (the URL may be a feed
    that is broken on purpose)."""
    result = await services.app.subscribe(FollowRequest(url, guild, channel, **kw))
    return result.subscription


async def feed_of(store: Store, url: str) -> Feed:
    """The stored feed for a URL, which the test expects to exist."""
    feed = await store.feed_by_url(url)
    assert feed is not None, f"no feed stored for {url}"
    return feed


async def poll_and_deliver(services: Services, sink: RecordingSink) -> tuple[RoundStats, int]:
    stats = await services.poller().run_once()
    sent = await services.deliverer(sink).run_once()
    return stats, sent
