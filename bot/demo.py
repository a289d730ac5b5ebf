"""`newsbot demo`: a bundled news site on 127.0.0.1 and the full pipeline over it, printing the posts.

Needs no token and no internet. The site is served by aiohttp on a free loopback port; the demo config allows only
127.0.0.0/8 beyond the public internet, exactly as the tests do. The front page (not the feed) is what the demo
follows, so autodiscovery, page fetching, extraction and summaries all run as they would for a real site.
"""

from __future__ import annotations

import contextlib
import html
import tempfile
import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from bot.config import parse_config
from bot.console import ConsoleSink
from bot.runtime import open_services, run_round


def _site_files() -> tuple[str, list[dict[str, Any]]]:
    root = resources.files("bot") / "demo_site"
    template = (root / "_page.html").read_text(encoding="utf-8")
    articles = tomllib.loads((root / "articles.toml").read_text(encoding="utf-8"))["article"]
    return template, articles


def build_site(now: datetime | None = None) -> web.Application:
    """The demo site as an aiohttp app; article times are relative to `now` so the demo never goes stale."""
    now = now or datetime.now(UTC)
    template, articles = _site_files()
    for i, art in enumerate(articles):
        art["when"] = now - timedelta(hours=2 + 7 * i)

    def page(art: dict[str, Any]) -> str:
        return template.format(
            lang=art["lang"],
            title=html.escape(art["title"]),
            slug=art["slug"],
            author=html.escape(art["author"]),
            published=art["when"].isoformat(),
            published_human=art["when"].strftime("%d %b %Y %H:%M"),
            body=art["body"],
        )

    async def index(request: web.Request) -> web.Response:
        items = "".join(f'<li><a href="/news/{a["slug"]}">{html.escape(a["title"])}</a></li>' for a in articles)
        body = (
            f'<!DOCTYPE html><html lang="en"><head><title>Harbor Town Gazette</title>'
            f'<link rel="alternate" type="application/rss+xml" title="Latest" href="/feed.xml"></head>'
            f"<body><h1>Harbor Town Gazette</h1><ul>{items}</ul></body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    async def feed(request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        items = "".join(
            f"<item><title>{html.escape(a['title'])}</title><link>{base}/news/{a['slug']}</link>"
            f'<guid isPermaLink="false">demo-{a["slug"]}</guid>'
            f"<pubDate>{format_datetime(a['when'], usegmt=True)}</pubDate>"
            f"<author>{html.escape(a['author'])}</author>"
            f"<description>{html.escape('<p>' + a['teaser'] + '</p>')}</description></item>"
            for a in articles
        )
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Harbor Town Gazette</title><link>{base}/</link>"
            f"<description>Local news</description>{items}</channel></rss>"
        )
        return web.Response(text=body, content_type="application/rss+xml")

    async def article(request: web.Request) -> web.Response:
        for art in articles:
            if art["slug"] == request.match_info["slug"]:
                return web.Response(text=page(art), content_type="text/html")
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/news/{slug}", article)
    return app


@contextlib.asynccontextmanager
async def serve(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve an app on a free loopback port; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def run_demo(out: TextIO | None = None) -> int:
    """Serve the site, follow its front page, print every post; returns the number of posts printed."""
    sink = ConsoleSink(out)
    async with serve(build_site()) as base:
        with tempfile.TemporaryDirectory(prefix="newsbot-demo-") as tmp:
            config = parse_config(
                {
                    "bot": {"database": str(Path(tmp) / "demo.db")},
                    "network": {"allowed_networks": ["127.0.0.0/8"]},
                    "polling": {"initial_posts": 3},
                    "delivery": {"per_channel_interval": 0},
                    "feeds": [{"url": f"{base}/", "name": "Harbor Town Gazette"}],
                }
            )
            print(f"newsbot demo: serving a small news site at {base}/ and following it\n", file=sink_out(out))
            async with open_services(config) as services:
                await services.app.sync_config_feeds()
                checked, sent = await run_round(services, sink)
            print(
                f"\nnewsbot demo: checked {checked} feed, printed {sent} posts. "
                "Next: copy config.example.toml to config.toml and run `newsbot run -c config.toml --dry-run`.",
                file=sink_out(out),
            )
    return sink.sent


def sink_out(out: TextIO | None) -> TextIO:
    import sys

    return out or sys.stdout
